using ScottPlot;
using Tessera.Data;

namespace Tessera.Plotting;

/// <summary>Scatter figures of a 2-D embedding (UMAP, t-SNE, PCA) coloured by category or value.</summary>
public static class EmbeddingPlot
{
    /// <summary>Points coloured by category with a legend on the right; missing labels light grey and drawn underneath.</summary>
    /// <param name="xy">N × 2 embedding (extra columns are ignored).</param>
    /// <param name="labels">One label per row (null or empty = missing).</param>
    /// <param name="title">Figure title.</param>
    /// <param name="palette">Label colours; <see cref="CategoryPalette.Shared"/> by default.</param>
    /// <param name="axisPrefix">Axis label prefix ("UMAP" gives UMAP1 / UMAP2).</param>
    public static Plot Categorical(DenseMatrix xy, string?[] labels, string title, CategoryPalette? palette = null, string axisPrefix = "UMAP")
    {
        Check(xy);
        if (labels.Length != xy.Rows) throw new TesseraException($"labels has {labels.Length} entries but the embedding has {xy.Rows} rows");
        palette ??= CategoryPalette.Shared;
        var cats = palette.Register(labels);
        var layer = new PointLayer(xy.Column(0), xy.Column(1), labels.Select(l => palette[l]).ToArray())
        {
            PixelDiameter = MarkerPixels(xy.Rows),
            Order = Figures.MissingFirst(labels.Length, i => string.IsNullOrEmpty(labels[i])),
        };
        foreach (var c in cats) layer.Legend.Add(Figures.LegendDot(c, palette[c]));
        if (labels.Any(string.IsNullOrEmpty)) layer.Legend.Add(Figures.LegendDot("NA", CategoryPalette.MissingColor));
        var plot = Frame(title, layer, axisPrefix);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>Points coloured by a continuous value with a colour bar; NaN light grey; high values drawn on top.</summary>
    public static Plot Continuous(DenseMatrix xy, double[] values, string title, string colormap = "viridis", string axisPrefix = "UMAP",
        double? vmin = null, double? vmax = null)
    {
        Check(xy);
        if (values.Length != xy.Rows) throw new TesseraException($"values has {values.Length} entries but the embedding has {xy.Rows} rows");
        var cmap = Figures.Colormap(colormap);
        var (lo, hi) = Figures.FiniteRange(values);
        lo = vmin ?? lo; hi = vmax ?? hi;
        if (!(hi > lo)) throw new TesseraException($"colour scale maximum {hi} must exceed minimum {lo}");
        var layer = new PointLayer(xy.Column(0), xy.Column(1), Figures.MapColors(values, cmap, lo, hi))
        {
            PixelDiameter = MarkerPixels(xy.Rows),
            Order = Enumerable.Range(0, values.Length).OrderBy(i => double.IsFinite(values[i]) ? values[i] : double.NegativeInfinity).ToArray(),
            Colormap = cmap,
            ColorRange = new ScottPlot.Range(lo, hi),
        };
        var plot = Frame(title, layer, axisPrefix);
        plot.Add.ColorBar(layer);
        return plot;
    }

    /// <summary>
    /// Marker diameter in pixels for n points: scanpy's default area 120000 / n (points²) as a diameter, clamped to 2..12 px,
    /// so 3k spots get ~6 px dots and 100k cells ~2 px without turning into a solid blob.
    /// </summary>
    public static float MarkerPixels(int n) => (float)Math.Clamp(Math.Sqrt(120000.0 / Math.Max(1, n)), 2.0, 12.0);

    private static void Check(DenseMatrix xy)
    {
        if (xy.Cols < 2) throw new TesseraException($"an embedding plot needs 2 columns, got {xy.Cols}");
    }

    private static Plot Frame(string title, PointLayer layer, string axisPrefix)
    {
        var plot = new Plot();
        Figures.ApplyCleanStyle(plot, title);
        plot.Add.Plottable(layer);
        plot.Axes.AutoScale();
        plot.Axes.Margins(0.04, 0.04);
        plot.XLabel(axisPrefix + "1", 13);
        plot.YLabel(axisPrefix + "2", 13);
        // embedding coordinates carry no units: hide tick labels, keep a light frame
        plot.Axes.Bottom.TickLabelStyle.IsVisible = false;
        plot.Axes.Left.TickLabelStyle.IsVisible = false;
        plot.Axes.Bottom.MajorTickStyle.Length = 0; plot.Axes.Bottom.MinorTickStyle.Length = 0;
        plot.Axes.Left.MajorTickStyle.Length = 0; plot.Axes.Left.MinorTickStyle.Length = 0;
        plot.Axes.Right.FrameLineStyle.Width = 0; plot.Axes.Top.FrameLineStyle.Width = 0;
        return plot;
    }
}
