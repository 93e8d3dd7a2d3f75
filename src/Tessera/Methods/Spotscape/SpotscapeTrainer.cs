using System.Diagnostics;
using TorchSharp;
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
/// contrastive losses for multi-slice integration. Options → <see cref="Fit"/> → <see cref="SpotscapeModel"/>.
/// </summary>
public sealed class SpotscapeTrainer
{
    private readonly SpotscapeOptions options;

    /// <summary>Creates a trainer; options are validated at <see cref="Fit"/>.</summary>
    public SpotscapeTrainer(SpotscapeOptions? options = null) => this.options = options ?? new SpotscapeOptions();

    /// <summary>Trains on the input (full batch). Same seed, same thread count, CPU → bitwise identical model.</summary>
    public SpotscapeModel Fit(SpotscapeInput input, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = options;
        o.Validate();
        if (o.Threads is { } threads) torch.set_num_threads(threads);
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

        var history = TrainingLoop.Run(net, opt, o.Epochs, Step, progress, cancellationToken);
        net.eval();
        var report = new SpotscapeFitReport
        {
            History = history, LearningRate = lr, PrototypeCounts = ks, NSpots = n, NGenes = input.NGenes,
            NSlices = input.NSlices, SampledLosses = sampled, Elapsed = sw.Elapsed,
        };
        return new SpotscapeModel(net, o, input.NGenes, report);
    }
}
