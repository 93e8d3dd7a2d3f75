using System.Globalization;
using ScottPlot;
using Tessera.Plotting;

namespace Tessera.Methods.Costa;

/// <summary>
/// CoSTA's figures: gene image mosaics (mean image per gene cluster, query genes beside their most similar genes), the
/// gene UMAP by cluster and the NMI between consecutive epochs' labels.
/// </summary>
public static class CostaFigures
{
    /// <summary>The 2-d UMAP of the genes coloured by gene cluster.</summary>
    public static Plot GeneUmap(CostaResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var labels = result.Clusters.Select(c => c < 0 ? null : (string?)c.ToString(CultureInfo.InvariantCulture)).ToArray();
        return EmbeddingPlot.Categorical(result.Umap, labels, "CoSTA gene UMAP by cluster");
    }

    /// <summary>NMI between consecutive epochs' self-labelling labels, one line per model; null when no epoch was trained.</summary>
    public static Plot? Nmi(CostaResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var series = new Dictionary<string, double[]>();
        for (int m = 0; m < result.Histories.Count; m++) series[$"model {m + 1}"] = result.Histories[m].Skip(1).Select(e => e.Nmi).ToArray();
        if (series.Count == 0 || series.Values.First().Length == 0) return null;
        return CurvePlot.Lines("NMI between consecutive epochs' labels", "epoch", series, "NMI");
    }

    /// <summary>Each query gene's image (left) followed by its five most similar genes' images.</summary>
    public static Plot QueryImages(GeneImageSet images, CostaCorrelation correlation)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(correlation);
        var tiles = new List<float[]>(); var caps = new List<string>();
        foreach (var q in correlation.Queries)
        {
            tiles.Add(images.Image(images.IndexOf(q)).ToArray()); caps.Add(q);
            foreach (var x in correlation.Similarities.Where(x => x.Query == q).Take(5))
            {
                tiles.Add(images.Image(images.IndexOf(x.Gene)).ToArray());
                caps.Add($"{x.Gene} z={x.MeanZ:F1}");
            }
        }
        return Mosaic(tiles, caps, images.Height, images.Width, images.Mask, 6, "Query genes (left) and their most similar genes");
    }

    /// <summary>
    /// A mosaic with <paramref name="columns"/> tiles per row; each tile is min–max scaled over its in-mask pixels,
    /// outside-mask pixels and gaps are blank; tile captions are drawn under each tile.
    /// </summary>
    public static Plot Mosaic(IReadOnlyList<float[]> tiles, IReadOnlyList<string> captions, int height, int width, bool[] mask, int columns, string title)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        if (tiles.Count == 0) throw new TesseraException("a mosaic needs at least one image");
        if (captions.Count != tiles.Count) throw new TesseraException($"{tiles.Count} images but {captions.Count} captions");
        int cols = Math.Max(1, Math.Min(columns, tiles.Count)), rows = (tiles.Count + cols - 1) / cols;
        int gap = Math.Max(2, height / 6), capH = Math.Max(4, height / 4);
        int totalH = rows * (height + gap + capH), totalW = cols * (width + gap);
        var data = new double[totalH, totalW];
        for (int r = 0; r < totalH; r++) for (int c = 0; c < totalW; c++) data[r, c] = double.NaN;
        var plot = new Plot();
        Plotting.Figures.ApplyCleanStyle(plot, title);
        for (int t = 0; t < tiles.Count; t++)
        {
            var img = tiles[t];
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (int i = 0; i < img.Length; i++) if (mask[i]) { lo = Math.Min(lo, img[i]); hi = Math.Max(hi, img[i]); }
            double span = hi > lo ? hi - lo : 1;
            int r0 = t / cols * (height + gap + capH), c0 = t % cols * (width + gap);
            for (int r = 0; r < height; r++)
                for (int c = 0; c < width; c++)
                    if (mask[r * width + c]) data[r0 + r, c0 + c] = (img[r * width + c] - lo) / span;
        }
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        hm.NaNCellColor = Colors.White;
        for (int t = 0; t < tiles.Count; t++)
        {
            int r0 = t / cols * (height + gap + capH), c0 = t % cols * (width + gap);
            // Heatmap row 0 is drawn at the top: y = totalH - row.
            var txt = plot.Add.Text(captions[t], c0 + width / 2.0, totalH - (r0 + height + capH * 0.5));
            txt.LabelAlignment = Alignment.MiddleCenter;
            txt.LabelFontSize = 12;
        }
        plot.Axes.Frameless();
        plot.HideGrid();
        return plot;
    }

    /// <summary>Per-cluster mean images (clusters 0..k−1), captioned "cluster c (n genes)".</summary>
    public static Plot ClusterMeans(GeneImageSet images, int[] clusters, int k, string title)
    {
        ArgumentNullException.ThrowIfNull(images);
        int p = images.PixelCount;
        var tiles = new List<float[]>(); var caps = new List<string>();
        for (int c = 0; c < k; c++)
        {
            var mean = new double[p]; int cnt = 0;
            for (int g = 0; g < images.Count; g++)
            {
                if (clusters[g] != c) continue;
                cnt++;
                var img = images.Image(g);
                for (int i = 0; i < p; i++) mean[i] += img[i];
            }
            if (cnt == 0) continue;
            tiles.Add(mean.Select(v => (float)(v / cnt)).ToArray());
            caps.Add($"cluster {c} ({cnt} genes)");
        }
        return Mosaic(tiles, caps, images.Height, images.Width, images.Mask, (int)Math.Ceiling(Math.Sqrt(tiles.Count)), title);
    }
}
