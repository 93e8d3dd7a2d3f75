using ScottPlot;
using Tessera.Data;
using Tessera.Plotting;
using Tessera.Simulate;

namespace Tessera.Methods.Stem;

/// <summary>Figures of a cell→spot mapping (STEM or Tangram).</summary>
public static class StemFigures
{
    /// <summary>Cells at their predicted coordinates (<see cref="CellMappingResult.PredictedCoordinates"/>), coloured by <paramref name="labels"/>.</summary>
    public static Plot PredictedCells(CellMappingResult result, string?[] labels)
    {
        ArgumentNullException.ThrowIfNull(result);
        return EmbeddingPlot.Categorical(result.PredictedCoordinates, labels, $"predicted cell positions ({result.Method})", axisPrefix: "x");
    }

    /// <summary>Cells at their true coordinates (the simulation's obsm "spatial_true"), coloured by <paramref name="labels"/>.</summary>
    public static Plot TrueCells(DenseMatrix trueCoordinates, string?[] labels) =>
        EmbeddingPlot.Categorical(trueCoordinates, labels, "true cell positions", axisPrefix: "x");

    /// <summary>Spots coloured by the mapped proportion of cell type <paramref name="type"/> (column of <see cref="CellMappingResult.Proportions"/>).</summary>
    public static Plot Proportion(SpatialData st, CellMappingResult result, int type)
    {
        ArgumentNullException.ThrowIfNull(st); ArgumentNullException.ThrowIfNull(result);
        if (result.Proportions is null || result.Types is null) throw new TesseraException("the mapping has no cell-type proportions (no cell-type column)");
        return SpatialPlot.Continuous(st, result.Proportions.Column(type), $"{result.Method} proportion: {result.Types[type]}");
    }

    /// <summary>
    /// Groups × (top 5 spatially dominant genes of each group): mean attribution in the group, scaled per gene to its maximum
    /// over groups; null when there is nothing to draw. <paramref name="width"/> and <paramref name="height"/> fit the labels.
    /// </summary>
    public static Plot? SdgHeatmap(IReadOnlyList<SdgRow> sdg, out int width, out int height)
    {
        ArgumentNullException.ThrowIfNull(sdg);
        width = height = 0;
        var groups = sdg.Select(s => s.Group).Distinct().ToArray();
        var genes = groups.SelectMany(g => sdg.Where(s => s.Group == g && s.Rank <= 5).Select(s => s.Gene)).Distinct().ToArray();
        if (groups.Length == 0 || genes.Length == 0) return null;
        var lookup = sdg.ToDictionary(s => (s.Group, s.Gene), s => s.MeanInGroup);
        var m = new double[groups.Length, genes.Length];
        for (int j = 0; j < genes.Length; j++)
        {
            double max = groups.Max(g => Math.Abs(lookup.GetValueOrDefault((g, genes[j]))));
            for (int i = 0; i < groups.Length; i++) m[groups.Length - 1 - i, j] = max > 0 ? lookup.GetValueOrDefault((groups[i], genes[j])) / max : 0;
        }
        var plot = new Plot();
        var hm = plot.Add.Heatmap(m);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(hm);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, genes.Length).Select(j => (double)j).ToArray(), genes);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 90;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Left.SetTicks(Enumerable.Range(0, groups.Length).Select(i => (double)(groups.Length - 1 - i)).ToArray(), groups);
        plot.Title("spatially dominant genes: mean attribution (scaled per gene)");
        width = Math.Max(900, 40 * genes.Length + 300);
        height = Math.Max(500, 30 * groups.Length + 300);
        return plot;
    }

    /// <summary>
    /// Writes the mapping's figures into <paramref name="folder"/>: cells_predicted.png, cells_true.png (with the simulation's
    /// truth), proportion_{type}.png per type whose mapped proportion varies, and sdg_heatmap.png (with spatially dominant genes).
    /// Returns the file names written.
    /// </summary>
    public static IReadOnlyList<string> WriteAll(CellMappingResult result, StemData data, string folder)
    {
        ArgumentNullException.ThrowIfNull(result); ArgumentNullException.ThrowIfNull(data); ArgumentException.ThrowIfNullOrEmpty(folder);
        var written = new List<string>();
        void Save(Plot plot, string name, int width, int height)
        {
            Figures.SavePng(plot, Path.Combine(folder, name), width, height);
            written.Add(name);
        }
        var labels = data.CellTypeColumn != null ? data.Sc.Obs.Labels(data.CellTypeColumn) : new string?[data.Sc.NObs];
        Save(PredictedCells(result, labels), "cells_predicted.png", 1100, 900);
        if (data.Sc.Obsm.TryGetValue(PseudoSpots.TrueCoordsKey, out var truth)) Save(TrueCells(truth, labels), "cells_true.png", 1100, 900);
        if (result.Proportions is { } props && result.Types is { } types && data.St.HasSpatial)
            for (int t = 0; t < types.Length; t++)
            {
                var v = props.Column(t);
                if (!(v.Max() > v.Min())) continue;
                var safe = new string(types[t].Select(ch => char.IsLetterOrDigit(ch) ? ch : '_').ToArray());
                Save(Proportion(data.St, result, t), $"proportion_{safe}.png", 1000, 850);
            }
        if (result.SpatiallyDominantGenes is { } sdg && SdgHeatmap(sdg, out int w, out int h) is { } heatmap) Save(heatmap, "sdg_heatmap.png", w, h);
        return written;
    }

    /// <summary>
    /// Side-by-side cells at their predicted positions for each mapping (after the true positions when the data carry the
    /// simulation's truth), coloured by the cell-type column; written atomically to <paramref name="path"/>.
    /// </summary>
    public static void WriteComparison(IReadOnlyList<CellMappingResult> results, StemData data, string path)
    {
        ArgumentNullException.ThrowIfNull(results); ArgumentNullException.ThrowIfNull(data);
        var labels = data.CellTypeColumn != null ? data.Sc.Obs.Labels(data.CellTypeColumn) : new string?[data.Sc.NObs];
        var plots = new List<Plot>();
        if (data.Sc.Obsm.TryGetValue(PseudoSpots.TrueCoordsKey, out var truth)) plots.Add(TrueCells(truth, labels));
        foreach (var r in results)
        {
            var p = PredictedCells(r, labels);
            if (r.Scores is { } s) p.Title($"{r.Method}: hit10 {s.Hit10:F3}, error(all) {s.CoordErrorAll:G4}");
            plots.Add(p);
        }
        var multi = new Multiplot();
        multi.RemovePlot(multi.GetPlot(0)); // a new Multiplot starts with an empty plot of its own
        foreach (var p in plots) multi.AddPlot(p);
        multi.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multi.SharedAxes.ShareX(plots);
        multi.SharedAxes.ShareY(plots);
        var bytes = multi.Render(900 * plots.Count, 850).GetImageBytes(ImageFormat.Png);
        Tessera.IO.AtomicFile.WriteStream(path, st => st.Write(bytes));
    }
}
