using System.CommandLine;
using Tessera.Cli.Infrastructure;
using Tessera.IO;
using Tessera.Preprocess;

namespace Tessera.Cli.Commands;

/// <summary>`tessera preprocess INPUT -o OUT.h5ad|DIR`: QC, normalize, log1p, HVG, PCA.</summary>
public static class PreprocessCommand
{
    private static readonly PreprocessOptions Defaults = new();

    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "h5ad, 10x h5, Space Ranger / mtx folder, or csv/tsv[.gz] table" };
        var output = new Option<string>("--out", "-o") { Description = "Output .h5ad file, or a folder (result.h5ad + run.json)", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing output" };
        var minCounts = new Option<double>("--min-counts") { Description = "Drop spots with fewer total counts" };
        var minGenes = new Option<int>("--min-genes") { Description = "Drop spots with fewer detected genes" };
        var minSpots = new Option<int>("--min-spots") { Description = "Drop genes detected in fewer spots" };
        var targetSum = new Option<double>("--target-sum") { Description = "normalize_total target", DefaultValueFactory = _ => Defaults.TargetSum };
        var hvg = new Option<int>("--hvg") { Description = "Number of highly variable genes (0 = none)", DefaultValueFactory = _ => Defaults.Hvg };
        var flavor = new Option<string>("--flavor") { Description = "HVG flavour: seurat_v3 (raw counts) or seurat", DefaultValueFactory = _ => "seurat_v3" };
        flavor.AcceptOnlyFromAmong("seurat_v3", "seurat");
        var subset = new Option<bool>("--subset-hvg") { Description = "Keep only the highly variable genes" };
        var pca = new Option<int>("--pca") { Description = "Principal components (0 = skip PCA)", DefaultValueFactory = _ => Defaults.Pca };
        var scale = new Option<bool>("--scale") { Description = "Scale genes to unit variance (clip 10) before PCA" };
        var seed = new Option<int>("--seed") { Description = "Seed (randomized PCA)", DefaultValueFactory = _ => Defaults.Seed };
        var inputs = new InputOptions();
        var cmd = new Command("preprocess", "QC, normalize_total, log1p, highly variable genes and PCA; raw counts kept in layer 'counts'")
            { input, output, overwrite, minCounts, minGenes, minSpots, targetSum, hvg, flavor, subset, pca, scale, seed };
        inputs.AddTo(cmd);
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var src = p.GetValue(input)!; var dst = p.GetValue(output)!;
            var options = new PreprocessOptions
            {
                MinCounts = p.GetValue(minCounts), MinGenes = p.GetValue(minGenes), MinSpots = p.GetValue(minSpots),
                TargetSum = p.GetValue(targetSum), Hvg = p.GetValue(hvg), Flavor = p.GetValue(flavor) == "seurat" ? HvgFlavor.Seurat : HvgFlavor.SeuratV3,
                SubsetHvg = p.GetValue(subset), Pca = p.GetValue(pca), Scale = p.GetValue(scale), Seed = p.GetValue(seed),
            };
            if (options.TargetSum <= 0) throw new TesseraException($"--target-sum must be positive, got {options.TargetSum}");
            bool toFile = dst.EndsWith(".h5ad", StringComparison.OrdinalIgnoreCase);
            if (toFile) OutputGuard.CheckH5adTarget(dst, src, p.GetValue(overwrite));
            using var run = toFile ? null : new RunOutput(dst, p.GetValue(overwrite));
            var data = inputs.Load(p, r, src, run);
            if (options.Hvg > data.NVars) throw new TesseraException($"--hvg {options.Hvg} is larger than the {data.NVars} genes");
            Data.SpatialData result;
            using (r.Stage("preprocess")) result = PreprocessPipeline.Run(data, options, r.Library());
            using (r.Stage("write h5ad")) H5ad.Write(result, toFile ? dst : run!.File("result.h5ad"));
            run?.Commit("preprocess", options, options.Seed, r);
            r.Info($"wrote {(toFile ? dst : run!.FinalDir)}");
            return 0;
        });
        return cmd;
    }
}
