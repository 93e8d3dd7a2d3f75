using System.Diagnostics;
using TorchSharp;
using Tessera.Analysis;
using Tessera.Data;
using Tessera.Nn;
using static TorchSharp.torch;

namespace Tessera.Methods.Spotscape;

/// <summary>What a Spotscape fit did: loss history, timing and the settings actually used.</summary>
public sealed class SpotscapeFitReport
{
    /// <summary>Per-epoch total loss and components ("reconstruction", "telescope", and for several slices "scale_matching", "prototype"; unweighted).</summary>
    public required LossHistory History { get; init; }

    /// <summary>Learning rate used (resolved from the single/multi-slice default when not set).</summary>
    public required double LearningRate { get; init; }

    /// <summary>Prototype counts of the prototypical loss (used only with several slices).</summary>
    public required int[] PrototypeCounts { get; init; }

    /// <summary>Spots, genes and slices trained on.</summary>
    public required int NSpots { get; init; }

    /// <summary>Genes trained on.</summary>
    public required int NGenes { get; init; }

    /// <summary>Slices trained on.</summary>
    public required int NSlices { get; init; }

    /// <summary>Whether the similarity losses were computed on a random subset of spots each step (N &gt; LossSampleSize).</summary>
    public required bool SampledLosses { get; init; }

    /// <summary>Whole training wall time.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Mean seconds per epoch.</summary>
    public double SecondsPerEpoch => History.Count == 0 ? 0 : History.EpochSeconds.Average();
}

/// <summary>
/// Spotscape (Kim et al., ICML 2025; yunhak0/Spotscape): self-supervised spot embeddings from a GCN auto-encoder trained
/// with two augmented views, reconstruction + similarity telescope, plus similarity-scale matching and prototypical
/// contrastive losses for multi-slice integration. <see cref="Fit(SpatialData, SpotscapeOptions?, IProgress{Progress}?, CancellationToken)"/>
/// runs the whole domains pipeline (prepare → train → embed → cluster into domains) and returns a
/// <see cref="SpotscapeModel"/> whose <see cref="SpotscapeModel.Result"/> holds the training data's domains.
/// </summary>
public static partial class SpotscapeTrainer
{
    /// <summary>Spatial domains of one slice (raw counts in X, coordinates in obsm["spatial"]); the slice is named "slice0".</summary>
    public static SpotscapeModel Fit(SpatialData data, SpotscapeOptions? options = null, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Fit([data], null, options, progress, cancellationToken);
    }

    /// <summary>
    /// Joint domains of several slices (integration: the multi-slice losses are active), or of one slice when the list
    /// holds one. <paramref name="names"/> name the slices in obs "slice" (default slice0, slice1, …).
    /// </summary>
    public static SpotscapeModel Fit(IReadOnlyList<SpatialData> data, IReadOnlyList<string>? names, SpotscapeOptions? options = null,
        IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = options ?? new SpotscapeOptions();
        o.Validate();
        var prepared = PrepareCore(data, names, o, null, progress, cancellationToken);
        return Fit(prepared, o, progress, cancellationToken);
    }

    /// <summary>Trains (or, for the PCA baseline, embeds) and clusters already prepared slices; one preparation serves several seeds.</summary>
    public static SpotscapeModel Fit(PreparedSlices data, SpotscapeOptions? options = null, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var o = options ?? new SpotscapeOptions();
        o.Validate();
        using var _ = TorchScope.Enter(o.Threads);
        var sw = Stopwatch.StartNew();
        SpotscapeNet? net = null;
        SpotscapeFitReport? report = null;
        DenseMatrix embedding;
        try
        {
            if (o.Method == DomainMethod.Spotscape)
            {
                (net, report) = Train(data.Input, o, progress, cancellationToken);
                embedding = SpotscapeModel.EmbedMatrix(net, data.Input);
            }
            else embedding = SpotscapeModel.PcaEmbedding(data.Data.X, o.Seed);
            var result = SpotscapeResult.Create(data, embedding, o, report, sw.Elapsed.TotalSeconds, cancellationToken);
            return new SpotscapeModel(net, o, data.Input.NGenes, data.Data.VarNames, result);
        }
        catch
        {
            net?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Trains on a bare input (expression + graph + slice ids, no gene names) and clusters the embedding. The model embeds
    /// other bare inputs (<see cref="SpotscapeModel.Embed"/>) but cannot prepare a <see cref="SpatialData"/> (it knows no genes).
    /// </summary>
    public static SpotscapeModel Fit(SpotscapeInput data, SpotscapeOptions? options = null, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var o = options ?? new SpotscapeOptions();
        o.Validate();
        if (o.Method != DomainMethod.Spotscape) throw new TesseraException($"Method must be Spotscape to train on a bare input but is {o.Method}");
        using var _ = TorchScope.Enter(o.Threads);
        var sw = Stopwatch.StartNew();
        var (net, report) = Train(data, o, progress, cancellationToken);
        try
        {
            var embedding = SpotscapeModel.EmbedMatrix(net, data);
            var result = SpotscapeResult.Create(data, embedding, o, report, sw.Elapsed.TotalSeconds, cancellationToken);
            return new SpotscapeModel(net, o, data.NGenes, null, result);
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    /// <summary>The domain clustering protocol: k-means with 10 restarts (the paper's) or GMM with tied covariance (mclust EEE).</summary>
    public static int[] Cluster(DenseMatrix embedding, ClusterMethod method, int clusters, int seed) =>
        Clustering.Run(embedding, new ClusteringOptions { Method = method, Clusters = clusters, Covariance = CovarianceType.Tied, Restarts = 10, Seed = seed });

    /// <summary>Full-batch training (inside the caller's <see cref="TorchScope"/>). Same seed, same thread count, CPU → bitwise identical network.</summary>
    private static (SpotscapeNet Net, SpotscapeFitReport Report) Train(SpotscapeInput input, SpotscapeOptions o, IProgress<Progress>? progress, CancellationToken cancellationToken)
    {
        int n = input.NSpots;
        bool multi = input.NSlices >= 2;
        double lr = o.LearningRate ?? (multi ? 5e-4 : 1e-4);
        var ks = o.PrototypeCounts();
        var sw = Stopwatch.StartNew();

        Seeding.SeedTorch(o.Seed);
        var net = new SpotscapeNet(input.NGenes, o.EncoderDims, o.BatchNormMomentum);
        using var gen = new Generator((ulong)Seeding.Derive(o.Seed, "spotscape.augment"));
        using var kmGen = new Generator((ulong)Seeding.Derive(o.Seed, "spotscape.prototypes"));
        using var data = new SpotscapeTensors(input);
        // PyTorch Adam defaults (TorchSharp's beta2 default is 0.99, PyTorch's 0.999); L2 weight decay as torch.optim.Adam.
        using var opt = optim.Adam(net.parameters(), lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: o.WeightDecay);
        bool sampled = n > o.LossSampleSize;

        StepLoss Step(int epoch)
        {
            var adj1 = GraphOps.GcnNorm(Augment.DropEdges(data.EdgeIndexWithLoops, o.EdgeDropRate, gen), n);
            var m1 = Augment.ColumnKeepMask(input.NGenes, o.FeatureMaskRate, gen);
            var adj2 = GraphOps.GcnNorm(Augment.DropEdges(data.EdgeIndexWithLoops, o.EdgeDropRate, gen), n);
            var m2 = Augment.ColumnKeepMask(input.NGenes, o.FeatureMaskRate, gen);
            var z1 = net.Encode(data.X, adj1, m1);
            var z2 = net.Encode(data.X, adj2, m2);
            var (wOut, bOut) = net.OutputLayer;
            // reconstruction MSE vs the un-augmented x, in Gram form (no N×G decoder output; same value and gradients)
            var lre = (Losses.LinearReconstructionMse(net.DecodeHidden(z1), wOut, bOut, data.X)
                       + Losses.LinearReconstructionMse(net.DecodeHidden(z2), wOut, bOut, data.X)) / 2;
            var rows = sampled ? randperm(n, generator: gen).narrow(0, 0, o.LossSampleSize) : null;
            var za = rows is null ? z1 : z1.index_select(0, rows);
            var zb = rows is null ? z2 : z2.index_select(0, rows);
            // one slice: only the telescope needs S, and its Gram form never builds the N×N matrix
            var s = multi ? Losses.CosineSimilarity(za, zb) : null;
            var lsc = multi ? Losses.SimilarityTelescope(s!) : Losses.SimilarityTelescopeGram(za, zb);
            var total = o.ReconstructionWeight * lre + o.TelescopeWeight * lsc;
            var parts = new Dictionary<string, Tensor> { ["reconstruction"] = lre, ["telescope"] = lsc };
            if (multi)
            {
                var sl = rows is null ? data.Slice : data.Slice.index_select(0, rows);
                var lss = o.ScaleMatching == ScaleMatchingMode.AuthorsBooleanMask
                    ? Losses.SimilarityScaleMatchingAuthors(s!, sl, o.ScaleMatchingTopK)
                    : Losses.SimilarityScaleMatching(s!, sl, o.ScaleMatchingTopK);
                total = total + o.ScaleMatchingWeight * lss;
                parts["scale_matching"] = lss;
                if (epoch >= o.PrototypeWarmupEpochs)
                {
                    var z2d = z2.detach();
                    Tensor? lpcl = null;
                    foreach (var k in ks)
                    {
                        var (c, y) = PrototypeKMeans.Run(z2d, k, o.KMeansIterations, o.KMeansMaxPointsPerCentroid, kmGen);
                        var l = Losses.PrototypicalContrastive(z1, c, y, o.PrototypeTemperature);
                        lpcl = lpcl is null ? l : lpcl + l;
                    }
                    lpcl = lpcl! / ks.Length;
                    total = total + o.PrototypeWeight * lpcl;
                    parts["prototype"] = lpcl;
                }
            }
            return new StepLoss(total, parts);
        }

        try
        {
            var history = TrainingLoop.Run(net, opt, o.Epochs, Step, progress, cancellationToken);
            net.eval();
            var report = new SpotscapeFitReport
            {
                History = history, LearningRate = lr, PrototypeCounts = ks, NSpots = n, NGenes = input.NGenes,
                NSlices = input.NSlices, SampledLosses = sampled, Elapsed = sw.Elapsed,
            };
            return (net, report);
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }
}
