using Tessera.Analysis;

namespace Tessera.Methods.Spotscape;

/// <summary>How a mini-batch training step picks the spots whose losses it computes (<see cref="SpotscapeOptions.Sampling"/>).</summary>
public enum BatchSampling
{
    /// <summary>One compact spatial tile of every slice (cheap: the halo is only the tile's rim).</summary>
    Tiles,

    /// <summary>
    /// A uniform random sample of every slice's spots (each with its whole receptive field): every batch holds every
    /// domain of every slice, as the full batch does, at the cost of a halo of about 25 spots per sampled spot.
    /// </summary>
    RandomSpots,
}

/// <summary>How the multi-slice similarity-scale-matching loss is computed.</summary>
public enum ScaleMatchingMode
{
    /// <summary>Paper's intent: per spot, mean top-k similarity within its own slice vs within each other slice.</summary>
    IntraVsInterSlice,

    /// <summary>The authors' code exactly, including the boolean-mask equality and zero-filled top-k quirks (n×n masks).</summary>
    AuthorsBooleanMask,
}

/// <summary>How spots are embedded before clustering into domains.</summary>
public enum DomainMethod
{
    /// <summary>Spotscape GCN embedding (the paper's method).</summary>
    Spotscape,
    /// <summary>Baseline: PCA (30 components) of the log-normalised HVGs, no spatial information and nothing trained.</summary>
    PcaKMeans,
}

/// <summary>
/// Everything a Spotscape run needs, in one immutable record: the network's hyper-parameters (defaults are the authors',
/// yunhak0/Spotscape README/run scripts for DLPFC) and, flat in the same record, the domains pipeline around it
/// (<see cref="Hvg"/>, <see cref="Radius"/>, <see cref="MaxNeighbors"/>, <see cref="Method"/>, <see cref="ClusterMethod"/>,
/// <see cref="TruthColumn"/>). One record rather than a nested one because the user sets both halves together (the number
/// of domains is both the prototype count of the loss and the clustering's k) and a saved model must carry both to
/// prepare and cluster a new slice the same way.
/// </summary>
public sealed record SpotscapeOptions
{
    /// <summary>Seed for weights, augmentations, loss subsampling and prototype k-means (authors: trials 0..9).</summary>
    public int Seed { get; init; }

    /// <summary>Training epochs (authors: 1000, full batch).</summary>
    public int Epochs { get; init; } = 1000;

    /// <summary>Adam learning rate; null = 1e-4 for one slice, 5e-4 for several (authors' DLPFC scripts).</summary>
    public double? LearningRate { get; init; }

    /// <summary>Adam weight decay (authors: 1e-4).</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Encoder GCN widths; the last one is the embedding size (authors: [256, 64]).</summary>
    public int[] EncoderDims { get; init; } = [256, 64];

    /// <summary>BatchNorm momentum in PyTorch's convention (new = (1−m)·old + m·batch). Authors: 0.99, i.e. running stats ≈ last batch.</summary>
    public double BatchNormMomentum { get; init; } = 0.99;

    /// <summary>Edge dropout rate per augmented view (authors: 0.2).</summary>
    public double EdgeDropRate { get; init; } = 0.2;

    /// <summary>Gene-column masking rate per augmented view (authors: 0.2).</summary>
    public double FeatureMaskRate { get; init; } = 0.2;

    /// <summary>Weight of the reconstruction MSE (authors: 0.1).</summary>
    public double ReconstructionWeight { get; init; } = 0.1;

    /// <summary>Weight of the similarity telescope loss (authors: 1.0).</summary>
    public double TelescopeWeight { get; init; } = 1.0;

    /// <summary>Weight of similarity-scale matching, multi-slice only (authors: 1.0).</summary>
    public double ScaleMatchingWeight { get; init; } = 1.0;

    /// <summary>Top-k of similarity-scale matching (authors: 5).</summary>
    public int ScaleMatchingTopK { get; init; } = 5;

    /// <summary>Variant of similarity-scale matching (default: the paper's intent; see <see cref="ScaleMatchingMode"/>).</summary>
    public ScaleMatchingMode ScaleMatching { get; init; } = ScaleMatchingMode.IntraVsInterSlice;

    /// <summary>Weight of the prototypical contrastive loss, multi-slice only (authors: 0.01).</summary>
    public double PrototypeWeight { get; init; } = 0.01;

    /// <summary>Epoch (0-based) from which the prototypical loss is active (authors: 500).</summary>
    public int PrototypeWarmupEpochs { get; init; } = 500;

    /// <summary>Temperature τ of the prototypical loss (authors: 0.75).</summary>
    public double PrototypeTemperature { get; init; } = 0.75;

    /// <summary>Number of domains k (the clustering's k); prototype counts are derived from it via <see cref="PrototypeGranularity"/> (authors: ground-truth k, 7 for DLPFC).</summary>
    public int Clusters { get; init; } = 7;

    /// <summary>Prototype granularities: K₁ = ⌊k·g₁⌋, Kᵢ = max(Kᵢ₋₁+1, ⌈k·gᵢ⌉) (authors: [1, 1.5, 2]).</summary>
    public double[] PrototypeGranularity { get; init; } = [1, 1.5, 2];

    /// <summary>Lloyd iterations of the prototype k-means (faiss niter: 20).</summary>
    public int KMeansIterations { get; init; } = 20;

    /// <summary>The prototype k-means trains on at most this many points per centroid (faiss default 256).</summary>
    public int KMeansMaxPointsPerCentroid { get; init; } = 256;

    /// <summary>
    /// When there are more spots than this, the similarity losses use a random subset of this many spots each step
    /// (so no N×N matrix is formed); at or below it they use all spots, as the authors (default 10000: every single
    /// DLPFC slice is exact; a 4-slice DLPFC integration of ~14k spots is subsampled).
    /// </summary>
    public int LossSampleSize { get; init; } = 10000;

    /// <summary>
    /// Training mode. null (default) = automatic: full batch (the authors' protocol) up to <see cref="FullBatchMaxSpots"/>
    /// spots, mini-batches above (<see cref="DefaultBatchSpots"/> spots of tiles for one slice,
    /// <see cref="DefaultRandomSpotsPerSlice"/> random spots per slice for several); 0 forces full batch; N &gt; 0 forces
    /// mini-batches of about N spots (with several slices: N / slices spots per slice), sampled as <see cref="Sampling"/> says.
    /// </summary>
    /// <remarks>
    /// Mini-batch protocol: each optimiser step trains on one batch (a compact spatial tile of every slice, or a uniform
    /// random sample of every slice's spots) plus every spot within as many hops as the encoder has GCN layers (the halo:
    /// each batch spot's receptive field is whole); all losses (reconstruction, similarity telescope, scale matching,
    /// prototypes) are computed on the batch spots. <see cref="Epochs"/> then counts optimiser steps, exactly as many as the
    /// full-batch protocol takes (one per epoch), with the same constant learning rate (Adam, no schedule) and the
    /// prototype warm-up in steps, so a run takes Epochs × batch / N passes over the data. Tiles are visited in a fresh
    /// seeded random order every round; random spots are drawn without replacement round by round. After training,
    /// BatchNorm running statistics are re-estimated as the average over one round of batches like the training ones
    /// (un-augmented), because the authors' momentum 0.99 would otherwise keep only the last batch's statistics; then
    /// every spot is embedded tile by tile with a halo one hop wider than the encoder's depth, which reproduces the
    /// full-graph embedding exactly, and clustered.
    /// </remarks>
    public int? BatchSpots { get; init; }

    /// <summary>
    /// Mini-batch sampling. null (default) = automatic: <see cref="BatchSampling.Tiles"/> for one slice,
    /// <see cref="BatchSampling.RandomSpots"/> for several. Measured (README "Large data"): two 2,500-spot sections, 300
    /// steps, tiles ARI 0.085 against random spots 0.60 — part-slice tiles hold different domains in each slice, so the
    /// scale-matching loss pulls unrelated domains together and BatchNorm normalises every region by its own statistics.
    /// </summary>
    public BatchSampling? Sampling { get; init; }

    /// <summary>The sampling used for <paramref name="slices"/> slices.</summary>
    public BatchSampling ResolveSampling(int slices) => Sampling ?? (slices >= 2 ? BatchSampling.RandomSpots : BatchSampling.Tiles);

    /// <summary>Random spots per slice in a batch of the automatic mini-batch mode with <see cref="BatchSampling.RandomSpots"/> (512: with their halos about 13,000 spots per slice per step).</summary>
    public const int DefaultRandomSpotsPerSlice = 512;

    /// <summary>Above this many spots (all slices together) <see cref="BatchSpots"/> = null trains in mini-batches (default 10,000; see README "Large data").</summary>
    public int FullBatchMaxSpots { get; init; } = 10000;

    /// <summary>Tile size of the automatic mini-batch mode (the authors' own mini-batch size, 4096).</summary>
    public const int DefaultBatchSpots = 4096;

    /// <summary>The tile size used for <paramref name="spots"/> spots: 0 = full batch.</summary>
    public int ResolveBatchSpots(int spots) => BatchSpots ?? (spots > FullBatchMaxSpots ? DefaultBatchSpots : 0);

    /// <summary>
    /// The training batch size (all slices together) for <paramref name="spots"/> spots in <paramref name="slices"/> slices:
    /// 0 = full batch; automatic mini-batches hold <see cref="DefaultBatchSpots"/> spots of tiles, or
    /// <see cref="DefaultRandomSpotsPerSlice"/> random spots per slice.
    /// </summary>
    public int ResolveBatchSpots(int spots, int slices) => BatchSpots ?? (spots <= FullBatchMaxSpots ? 0
        : ResolveSampling(slices) == BatchSampling.RandomSpots ? DefaultRandomSpotsPerSlice * Math.Max(1, slices) : DefaultBatchSpots);

    /// <summary>Torch threads during the call (restored afterwards); null leaves torch's setting. Same seed and thread count → same result.</summary>
    public int? Threads { get; init; }

    /// <summary>Torch device; only "cpu" is served.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Embedding method: Spotscape, or the PCA + k-means baseline.</summary>
    public DomainMethod Method { get; init; } = DomainMethod.Spotscape;

    /// <summary>Clustering of the embedding into domains: k-means with 10 restarts (the paper's protocol) or GMM tied (mclust EEE).</summary>
    public ClusterMethod ClusterMethod { get; init; } = ClusterMethod.KMeans;

    /// <summary>seurat_v3 HVGs per slice on raw counts (intersection across slices); 0 or ≥ genes keeps every gene.</summary>
    public int Hvg { get; init; } = 5000;

    /// <summary>Radius of the spatial graph in coordinate units (Visium full-resolution pixels: 150); null = 1.5 × the median nearest-neighbour distance per slice.</summary>
    public double? Radius { get; init; }

    /// <summary>
    /// Radius of the spatial graph in µm, converted per slice with the slice's µm per coordinate unit
    /// (<see cref="Data.SpatialData.MicronsPerUnit"/>, set by the Visium, Visium HD, Xenium, MERSCOPE, CosMx, Slide-seq and
    /// Stereo-seq readers); a slice without it is an error. Give this or <see cref="Radius"/>, not both.
    /// </summary>
    public double? RadiusMicrons { get; init; }

    /// <summary>At most this many neighbours per spot in the radius graph (STAGATE / Spotscape: 50).</summary>
    public int MaxNeighbors { get; init; } = 50;

    /// <summary>obs column with reference domains; when set, the result carries ARI/NMI/CA/F1 (spots without a label are left out).</summary>
    public string? TruthColumn { get; init; }

    /// <summary>The prototype counts for <see cref="Clusters"/>: e.g. k = 7 gives [7, 11, 14].</summary>
    public int[] PrototypeCounts()
    {
        var ks = new int[PrototypeGranularity.Length];
        for (int i = 0; i < ks.Length; i++)
        {
            int k = i == 0 ? (int)Math.Floor(Clusters * PrototypeGranularity[0]) : (int)Math.Ceiling(Clusters * PrototypeGranularity[i]);
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
        if (Clusters < 2) throw new TesseraException($"Clusters must be at least 2 but is {Clusters}");
        if (PrototypeGranularity is null || PrototypeGranularity.Length == 0 || PrototypeGranularity.Any(g => !(g > 0)))
            throw new TesseraException("PrototypeGranularity must hold at least one positive value");
        if (KMeansIterations < 1) throw new TesseraException($"KMeansIterations must be at least 1 but is {KMeansIterations}");
        if (KMeansMaxPointsPerCentroid < 1) throw new TesseraException($"KMeansMaxPointsPerCentroid must be at least 1 but is {KMeansMaxPointsPerCentroid}");
        if (LossSampleSize < 2) throw new TesseraException($"LossSampleSize must be at least 2 but is {LossSampleSize}");
        if (BatchSpots is { } bs && bs < 0) throw new TesseraException($"BatchSpots must be 0 (full batch), positive or null (automatic) but is {bs}");
        if (Sampling is { } smp && !Enum.IsDefined(smp)) throw new TesseraException($"Sampling must be Tiles or RandomSpots but is {smp}");
        if (FullBatchMaxSpots < 1) throw new TesseraException($"FullBatchMaxSpots must be at least 1 but is {FullBatchMaxSpots}");
        if (Threads is { } t && t < 1) throw new TesseraException($"Threads must be at least 1 but is {t}");
        if (Device != "cpu") throw new TesseraException($"Device must be \"cpu\" (the only device served) but is \"{Device}\"");
        if (Hvg < 0) throw new TesseraException($"Hvg must be non-negative but is {Hvg}");
        if (Radius is { } r && !(r > 0 && double.IsFinite(r))) throw new TesseraException($"Radius must be positive but is {r}");
        if (RadiusMicrons is { } ru && !(ru > 0 && double.IsFinite(ru))) throw new TesseraException($"RadiusMicrons must be positive but is {ru}");
        if (Radius != null && RadiusMicrons != null) throw new TesseraException("give Radius (coordinate units) or RadiusMicrons (µm), not both");
        if (MaxNeighbors < 1) throw new TesseraException($"MaxNeighbors must be at least 1 but is {MaxNeighbors}");
        if (!Enum.IsDefined(Method)) throw new TesseraException($"Method must be one of {string.Join(", ", Enum.GetNames<DomainMethod>())} but is {Method}");
        if (ClusterMethod is not (ClusterMethod.KMeans or ClusterMethod.Gmm)) throw new TesseraException($"ClusterMethod must be KMeans or Gmm but is {ClusterMethod}");
        foreach (var (name, w) in new[] { ("ReconstructionWeight", ReconstructionWeight), ("TelescopeWeight", TelescopeWeight),
                     ("ScaleMatchingWeight", ScaleMatchingWeight), ("PrototypeWeight", PrototypeWeight) })
            if (!(w >= 0)) throw new TesseraException($"{name} must be non-negative but is {w}");
    }
}
