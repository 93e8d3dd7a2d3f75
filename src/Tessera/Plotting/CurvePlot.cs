using ScottPlot;

namespace Tessera.Plotting;

/// <summary>Line figures such as training-loss curves.</summary>
public static class CurvePlot
{
    /// <summary>
    /// One line per series in the dictionary's order (x = 1, 2, ... i.e. epoch/step number), legend in the upper right, series coloured by name
    /// through <see cref="CategoryPalette.Shared"/> (so "loss" keeps its colour across figures). NaN values leave gaps.
    /// </summary>
    /// <param name="title">Figure title.</param>
    /// <param name="xLabel">X axis label, e.g. "epoch".</param>
    /// <param name="series">Series name → values.</param>
    /// <param name="yLabel">Y axis label.</param>
    /// <param name="palette">Series colours; <see cref="CategoryPalette.Shared"/> by default.</param>
    public static Plot Lines(string title, string xLabel, IReadOnlyDictionary<string, double[]> series, string yLabel = "", CategoryPalette? palette = null)
    {
        if (series.Count == 0) throw new TesseraException("a curve plot needs at least one series");
        palette ??= CategoryPalette.Shared;
        palette.Register(series.Keys);
        var plot = new Plot();
        Figures.ApplyCleanStyle(plot, title);
        plot.ShowGrid();
        plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.08);
        foreach (var name in series.Keys)
        {
            var ys = series[name];
            if (ys.Length == 0) throw new TesseraException($"series '{name}' is empty");
            var xs = Enumerable.Range(1, ys.Length).Select(i => (double)i).ToArray();
            var line = plot.Add.ScatterLine(xs, ys, palette[name]);
            line.LineWidth = 2;
            line.MarkerSize = ys.Length <= 30 ? 5 : 0;
            line.LegendText = name;
        }
        plot.XLabel(xLabel, 14);
        if (yLabel.Length > 0) plot.YLabel(yLabel, 14);
        if (series.Count > 1 || series.Keys.First().Length > 0) plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.Right.FrameLineStyle.Width = 0; plot.Axes.Top.FrameLineStyle.Width = 0;
        return plot;
    }
}
