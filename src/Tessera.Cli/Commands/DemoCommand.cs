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
    private static readonly DemoSettings Defaults = new();

    /// <summary>`tessera demo [--out DIR]`.</summary>
    public static Command Create()
    {
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", DefaultValueFactory = _ => "tessera-demo" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var seed = new Option<int>("--seed") { Description = "Seed for every random choice", DefaultValueFactory = _ => Defaults.Seed };
        var epochs = new Option<int>("--epochs") { Description = "Spotscape training epochs", DefaultValueFactory = _ => Defaults.Epochs };
        var cmd = new Command("demo", "Simulate a layered Visium tissue and find its spatial domains end to end") { outOpt, overwrite, seed, epochs };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var settings = Defaults with { Seed = p.GetValue(seed), Epochs = p.GetValue(epochs) };
            if (settings.Epochs < 1) throw new TesseraException($"--epochs must be positive, got {settings.Epochs}");
            var options = settings.SpotscapeOptions();
            options.Validate();
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            SpatialData raw;
            using (r.Stage("simulate a layered tissue"))
            {
                raw = SyntheticTissue.Generate(new SyntheticTissueOptions { Seed = settings.Seed, Domains = settings.Domains });
                r.Info($"{raw.NObs} spots x {raw.NVars} genes on a Visium hex grid, {settings.Domains} layer-shaped domains");
            }
            SpatialData data;
            using (r.Stage("preprocess"))
                data = PreprocessPipeline.Run(raw, new PreprocessOptions { Hvg = settings.Hvg, Pca = settings.Pca, Seed = settings.Seed }, r.Library());
            var truth = raw.Obs.Labels("layer");
            int[] baseline;
            using (r.Stage("baseline: PCA + k-means"))
                baseline = Clustering.Run(data.Obsm["X_pca"], new ClusteringOptions { Method = ClusterMethod.KMeans, Clusters = settings.Domains, Restarts = 10, Seed = settings.Seed });
            var baseScores = ClusterScores.Compute(truth, baseline.Select(l => (string?)l.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
            r.Info("PCA + k-means baseline:");
            r.Info(baseScores.ToString());

            SpotscapeModel fitted;
            using (r.Stage($"Spotscape ({settings.Epochs} epochs) + k-means"))
                fitted = SpotscapeTrainer.Fit([raw], ["synthetic"], options, r.Library("Spotscape"));
            using var model = fitted;
            var spot = model.Result!;
            var scores = spot.Scores!.Joint;
            spot.AddTo(data);
            data.Obs.Set("baseline", CategoricalColumn.FromInts(baseline));
            r.Info("Spotscape:");
            r.Info(scores.ToString());
            using (r.Stage("write results"))
            {
                using (r.Stage("UMAP of the Spotscape embedding"))
                    data.SetObsm("X_umap", new Umap(new UmapOptions { Seed = settings.Seed, MinDist = 0.3 }).FitTransform(spot.Embedding));
                H5ad.Write(data, run.File("result.h5ad"));
                var domain = data.Obs["domain"];
                CsvTable.Write(run.File("domains.csv"), ["spot", "domain", "baseline", "truth"],
                    data.ObsNames.Select((n, i) => (IReadOnlyList<string>)[n, domain.Format(i), data.Obs["baseline"].Format(i), data.Obs["layer"].Format(i)]));
                var metrics = new JsonObject { ["spotscape"] = scores.ToJson(), ["pca_kmeans"] = baseScores.ToJson() };
                AtomicFile.WriteAllText(run.File("metrics.json"), metrics.ToJsonString(JsonOptions.Default));
                run.Extra["metrics"] = metrics;
                RunFigures.Spatial(data, truth, "spatial_truth.png", "Synthetic tissue: true layers", run);
                RunFigures.Spatial(data, spot.DomainNames(), "spatial_domains.png", $"Spotscape domains, ARI {scores.Ari:F3}", run);
                RunFigures.Spatial(data, data.Obs.Labels("baseline"), "spatial_baseline.png", $"PCA + k-means baseline, ARI {baseScores.Ari:F3}", run);
                Tessera.Plotting.Figures.SavePng(EmbeddingPlot.Categorical(data.Obsm["X_umap"], truth, "UMAP of the Spotscape embedding: true layers"), run.File("umap_truth.png"), 1000, 850);
                if (spot.Training is { } rep) RunFigures.LossCurves(rep.History, "Spotscape training loss", run);
            }
            run.Commit("demo", settings, settings.Seed, r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        }, new Dictionary<string, string> { ["Seed"] = "--seed", ["Epochs"] = "--epochs" });
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

        /// <summary>The Spotscape pipeline of the demo: HVGs, radius 150, the given epochs, one torch thread, scored against the true layers.</summary>
        public SpotscapeOptions SpotscapeOptions() => new()
        {
            Clusters = Domains, Hvg = Hvg, Radius = Radius, Epochs = Epochs, LearningRate = LearningRate, Threads = 1, Seed = Seed, TruthColumn = "layer",
        };
    }

}
