using System.Text.Json;
using System.Text.Json.Serialization;
using Tessera.Data;
using Tessera.IO;
using Tessera.Nn;
using Tessera.Simulate;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Stem;

/// <summary>
/// A trained STEM encoder with what it needs to map new data: the shared genes, the normalisation targets, sigma, the ST
/// dropout and the training spots. Dispose to free the encoder.
/// </summary>
public sealed class StemModel : IDisposable
{
    private const string Format = "tessera.stem/1";

    internal StemModel(StemEncoder encoder, string[] genes, double? targetSumSc, double? targetSumSt, bool normalized, double sigma, double dropout,
        LossHistory history, StemOptions options, DenseMatrix spotCoordinates, string[] spotNames)
    {
        Encoder = encoder; Genes = genes; TargetSumSc = targetSumSc; TargetSumSt = targetSumSt; Normalized = normalized;
        Sigma = sigma; Dropout = dropout; History = history; Options = options; SpotCoordinates = spotCoordinates; SpotNames = spotNames;
        encoder.eval();
    }

    /// <summary>Options the model was trained with (and the mapping outputs' settings).</summary>
    public StemOptions Options { get; }
    /// <summary>The mapping of the training data; null only for a model loaded from disk (call <see cref="Transform"/>).</summary>
    public StemResult? Result { get; internal set; }
    /// <summary>The trained encoder (eval mode).</summary>
    public StemEncoder Encoder { get; }
    /// <summary>Genes the encoder reads, in order (both datasets must hold them).</summary>
    public string[] Genes { get; }
    /// <summary>Whether inputs are normalize_total + log1p transformed (false: used as given).</summary>
    public bool Normalized { get; }
    /// <summary>normalize_total target of the SC data (null when not normalised).</summary>
    public double? TargetSumSc { get; }
    /// <summary>normalize_total target of the ST data (null when not normalised).</summary>
    public double? TargetSumSt { get; }
    /// <summary>Kernel width used for the spatial target.</summary>
    public double Sigma { get; }
    /// <summary>ST input dropout rate used.</summary>
    public double Dropout { get; }
    /// <summary>Per-epoch losses: total and the components spatial, mmd, cycle (NaN before the cycle ramp starts).</summary>
    public LossHistory History { get; }
    /// <summary>Coordinates of the training spots (used by <see cref="Transform"/> for ST data without coordinates of their own that hold the same spots).</summary>
    public DenseMatrix SpotCoordinates { get; }
    /// <summary>Names of the training spots.</summary>
    public string[] SpotNames { get; }

    /// <summary>
    /// Maps the cells of <paramref name="data"/> onto its spots with the trained encoder: the data are restricted to
    /// <see cref="Genes"/> and normalised with the training targets, so the training data give <see cref="Result"/> again.
    /// </summary>
    public StemResult Transform(StemData data, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.Validate();
        using var torchScope = TorchScope.Enter(Options.Threads);
        var coords = Coordinates(data.St);
        var inputs = Prepare(data);
        using var xsc = torch.tensor(inputs.Sc, [inputs.NCells, inputs.Genes.Length]);
        using var xst = torch.tensor(inputs.St, [inputs.NSpots, inputs.Genes.Length]);
        return Compute(data, inputs, xsc, xst, coords, progress, cancellationToken);
    }

    /// <summary>The encoder's inputs for <paramref name="data"/>: <see cref="Genes"/>, normalised as at training.</summary>
    public StemInputs Prepare(StemData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.Validate();
        return StemInputs.ForGenes(data.Sc, data.St, Genes, TargetSumSc, TargetSumSt, Normalized);
    }

    /// <summary>
    /// Integrated gradients (cells × <see cref="Genes"/>) of each cell's maximum mapping probability onto the spots of
    /// <paramref name="data"/>; <paramref name="steps"/> null = <see cref="StemOptions.IgSteps"/>.
    /// </summary>
    public DenseMatrix IntegratedGradients(StemData data, int? steps = null, CancellationToken cancellationToken = default)
    {
        using var torchScope = TorchScope.Enter(Options.Threads);
        var inputs = Prepare(data);
        using var xsc = torch.tensor(inputs.Sc, [inputs.NCells, inputs.Genes.Length]);
        using var xst = torch.tensor(inputs.St, [inputs.NSpots, inputs.Genes.Length]);
        DenseMatrix est;
        using (torch.no_grad()) est = ToDense(Encoder.forward(xst));
        return IntegratedGradients(xsc, est, steps ?? Options.IgSteps, null, cancellationToken);
    }

    private DenseMatrix Coordinates(SpatialData st)
    {
        DenseMatrix coords;
        if (st.HasSpatial) coords = st.Spatial;
        else if (st.ObsNames.SequenceEqual(SpotNames)) coords = SpotCoordinates;
        else throw new TesseraException("ST data has no spot coordinates (obsm 'spatial') and are not the training spots");
        for (int i = 0; i < coords.Data.Length; i++)
            if (!double.IsFinite(coords.Data[i])) throw new TesseraException($"ST coordinates: spot '{st.ObsNames[i / coords.Cols]}' has a non-finite coordinate");
        return coords;
    }

    /// <summary>Embeddings, mapping, proportions, spatially dominant genes and (with the simulation's truth) metrics of prepared inputs.</summary>
    internal StemResult Compute(StemData data, StemInputs inputs, Tensor xsc, Tensor xst, DenseMatrix spotCoords, IProgress<Progress>? progress,
        CancellationToken cancellationToken)
    {
        var o = Options;
        var (sc, st) = (data.Sc, data.St);
        cancellationToken.ThrowIfCancellationRequested();
        DenseMatrix esc, est;
        using (torch.no_grad())
        {
            esc = Embed(xsc);
            est = Embed(xst);
        }
        // Above the full-batch limits nothing cells- or spots-sided is formed densely: the cell graph comes from the k-d tree
        // on predicted coordinates, the evaluation is blocked, and the dense baselines are skipped.
        bool large = o.IsLarge(est.Rows, esc.Rows);
        progress.Note("STEM", large ? $"mapping cells (large data: {esc.Rows} cells, {est.Rows} spots; sparse top-k in blocks, cell graph by k-d tree on predicted coordinates)" : "mapping cells");
        var map = StemMapper.Map(esc, est, spotCoords, o, cancellationToken, progress);

        string[]? types = null; DenseMatrix? proportions = null;
        CategoricalColumn? typeCat = data.CellTypeColumn != null ? CategoricalColumn.FromLabels(sc.Obs.Labels(data.CellTypeColumn)) : null;
        if (typeCat != null)
        {
            types = typeCat.Categories;
            proportions = StemMapper.SpotTypeProportions(esc, est, typeCat.Codes, types.Length, progress);
        }

        SdgRow[]? sdg = null;
        if (data.Groups is { } groups)
        {
            var labels = sc.Obs.Labels(groups);
            var rows = large ? IgSample(esc.Rows, o) : null;
            progress.Note("STEM", $"spatially dominant genes ({o.IgSteps} IG steps" + (rows is null ? ")" : $", a seeded sample of {rows.Length} of {esc.Rows} cells)"));
            using var xig = rows is null ? xsc.alias() : xsc.index_select(0, torch.tensor(rows.Select(i => (long)i).ToArray()));
            sdg = SpatialGenes.Test(IntegratedGradients(xig, est, o.IgSteps, progress, cancellationToken), inputs.Genes,
                rows is null ? labels : rows.Select(i => labels[i]).ToArray());
        }

        MappingScores? stem = null, correlation = null, tangram = null;
        if (large && MappingEvaluation.BlockedTruthScorer(data, spotCoords) is { } blocked)
        {
            progress.Note("STEM", "evaluating the mapping against the simulation's truth (in blocks; the correlation and Tangram-style baselines are dense and skipped above the full-batch limits)");
            using var scope = torch.NewDisposeScope();
            stem = blocked(progress, new EmbeddingLogits(torch.tensor(esc.ToFloatArray(), [esc.Rows, esc.Cols]), torch.tensor(est.ToFloatArray(), [est.Rows, est.Cols])),
                types is not null && proportions is not null ? (types, proportions) : null);
        }
        else if (!large && MappingEvaluation.TruthScorer(data, spotCoords) is { } score)
        {
            progress.Note("STEM", "evaluating the mapping against the simulation's truth");
            stem = score(StemMapper.DenseProbabilities(esc, est));
            if (o.Baselines)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress.Note("STEM", "correlation baseline");
                correlation = score(MappingBaselines.Correlation(inputs));
                progress.Note("STEM", "Tangram-style baseline");
                tangram = score(MappingBaselines.Tangram(inputs, new TangramOptions { Epochs = o.TangramEpochs, Seed = o.Seed }, progress, cancellationToken));
            }
        }
        return new StemResult(sc.ObsNames, st.ObsNames, esc, est, map, types, proportions, sdg, stem, correlation, tangram,
            inputs.Genes, Sigma, Dropout, o.Epochs, o.Seed, History.Total[^1]);
    }

    /// <summary>The cells integrated gradients are computed for on large data: null = all (at most <see cref="StemOptions.IgMaxCells"/>), else a seeded uniform sample in index order.</summary>
    internal static int[]? IgSample(int cells, StemOptions o)
    {
        if (cells <= o.IgMaxCells) return null;
        var all = Enumerable.Range(0, cells).ToArray();
        Seeding.Rng(o.Seed, "stem.ig").Shuffle(all);
        var rows = all[..o.IgMaxCells];
        Array.Sort(rows);
        return rows;
    }

    /// <summary>Embeddings of the rows of <paramref name="x"/> (no grad), in blocks of 65,536 rows above that size so the hidden layers stay small.</summary>
    private DenseMatrix Embed(Tensor x)
    {
        const int block = 65536;
        int n = (int)x.shape[0];
        if (n <= block) return ToDense(Encoder.forward(x));
        var parts = new List<float[]>();
        for (int b = 0; b < n; b += block)
            using (var e = Encoder.forward(x.narrow(0, b, Math.Min(block, n - b)))) parts.Add(e.contiguous().data<float>().ToArray());
        var all = parts.SelectMany(p => p).ToArray();
        return DenseMatrix.FromFloat(n, all.Length / n, all);
    }

    private static DenseMatrix ToDense(Tensor t)
    {
        using (t) return DenseMatrix.FromFloat((int)t.shape[0], (int)t.shape[1], t.contiguous().data<float>().ToArray());
    }

    /// <summary>
    /// Integrated gradients of the cells in <paramref name="xsc"/> (zero baseline, right Riemann sum over <paramref name="steps"/> points, batched) of each cell's
    /// maximum mapping probability max_j softmax(e(x) e_stᵀ)_j with respect to its normalised expression; cells × genes.
    /// The spot j is each cell's argmax at the real input and stays fixed along the path.
    /// </summary>
    internal DenseMatrix IntegratedGradients(Tensor xsc, DenseMatrix stEmbedding, int steps, IProgress<Progress>? progress, CancellationToken cancellationToken)
    {
        if (steps < 1) throw new TesseraException($"IgSteps must be at least 1 but is {steps}");
        int nc = (int)xsc.shape[0], g = (int)xsc.shape[1];
        var result = new double[(long)nc * g];
        using var scope = torch.NewDisposeScope();
        var est = torch.tensor(stEmbedding.ToFloatArray(), [stEmbedding.Rows, stEmbedding.Cols]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // cells per pass: about 16k path points, fewer when path points × spots would exceed 2^25 values (128 MB)
        int batch = Math.Max(1, Math.Min(16384, (1 << 25) / Math.Max(1, stEmbedding.Rows)) / steps);
        for (int b = 0; b < nc; b += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var s = torch.NewDisposeScope();
            int len = Math.Min(batch, nc - b);
            var x = xsc.narrow(0, b, len);
            Tensor target;
            using (torch.no_grad()) target = Encoder.forward(x).mm(est.t()).argmax(1);
            var ig = Nn.IntegratedGradients.Compute(path =>
            {
                var p = nn.functional.softmax(Encoder.forward(path).mm(est.t()), 1);
                return p.gather(1, target.repeat_interleave(path.shape[0] / len).unsqueeze(1)).squeeze(1);
            }, x, null, steps, steps).contiguous().data<float>().ToArray();
            for (int i = 0; i < ig.Length; i++) result[(long)b * g + i] = ig[i];
            progress?.Report(new Progress("STEM spatially dominant genes", b + len, nc, clock.Elapsed));
        }
        return new DenseMatrix(nc, g, result);
    }

    /// <summary>
    /// Writes the encoder weights (TorchSharp state-dict format) to <paramref name="path"/> and the genes, normalisation,
    /// sigma, dropout, training spots, loss history and options to <c>path + ".json"</c> (both atomically).
    /// </summary>
    public void Save(string path)
    {
        var meta = new Meta(Format, Options, Genes, Normalized, TargetSumSc, TargetSumSt, Sigma, Dropout, SpotNames, SpotCoordinates.Cols,
            SpotCoordinates.Data, [.. History.Total], History.Components.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), [.. History.EpochSeconds]);
        ModelFiles.Save(path, tmp => Encoder.save(tmp), meta, Json);
    }

    /// <summary>Loads a model written by <see cref="Save"/>; its <see cref="Result"/> is null until <see cref="Transform"/> is called.</summary>
    public static StemModel Load(string path)
    {
        var meta = ModelFiles.ReadMeta<Meta>(path, Json);
        if (meta is null || meta.Format != Format || meta.Options is null || meta.Genes is not { Length: > 0 } || meta.SpotNames is null
            || meta.SpotDims < 1 || meta.SpotCoordinates is null || meta.SpotCoordinates.Length != meta.SpotNames.Length * meta.SpotDims
            || meta.LossTotal is null || meta.LossComponents is null || meta.EpochSeconds is null || meta.LossTotal.Length == 0)
            throw new TesseraException($"model metadata '{ModelFiles.MetaPath(path)}' is not a STEM model ({Format})");
        meta.Options.Validate();
        var history = new LossHistory();
        for (int e = 0; e < meta.LossTotal.Length; e++)
            history.Add(meta.LossTotal[e], meta.LossComponents.ToDictionary(kv => kv.Key, kv => kv.Value[e]), meta.EpochSeconds[e]);
        var encoder = new StemEncoder(meta.Genes.Length);
        try { encoder.load(path); }
        catch (Exception e) when (e is not TesseraException)
        {
            encoder.Dispose();
            throw new TesseraException($"model weights '{path}' do not match the metadata: {e.Message}");
        }
        return new StemModel(encoder, meta.Genes, meta.TargetSumSc, meta.TargetSumSt, meta.Normalized, meta.Sigma, meta.Dropout, history, meta.Options,
            new DenseMatrix(meta.SpotNames.Length, meta.SpotDims, meta.SpotCoordinates), meta.SpotNames);
    }

    /// <summary>Frees the encoder.</summary>
    public void Dispose() => Encoder.Dispose();

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private sealed record Meta(string Format, StemOptions Options, string[] Genes, bool Normalized, double? TargetSumSc, double? TargetSumSt,
        double Sigma, double Dropout, string[] SpotNames, int SpotDims, double[] SpotCoordinates, double[] LossTotal,
        Dictionary<string, double[]> LossComponents, double[] EpochSeconds);
}
