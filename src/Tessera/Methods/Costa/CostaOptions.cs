namespace Tessera.Methods.Costa;

/// <summary>
/// Settings of a CoSTA run: gene images, an ensemble of self-labelling ConvNets, and the analysis of their embeddings
/// (gene clusters, stable "SE" genes, correlated genes of query genes). Defaults: the authors' Slide-seq notebook for the
/// nets, their 5-model ensemble and SE threshold; the image defaults of <see cref="GeneImageOptions"/> except
/// <see cref="MinSpots"/>.
/// </summary>
public sealed record CostaOptions
{
    private static readonly GeneImageOptions ImageDefaults = new();

    /// <summary>Seed for every random choice (each model's seed is derived from it and the model's index).</summary>
    public int Seed { get; init; }
    /// <summary>Torch intra-op threads during the call; null leaves torch's thread count as it is.</summary>
    public int? Threads { get; init; }
    /// <summary>Torch device; only "cpu" is served.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Models in the ensemble (authors: 5); stability and SE genes need at least 2.</summary>
    public int Models { get; init; } = 5;
    /// <summary>SE threshold on the stability score (authors: 0.2).</summary>
    public double SeThreshold { get; init; } = 0.2;

    /// <summary>Gene image side in pixels (CoSTA's Slide-seq net: 48).</summary>
    public int ImageSize { get; init; } = ImageDefaults.Size;
    /// <summary>How spots map to pixels.</summary>
    public ImageLayout Layout { get; init; } = ImageDefaults.Layout;
    /// <summary>Bin side in coordinate units for point data; null = the longer extent divided by <see cref="ImageSize"/>.</summary>
    public double? BinSize { get; init; } = ImageDefaults.BinSize;
    /// <summary>Keep genes detected in at least this many spots.</summary>
    public int MinSpots { get; init; } = 10;
    /// <summary>Regress each gene image on log(total counts per pixel + 1) and subtract that term (the authors' NaiveDE.regress_out).</summary>
    public bool RegressOutTotal { get; init; } = ImageDefaults.RegressOutTotal;
    /// <summary>Scale spots to the median total and log1p before imaging (not the authors' raw counts; for low-count spot arrays).</summary>
    public bool LogNormalize { get; init; } = ImageDefaults.LogNormalize;
    /// <summary>Z-score each gene image over the tissue, so images differ only in pattern.</summary>
    public bool Standardize { get; init; } = ImageDefaults.Standardize;
    /// <summary>Divide each gene image by its largest absolute pixel.</summary>
    public bool ScaleToMax { get; init; } = ImageDefaults.ScaleToMax;
    /// <summary>Control: one random pixel permutation (from <see cref="Seed"/>) applied to every gene image.</summary>
    public bool ShufflePixels { get; init; }

    /// <summary>Self-labelling clusters K: GMM components, UMAP components and head outputs (authors: 30).</summary>
    public int Clusters { get; init; } = 30;
    /// <summary>Training epochs per model (notebook: 10).</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Mini-batch size; the last partial batch is dropped as in the authors' loop.</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>Random fraction of genes trained on per epoch (authors: train_test_split test_size 0.3).</summary>
    public double TrainFraction { get; init; } = 0.7;
    /// <summary>Optimiser: SGD with momentum (the Slide-seq notebook) or Adam (the authors' MNIST and MERFISH scripts).</summary>
    public CostaOptimizer Optimizer { get; init; } = CostaOptimizer.Sgd;
    /// <summary>Learning rate (null: 0.01 for SGD, 0.001 = torch's default for Adam, as the authors).</summary>
    public double? LearningRate { get; init; }
    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;
    /// <summary>Bi-tempered loss t1.</summary>
    public double T1 { get; init; } = 0.8;
    /// <summary>Bi-tempered loss t2.</summary>
    public double T2 { get; init; } = 1.2;
    /// <summary>Fixed-point iterations of the tempered normaliser.</summary>
    public int NormalizerIterations { get; init; } = 5;
    /// <summary>Center-loss weight (authors: 0.01 when enabled; off in all their shipped code).</summary>
    public double CenterLossWeight { get; init; }
    /// <summary>Permute the new targets' clusters to match the previous epoch's (the .py/MERFISH scripts; Hungarian matching here).</summary>
    public bool Realign { get; init; } = true;
    /// <summary>Tanh in the third block (Slide-seq) instead of ReLU (MERFISH).</summary>
    public bool TanhLast { get; init; } = true;
    /// <summary>UMAP neighbours in the target step.</summary>
    public int UmapNeighbors { get; init; } = 20;
    /// <summary>UMAP min_dist in the target step.</summary>
    public double UmapMinDist { get; init; }
    /// <summary>UMAP optimisation epochs in the target step (null = umap-learn's default: 500 up to 10,000 points, else 200).</summary>
    public int? UmapEpochs { get; init; }
    /// <summary>Genes per chunk of the feature pass (train-mode BatchNorm statistics are per chunk; authors: all genes at once).</summary>
    public int FeatureChunk { get; init; } = 1024;

    /// <summary>Gene clusters formed on the first model's final embedding.</summary>
    public int GeneClusters { get; init; } = 6;
    /// <summary>How the gene clusters are formed.</summary>
    public GeneClusterMethod GeneClusterMethod { get; init; } = GeneClusterMethod.UmapGmm;

    /// <summary>Genes whose correlated genes the result reports (empty: none).</summary>
    public IReadOnlyList<string> Queries { get; init; } = [];
    /// <summary>z-score below which a gene counts as correlated in one model (authors: −2.325 ≈ one-sided p 0.01).</summary>
    public double CorrelationThreshold { get; init; } = CostaAnalysis.DefaultThreshold;
    /// <summary>Models in which a gene must pass (null: 3, or all models when fewer).</summary>
    public int? MinModels { get; init; }

    /// <summary>Throws a <see cref="TesseraException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Threads is { } t && t < 1) throw new TesseraException($"Threads must be at least 1 but is {t}");
        if (!string.Equals(Device, "cpu", StringComparison.OrdinalIgnoreCase))
            throw new TesseraException($"Device must be \"cpu\" (the only device CoSTA is served on) but is \"{Device}\"");
        if (Models < 1) throw new TesseraException($"Models must be at least 1 but is {Models}");
        if (!(SeThreshold >= 0 && SeThreshold <= 1)) throw new TesseraException($"SeThreshold must be in [0, 1] but is {SeThreshold}");
        if (ImageSize < 8) throw new TesseraException($"ImageSize must be at least 8 but is {ImageSize}");
        if (BinSize is { } b && !(b > 0)) throw new TesseraException($"BinSize must be positive but is {b}");
        if (MinSpots < 0) throw new TesseraException($"MinSpots must be at least 0 but is {MinSpots}");
        if (Clusters < 2) throw new TesseraException($"Clusters must be at least 2 but is {Clusters}");
        if (Epochs < 0) throw new TesseraException($"Epochs must be at least 0 but is {Epochs}");
        if (BatchSize < 2) throw new TesseraException($"BatchSize must be at least 2 but is {BatchSize}");
        if (!(TrainFraction > 0 && TrainFraction <= 1)) throw new TesseraException($"TrainFraction must be in (0, 1] but is {TrainFraction}");
        if (LearningRate is { } lr && !(lr > 0)) throw new TesseraException($"LearningRate must be positive but is {lr}");
        if (NormalizerIterations < 1) throw new TesseraException($"NormalizerIterations must be at least 1 but is {NormalizerIterations}");
        if (!(CenterLossWeight >= 0)) throw new TesseraException($"CenterLossWeight must be at least 0 but is {CenterLossWeight}");
        if (UmapNeighbors < 2) throw new TesseraException($"UmapNeighbors must be at least 2 but is {UmapNeighbors}");
        if (UmapEpochs is { } ue && ue < 1) throw new TesseraException($"UmapEpochs must be at least 1 but is {ue}");
        if (FeatureChunk < 2) throw new TesseraException($"FeatureChunk must be at least 2 but is {FeatureChunk}");
        if (GeneClusters < 2) throw new TesseraException($"GeneClusters must be at least 2 but is {GeneClusters}");
        if (!double.IsFinite(CorrelationThreshold)) throw new TesseraException($"CorrelationThreshold must be a finite z-score but is {CorrelationThreshold}");
        if (MinModels is { } mm && (mm < 1 || mm > Models)) throw new TesseraException($"MinModels must be between 1 and the {Models} models but is {mm}");
        ArgumentNullException.ThrowIfNull(Queries);
    }

    /// <summary>
    /// The authors' image settings (raw-count images, log(total + 1) regressed out, no per-gene normalisation): the record's
    /// own defaults, named for `tessera patterns --preset authors`.
    /// </summary>
    public static CostaOptions Authors { get; } = new();

    /// <summary>
    /// Image settings for count data of spot arrays (ST, Visium, Slide-seq bins) and simulated counts: spots scaled to the
    /// median total and log1p (<see cref="LogNormalize"/>), each gene image z-scored over the tissue (<see cref="Standardize"/>),
    /// and no regress-out (<see cref="RegressOutTotal"/> false: on the held-back simulations the per-pixel total carries
    /// pattern signal, raw-pixel NMI 0.756 with the regress-out vs 0.952 without, bench/Costa/README.md). The default of
    /// `tessera patterns`; every other setting as <see cref="Authors"/>.
    /// </summary>
    public static CostaOptions SpotArrays { get; } = new() { LogNormalize = true, Standardize = true, RegressOutTotal = false };

    /// <summary>The gene image settings these options describe.</summary>
    public GeneImageOptions ImageOptions => new()
    {
        Size = ImageSize, Layout = Layout, BinSize = BinSize, MinSpots = MinSpots, RegressOutTotal = RegressOutTotal,
        LogNormalize = LogNormalize, Standardize = Standardize, ScaleToMax = ScaleToMax,
    };

    /// <summary>Models in which a correlated gene must pass: <see cref="MinModels"/>, or 3 (all models when fewer).</summary>
    public int EffectiveMinModels => MinModels ?? Math.Min(3, Models);
}

/// <summary>CoSTA's optimiser choice.</summary>
public enum CostaOptimizer
{
    /// <summary>SGD with momentum (Slide-seq notebook: lr 0.01, momentum 0.9).</summary>
    Sgd,
    /// <summary>Adam with torch defaults (MNIST/MERFISH scripts: lr 0.001).</summary>
    Adam,
}
