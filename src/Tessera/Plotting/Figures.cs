using ScottPlot;
using Tessera.IO;

namespace Tessera.Plotting;

/// <summary>Writing figures and shared figure helpers.</summary>
public static class Figures
{
    /// <summary>Renders <paramref name="plot"/> to a PNG of exactly width × height pixels, written atomically (temp file, then rename).</summary>
    public static void SavePng(Plot plot, string path, int width, int height)
    {
        if (width < 1 || height < 1) throw new TesseraException($"figure size must be positive, got {width}x{height}");
        var bytes = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.WriteStream(path, s => s.Write(bytes));
    }

    /// <summary>The colormap names accepted by the continuous plots.</summary>
    public static IReadOnlyList<string> ColormapNames { get; } = ["viridis", "magma", "inferno", "plasma", "turbo", "blues", "greens", "grayscale", "balance", "jet"];

    /// <summary>A ScottPlot colormap by (case-insensitive) matplotlib-style name; a clear error lists the accepted names.</summary>
    public static IColormap Colormap(string name) => name.ToLowerInvariant() switch
    {
        "viridis" => new ScottPlot.Colormaps.Viridis(),
        "magma" => new ScottPlot.Colormaps.Magma(),
        "inferno" => new ScottPlot.Colormaps.Inferno(),
        "plasma" => new ScottPlot.Colormaps.Plasma(),
        "turbo" => new ScottPlot.Colormaps.Turbo(),
        "blues" => new ScottPlot.Colormaps.Blues(),
        "greens" => new ScottPlot.Colormaps.Greens(),
        "grayscale" or "greys" or "gray" => new ScottPlot.Colormaps.Grayscale(),
        "balance" or "rdbu" => new ScottPlot.Colormaps.Balance(),
        "jet" => new ScottPlot.Colormaps.Jet(),
        _ => throw new TesseraException($"unknown colormap '{name}'; available: {string.Join(", ", ColormapNames)}"),
    };

    /// <summary>Finite minimum and maximum of the values (NaN/±∞ ignored); (0, 1) when none is finite, widened when constant.</summary>
    public static (double Min, double Max) FiniteRange(double[] values)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var v in values) if (double.IsFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
        if (lo > hi) return (0, 1);
        if (lo == hi) return (lo - 0.5, hi + 0.5);
        return (lo, hi);
    }

    internal static Color[] MapColors(double[] values, IColormap cmap, double lo, double hi)
    {
        var c = new Color[values.Length];
        for (int i = 0; i < values.Length; i++)
            c[i] = double.IsFinite(values[i]) ? cmap.GetColor(Math.Clamp((values[i] - lo) / (hi - lo), 0, 1)) : CategoryPalette.MissingColor;
        return c;
    }

    // Draw missing values first so they never hide real ones; within the rest, keep input order.
    internal static int[] MissingFirst(int n, Func<int, bool> missing) =>
        Enumerable.Range(0, n).Where(missing).Concat(Enumerable.Range(0, n).Where(i => !missing(i))).ToArray();

    internal static void ApplyCleanStyle(Plot plot, string title)
    {
        plot.Title(title, 16);
        plot.HideGrid();
        plot.FigureBackground.Color = Colors.White;
        plot.DataBackground.Color = Colors.White;
        // ScottPlot's default family may be absent on Linux servers and fall back to a serif face; prefer a sans family.
        foreach (var family in new[] { "DejaVu Sans", "Liberation Sans", "Lato" })
            if (SkiaSharp.SKFontManager.Default.MatchFamily(family) is { } face)
            {
                face.Dispose();
                plot.Font.Set(family);
                plot.Legend.FontName = family;
                plot.Legend.SetBestFontOnEachRender = false;
                break;
            }
        plot.Legend.FontSize = 13;
        plot.Legend.OutlineWidth = 0;
        plot.Legend.ShadowColor = Colors.Transparent;
        plot.Legend.BackgroundColor = Colors.Transparent;
    }

    internal static LegendItem LegendDot(string label, Color color) => new()
    {
        LabelText = label,
        MarkerShape = MarkerShape.FilledCircle,
        MarkerSize = 12,
        MarkerFillColor = color,
        MarkerLineColor = color,
        LineWidth = 0,
    };
}
