using Tessera.Data;

namespace Tessera.Preprocess;

/// <summary>Settings of <see cref="PreprocessPipeline.Run"/> (the defaults are scanpy's usual ones).</summary>
public sealed record PreprocessOptions
{
    /// <summary>Drop spots with fewer total counts.</summary>
    public double MinCounts { get; init; }
    /// <summary>Drop spots with fewer detected genes.</summary>
    public int MinGenes { get; init; }
    /// <summary>Drop genes detected in fewer spots.</summary>
    public int MinSpots { get; init; }
    /// <summary>normalize_total target sum.</summary>
    public double TargetSum { get; init; } = 1e4;
    /// <summary>Number of highly variable genes to mark (0 = none).</summary>
    public int Hvg { get; init; } = 3000;
    /// <summary>HVG flavour; seurat_v3 runs on the raw counts (what Spotscape uses).</summary>
    public HvgFlavor Flavor { get; init; } = HvgFlavor.SeuratV3;
    /// <summary>Keep only the highly variable genes in the output (otherwise they are marked in var).</summary>
    public bool SubsetHvg { get; init; }
    /// <summary>Number of principal components (0 = skip PCA).</summary>
    public int Pca { get; init; } = 30;
    /// <summary>Scale genes to unit variance before PCA (clipped at <see cref="ScaleMax"/>).</summary>
    public bool Scale { get; init; }
    /// <summary>Clip scaled values at this magnitude (scanpy max_value).</summary>
    public double? ScaleMax { get; init; } = 10;
    /// <summary>Seed for the randomized PCA solver.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// The standard chain QC → raw counts kept in layer "counts" → normalize_total → log1p → HVG → PCA, returning a
/// new <see cref="SpatialData"/> (the input is never modified). X of the result holds log-normalised values.
/// </summary>
public static class PreprocessPipeline
{
    /// <summary>Runs the chain; <paramref name="progress"/> receives one line per step.</summary>
    public static SpatialData Run(SpatialData data, PreprocessOptions options, IProgress<Progress>? progress = null)
    {
        if (options.Hvg < 0) throw new TesseraException($"Hvg must not be negative but is {options.Hvg}");
        if (options.Pca < 0) throw new TesseraException($"Pca must not be negative but is {options.Pca}");
        if (options.Hvg > data.NVars) throw new TesseraException($"Hvg is {options.Hvg} but the data has {data.NVars} genes");
        var (d, report) = Qc.Filter(data, new QcOptions { MinCounts = options.MinCounts, MinGenes = options.MinGenes, MinSpots = options.MinSpots });
        progress.Note("preprocess", $"QC: {report}");
        d.Layers["counts"] = d.X;
        d.X = Normalize.Log1p(Normalize.Total(d.X, options.TargetSum));
        progress.Note("preprocess", $"normalize_total (target {options.TargetSum:G}) + log1p");
        if (options.Hvg > 0)
        {
            // seurat_v3 ranks genes on raw counts; seurat on the log-normalised X
            var hvg = HighlyVariableGenes.Select(d, options.Hvg, options.Flavor, layer: options.Flavor == HvgFlavor.SeuratV3 ? "counts" : null);
            hvg.AddToVar(d);
            progress.Note("preprocess", $"highly variable genes ({options.Flavor}): {options.Hvg} of {d.NVars}");
            if (options.SubsetHvg) d = d.Subset(null, hvg.SelectedIndices());
        }
        if (options.Pca > 0)
        {
            var model = Preprocess.Pca.RunOn(d, new PcaOptions { Components = options.Pca, Seed = options.Seed, Scale = options.Scale, ScaleMaxValue = options.Scale ? options.ScaleMax : null });
            progress.Note("preprocess", $"PCA: {model.ComponentCount} components ({model.SolverUsed}), {model.ExplainedVarianceRatio.Sum():P1} of the variance");
        }
        return d;
    }
}
