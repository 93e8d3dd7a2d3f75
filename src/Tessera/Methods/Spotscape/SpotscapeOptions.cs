namespace Tessera.Methods.Spotscape;

/// <summary>How the multi-slice similarity-scale-matching loss is computed.</summary>
public enum ScaleMatchingMode
{
    /// <summary>Paper's intent: per spot, mean top-k similarity within its own slice vs within each other slice.</summary>
    IntraVsInterSlice,

    /// <summary>The authors' code exactly, including the boolean-mask equality and zero-filled top-k quirks (n×n masks).</summary>
    AuthorsBooleanMask,
}

/// <summary>
/// Spotscape hyper-parameters. Defaults are the authors' (yunhak0/Spotscape, README/run scripts for DLPFC).
/// </summary>
public sealed class SpotscapeOptions
{
    /// <summary>Seed for weights, augmentations, loss subsampling and prototype k-means (authors: trials 0..9).</summary>
    public int Seed { get; set; }

    /// <summary>Training epochs (authors: 1000, full batch).</summary>
    public int Epochs { get; set; } = 1000;

    /// <summary>Adam learning rate; null = 1e-4 for one slice, 5e-4 for several (authors' DLPFC scripts).</summary>
    public double? LearningRate { get; set; }

    /// <summary>Adam weight decay (authors: 1e-4).</summary>
    public double WeightDecay { get; set; } = 1e-4;

    /// <summary>Encoder GCN widths; the last one is the embedding size (authors: [256, 64]).</summary>
    public int[] EncoderDims { get; set; } = [256, 64];

    /// <summary>BatchNorm momentum in PyTorch's convention (new = (1−m)·old + m·batch). Authors: 0.99, i.e. running stats ≈ last batch.</summary>
    public double BatchNormMomentum { get; set; } = 0.99;

    /// <summary>Edge dropout rate per augmented view (authors: 0.2).</summary>
    public double EdgeDropRate { get; set; } = 0.2;

    /// <summary>Gene-column masking rate per augmented view (authors: 0.2).</summary>
    public double FeatureMaskRate { get; set; } = 0.2;

    /// <summary>Weight of the reconstruction MSE (authors: 0.1).</summary>
    public double ReconstructionWeight { get; set; } = 0.1;

    /// <summary>Weight of the similarity telescope loss (authors: 1.0).</summary>
    public double TelescopeWeight { get; set; } = 1.0;

    /// <summary>Weight of similarity-scale matching, multi-slice only (authors: 1.0).</summary>
    public double ScaleMatchingWeight { get; set; } = 1.0;

    /// <summary>Top-k of similarity-scale matching (authors: 5).</summary>
    public int ScaleMatchingTopK { get; set; } = 5;

    /// <summary>Variant of similarity-scale matching (default: the paper's intent; see <see cref="ScaleMatchingMode"/>).</summary>
    public ScaleMatchingMode ScaleMatching { get; set; } = ScaleMatchingMode.IntraVsInterSlice;

    /// <summary>Weight of the prototypical contrastive loss, multi-slice only (authors: 0.01).</summary>
    public double PrototypeWeight { get; set; } = 0.01;

    /// <summary>Epoch (0-based) from which the prototypical loss is active (authors: 500).</summary>
    public int PrototypeWarmupEpochs { get; set; } = 500;

    /// <summary>Temperature τ of the prototypical loss (authors: 0.75).</summary>
    public double PrototypeTemperature { get; set; } = 0.75;

    /// <summary>Number of domains k; prototype counts are derived from it via <see cref="PrototypeGranularity"/> (authors: ground-truth k, 7 for DLPFC).</summary>
    public int NClusters { get; set; } = 7;

    /// <summary>Prototype granularities: K₁ = ⌊k·g₁⌋, Kᵢ = max(Kᵢ₋₁+1, ⌈k·gᵢ⌉) (authors: [1, 1.5, 2]).</summary>
    public double[] PrototypeGranularity { get; set; } = [1, 1.5, 2];

    /// <summary>Lloyd iterations of the prototype k-means (faiss niter: 20).</summary>
    public int KMeansIterations { get; set; } = 20;

    /// <summary>The prototype k-means trains on at most this many points per centroid (faiss default 256).</summary>
    public int KMeansMaxPointsPerCentroid { get; set; } = 256;

    /// <summary>
    /// When there are more spots than this, the similarity losses use a random subset of this many spots each step
    /// (so no N×N matrix is formed); at or below it they use all spots, as the authors (default 10000: every single
    /// DLPFC slice is exact; a 4-slice DLPFC integration of ~14k spots is subsampled).
    /// </summary>
    public int LossSampleSize { get; set; } = 10000;

    /// <summary>If set, calls torch.set_num_threads with it before training (process-wide). Same seed and thread count → same result.</summary>
    public int? Threads { get; set; }

    /// <summary>The prototype counts for <see cref="NClusters"/>: e.g. k = 7 gives [7, 11, 14].</summary>
    public int[] PrototypeCounts()
    {
        var ks = new int[PrototypeGranularity.Length];
        for (int i = 0; i < ks.Length; i++)
        {
            int k = i == 0 ? (int)Math.Floor(NClusters * PrototypeGranularity[0]) : (int)Math.Ceiling(NClusters * PrototypeGranularity[i]);
            ks[i] = i == 0 ? k : Math.Max(ks[i - 1] + 1, k);
        }
        return ks;
    }

    /// <summary>Throws a <see cref="TesseraException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Epochs < 0) throw new TesseraException($"Epochs must be non-negative but is {Epochs}");
        if (LearningRate is { } lr && !(lr > 0)) throw new TesseraException($"LearningRate must be positive but is {lr}");
        if (!(WeightDecay >= 0)) throw new TesseraException($"WeightDecay must be non-negative but is {WeightDecay}");
        if (EncoderDims is null || EncoderDims.Length == 0 || EncoderDims.Any(d => d < 1))
            throw new TesseraException("EncoderDims must hold at least one positive width");
        if (!(BatchNormMomentum > 0 && BatchNormMomentum <= 1)) throw new TesseraException($"BatchNormMomentum must be in (0, 1] but is {BatchNormMomentum}");
        if (!(EdgeDropRate >= 0 && EdgeDropRate < 1)) throw new TesseraException($"EdgeDropRate must be in [0, 1) but is {EdgeDropRate}");
        if (!(FeatureMaskRate >= 0 && FeatureMaskRate < 1)) throw new TesseraException($"FeatureMaskRate must be in [0, 1) but is {FeatureMaskRate}");
        if (ScaleMatchingTopK < 1) throw new TesseraException($"ScaleMatchingTopK must be at least 1 but is {ScaleMatchingTopK}");
        if (!(PrototypeTemperature > 0)) throw new TesseraException($"PrototypeTemperature must be positive but is {PrototypeTemperature}");
        if (NClusters < 1) throw new TesseraException($"NClusters must be at least 1 but is {NClusters}");
        if (PrototypeGranularity is null || PrototypeGranularity.Length == 0 || PrototypeGranularity.Any(g => !(g > 0)))
            throw new TesseraException("PrototypeGranularity must hold at least one positive value");
        if (KMeansIterations < 1) throw new TesseraException($"KMeansIterations must be at least 1 but is {KMeansIterations}");
        if (KMeansMaxPointsPerCentroid < 1) throw new TesseraException($"KMeansMaxPointsPerCentroid must be at least 1 but is {KMeansMaxPointsPerCentroid}");
        if (LossSampleSize < 2) throw new TesseraException($"LossSampleSize must be at least 2 but is {LossSampleSize}");
        if (Threads is { } t && t < 1) throw new TesseraException($"Threads must be at least 1 but is {t}");
        foreach (var (name, w) in new[] { ("ReconstructionWeight", ReconstructionWeight), ("TelescopeWeight", TelescopeWeight),
                     ("ScaleMatchingWeight", ScaleMatchingWeight), ("PrototypeWeight", PrototypeWeight) })
            if (!(w >= 0)) throw new TesseraException($"{name} must be non-negative but is {w}");
    }
}
