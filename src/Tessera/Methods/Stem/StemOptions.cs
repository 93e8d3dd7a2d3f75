namespace Tessera.Methods.Stem;

/// <summary>What one of <see cref="StemOptions.Epochs"/> is in STEM's mini-batch mode (in full batch both are one optimiser step).</summary>
public enum MiniBatchEpoch
{
    /// <summary>One optimiser step on one tile: the full-batch protocol's step count and schedule, so about the same time
    /// per epoch as full batch on small data and a bounded cost on large data, but each spot is trained only once every
    /// tiles steps (on the MERFISH plane below full-batch quality, bench/Stem/RESULTS.md).</summary>
    Step,
    /// <summary>One pass over all the tiles (tiles optimiser steps, the StepLR schedule and the cycle ramp counted in
    /// passes): the full-batch protocol's passes over the spots, at tiles × the steps (on the MERFISH plane hit10 and
    /// coordinate error at or above full batch's, bench/Stem/RESULTS.md).</summary>
    Pass,
}

/// <summary>
/// Settings of <see cref="StemTrainer.Fit"/> and of the mapping outputs; defaults are the reference's (WhirlFirst/STEM,
/// E1z2 settings) and live only here.
/// </summary>
public sealed record StemOptions
{
    /// <summary>Full-batch epochs (reference: 400 for seqFISH E1z2, 800 for MERFISH); in mini-batch mode see <see cref="MiniBatchEpoch"/>.</summary>
    public int Epochs { get; init; } = 400;

    /// <summary>
    /// In mini-batch mode, whether an epoch is one optimiser step (<see cref="Stem.MiniBatchEpoch.Step"/>, default: the
    /// full-batch protocol's steps) or one pass over the spot tiles (<see cref="Stem.MiniBatchEpoch.Pass"/>: its passes).
    /// </summary>
    public MiniBatchEpoch MiniBatchEpoch { get; init; } = MiniBatchEpoch.Step;
    /// <summary>Seed for initialisation, dropout, the MMD sampling and the Tangram-style baseline.</summary>
    public int Seed { get; init; } = 2022;
    /// <summary>Torch intra-op threads during the call; null leaves torch's thread count as it is.</summary>
    public int? Threads { get; init; }
    /// <summary>Torch device; only "cpu" is served.</summary>
    public string Device { get; init; } = "cpu";
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
    /// <summary>Entries kept per cell (spots) and per spot (cells) in the sparse top-k mappings.</summary>
    public int TopK { get; init; } = 10;
    /// <summary>Spots used for the top-k coordinate estimate.</summary>
    public int CoordTopK { get; init; } = 10;
    /// <summary>Neighbours per cell in the cell–cell adjacency graph.</summary>
    public int AdjacencyK { get; init; } = 15;
    /// <summary>Integrated-gradient steps for the spatially dominant genes (computed when the data name a group column).</summary>
    public int IgSteps { get; init; } = 50;
    /// <summary>Also score the correlation and Tangram-style baselines when the data carry the simulation's truth.</summary>
    public bool Baselines { get; init; } = true;
    /// <summary>Adam steps of the Tangram-style baseline.</summary>
    public int TangramEpochs { get; init; } = new TangramOptions().Epochs;

    /// <summary>
    /// Training mode. null (default) = automatic: full batch (the reference's protocol) when the data are small
    /// (<see cref="IsLarge"/> false), mini-batches of spatial tiles of <see cref="DefaultBatchSpots"/> spots above; 0 forces
    /// full batch; N &gt; 0 forces mini-batches of tiles of about N spots.
    /// </summary>
    /// <remarks>
    /// Mini-batch protocol: each optimiser step takes one spatial tile of spots (recursive median bisection, as Spotscape's
    /// tiles; a fresh seeded order every round), the spots within the target's cut-off of the tile (its halo), a uniform
    /// sample of <see cref="MmdBatch"/> spots and the cells of <see cref="ResolveBatchCells"/> (all of them while the cells are
    /// within <see cref="FullBatchMaxCells"/>, else a uniform sample of <see cref="DefaultBatchCells"/> without replacement).
    /// The spatial loss is the cross-entropy of the tile spots' rows of the sparse target (Gaussian pairs within 6.44 σ) against
    /// a softmax over all spots whose normaliser is the exact sum over the tile and halo plus the uniform sample's sum scaled
    /// by spots / sample (an unbiased estimate of the rest); the MMD matches the uniform spot sample against the first
    /// <see cref="MmdBatch"/> cells of the cell sample; the cycle term is KL(target ‖ st2sc·sc2st) on the tile's rows and the
    /// tile-plus-halo columns, with st2sc a softmax over the sampled cells and sc2st a softmax over all spots (normalised as
    /// the spatial loss). <see cref="Epochs"/> then counts optimiser steps, exactly as many as the full-batch protocol takes
    /// (one per epoch), with the same StepLR schedule and cycle ramp in steps, so a run sees Epochs × tile / spots passes over
    /// the spots and Epochs × cells per step / cells passes over the cells. With <see cref="MiniBatchEpoch"/> = Pass an epoch
    /// is instead one pass over the tiles (Epochs × tiles steps; StepLR and the cycle ramp advance once per pass). Measured on
    /// the MERFISH plane (bench/Stem/RESULTS.md): Pass with all cells per step matches or beats full batch on hit10 and
    /// coordinate error; at equal steps (Step) the tiles train each region about 1 / tiles as often and stay below it.
    /// </remarks>
    public int? BatchSpots { get; init; }

    /// <summary>Above this many spots the data count as large (<see cref="IsLarge"/>; default 5,000: the dense spots × spots target is 100 MB there).</summary>
    public int FullBatchMaxSpots { get; init; } = 5000;

    /// <summary>Above this many cells the data count as large (<see cref="IsLarge"/>; default 20,000: the full-batch epoch grows faster than linearly in cells above, see bench/Stem/RESULTS.md).</summary>
    public int FullBatchMaxCells { get; init; } = 20000;

    /// <summary>
    /// Cells per optimiser step in mini-batch mode (the cycle and MMD terms' cells; sampled without replacement). null
    /// (default): all cells while they are within <see cref="FullBatchMaxCells"/> (the cycle term's softmax then runs over
    /// every cell, as in full batch), else <see cref="DefaultBatchCells"/>.
    /// </summary>
    public int? BatchCells { get; init; }

    /// <summary>Cells per mini-batch step when the cells are above <see cref="FullBatchMaxCells"/> and <see cref="BatchCells"/> is not set.</summary>
    public const int DefaultBatchCells = 2048;

    /// <summary>The cells per mini-batch step used for <paramref name="cells"/> cells (see <see cref="BatchCells"/>).</summary>
    public int ResolveBatchCells(int cells) => Math.Min(BatchCells ?? (cells <= FullBatchMaxCells ? cells : DefaultBatchCells), cells);

    /// <summary>Tile size of the automatic mini-batch mode (spots per tile).</summary>
    public const int DefaultBatchSpots = 1024;

    /// <summary>
    /// Whether <paramref name="spots"/> spots and <paramref name="cells"/> cells are above the full-batch limits: then the
    /// automatic mode trains in mini-batches and every step after training avoids dense cells- or spots-sided matrices
    /// (k-d tree cell graph, blocked evaluation, no dense baselines).
    /// </summary>
    public bool IsLarge(int spots, int cells) => spots > FullBatchMaxSpots || cells > FullBatchMaxCells;

    /// <summary>The tile size used for <paramref name="spots"/> spots and <paramref name="cells"/> cells: 0 = full batch.</summary>
    public int ResolveBatchSpots(int spots, int cells) => BatchSpots ?? (IsLarge(spots, cells) ? DefaultBatchSpots : 0);

    /// <summary>
    /// Above the full-batch limits (<see cref="IsLarge"/>) the integrated gradients of the spatially dominant genes use a seeded
    /// uniform sample of this many cells (their cost is cells × steps × spots); below, every cell.
    /// </summary>
    public int IgMaxCells { get; init; } = 2000;

    /// <summary>Throws a <see cref="TesseraException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new TesseraException($"Epochs must be at least 1 but is {Epochs}");
        if (Threads is { } t && t < 1) throw new TesseraException($"Threads must be at least 1 but is {t}");
        if (Device != "cpu") throw new TesseraException($"Device must be \"cpu\" (the only device served) but is \"{Device}\"");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new TesseraException($"LearningRate must be positive but is {LearningRate}");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) throw new TesseraException($"WeightDecay must be non-negative but is {WeightDecay}");
        if (!(Alpha >= 0) || double.IsInfinity(Alpha)) throw new TesseraException($"Alpha must be non-negative but is {Alpha}");
        if (CycleStart < 0) throw new TesseraException($"CycleStart must be non-negative but is {CycleStart}");
        if (StepSize < 1) throw new TesseraException($"StepSize must be at least 1 but is {StepSize}");
        if (!(StepGamma > 0 && StepGamma <= 1)) throw new TesseraException($"StepGamma must be in (0, 1] but is {StepGamma}");
        if (Sigma is { } s && !(s >= 0 && double.IsFinite(s))) throw new TesseraException($"Sigma must be non-negative but is {s}");
        if (Dropout is { } d && !(d >= 0 && d < 1)) throw new TesseraException($"Dropout must be in [0, 1) but is {d}");
        if (MmdBatch < 1) throw new TesseraException($"MmdBatch must be at least 1 but is {MmdBatch}");
        if (TargetSumSc is { } a && !(a > 0 && double.IsFinite(a))) throw new TesseraException($"TargetSumSc must be positive but is {a}");
        if (TargetSumSt is { } b && !(b > 0 && double.IsFinite(b))) throw new TesseraException($"TargetSumSt must be positive but is {b}");
        if (TopK < 1) throw new TesseraException($"TopK must be at least 1 but is {TopK}");
        if (CoordTopK < 1) throw new TesseraException($"CoordTopK must be at least 1 but is {CoordTopK}");
        if (AdjacencyK < 1) throw new TesseraException($"AdjacencyK must be at least 1 but is {AdjacencyK}");
        if (IgSteps < 1) throw new TesseraException($"IgSteps must be at least 1 but is {IgSteps}");
        if (BatchSpots is { } bs && bs < 0) throw new TesseraException($"BatchSpots must be 0 (full batch), positive or null (automatic) but is {bs}");
        if (FullBatchMaxSpots < 1) throw new TesseraException($"FullBatchMaxSpots must be at least 1 but is {FullBatchMaxSpots}");
        if (FullBatchMaxCells < 1) throw new TesseraException($"FullBatchMaxCells must be at least 1 but is {FullBatchMaxCells}");
        if (BatchCells is { } bc && bc < 1) throw new TesseraException($"BatchCells must be at least 1 but is {bc}");
        if (IgMaxCells < 1) throw new TesseraException($"IgMaxCells must be at least 1 but is {IgMaxCells}");
        if (TangramEpochs < 1) throw new TesseraException($"TangramEpochs must be at least 1 but is {TangramEpochs}");
    }
}
