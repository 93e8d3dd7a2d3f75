using Tessera.Analysis;
using Tessera.Data;
using Tessera.Plotting;

namespace Tessera.Methods.StNet;

/// <summary>Figures of ST-Net results, written as PNG files into a folder.</summary>
public static class StNetFigures
{
    /// <summary>Patches in the integrated-gradients figure unless told otherwise.</summary>
    public const int DefaultAttributionPatches = 4;

    /// <summary>Integrated-gradients path steps unless told otherwise.</summary>
    public const int DefaultAttributionSteps = 32;

    /// <summary>
    /// The figures of a fit: measured vs held-out predicted maps of the 4 best genes on the first held-out section
    /// (<c>map_{gene}_measured.png</c>, <c>map_{gene}_predicted.png</c>), the fine-tuning losses (<c>finetune_loss.png</c>)
    /// and, for a frozen model, the UMAP of the patch features (<c>umap_sections.png</c>, <c>umap_{gene}.png</c>) and the
    /// integrated gradients of the best gene on <paramref name="attributionPatches"/> patches (<c>ig_{gene}.png</c>; 0: none).
    /// </summary>
    public static void WriteTraining(StNetModel model, string dir, int attributionPatches = DefaultAttributionPatches, int attributionSteps = DefaultAttributionSteps,
        IProgress<Progress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var res = model.Result ?? throw new TesseraException("a model loaded from disk has no training result to draw");
        if (attributionPatches < 0) throw new TesseraException($"attribution patches must be at least 0 but is {attributionPatches}");
        if (attributionSteps < 1) throw new TesseraException($"attribution steps must be at least 1 but is {attributionSteps}");
        Directory.CreateDirectory(dir);
        if (res.FineTuneFolds is { } folds)
            Figures.SavePng(FineTuneLoss(folds, model.Options.BatchSize), Path.Combine(dir, "finetune_loss.png"), 800, 500);
        var first = res.Predictions[0];
        Maps(res.Sections.First(q => q.Section.Name == first.Name), res.Summary, res.Scores, first.Values, dir);
        if (model.Head is null) return;
        var bestGene = res.Summary.Select((g, i) => (g, i)).MaxBy(t => t.g.MeanPearson);
        progress.Note("", "UMAP of patch features");
        Latent(res, bestGene.g.Gene, bestGene.i, model.Options.Seed, dir);
        if (attributionPatches > 0)
        {
            progress.Note("", $"integrated gradients of {bestGene.g.Gene} ({attributionPatches} patches, {attributionSteps} steps)");
            IntegratedGradients(res.Sections[0], model.Backbone, model.Head, bestGene.i, bestGene.g.Gene, attributionPatches, attributionSteps, dir);
        }
    }

    /// <summary>Maps of the first 4 predicted genes over the slide (<c>map_{gene}.png</c>) of a prediction.</summary>
    public static void WritePrediction(StNetResult prediction, string dir)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        var p = prediction.Predictions[0];
        Directory.CreateDirectory(dir);
        int n = p.SpotIds.Length;
        var xy = new DenseMatrix(n, 2);
        for (int i = 0; i < n; i++) { xy[i, 0] = p.PixelX[i]; xy[i, 1] = p.PixelY[i]; }
        var sd = new SpatialData(new CsrMatrix(n, 1, new int[n + 1], [], []), new Table([.. p.SpotIds]), new Table(["none"]));
        sd.SetObsm(SpatialData.SpatialKey, xy);
        var thumb = p.Thumbnail ?? Patches.Thumbnail(p.ImagePath, 1200);
        var genes = prediction.Genes;
        foreach (var g in Enumerable.Range(0, Math.Min(4, genes.Length)))
            Figures.SavePng(SpatialPlot.Continuous(sd, Enumerable.Range(0, n).Select(i => p.Values[i, g]).ToArray(), $"{genes[g]} predicted", "magma", thumb),
                Path.Combine(dir, $"map_{genes[g]}.png"), 700, 650);
    }

    /// <summary>Training loss per patch and held-out MSE per epoch of every fine-tuning fold.</summary>
    public static ScottPlot.Plot FineTuneLoss(IReadOnlyList<FineTuneFold> folds, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(folds);
        var plot = new ScottPlot.Plot();
        foreach (var f in folds)
        {
            var xs = Enumerable.Range(1, f.TrainLoss.Length).Select(e => (double)e).ToArray();
            var sTrain = plot.Add.Scatter(xs, f.TrainLoss.Select(l => l / batchSize).ToArray()); sTrain.LegendText = $"{f.HeldOut}: train loss per patch";
            var sHeld = plot.Add.Scatter(xs, f.HeldOutMse); sHeld.LegendText = $"{f.HeldOut}: held-out MSE";
        }
        plot.Title("ST-Net fine-tuning"); plot.XLabel("epoch"); plot.YLabel("mean squared error"); plot.ShowLegend();
        return plot;
    }

    /// <summary>UMAP of the backbone features of every patch, coloured by section and by the held-out prediction of one gene.</summary>
    private static void Latent(StNetResult res, string gene, int gi, int seed, string dir)
    {
        var prepared = res.Sections;
        var preds = res.Predictions.ToDictionary(p => p.Name, p => p.Values, StringComparer.Ordinal);
        var feats = DenseMatrix.VStack([.. prepared.Select(q => q.Features)]);
        var z = Statistics.ZScores(feats);
        for (int i = 0; i < z.Data.Length; i++) if (!double.IsFinite(z.Data[i])) z.Data[i] = 0; // constant features (dead ReLUs) carry nothing
        var xy = new Umap(new UmapOptions { Seed = seed }).FitTransform(z);
        var labels = prepared.SelectMany(q => Enumerable.Repeat<string?>(q.Section.Name, q.Features.Rows)).ToArray();
        Figures.SavePng(EmbeddingPlot.Categorical(xy, labels, "Patch features (UMAP) by section"), Path.Combine(dir, "umap_sections.png"), 700, 600);
        var values = prepared.SelectMany(q => Enumerable.Range(0, q.Features.Rows).Select(i => preds[q.Section.Name][i, gi])).ToArray();
        Figures.SavePng(EmbeddingPlot.Continuous(xy, values, $"Patch features (UMAP): held-out predicted {gene}", "magma"), Path.Combine(dir, $"umap_{gene}.png"), 700, 600);
    }

    /// <summary>The patches with the highest predicted expression of a gene, each above its integrated-gradients heat map.</summary>
    private static void IntegratedGradients(PreparedSection ps, IPatchFeaturizer net, RidgeModel head, int gi, string gene, int count, int steps, string dir)
    {
        var pred = head.Predict(ps.Features);
        var order = Enumerable.Range(0, ps.Features.Rows).OrderByDescending(i => pred[i, gi]).Take(count).ToArray();
        int size = ps.Patches.Size, gap = 8, w = order.Length * (size + gap) - gap, h = 2 * size + gap;
        using var bmp = new SkiaSharp.SKBitmap(w, h, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque);
        using (var canvas = new SkiaSharp.SKCanvas(bmp)) canvas.Clear(SkiaSharp.SKColors.White);
        for (int k = 0; k < order.Length; k++)
        {
            using var patch = ps.Patches.Batch(order[k], 1);
            var heat = StNetAttribution.GeneHeatmap(net, head, gi, patch, steps);
            // robust scale: the 99th percentile of the map maps to full red
            var sorted = (float[])heat.Clone(); Array.Sort(sorted);
            float top = Math.Max(sorted[(int)(0.99 * (sorted.Length - 1))], 1e-12f);
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    int o = ((order[k] * size + y) * size + x) * 3;
                    byte rr = ps.Patches.Rgb[o], gg = ps.Patches.Rgb[o + 1], bb = ps.Patches.Rgb[o + 2];
                    bmp.SetPixel(k * (size + gap) + x, y, new SkiaSharp.SKColor(rr, gg, bb));
                    float a = Math.Clamp(heat[y * size + x] / top, 0, 1);
                    byte grey = (byte)((rr + gg + bb) / 3);
                    bmp.SetPixel(k * (size + gap) + x, size + gap + y, new SkiaSharp.SKColor((byte)(grey * (1 - a) + 255 * a), (byte)(grey * (1 - a)), (byte)(grey * (1 - a))));
                }
        }
        using var png = bmp.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(Path.Combine(dir, $"ig_{gene}.png"), png.ToArray());
    }

    /// <summary>Measured vs held-out predicted maps of the 4 best-predicted genes on one section, over the tissue.</summary>
    private static void Maps(PreparedSection ps, IReadOnlyList<GeneSummary> summary, IReadOnlyList<GeneSectionScore> scores, DenseMatrix pred, string dir)
    {
        var s = ps.Section;
        var sub = s.Counts.Subset(ps.Spots);
        var xy = new DenseMatrix(ps.Spots.Length, 2);
        for (int i = 0; i < ps.Spots.Length; i++) { xy[i, 0] = s.PixelX[ps.Spots[i]]; xy[i, 1] = s.PixelY[ps.Spots[i]]; }
        sub.SetObsm(SpatialData.SpatialKey, xy);
        var thumb = Patches.Thumbnail(s.ImagePath, 1200);
        var best = summary.Select((g, i) => (g, i)).OrderByDescending(t => t.g.MeanPearson).Take(4).ToArray();
        foreach (var (g, gi) in best)
        {
            var truth = new double[ps.Spots.Length]; var p = new double[ps.Spots.Length];
            for (int i = 0; i < truth.Length; i++) { truth[i] = ps.Targets[i, gi]; p[i] = pred[i, gi]; }
            var (lo, hi) = Figures.FiniteRange(truth);
            var r = scores.First(x => x.Model == "stnet" && x.Section == s.Name && x.Gene == g.Gene).Pearson;
            Figures.SavePng(SpatialPlot.Continuous(sub, truth, $"{g.Gene} measured ({s.Name})", "magma", thumb, lo, hi), Path.Combine(dir, $"map_{g.Gene}_measured.png"), 700, 650);
            Figures.SavePng(SpatialPlot.Continuous(sub, p, $"{g.Gene} predicted, held out (r = {r:F2})", "magma", thumb), Path.Combine(dir, $"map_{g.Gene}_predicted.png"), 700, 650);
        }
    }
}
