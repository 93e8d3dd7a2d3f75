using ScottPlot;

namespace Tessera.Plotting;

/// <summary>Bar charts of one value per category (e.g. batch mixing per domain).</summary>
public static class BarPlot
{
    /// <summary>
    /// One bar per category in the given order, coloured by category name through <see cref="CategoryPalette.Shared"/> (so a
    /// domain keeps the colour it has in the spatial and UMAP figures), the value printed above each bar. NaN bars are left
    /// empty. An optional dashed reference line (e.g. the mean) is drawn across.
    /// </summary>
    public static Plot Bars(string title, IReadOnlyList<string> categories, IReadOnlyList<double> values, string yLabel = "",
        string xLabel = "", double? reference = null, string? referenceLabel = null, CategoryPalette? palette = null)
    {
        if (categories.Count == 0) throw new TesseraException("a bar plot needs at least one category");
        if (categories.Count != values.Count) throw new TesseraException($"{categories.Count} categories but {values.Count} values");
        palette ??= CategoryPalette.Shared;
        palette.Register(categories);
        var plot = new Plot();
        Figures.ApplyCleanStyle(plot, title);
        var bars = Enumerable.Range(0, categories.Count).Where(i => double.IsFinite(values[i]))
            .Select(i => new Bar { Position = i, Value = values[i], FillColor = palette[categories[i]], Size = 0.7, Label = values[i].ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) })
            .ToList();
        if (bars.Count > 0) plot.Add.Bars(bars).ValueLabelStyle.FontSize = 13;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(categories.Select((c, i) => new Tick(i, c)).ToArray());
        if (reference is { } r && double.IsFinite(r))
        {
            var line = plot.Add.HorizontalLine(r, 2, Colors.Black.WithAlpha(0.6), LinePattern.Dashed);
            if (referenceLabel != null) { line.LegendText = referenceLabel; plot.ShowLegend(Alignment.UpperRight); }
        }
        var finite = values.Where(double.IsFinite).ToArray();
        double top = finite.Length > 0 ? Math.Max(finite.Max(), reference ?? 0) : 1;
        plot.Axes.SetLimits(-0.6, categories.Count - 0.4, Math.Min(0, finite.DefaultIfEmpty(0).Min()), top * 1.15 + 1e-9);
        if (xLabel.Length > 0) plot.XLabel(xLabel, 14);
        if (yLabel.Length > 0) plot.YLabel(yLabel, 14);
        plot.Axes.Right.FrameLineStyle.Width = 0; plot.Axes.Top.FrameLineStyle.Width = 0;
        return plot;
    }
}
