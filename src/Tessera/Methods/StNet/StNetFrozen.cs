using System.Security.Cryptography;
using Tessera.Analysis;
using Tessera.Data;
using Tessera.IO;
using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.StNet;

/// <summary>An image backbone that turns RGB patches into feature vectors.</summary>
public interface IPatchFeaturizer
{
    /// <summary>Name (used in outputs and cache keys).</summary>
    string Name { get; }
    /// <summary>Feature length.</summary>
    int FeatureDim { get; }
    /// <summary>Features [B, FeatureDim] of RGB patches [B, 3, H, W] with values 0..255 (the backbone's own normalisation happens inside).</summary>
    Tensor Features(Tensor rgb);
}

/// <summary>Patches, features and targets of one section (rows = spots with a patch).</summary>
public sealed class PreparedSection
{
    /// <summary>The section.</summary>
    public required HistologySection Section { get; init; }
    /// <summary>Spot index (into the section) of each row.</summary>
    public required int[] Spots { get; init; }
    /// <summary>The patches (row i = patch i), kept for fine-tuning.</summary>
    public required PatchSet Patches { get; init; }
    /// <summary>Backbone features per row.</summary>
    public required DenseMatrix Features { get; init; }
    /// <summary>Colour-statistics features per row (the baseline).</summary>
    public required DenseMatrix Colour { get; init; }
    /// <summary>Targets per row (rows × genes).</summary>
    public required DenseMatrix Targets { get; init; }
    /// <summary>Targets averaged over each spot's 3×3 array neighbourhood (null without array coordinates).</summary>
    public DenseMatrix? SmoothedTargets { get; init; }
    /// <summary>Cross-validation group (patient, else section).</summary>
    public string Group => Section.Patient ?? Section.Name;
}

/// <summary>Scores of one model on one held-out section and gene.</summary>
public sealed record GeneSectionScore(string Model, string Section, string Gene, int Spots, double Pearson, double Spearman, double Rmse,
    double Auroc, double PearsonSmoothed, double SpearmanSmoothed, double RmseSmoothed, double AurocSmoothed);

/// <summary>Per-gene summary over held-out sections.</summary>
public sealed record GeneSummary(string Gene, double MeanExpression, double MeanPearson, double MedianPearson, int PositiveSections,
    int Sections, double SignTestP, double HolmP, double MeanPearsonSmoothed, double BaselineMeanPearson, bool BeatsBaseline);

/// <summary>Result of a cross-validated frozen-backbone run.</summary>
internal sealed class StNetCvResult
{
    /// <summary>Predicted genes (by decreasing mean expression).</summary>
    public required string[] Genes { get; init; }
    /// <summary>Prepared sections.</summary>
    public required IReadOnlyList<PreparedSection> Sections { get; init; }
    /// <summary>Held-out predictions per section (rows as the section's targets) of the backbone model.</summary>
    public required IReadOnlyDictionary<string, DenseMatrix> Predictions { get; init; }
    /// <summary>Held-out predictions of the colour baseline.</summary>
    public required IReadOnlyDictionary<string, DenseMatrix> BaselinePredictions { get; init; }
    /// <summary>All scores (model "stnet" and "colour").</summary>
    public required IReadOnlyList<GeneSectionScore> Scores { get; init; }
    /// <summary>Per-gene summary.</summary>
    public required IReadOnlyList<GeneSummary> Summary { get; init; }
    /// <summary>The final head, fitted on all sections.</summary>
    public required RidgeModel FinalHead { get; init; }
}

/// <summary>ST-Net's fast CPU path: backbone features extracted once (8-symmetry averaged), ridge head, cross-validated.</summary>
internal static class StNetFrozen
{
    /// <summary>Patch window in image pixels for a section.</summary>
    public static double WindowPixels(HistologySection section, StNetOptions o) =>
        WindowPixels(o.UmPerPixel is null ? section.PixelsPerArrayStep() : double.NaN, $"section '{section.Name}'", o);

    /// <summary>
    /// Patch window in image pixels: <see cref="StNetOptions.WindowUm"/> at <see cref="StNetOptions.UmPerPixel"/>, else at
    /// <see cref="StNetOptions.PitchUm"/> per <paramref name="pixelsPerArrayStep"/> (ignored when the resolution is given).
    /// </summary>
    public static double WindowPixels(double pixelsPerArrayStep, string what, StNetOptions o)
    {
        double umPerPx = o.UmPerPixel ?? o.PitchUm / pixelsPerArrayStep;
        if (!(umPerPx > 0) || !double.IsFinite(umPerPx)) throw new TesseraException($"{what}: cannot work out µm per pixel from the spot positions; set UmPerPixel");
        return o.WindowUm / umPerPx;
    }

    /// <summary>Extracts patches, backbone features (skipped when <paramref name="backbone"/> is null, as for fine-tuning), colour features and targets for every section.</summary>
    public static IReadOnlyList<PreparedSection> Prepare(IReadOnlyList<HistologySection> sections, IPatchFeaturizer? backbone, string[] genes, StNetOptions o,
        IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        int nAll = StNetTargets.UnionGenes(sections).Length;
        var list = new List<PreparedSection>();
        foreach (var s in sections)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double w = WindowPixels(s, o);
            var patches = Patches.Extract(s.ImagePath, s.PixelX, s.PixelY, w, o.PatchSize, o.CacheDir, progress);
            if (patches.Count == 0) throw new TesseraException($"section '{s.Name}': no spot has a {w:F0}-px patch inside the image");
            var feats = backbone is null ? new DenseMatrix(patches.Count, 0) : Featurize(patches, backbone, o, s.Name, progress, cancellationToken);
            var y = StNetTargets.Compute(s, genes, nAll, o.Transform);
            var rows = patches.SpotIndex;
            var yr = y.SubsetRows(rows);
            list.Add(new PreparedSection
            {
                Section = s, Spots = rows, Patches = patches, Features = feats, Colour = ColorFeatures.Compute(patches), Targets = yr,
                SmoothedTargets = s.ArrayX is null ? null : Smooth3x3(yr, [.. rows.Select(r => s.ArrayX[r])], [.. rows.Select(r => s.ArrayY![r])]),
            });
        }
        return list;
    }

    /// <summary>Backbone features of every patch (cached by patch content, backbone and augmentation when a cache folder is set).</summary>
    public static DenseMatrix Featurize(PatchSet patches, IPatchFeaturizer backbone, StNetOptions o, string label = "",
        IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        string? cache = null;
        if (o.CacheDir != null)
        {
            var key = Convert.ToHexString(SHA256.HashData(patches.Rgb))[..24].ToLowerInvariant();
            cache = Path.Combine(o.CacheDir, $"{key}.{backbone.Name}.{(o.TestTimeAugmentation ? "tta8" : "plain")}.features");
            if (File.Exists(cache))
            {
                try
                {
                    using var r = new BinaryReader(File.OpenRead(cache));
                    int n = r.ReadInt32(), d = r.ReadInt32();
                    if (n == patches.Count && d == backbone.FeatureDim)
                    {
                        var data = new double[(long)n * d];
                        for (long i = 0; i < data.Length; i++) data[i] = r.ReadDouble();
                        progress.Note("features", $"{label}: {n} feature vectors from the cache");
                        return new DenseMatrix(n, d, data);
                    }
                }
                catch (Exception e) when (e is IOException or EndOfStreamException) { } // damaged cache: recompute
            }
        }
        var f = new DenseMatrix(patches.Count, backbone.FeatureDim);
        // the same activation sizes at every batch: keep their blocks in the heap (NativeHeap explains)
        using var heap = NativeHeap.ReuseLargeBlocks();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string stage = $"features {label}";
        progress?.Report(new Progress(stage, 0, patches.Count, TimeSpan.Zero));
        for (int b = 0; b < patches.Count; b += o.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int m = Math.Min(o.BatchSize, patches.Count - b);
            int start = b;
            TorchGuard.Run(() =>
            {
                using var scope = NewDisposeScope();
                using var ng = no_grad();
                var x = patches.Batch(start, m);
                Tensor feats;
                if (o.TestTimeAugmentation)
                {
                    Tensor? acc = null;
                    foreach (var v in Patches.EightSymmetries(x)) { var z = backbone.Features(v); acc = acc is null ? z : acc + z; }
                    feats = acc! / 8;
                }
                else feats = backbone.Features(x);
                var arr = feats.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
                Array.Copy(arr, 0, f.Data, (long)start * backbone.FeatureDim, arr.Length);
            });
            progress?.Report(new Progress(stage, b + m, patches.Count, clock.Elapsed));
        }
        if (cache != null)
            AtomicFile.WriteStream(cache, s =>
            {
                using var w = new BinaryWriter(s);
                w.Write(f.Rows); w.Write(f.Cols);
                foreach (var v in f.Data) w.Write(v);
            });
        return f;
    }

    /// <summary>
    /// Cross-validation (leave one patient out when patients are given, else leave one section out): a ridge head on the
    /// backbone features and the colour baseline, both fitted on the training sections and scored on the held-out one.
    /// </summary>
    public static StNetCvResult CrossValidate(IReadOnlyList<PreparedSection> prepared, string[] genes, IProgress<Progress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var groups = prepared.Select(p => p.Group).Distinct(StringComparer.Ordinal).ToArray();
        if (groups.Length < 2) throw new TesseraException($"cross-validation needs at least 2 patients or sections, got {groups.Length}");
        var preds = new Dictionary<string, DenseMatrix>(StringComparer.Ordinal);
        var basePreds = ColourBaseline(prepared, groups);
        var scores = new List<GeneSectionScore>();
        foreach (var g in groups)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var train = prepared.Where(p => p.Group != g).ToArray();
            var test = prepared.Where(p => p.Group == g).ToArray();
            var head = Ridge.Fit(DenseMatrix.VStack([.. train.Select(t => t.Features)]), DenseMatrix.VStack([.. train.Select(t => t.Targets)]));
            foreach (var t in test)
            {
                var p = head.Predict(t.Features);
                preds[t.Section.Name] = p;
                scores.AddRange(Score("stnet", t, p, genes));
                scores.AddRange(Score("colour", t, basePreds[t.Section.Name], genes));
            }
            progress.Note("cross-validation", $"fold {g}: trained on {train.Sum(t => t.Targets.Rows)} spots of {train.Length} sections; median ridge λ {Statistics.Median(head.Lambda):G3}");
        }
        cancellationToken.ThrowIfCancellationRequested();
        var final = Ridge.Fit(DenseMatrix.VStack([.. prepared.Select(t => t.Features)]), DenseMatrix.VStack([.. prepared.Select(t => t.Targets)]));
        return new StNetCvResult
        {
            Genes = genes, Sections = prepared, Predictions = preds, BaselinePredictions = basePreds, Scores = scores,
            Summary = Summarise(scores, genes, prepared), FinalHead = final,
        };
    }

    /// <summary>Held-out predictions of the colour-statistics baseline for the sections of the groups in <paramref name="heldOut"/> (null: all).</summary>
    public static Dictionary<string, DenseMatrix> ColourBaseline(IReadOnlyList<PreparedSection> prepared, IEnumerable<string>? heldOut = null)
    {
        var preds = new Dictionary<string, DenseMatrix>(StringComparer.Ordinal);
        foreach (var g in heldOut ?? prepared.Select(p => p.Group).Distinct(StringComparer.Ordinal))
        {
            var head = Ridge.Fit(DenseMatrix.VStack([.. prepared.Where(p => p.Group != g).Select(t => t.Colour)]), DenseMatrix.VStack([.. prepared.Where(p => p.Group != g).Select(t => t.Targets)]));
            foreach (var t in prepared.Where(p => p.Group == g)) preds[t.Section.Name] = head.Predict(t.Colour);
        }
        return preds;
    }

    /// <summary>Scores of predictions against a section's targets (and smoothed targets) for every gene.</summary>
    public static IEnumerable<GeneSectionScore> Score(string model, PreparedSection t, DenseMatrix pred, string[] genes)
    {
        for (int g = 0; g < genes.Length; g++)
        {
            var truth = t.Targets.Column(g); var p = pred.Column(g);
            var (r, rho, rmse, auc) = Measures(truth, p);
            var (rs, rhos, rmses, aucs) = t.SmoothedTargets is null ? (double.NaN, double.NaN, double.NaN, double.NaN) : Measures(t.SmoothedTargets.Column(g), p);
            yield return new GeneSectionScore(model, t.Section.Name, genes[g], truth.Length, r, rho, rmse, auc, rs, rhos, rmses, aucs);
        }
    }

    private static (double, double, double, double) Measures(double[] truth, double[] pred)
    {
        var r = Metrics.Pearson(truth, pred); var rho = Metrics.Spearman(truth, pred); var rmse = Metrics.Rmse(truth, pred);
        double q1 = Statistics.Quantile(truth, 0.25), q3 = Statistics.Quantile(truth, 0.75);
        var lab = new List<bool>(); var sc = new List<double>();
        for (int i = 0; i < truth.Length; i++)
        {
            if (truth[i] >= q3 && q3 > q1) { lab.Add(true); sc.Add(pred[i]); }
            else if (truth[i] <= q1 && q3 > q1) { lab.Add(false); sc.Add(pred[i]); }
        }
        double auc = lab.Contains(true) && lab.Contains(false) ? Metrics.Auroc(lab, sc) : double.NaN;
        return (r, rho, rmse, auc);
    }

    /// <summary>Per gene: mean/median Pearson over held-out sections, sections with r &gt; 0, one-sided sign test with Holm correction, and the colour baseline.</summary>
    public static IReadOnlyList<GeneSummary> Summarise(IReadOnlyList<GeneSectionScore> scores, string[] genes, IReadOnlyList<PreparedSection> prepared)
    {
        var byKey = scores.ToLookup(s => (s.Model, s.Gene));
        var raw = new List<(string gene, double meanExpr, double mean, double median, int pos, int n, double p, double meanS, double baseMean)>();
        for (int g = 0; g < genes.Length; g++)
        {
            var st = byKey[("stnet", genes[g])].Where(s => double.IsFinite(s.Pearson)).ToArray();
            var bl = byKey[("colour", genes[g])].Where(s => double.IsFinite(s.Pearson)).ToArray();
            int pos = st.Count(s => s.Pearson > 0);
            var rs = st.Select(s => s.Pearson).Order().ToArray();
            double meanExpr = prepared.Sum(p => p.Targets.Column(g).Sum()) / Math.Max(1, prepared.Sum(p => p.Targets.Rows));
            raw.Add((genes[g], meanExpr, rs.Length > 0 ? rs.Average() : double.NaN, rs.Length > 0 ? Statistics.Median(rs) : double.NaN, pos, rs.Length,
                rs.Length > 0 ? Statistics.BinomialTailTest(pos, rs.Length, 0.5) : double.NaN,
                st.Where(s => double.IsFinite(s.PearsonSmoothed)).Select(s => s.PearsonSmoothed).DefaultIfEmpty(double.NaN).Average(),
                bl.Length > 0 ? bl.Average(s => s.Pearson) : double.NaN));
        }
        var holm = Statistics.HolmBonferroni([.. raw.Select(x => double.IsFinite(x.p) ? x.p : 1.0)]);
        return [.. raw.Select((x, i) => new GeneSummary(x.gene, x.meanExpr, x.mean, x.median, x.pos, x.n, x.p, holm[i], x.meanS, x.baseMean, x.mean > x.baseMean))];
    }

    /// <summary>Mean of each row's targets over the spots at array distance ≤ 1 in x and y (the 3×3 neighbourhood, itself included).</summary>
    public static DenseMatrix Smooth3x3(DenseMatrix y, double[] ax, double[] ay)
    {
        var at = new Dictionary<(long, long), int>();
        for (int i = 0; i < ax.Length; i++) at[((long)Math.Round(ax[i]), (long)Math.Round(ay[i]))] = i;
        var s = new DenseMatrix(y.Rows, y.Cols);
        for (int i = 0; i < ax.Length; i++)
        {
            long x0 = (long)Math.Round(ax[i]), y0 = (long)Math.Round(ay[i]);
            int n = 0;
            for (long dx = -1; dx <= 1; dx++)
                for (long dy = -1; dy <= 1; dy++)
                    if (at.TryGetValue((x0 + dx, y0 + dy), out var j))
                    {
                        n++;
                        for (int g = 0; g < y.Cols; g++) s[i, g] += y[j, g];
                    }
            for (int g = 0; g < y.Cols; g++) s[i, g] /= n;
        }
        return s;
    }
}
