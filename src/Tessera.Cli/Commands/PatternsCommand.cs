using System.CommandLine;
using Tessera.Cli.Infrastructure;
using Tessera.Methods.Costa;

namespace Tessera.Cli.Commands;

/// <summary>`tessera patterns INPUT --out DIR`: CoSTA gene embeddings, SE genes, correlated genes, gene clusters.</summary>
public static class PatternsCommand
{
    private static readonly CostaOptions Defaults = CostaOptions.SpotArrays;

    /// <summary>The flag of each <see cref="CostaOptions"/> property this command sets, for library messages.</summary>
    private static readonly Dictionary<string, string> Flags = new()
    {
        ["Seed"] = "--seed", ["ImageSize"] = "--image-size", ["Layout"] = "--layout", ["BinSize"] = "--bin-size", ["MinSpots"] = "--min-spots",
        ["LogNormalize"] = "--log-normalize", ["Standardize"] = "--standardize", ["ScaleToMax"] = "--scale-max",
        ["ShufflePixels"] = "--shuffle-pixels", ["Clusters"] = "--clusters", ["GeneClusters"] = "--gene-clusters",
        ["GeneClusterMethod"] = "--gene-cluster-method", ["Epochs"] = "--epochs", ["Models"] = "--models", ["Queries"] = "--query",
        ["UmapEpochs"] = "--umap-epochs", ["Optimizer"] = "--optimizer", ["LearningRate"] = "--lr", ["BatchSize"] = "--batch-size",
    };

    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "Spatial data (h5ad, 10x, Space Ranger, csv with spot ids like 16.92x9.015)" };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var size = new Option<int>("--image-size") { Description = "Gene image side in pixels", DefaultValueFactory = _ => Defaults.ImageSize };
        var layout = new Option<string>("--layout") { Description = "auto, grid (ST/Visium arrays) or points (binning)", DefaultValueFactory = _ => Defaults.Layout.ToString().ToLowerInvariant() };
        layout.AcceptOnlyFromAmong("auto", "grid", "points");
        var bin = new Option<double?>("--bin-size") { Description = "Bin side in coordinate units for point data (default: extent / image size)" };
        var preset = new Option<string>("--preset") { Description = "Image settings: spot-arrays (default: --log-normalize --standardize, no regress-out; for count data of spot arrays and simulated counts) or authors (raw-count images with log(total + 1) regressed out, as the authors' code); the image flags below add to the preset", DefaultValueFactory = _ => "spot-arrays" };
        preset.AcceptOnlyFromAmong("spot-arrays", "authors");
        var noRegress = new Option<bool>("--no-regress") { Description = "Skip regressing out log(total counts per pixel + 1) (already off in the spot-arrays preset)" };
        var minSpots = new Option<int>("--min-spots") { Description = "Keep genes detected in at least this many spots", DefaultValueFactory = _ => Defaults.MinSpots };
        var clusters = new Option<int>("--clusters") { Description = "Self-labelling clusters K (UMAP dims, GMM components, head size)", DefaultValueFactory = _ => Defaults.Clusters };
        var geneClusters = new Option<int>("--gene-clusters") { Description = "Gene clusters reported on the final embedding", DefaultValueFactory = _ => Defaults.GeneClusters };
        var geneClusterMethod = new Option<string>("--gene-cluster-method") { Description = "umap-gmm (UMAP to K dims + GMM, the authors' clustering step; default) or kmeans (on the embedding)", DefaultValueFactory = _ => MethodName(Defaults.GeneClusterMethod) };
        geneClusterMethod.AcceptOnlyFromAmong("umap-gmm", "kmeans");
        var epochs = new Option<int>("--epochs") { Description = "Training epochs per model", DefaultValueFactory = _ => Defaults.Epochs };
        var models = new Option<int>("--models") { Description = "Models in the ensemble (SE genes need at least 2)", DefaultValueFactory = _ => Defaults.Models };
        var query = new Option<string?>("--query") { Description = "Comma-separated genes whose correlated genes are reported" };
        var umapEpochs = new Option<int?>("--umap-epochs") { Description = "UMAP optimisation epochs in the target step (default: umap-learn's)" };
        var shuffle = new Option<bool>("--shuffle-pixels") { Description = "Control: one random pixel permutation applied to every gene" };
        var logNorm = new Option<bool>("--log-normalize") { Description = "Scale spots to the median total and log1p before imaging (on in the spot-arrays preset)" };
        var standardize = new Option<bool>("--standardize") { Description = "Z-score each gene image over the tissue, so images differ only in pattern (on in the spot-arrays preset)" };
        var scaleMax = new Option<bool>("--scale-max") { Description = "Divide each gene image by its largest absolute pixel (recommended when genes differ widely in level)" };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd (lr 0.01, momentum 0.9: the Slide-seq notebook) or adam (lr 0.001: the authors' MNIST/MERFISH scripts)", DefaultValueFactory = _ => Defaults.Optimizer.ToString().ToLowerInvariant() };
        optimizer.AcceptOnlyFromAmong("sgd", "adam");
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: 0.01 for sgd, 0.001 for adam)" };
        var batch = new Option<int>("--batch-size") { Description = "Mini-batch size", DefaultValueFactory = _ => Defaults.BatchSize };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => Defaults.Seed };
        var inputs = new InputOptions();
        var cmd = new Command("patterns", "CoSTA: learn gene embeddings from gene images; SE genes, correlated genes and gene clusters")
            { input, outOpt, overwrite, preset, size, layout, bin, noRegress, minSpots, clusters, geneClusters, geneClusterMethod, epochs, models, query, umapEpochs, shuffle, scaleMax, logNorm, standardize, optimizer, lr, batch, seed };
        inputs.AddTo(cmd);
        CommandHost.SetBody(cmd, (p, r) =>
        {
            bool authors = p.GetValue(preset) == "authors";
            var basis = authors ? CostaOptions.Authors : CostaOptions.SpotArrays;
            var o = basis with
            {
                Seed = p.GetValue(seed), ImageSize = p.GetValue(size), Layout = Enum.Parse<ImageLayout>(p.GetValue(layout)!, ignoreCase: true),
                BinSize = p.GetValue(bin), RegressOutTotal = basis.RegressOutTotal && !p.GetValue(noRegress), MinSpots = p.GetValue(minSpots), ScaleToMax = p.GetValue(scaleMax),
                LogNormalize = basis.LogNormalize || p.GetValue(logNorm), Standardize = basis.Standardize || p.GetValue(standardize), ShufflePixels = p.GetValue(shuffle),
                Clusters = p.GetValue(clusters), GeneClusters = p.GetValue(geneClusters),
                GeneClusterMethod = p.GetValue(geneClusterMethod) == MethodName(GeneClusterMethod.KMeans) ? GeneClusterMethod.KMeans : GeneClusterMethod.UmapGmm,
                Epochs = p.GetValue(epochs), Models = p.GetValue(models), BatchSize = p.GetValue(batch), UmapEpochs = p.GetValue(umapEpochs),
                Optimizer = Enum.Parse<CostaOptimizer>(p.GetValue(optimizer)!, ignoreCase: true), LearningRate = p.GetValue(lr),
                Queries = (p.GetValue(query) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            };
            o.Validate();
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            r.Info($"preset: {p.GetValue(preset)}{(p.GetResult(preset) is { Implicit: false } ? "" : " (the default; --preset authors for the authors' raw-count images)")}: " +
                   $"log-normalize {OnOff(o.LogNormalize)}, standardize {OnOff(o.Standardize)}, regress-out {OnOff(o.RegressOutTotal)}, scale-max {OnOff(o.ScaleToMax)}");
            var data = inputs.Load(p, r, p.GetValue(input)!, run);
            if (!o.LogNormalize && !o.Standardize)
                r.Info("images are raw counts, as in the authors' code; on spot arrays (ST, Visium) and simulated counts, --log-normalize --no-regress --standardize separates spatial patterns far better (README, CoSTA)");
            using var model = CostaTrainer.Fit(data, o, r.Library());
            using (r.Stage("write results")) model.Result!.Write(run.Dir);
            if (model.Result!.Correlation is { } c) foreach (var line in c.Summary()) r.Info(line);
            run.Commit("patterns", new { Preset = p.GetValue(preset), Size = o.ImageSize, o.Layout, o.BinSize, o.RegressOutTotal, o.MinSpots, o.ScaleToMax, o.LogNormalize, o.Standardize, o.BatchSize, o.Models,
                o.Clusters, o.Epochs, o.UmapEpochs, o.GeneClusters, o.Queries }, o.Seed, r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        }, Flags);
        return cmd;
    }

    private static string OnOff(bool on) => on ? "on" : "off";

    private static string MethodName(GeneClusterMethod m) => m == GeneClusterMethod.KMeans ? "kmeans" : "umap-gmm";
}
