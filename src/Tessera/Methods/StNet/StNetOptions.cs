using System.Globalization;

namespace Tessera.Methods.StNet;

/// <summary>How ST-Net trains its image model.</summary>
public enum StNetMode
{
    /// <summary>Backbone features extracted once (optionally 8-symmetry averaged) and a ridge head: the CPU path.</summary>
    Frozen,
    /// <summary>Every layer trained with SGD, as the paper (GPU-scale work); cross-validation folds only, no final model.</summary>
    FineTune,
}

/// <summary>
/// Settings of ST-Net (He et al. 2020): spot expression from H&amp;E patches. Defaults are the paper's where it has one;
/// they live here and only here. Settings of the fine-tuning mode (<see cref="StNetMode.FineTune"/>) are marked so.
/// </summary>
public sealed record StNetOptions
{
    /// <summary>Seed of everything random: fine-tuning's initial head, batch order and augmentation, and the figures' UMAP.</summary>
    public int Seed { get; init; }

    /// <summary>Torch intra-op threads during the call (null: leave torch's thread count as it is).</summary>
    public int? Threads { get; init; }

    /// <summary>Torch device; only "cpu" is served.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Frozen backbone + ridge head (the CPU path), or fine-tuning of every layer.</summary>
    public StNetMode Mode { get; init; } = StNetMode.Frozen;

    /// <summary>Image backbone: <c>resnet18-imagenet</c> (pretrained, ships offline) or <c>densenet121</c> (the paper's; needs <see cref="Weights"/>).</summary>
    public string Backbone { get; init; } = "resnet18-imagenet";

    /// <summary>PyTorch state dict (.pt/.safetensors) of <c>densenet121</c>; null for <c>resnet18-imagenet</c>.</summary>
    public string? Weights { get; init; }

    /// <summary>Genes to predict: the most expressed (mean raw count over all spots), 250 as the paper.</summary>
    public int Genes { get; init; } = 250;

    /// <summary>Target transform (the authors' log((1 + c) / (G + total)) by default).</summary>
    public TargetTransform Transform { get; init; } = TargetTransform.StNetLog;

    /// <summary>Patch side in µm (the paper's window is 150 µm ≈ 224 px at their resolution).</summary>
    public double WindowUm { get; init; } = 150;

    /// <summary>Spot centre-to-centre distance in µm: 200 on ST arrays (HER2ST), 100 on Visium.</summary>
    public double PitchUm { get; init; } = 200;

    /// <summary>Image resolution in µm per pixel; null estimates it per section from the spot pitch.</summary>
    public double? UmPerPixel { get; init; }

    /// <summary>Network input side in pixels.</summary>
    public int PatchSize { get; init; } = 224;

    /// <summary>Average features over the 8 dihedral symmetries (the ST-Net authors' "average" option); frozen mode only.</summary>
    public bool TestTimeAugmentation { get; init; } = true;

    /// <summary>Patches per forward pass, and per SGD step when fine-tuning (32 as the paper).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Folder for patch and feature caches (null: no cache).</summary>
    public string? CacheDir { get; init; }

    /// <summary>Fine-tuning: epochs (the paper trains 50 and picks the epoch by inner cross-validation).</summary>
    public int Epochs { get; init; } = 50;

    /// <summary>Fine-tuning: SGD learning rate (1e-6 as the paper, paired with a loss summed over the batch).</summary>
    public double LearningRate { get; init; } = 1e-6;

    /// <summary>Fine-tuning: SGD momentum (0.9 as the paper).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>
    /// Fine-tuning: inner folds choosing the epoch (the authors' 4: the training groups, sorted, split as groups[f::k]; the
    /// epoch with the least held-out squared error pooled over the inner folds is used). 0 or 1: the last epoch.
    /// </summary>
    public int InnerFolds { get; init; } = 4;

    /// <summary>Fine-tuning: held-out groups (patients, else sections) to run; null runs every group.</summary>
    public IReadOnlyList<string>? Folds { get; init; }

    /// <summary>The cache folder a caller may use when none is chosen: ~/.cache/tessera/histology.</summary>
    public static string DefaultCacheDir => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "tessera", "histology");

    /// <summary>Throws a <see cref="TesseraException"/> naming the first setting out of its range.</summary>
    public void Validate()
    {
        static string N(double v) => v.ToString("G", CultureInfo.InvariantCulture);
        if (Threads is { } t && t < 1) throw new TesseraException($"Threads must be at least 1 but is {t}");
        if (Device != "cpu") throw new TesseraException($"Device must be 'cpu' but is '{Device}' (only the CPU is served)");
        if (!Enum.IsDefined(Mode)) throw new TesseraException($"Mode must be Frozen or FineTune but is {Mode}");
        if (!Enum.IsDefined(Transform)) throw new TesseraException($"Transform must be StNetLog or Log1pCpm but is {Transform}");
        StNetBackbones.Check(Backbone, Weights);
        if (Genes < 1) throw new TesseraException($"Genes must be at least 1 but is {Genes}");
        if (!(WindowUm > 0) || !double.IsFinite(WindowUm)) throw new TesseraException($"WindowUm must be a positive number but is {N(WindowUm)}");
        if (!(PitchUm > 0) || !double.IsFinite(PitchUm)) throw new TesseraException($"PitchUm must be a positive number but is {N(PitchUm)}");
        if (UmPerPixel is { } u && (!(u > 0) || !double.IsFinite(u))) throw new TesseraException($"UmPerPixel must be a positive number but is {N(u)}");
        if (PatchSize < 8) throw new TesseraException($"PatchSize must be at least 8 but is {PatchSize}");
        if (BatchSize < 1) throw new TesseraException($"BatchSize must be at least 1 but is {BatchSize}");
        if (Epochs < 0) throw new TesseraException($"Epochs must be at least 0 but is {Epochs}");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new TesseraException($"LearningRate must be a positive number but is {N(LearningRate)}");
        if (!(Momentum >= 0 && Momentum < 1)) throw new TesseraException($"Momentum must be in [0, 1) but is {N(Momentum)}");
        if (InnerFolds < 0) throw new TesseraException($"InnerFolds must be at least 0 but is {InnerFolds}");
        if (Folds is { Count: 0 }) throw new TesseraException("Folds must name at least one group when set but is empty");
    }

    /// <summary>The mode as outputs spell it: <c>frozen</c> or <c>finetune</c>.</summary>
    internal string ModeName => Mode == StNetMode.Frozen ? "frozen" : "finetune";
}
