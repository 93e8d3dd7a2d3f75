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

    /// <summary>Whether the similarity losses were computed on a random subset of spots in some step (spots of the step &gt; LossSampleSize).</summary>
    public required bool SampledLosses { get; init; }

    /// <summary>Spots per mini-batch (all slices together); 0 = full batch.</summary>
    public int BatchSpots { get; init; }

    /// <summary>Spatial tiles trained on (1 for full batch and for random-spot batches).</summary>
    public int Tiles { get; init; } = 1;

    /// <summary>How mini-batches were sampled; null = full batch.</summary>
    public BatchSampling? Sampling { get; init; }

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
                embedding = SpotscapeModel.EmbedMatrix(net, data.Input, o, progress);
            }
            else embedding = SpotscapeModel.PcaEmbedding(data.Data.X, o.Seed);
            var result = SpotscapeResult.Create(data, embedding, o, report, sw.Elapsed.TotalSeconds, cancellationToken, progress);
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
            var embedding = SpotscapeModel.EmbedMatrix(net, data, o, progress);
            var result = SpotscapeResult.Create(data, embedding, o, report, sw.Elapsed.TotalSeconds, cancellationToken, progress);
            return new SpotscapeModel(net, o, data.NGenes, null, result);
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    /// <summary>The domain clustering protocol: k-means with 10 restarts (the paper's) or GMM with tied covariance (mclust EEE).</summary>
    public static int[] Cluster(DenseMatrix embedding, ClusterMethod method, int clusters, int seed, IProgress<Progress>? progress = null) =>
        Clustering.Run(embedding, new ClusteringOptions { Method = method, Clusters = clusters, Covariance = CovarianceType.Tied, Restarts = 10, Seed = seed }, progress);

    /// <summary>
    /// Training (inside the caller's <see cref="TorchScope"/>), full batch or in mini-batches of spatial tiles
    /// (<see cref="SpotscapeOptions.BatchSpots"/>). Same seed, same thread count, CPU → bitwise identical network.
    /// </summary>
    private static (SpotscapeNet Net, SpotscapeFitReport Report) Train(SpotscapeInput input, SpotscapeOptions o, IProgress<Progress>? progress, CancellationToken cancellationToken)
    {
        int n = input.NSpots;
        bool multi = input.NSlices >= 2;
        double lr = o.LearningRate ?? (multi ? 5e-4 : 1e-4);
        var ks = o.PrototypeCounts();
        var sw = Stopwatch.StartNew();
        var sampling = o.ResolveSampling(input.NSlices);
        int batchSpots = o.ResolveBatchSpots(n, input.NSlices);

        Seeding.SeedTorch(o.Seed);
        var net = new SpotscapeNet(input.NGenes, o.EncoderDims, o.BatchNormMomentum);
        using var gen = new Generator((ulong)Seeding.Derive(o.Seed, "spotscape.augment"));
        using var kmGen = new Generator((ulong)Seeding.Derive(o.Seed, "spotscape.prototypes"));
        using var data = new SpotscapeTensors(input);
        // PyTorch Adam defaults (TorchSharp's beta2 default is 0.99, PyTorch's 0.999); L2 weight decay as torch.optim.Adam.
        using var opt = optim.Adam(net.parameters(), lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: o.WeightDecay);
        var batches = batchSpots > 0 ? new SpotBatches(input, batchSpots, o.Seed, sampling) : null;
        if (batches is null)
            progress.Note("training", o.BatchSpots == 0 ? $"full batch ({n} spots; forced by BatchSpots = 0)"
                : $"full batch: {n} spots <= {o.FullBatchMaxSpots} (the full-batch limit)");
        else
            progress.Note("training", $"mini-batch: {(o.BatchSpots is null ? $"{n} spots > {o.FullBatchMaxSpots} (the full-batch limit)" : $"forced by BatchSpots = {batchSpots}")}; "
                + (sampling == BatchSampling.RandomSpots
                    ? $"random samples of {batches.SpotsPerSlice} spots per slice{(o.Sampling is null && multi ? " (several slices: every batch must hold every slice's domains)" : "")}"
                    : $"tiles of <= {batches.SpotsPerSlice} spots per slice ({string.Join(" + ", batches.TilesPerSlice)} tiles)")
                + $" with a {net.Depth}-hop halo; {o.Epochs} optimiser steps ≈ {o.Epochs / (double)batches.BatchesPerRound:F1} passes over the data");
        // measured (README "Large data"): part-slice tiles lose the domains when slices are integrated; say so where it runs
        if (batches is not null && multi && sampling == BatchSampling.Tiles)
            progress.Note("training", "warning: integration on spatial tiles loses the domains (two 2,500-spot sections: ARI 0.085 vs 0.60 with random spots); "
                + "use Sampling = RandomSpots (--batch-sampling random), the default for several slices");
        bool anySampled = false;

        // the losses of one step on the embeddings (z1, z2) of the spots whose expression is `target`
        StepLoss StepLosses(int epoch, Tensor z1, Tensor z2, CsrOperand target, Tensor? slice)
        {
            var (wOut, bOut) = net.OutputLayer;
            // reconstruction MSE vs the un-augmented x, in Gram form (no N×G decoder output; same value and gradients)
            var lre = (Losses.LinearReconstructionMse(net.DecodeHidden(z1), wOut, bOut, target)
                       + Losses.LinearReconstructionMse(net.DecodeHidden(z2), wOut, bOut, target)) / 2;
            long m = z1.shape[0];
            bool sampled = m > o.LossSampleSize;
            anySampled |= sampled;
            var rows = sampled ? randperm(m, generator: gen).narrow(0, 0, o.LossSampleSize) : null;
            var za = rows is null ? z1 : z1.index_select(0, rows);
            var zb = rows is null ? z2 : z2.index_select(0, rows);
            // one slice: only the telescope needs S, and its Gram form never builds the N×N matrix
            var s = multi ? Losses.CosineSimilarity(za, zb) : null;
            var lsc = multi ? Losses.SimilarityTelescope(s!) : Losses.SimilarityTelescopeGram(za, zb);
            var total = o.ReconstructionWeight * lre + o.TelescopeWeight * lsc;
            var parts = new Dictionary<string, Tensor> { ["reconstruction"] = lre, ["telescope"] = lsc };
            if (multi)
            {
                var sl = rows is null ? slice! : slice!.index_select(0, rows);
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

        StepLoss FullStep(int epoch)
        {
            var adj1 = GraphOps.GcnNorm(Augment.DropEdges(data.EdgeIndexWithLoops, o.EdgeDropRate, gen), n);
            var m1 = Augment.ColumnKeepMask(input.NGenes, o.FeatureMaskRate, gen);
            var adj2 = GraphOps.GcnNorm(Augment.DropEdges(data.EdgeIndexWithLoops, o.EdgeDropRate, gen), n);
            var m2 = Augment.ColumnKeepMask(input.NGenes, o.FeatureMaskRate, gen);
            var z1 = net.Encode(data.X, adj1, m1);
            var z2 = net.Encode(data.X, adj2, m2);
            return StepLosses(epoch, z1, z2, data.X, multi ? data.Slice : null);
        }

        StepLoss BatchStep(int step)
        {
            var core = batches!.Core(step);
            var (nodes, ei) = batches.Subgraph(core, net.Depth);
            int local = nodes.Length;
            var edges = GraphOps.WithSelfLoops(tensor(ei, [2, ei.Length / 2]), local);
            var x = data.X.RowsView(nodes);
            var adj1 = GraphOps.GcnNorm(Augment.DropEdges(edges, o.EdgeDropRate, gen), local);
            var m1 = Augment.ColumnKeepMask(input.NGenes, o.FeatureMaskRate, gen);
            var adj2 = GraphOps.GcnNorm(Augment.DropEdges(edges, o.EdgeDropRate, gen), local);
            var m2 = Augment.ColumnKeepMask(input.NGenes, o.FeatureMaskRate, gen);
            // the tile spots come first in the subgraph: their embeddings see whole neighbourhoods, the halo's do not
            var z1 = net.Encode(x, adj1, m1).narrow(0, 0, core.Length);
            var z2 = net.Encode(x, adj2, m2).narrow(0, 0, core.Length);
            var slice = multi ? tensor(core.Select(i => (long)input.SliceIds[i]).ToArray()) : null;
            return StepLosses(step, z1, z2, data.X.RowsView(core), slice);
        }

        try
        {
            var history = TrainingLoop.Run(net, opt, o.Epochs, batches is null ? FullStep : BatchStep, progress, cancellationToken);
            if (batches is not null) RecalibrateBatchNorm(net, data.X, batches, o.Seed, progress, cancellationToken);
            net.eval();
            var report = new SpotscapeFitReport
            {
                History = history, LearningRate = lr, PrototypeCounts = ks, NSpots = n, NGenes = input.NGenes,
                NSlices = input.NSlices, SampledLosses = anySampled, Elapsed = sw.Elapsed, BatchSpots = batchSpots,
                Tiles = sampling == BatchSampling.Tiles ? batches?.TilesPerSlice.Sum() ?? 1 : 1, Sampling = batches is null ? null : sampling,
            };
            return (net, report);
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Re-estimates the encoder's BatchNorm running statistics as the average of the batch statistics over one round of
    /// batches like the training ones (<see cref="SpotBatches.RecalibrationBatches"/>; un-augmented, no gradient): momentum
    /// 1/(t+1) for batch t makes the running value the plain mean.
    /// </summary>
    private static void RecalibrateBatchNorm(SpotscapeNet net, CsrOperand x, SpotBatches batches, int seed, IProgress<Progress>? progress, CancellationToken ct)
    {
        var bns = net.EncoderBatchNorms;
        var saved = bns.Select(b => b.momentum).ToArray();
        var tiles = batches.RecalibrationBatches(seed).ToArray();
        var sw = Stopwatch.StartNew();
        try
        {
            net.train();
            for (int t = 0; t < tiles.Length; t++)
            {
                ct.ThrowIfCancellationRequested();
                foreach (var b in bns) b.momentum = 1.0 / (t + 1);
                var (nodes, ei) = batches.Subgraph(tiles[t], net.Depth);
                TorchGuard.Run(() =>
                {
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    var edges = GraphOps.WithSelfLoops(tensor(ei, [2, ei.Length / 2]), nodes.Length);
                    net.Encode(x.RowsView(nodes), GraphOps.GcnNorm(edges, nodes.Length), null);
                });
                progress?.Report(new Progress("BatchNorm statistics", t + 1, tiles.Length, sw.Elapsed));
            }
        }
        finally
        {
            for (int i = 0; i < bns.Count; i++) bns[i].momentum = saved[i];
            net.eval();
        }
    }
}
