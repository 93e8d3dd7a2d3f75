using ScottPlot;
using Tessera.Data;
using Tessera.Graphs;

namespace Tessera.Plotting;

/// <summary>
/// Spatial figures of one slice: spots (or cells) at their coordinates (obsm["spatial"], full-resolution pixels),
/// drawn as touching markers one lattice spacing wide, image-style axes (y down), equal scaling, optional H&amp;E underlay.
/// Every method returns the ScottPlot <see cref="Plot"/> so callers can adjust it before <see cref="Figures.SavePng"/>.
/// </summary>
public static class SpatialPlot
{
    /// <summary>
    /// Spots coloured by category (domains, clusters, layers) with a legend on the right; missing labels light grey.
    /// </summary>
    /// <param name="data">The slice; its obsm["spatial"] gives positions.</param>
    /// <param name="labels">One label per observation (null or empty = missing).</param>
    /// <param name="title">Figure title.</param>
    /// <param name="underlay">Optional tissue image drawn beneath the spots (placed with its <see cref="TissueImage.Scale"/>).</param>
    /// <param name="palette">Label colours; <see cref="CategoryPalette.Shared"/> by default so a label has one colour across a run.</param>
    /// <param name="shape">Spot shape; circles by default (hexagons tile Visium without gaps).</param>
    public static Plot Categorical(SpatialData data, string?[] labels, string title, TissueImage? underlay = null,
        CategoryPalette? palette = null, SpotShape shape = SpotShape.Circle)
    {
        if (labels.Length != data.NObs) throw new TesseraException($"labels has {labels.Length} entries but the data has {data.NObs} observations");
        palette ??= CategoryPalette.Shared;
        var (xs, ys) = XY(data.Spatial);
        var cats = palette.Register(labels);
        var layer = new PointLayer(xs, ys, labels.Select(l => palette[l]).ToArray())
        {
            DataDiameter = SpotDiameter(data.Spatial),
            Shape = shape,
            Order = Figures.MissingFirst(labels.Length, i => string.IsNullOrEmpty(labels[i])),
        };
        foreach (var c in cats) layer.Legend.Add(Figures.LegendDot(c, palette[c]));
        if (labels.Any(string.IsNullOrEmpty)) layer.Legend.Add(Figures.LegendDot("NA", CategoryPalette.MissingColor));
        var plot = Frame(title, layer, underlay);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>Spots coloured by a continuous value (gene expression, score) with a colour bar; NaN spots light grey.</summary>
    /// <param name="data">The slice.</param>
    /// <param name="values">One value per observation.</param>
    /// <param name="title">Figure title.</param>
    /// <param name="colormap">Colormap name (see <see cref="Figures.ColormapNames"/>).</param>
    /// <param name="underlay">Optional tissue image underlay.</param>
    /// <param name="vmin">Lower end of the colour scale (default: finite minimum).</param>
    /// <param name="vmax">Upper end of the colour scale (default: finite maximum).</param>
    public static Plot Continuous(SpatialData data, double[] values, string title, string colormap = "viridis",
        TissueImage? underlay = null, double? vmin = null, double? vmax = null)
    {
        if (values.Length != data.NObs) throw new TesseraException($"values has {values.Length} entries but the data has {data.NObs} observations");
        var cmap = Figures.Colormap(colormap);
        var (lo, hi) = Figures.FiniteRange(values);
        lo = vmin ?? lo; hi = vmax ?? hi;
        if (!(hi > lo)) throw new TesseraException($"colour scale maximum {hi} must exceed minimum {lo}");
        var (xs, ys) = XY(data.Spatial);
        // high values on top, so hot spots are not hidden by their neighbours' overlap
        var order = Figures.MissingFirst(values.Length, i => !double.IsFinite(values[i]))
            .OrderBy(i => double.IsFinite(values[i]) ? values[i] : double.NegativeInfinity).ToArray();
        var layer = new PointLayer(xs, ys, Figures.MapColors(values, cmap, lo, hi))
        {
            DataDiameter = SpotDiameter(data.Spatial),
            Order = order,
            Colormap = cmap,
            ColorRange = new ScottPlot.Range(lo, hi),
        };
        var plot = Frame(title, layer, underlay);
        plot.Add.ColorBar(layer);
        return plot;
    }

    /// <summary>
    /// Marker diameter in coordinate units: the median nearest-neighbour distance, i.e. the lattice spacing
    /// (Visium: ~137 full-res px = 100 µm), so neighbouring spots touch as in scanpy's spot-sized plots.
    /// </summary>
    public static double SpotDiameter(DenseMatrix coords)
    {
        if (coords.Rows < 2) return 1;
        var nn = new KdTree(coords.Cols > 2 ? coords.SubsetCols([0, 1]) : coords).NearestNeighborDistances();
        var positive = nn.Where(d => d > 0).Order().ToArray();
        return positive.Length == 0 ? 1 : positive[positive.Length / 2];
    }

    /// <summary>
    /// Where a tissue image lies in full-resolution coordinates: image pixel (u, v) covers full-res
    /// [u / Scale, (u + 1) / Scale) × [v / Scale, (v + 1) / Scale), so the image spans 0..Width/Scale by 0..Height/Scale.
    /// </summary>
    public static CoordinateRect UnderlayRect(TissueImage image) =>
        new(left: 0, right: image.Width / image.Scale, bottom: image.Height / image.Scale, top: 0);

    /// <summary>A ScottPlot image from a <see cref="TissueImage"/>'s RGB bytes.</summary>
    public static Image ToScottImage(TissueImage image)
    {
        var px = new byte[image.Height, image.Width, 3];
        Buffer.BlockCopy(image.Rgb, 0, px, 0, image.Rgb.Length);
        return new Image(px);
    }

    /// <summary>
    /// The part of a tissue image covering full-res x in [x0, x1] and y in [y0, y1] (widened to whole image pixels,
    /// clipped to the image) and where it lies in full-res coordinates; null when the window misses the image.
    /// </summary>
    public static (Image? Image, CoordinateRect Rect) CropUnderlay(TissueImage image, double x0, double x1, double y0, double y1)
    {
        int u0 = Math.Max(0, (int)Math.Floor(x0 * image.Scale)), u1 = Math.Min(image.Width, (int)Math.Ceiling(x1 * image.Scale));
        int v0 = Math.Max(0, (int)Math.Floor(y0 * image.Scale)), v1 = Math.Min(image.Height, (int)Math.Ceiling(y1 * image.Scale));
        if (u1 <= u0 || v1 <= v0) return (null, default);
        var px = new byte[v1 - v0, u1 - u0, 3];
        int w = u1 - u0;
        for (int v = v0; v < v1; v++)
            Buffer.BlockCopy(image.Rgb, (v * image.Width + u0) * 3, px, (v - v0) * w * 3, w * 3);
        return (new Image(px), new CoordinateRect(left: u0 / image.Scale, right: u1 / image.Scale, bottom: v1 / image.Scale, top: v0 / image.Scale));
    }

    private static (double[] Xs, double[] Ys) XY(DenseMatrix coords)
    {
        if (coords.Cols < 2) throw new TesseraException($"spatial coordinates must have at least 2 columns, got {coords.Cols}");
        return (coords.Column(0), coords.Column(1));
    }

    private static Plot Frame(string title, PointLayer layer, TissueImage? underlay)
    {
        var plot = new Plot();
        Figures.ApplyCleanStyle(plot, title);
        var lim = layer.GetAxisLimits();
        double pad = 0.03 * Math.Max(lim.Right - lim.Left, lim.Top - lim.Bottom);
        if (underlay != null)
        {
            // only the tissue (spots + margin) is shown: the rest of the capture area (fiducial frame) is clutter
            var (img, rect) = CropUnderlay(underlay, lim.Left - pad, lim.Right + pad, lim.Bottom - pad, lim.Top + pad);
            if (img != null) plot.Add.ImageRect(img, rect).AntiAlias = true;
        }
        plot.Add.Plottable(layer);
        // image coordinates: y grows downwards, so bottom gets the larger value
        plot.Axes.SetLimits(lim.Left - pad, lim.Right + pad, lim.Top + pad, lim.Bottom - pad);
        plot.Axes.SquareUnits();
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left, plot.Axes.Top, plot.Axes.Right })
        {
            axis.IsVisible = false;
        }
        plot.Axes.Frame(false);
        return plot;
    }
}
