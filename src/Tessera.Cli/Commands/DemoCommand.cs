using System.CommandLine;
using System.Text.Json.Nodes;
using Tessera.Analysis;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.Spotscape;
using Tessera.Plotting;
using Tessera.Preprocess;
using Tessera.Simulate;

namespace Tessera.Cli.Commands;

/// <summary>`tessera demo`: the main job on a built-in synthetic layered tissue.</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", DefaultValueFactory = _ => "tessera-demo" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var seed = new Option<int>("--seed") { Description = "Seed for every random choice", DefaultValueFactory = _ => 0 };
        var epochs = new Option<int>("--epochs") { Description = "Spotscape training epochs", DefaultValueFactory = _ => 40 };
        var cmd = new Command("demo", "Simulate a layered Visium tissue and find its spatial domains end to end") { outOpt, overwrite, seed, epochs };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var settings = new DemoSettings { Seed = p.GetValue(seed), Epochs = p.GetValue(epochs) };
            if (settings.Epochs < 1) throw new TesseraException($"--epochs must be positive, got {settings.Epochs}");
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            SpatialData raw;
            using (r.Stage("simulate a layered tissue"))
            {
                raw = SyntheticTissue.Generate(new SyntheticTissueOptions { Seed = settings.Seed, Domains = settings.Domains });
                r.Info($"{raw.NObs} spots x {raw.NVars} genes on a Visium hex grid, {settings.Domains} layer-shaped domains");
            }
            SpatialData data;
            using (r.Stage("preprocess"))
                data = PreprocessPipeline.Run(raw, new PreprocessOptions { Hvg = settings.Hvg, Pca = settings.Pca, Seed = settings.Seed }, r.Info);
            var truth = raw.Obs.Labels("layer");
            int[] baseline;
            using (r.Stage("baseline: PCA + k-means"))
                baseline = Clustering.Run(data.Obsm["X_pca"], new ClusteringOptions { Method = ClusterMethod.KMeans, Clusters = settings.Domains, Restarts = 10, Seed = settings.Seed });
            var baseScores = ClusterScores.Compute(truth, baseline.Select(l => (string?)l.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
            r.Info("PCA + k-means baseline:");
            EvaluateCommand.Print(baseScores, r);

            var domainOptions = new DomainOptions
            {
                Clusters = settings.Domains, Hvg = settings.Hvg, Radius = settings.Radius, Epochs = settings.Epochs, LearningRate = settings.LearningRate, Threads = 1,
            };
            PreparedSlices prep;
            using (r.Stage("Spotscape input (HVGs, log-normalised, radius graph)")) prep = SpatialDomains.Prepare([raw], ["synthetic"], domainOptions, r.Info);
            DomainRun spot;
            using (r.Stage($"Spotscape ({settings.Epochs} epochs) + k-means"))
                spot = SpatialDomains.Run(prep, domainOptions, settings.Seed, r.Training("Spotscape", settings.Epochs));
            var domain = CategoricalColumn.FromInts(spot.Labels);
            data.Obs.Set("domain", domain);
            data.Obs.Set("baseline", CategoricalColumn.FromInts(baseline));
            data.SetObsm("X_spotscape", spot.Embedding);
            var pred = Enumerable.Range(0, domain.Length).Select(domain.Label).ToArray();
            var scores = ClusterScores.Compute(truth, pred);
            r.Info("Spotscape:");
            EvaluateCommand.Print(scores, r);
            using (r.Stage("write results"))
            {
                using (r.Stage("UMAP of the Spotscape embedding"))
                    data.SetObsm("X_umap", new Umap(new UmapOptions { Seed = settings.Seed, MinDist = 0.3 }).FitTransform(spot.Embedding));
                H5ad.Write(data, run.File("result.h5ad"));
                CsvTable.Write(run.File("domains.csv"), ["spot", "domain", "baseline", "truth"],
                    data.ObsNames.Select((n, i) => (IReadOnlyList<string>)[n, domain.Format(i), data.Obs["baseline"].Format(i), data.Obs["layer"].Format(i)]));
                var metrics = new JsonObject { ["spotscape"] = EvaluateCommand.ToJson(scores), ["pca_kmeans"] = EvaluateCommand.ToJson(baseScores) };
                AtomicFile.WriteAllText(run.File("metrics.json"), metrics.ToJsonString(JsonOptions.Default));
                run.Extra["metrics"] = metrics;
                RunFigures.Spatial(data, truth, "spatial_truth.png", "Synthetic tissue: true layers", run);
                RunFigures.Spatial(data, pred, "spatial_domains.png", $"Spotscape domains, ARI {scores.Ari:F3}", run);
                RunFigures.Spatial(data, data.Obs.Labels("baseline"), "spatial_baseline.png", $"PCA + k-means baseline, ARI {baseScores.Ari:F3}", run);
                Tessera.Plotting.Figures.SavePng(EmbeddingPlot.Categorical(data.Obsm["X_umap"], truth, "UMAP of the Spotscape embedding: true layers"), run.File("umap_truth.png"), 1000, 850);
                if (spot.Model?.FitReport is { } rep)
                {
                    RunFigures.LossCurves(rep.History, "Spotscape training loss", run);
                }
                spot.Model?.Dispose();
            }
            run.Commit("demo", settings, settings.Seed, r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The demo's fixed settings (recorded in run.json).</summary>
    public sealed record DemoSettings
    {
        public int Seed { get; init; }
        public int Domains { get; init; } = 6;
        public int Hvg { get; init; } = 200;
        public int Pca { get; init; } = 20;
        public double Radius { get; init; } = 150;
        public int Epochs { get; init; } = 40;
        public double LearningRate { get; init; } = 1e-3;
    }

}
