using System.CommandLine;
using System.Globalization;
using Tessera.Analysis;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.Costa;
using Tessera.Plotting;
using Tessera.Simulate;

namespace Tessera.Cli.Commands;

/// <summary>`tessera patterns INPUT --out DIR`: CoSTA gene embeddings, SE genes, correlated genes, gene clusters.</summary>
public static class PatternsCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "Spatial data (h5ad, 10x, Space Ranger, csv with spot ids like 16.92x9.015)" };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var size = new Option<int>("--image-size") { Description = "Gene image side in pixels", DefaultValueFactory = _ => 48 };
        var layout = new Option<string>("--layout") { Description = "auto, grid (ST/Visium arrays) or points (binning)", DefaultValueFactory = _ => "auto" };
        layout.AcceptOnlyFromAmong("auto", "grid", "points");
        var bin = new Option<double?>("--bin-size") { Description = "Bin side in coordinate units for point data (default: extent / image size)" };
        var noRegress = new Option<bool>("--no-regress") { Description = "Skip regressing out log(total counts per pixel + 1)" };
        var minSpots = new Option<int>("--min-spots") { Description = "Keep genes detected in at least this many spots", DefaultValueFactory = _ => 10 };
        var clusters = new Option<int>("--clusters") { Description = "Self-labelling clusters K (UMAP dims, GMM components, head size)", DefaultValueFactory = _ => 30 };
        var geneClusters = new Option<int>("--gene-clusters") { Description = "Gene clusters reported on the final embedding", DefaultValueFactory = _ => 6 };
        var geneClusterMethod = new Option<string>("--gene-cluster-method") { Description = "umap-gmm (UMAP to K dims + GMM, the authors' clustering step; default) or kmeans (on the embedding)", DefaultValueFactory = _ => "umap-gmm" };
        geneClusterMethod.AcceptOnlyFromAmong("umap-gmm", "kmeans");
        var epochs = new Option<int>("--epochs") { Description = "Training epochs per model", DefaultValueFactory = _ => 10 };
        var models = new Option<int>("--models") { Description = "Models in the ensemble (SE genes need at least 2)", DefaultValueFactory = _ => 5 };
        var query = new Option<string?>("--query") { Description = "Comma-separated genes whose correlated genes are reported" };
        var umapEpochs = new Option<int?>("--umap-epochs") { Description = "UMAP optimisation epochs in the target step (default: umap-learn's)" };
        var shuffle = new Option<bool>("--shuffle-pixels") { Description = "Control: one random pixel permutation applied to every gene" };
        var logNorm = new Option<bool>("--log-normalize") { Description = "Scale spots to the median total and log1p before imaging (not the authors' raw counts; for low-count spot arrays)" };
        var standardize = new Option<bool>("--standardize") { Description = "Z-score each gene image over the tissue, so images differ only in pattern" };
        var scaleMax = new Option<bool>("--scale-max") { Description = "Divide each gene image by its largest absolute pixel (recommended when genes differ widely in level)" };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd (lr 0.01, momentum 0.9: the Slide-seq notebook) or adam (lr 0.001: the authors' MNIST/MERFISH scripts)", DefaultValueFactory = _ => "sgd" };
        optimizer.AcceptOnlyFromAmong("sgd", "adam");
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: 0.01 for sgd, 0.001 for adam)" };
        var batch = new Option<int>("--batch-size") { Description = "Mini-batch size", DefaultValueFactory = _ => 128 };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => 0 };
        var inputs = new InputOptions();
        var cmd = new Command("patterns", "CoSTA: learn gene embeddings from gene images; SE genes, correlated genes and gene clusters")
            { input, outOpt, overwrite, size, layout, bin, noRegress, minSpots, clusters, geneClusters, geneClusterMethod, epochs, models, query, umapEpochs, shuffle, scaleMax, logNorm, standardize, optimizer, lr, batch, seed };
        inputs.AddTo(cmd);
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var queries = (p.GetValue(query) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            int k = p.GetValue(geneClusters), nModels = p.GetValue(models), s = p.GetValue(seed);
            if (k < 2) throw new TesseraException($"--gene-clusters must be at least 2 but is {k}");
            var imgOpt = new GeneImageOptions
            {
                Size = p.GetValue(size), BinSize = p.GetValue(bin), RegressOutTotal = !p.GetValue(noRegress), MinSpots = p.GetValue(minSpots), ScaleToMax = p.GetValue(scaleMax),
                LogNormalize = p.GetValue(logNorm), Standardize = p.GetValue(standardize),
                Layout = Enum.Parse<ImageLayout>(p.GetValue(layout)!, ignoreCase: true),
            };
            var ens = new CostaEnsembleOptions
            {
                Models = nModels,
                Model = new CostaOptions { Clusters = p.GetValue(clusters), Epochs = p.GetValue(epochs), BatchSize = p.GetValue(batch), Seed = s,
                    Optimizer = p.GetValue(optimizer) == "adam" ? CostaOptimizer.Adam : CostaOptimizer.Sgd, LearningRate = p.GetValue(lr), UmapEpochs = p.GetValue(umapEpochs), Log = r.Info },
            };
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            var data = inputs.Load(p, r, p.GetValue(input)!, run);
            GeneImageSet images;
            using (r.Stage($"gene images ({imgOpt.Size}x{imgOpt.Size})")) images = GeneImages.FromSpatial(data, imgOpt);
            if (p.GetValue(shuffle)) images = images.ShufflePixels(s);
            foreach (var q in queries) images.IndexOf(q);
            r.Info($"{images.Count} genes (detected in >= {imgOpt.MinSpots} spots), {images.Mask.Count(m => m)} of {images.PixelCount} pixels in tissue");
            if (!imgOpt.LogNormalize && !imgOpt.Standardize)
                r.Info("images are raw counts, as in the authors' code; on spot arrays (ST, Visium) and simulated counts, --log-normalize --no-regress --standardize separates spatial patterns far better (README, CoSTA)");
            CostaEnsembleResult res;
            using (r.Stage($"train {nModels} CoSTA model(s)")) res = CostaEnsemble.Fit(images, ens);

            var emb = DenseMatrix.FromFloat(images.Count, res.Dim, res.Embeddings[0]);
            int kk = Math.Min(k, images.Count);
            int[] geneCluster;
            DenseMatrix umap2;
            using (r.Stage("gene clusters and UMAP"))
            {
                geneCluster = CostaAnalysis.GeneClusters(emb, kk, p.GetValue(geneClusterMethod) == "kmeans" ? GeneClusterMethod.KMeans : GeneClusterMethod.UmapGmm, s);
                umap2 = new Umap(new UmapOptions { NNeighbors = Math.Min(15, images.Count - 1), MinDist = 0.1, Metric = NeighborMetric.Cosine, Seed = s }).FitTransform(emb);
            }
            var seIdx = Enumerable.Range(0, images.Count).Where(i => res.Se[i]).ToArray();
            r.Info(nModels >= 2 ? $"{seIdx.Length} SE genes (stability >= 0.2) of {images.Count}" : "one model: no stability score, every gene is a candidate");
            using (r.Stage("write results"))
            {
                var obs = new Table(images.Genes, "gene");
                obs.Set("cluster", CategoricalColumn.FromInts(geneCluster));
                obs.Set("se", new BoolColumn(res.Se));
                obs.Set("stability", new NumericColumn(res.Stability));
                var pixVar = new Table(Enumerable.Range(0, images.PixelCount).Select(i => $"px{i / images.Width}_{i % images.Width}").ToArray());
                pixVar.Set("in_tissue", new BoolColumn(images.Mask));
                var dense = new float[images.Count, images.PixelCount];
                for (int g = 0; g < images.Count; g++) for (int i = 0; i < images.PixelCount; i++) dense[g, i] = images.Pixels[g * images.PixelCount + i];
                var result = new SpatialData(CsrMatrix.FromDense(dense), obs, pixVar);
                result.SetObsm("X_costa", emb);
                for (int m = 1; m < res.Embeddings.Count; m++) result.SetObsm($"X_costa_{m + 1}", DenseMatrix.FromFloat(images.Count, res.Dim, res.Embeddings[m]));
                result.SetObsm("X_umap", umap2);
                H5ad.Write(result, run.File("result.h5ad"));
                var inv = CultureInfo.InvariantCulture;
                CsvTable.Write(run.File("genes.csv"), ["gene", "cluster", "se", "stability"], images.Genes.Select((g, i) =>
                    (IReadOnlyList<string>)[g, geneCluster[i].ToString(inv), res.Se[i] ? "True" : "False", res.Stability[i].ToString("R", inv)]));
                CsvTable.Write(run.File("training.csv"), ["model", "epoch", "loss", "nmi", "train_s", "feature_s", "umap_s", "gmm_s"],
                    res.Histories.SelectMany((h, m) => h.Select(e => (IReadOnlyList<string>)[(m + 1).ToString(inv), e.Epoch.ToString(inv),
                        e.Loss.ToString("R", inv), e.Nmi.ToString("R", inv), e.TrainSeconds.ToString("F2", inv), e.FeatureSeconds.ToString("F2", inv),
                        e.UmapSeconds.ToString("F2", inv), e.GmmSeconds.ToString("F2", inv)])));
                var labels = geneCluster.Select(c => (string?)c.ToString(inv)).ToArray();
                Tessera.Plotting.Figures.SavePng(EmbeddingPlot.Categorical(umap2, labels, "CoSTA gene UMAP by cluster"), run.File("gene_umap.png"), 1000, 850);
                Tessera.Plotting.Figures.SavePng(CostaPlots.ClusterMeans(images, geneCluster, kk, "Mean gene image per cluster"), run.File("cluster_images.png"), 1000, 1000);
                var series = new Dictionary<string, double[]>();
                for (int m = 0; m < res.Histories.Count; m++) series[$"model {m + 1}"] = res.Histories[m].Skip(1).Select(e => e.Nmi).ToArray();
                if (series.Values.First().Length > 0)
                    Tessera.Plotting.Figures.SavePng(CurvePlot.Lines("NMI between consecutive epochs' labels", "epoch", series, "NMI"), run.File("nmi.png"), 900, 600);
                if (queries.Length > 0)
                    CorrelatedCommand.WriteOutputs(run, r, images, res.Embeddings, res.Dim, queries, seIdx, -2.325, Math.Min(3, nModels));
            }
            run.Commit("patterns", new { imgOpt.Size, imgOpt.Layout, imgOpt.BinSize, imgOpt.RegressOutTotal, imgOpt.MinSpots, imgOpt.ScaleToMax, imgOpt.LogNormalize, imgOpt.Standardize, ens.Model.BatchSize, ens.Models,
                ens.Model.Clusters, ens.Model.Epochs, ens.Model.UmapEpochs, GeneClusters = k, Queries = queries }, s, r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        });
        return cmd;
    }
}
