namespace Tessera.Methods.Stem;

/// <summary>Settings of <see cref="Stem.Fit"/>; defaults are the reference's (WhirlFirst/STEM, E1z2 settings).</summary>
public sealed record StemOptions
{
    /// <summary>Full-batch epochs (reference: 400 for seqFISH E1z2, 800 for MERFISH).</summary>
    public int Epochs { get; init; } = 400;
    /// <summary>Seed for initialisation, dropout and the MMD sampling.</summary>
    public int Seed { get; init; } = 2022;
    /// <summary>AdamW learning rate.</summary>
    public double LearningRate { get; init; } = 0.002;
    /// <summary>AdamW weight decay (the reference silently uses PyTorch's default 0.01).</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Weight of the MMD term.</summary>
    public double Alpha { get; init; } = 0.8;
    /// <summary>Epoch at which the cycle (KL) loss starts its linear ramp (weight (epoch − start)/(epochs − start), as the reference).</summary>
    public int CycleStart { get; init; } = 50;
    /// <summary>StepLR step size in epochs.</summary>
    public int StepSize { get; init; } = 200;
    /// <summary>StepLR factor.</summary>
    public double StepGamma { get; init; } = 0.5;
    /// <summary>Gaussian kernel width of the spatial target in coordinate units; null = half the median nearest-spot distance; 0 = identity target.</summary>
    public double? Sigma { get; init; }
    /// <summary>Input dropout on ST; null = 1 − median(genes detected per cell) / median(genes detected per spot), clamped to [0, 0.95].</summary>
    public double? Dropout { get; init; }
    /// <summary>Cells sampled (with replacement) per step for the MMD (reference mmdbatch 1000).</summary>
    public int MmdBatch { get; init; } = 1000;
    /// <summary>
    /// normalize_total + log1p each dataset (the reference's preprocessing). False: use the values as given, for data that are
    /// already normalised or are z-scores (seqFISH cortex); then no value needs to be non-negative.
    /// </summary>
    public bool Normalize { get; init; } = true;
    /// <summary>normalize_total target for SC; null = median total of the SC cells (scanpy's default).</summary>
    public double? TargetSumSc { get; init; }
    /// <summary>normalize_total target for ST; null = median total of the spots.</summary>
    public double? TargetSumSt { get; init; }
    /// <summary>Entries kept per cell / per spot in the sparse mappings.</summary>
    public int TopK { get; init; } = 50;
    /// <summary>Spots used for the top-k coordinate estimate.</summary>
    public int CoordTopK { get; init; } = 10;
    /// <summary>Neighbours per cell in the cell–cell adjacency graph.</summary>
    public int AdjacencyK { get; init; } = 15;
    /// <summary>Progress messages (every <see cref="LogEvery"/> epochs); null = silent.</summary>
    public Action<string>? Log { get; init; }
    /// <summary>Epochs between progress messages.</summary>
    public int LogEvery { get; init; } = 50;
}
