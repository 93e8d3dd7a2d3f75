using System.CommandLine;
using System.Text.Json.Nodes;
using Tessera.Analysis;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.Graphs;
using Tessera.IO;
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
        var cmd = new Command("demo", "Simulate a layered Visium tissue and find its spatial domains end to end") { outOpt, overwrite, seed };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var settings = new DemoSettings { Seed = p.GetValue(seed) };
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
            using (r.Stage("spatial graph"))
            {
                var graph = RadiusGraph.Build(data.Spatial, settings.Radius, maxNeighbors: 50);
                r.Info($"radius graph ({settings.Radius} px): {graph.NumEdges} edges, mean degree {graph.NumEdges / (double)graph.NumNodes:F2}");
                data.Uns["spatial_graph"] = new Dictionary<string, object> { ["radius"] = settings.Radius, ["edges"] = (long)graph.NumEdges };
            }
            int[] labels;
            using (r.Stage("domains (PCA + k-means baseline)"))
                labels = Clustering.Run(data.Obsm["X_pca"], new ClusteringOptions { Method = ClusterMethod.KMeans, Clusters = settings.Domains, Restarts = 10, Seed = settings.Seed });
            var domain = CategoricalColumn.FromInts(labels);
            data.Obs.Set("domain", domain);
            var pred = Enumerable.Range(0, domain.Length).Select(domain.Label).ToArray();
            var scores = ClusterScores.Compute(raw.Obs.Labels("layer"), pred);
            EvaluateCommand.Print(scores, r);
            using (r.Stage("write results"))
            {
                H5ad.Write(data, run.File("result.h5ad"));
                CsvTable.Write(run.File("domains.csv"), ["spot", "domain", "truth"],
                    data.ObsNames.Select((n, i) => (IReadOnlyList<string>)[n, domain.Format(i), data.Obs["layer"].Format(i)]));
                var metrics = EvaluateCommand.ToJson(scores);
                metrics["method"] = "pca-kmeans";
                AtomicFile.WriteAllText(run.File("metrics.json"), metrics.ToJsonString(JsonOptions.Default));
                run.Extra["metrics"] = metrics;
                Figures.Spatial(data, data.Obs.Labels("layer"), "spatial_truth.png", "Synthetic tissue: true layers", run);
                Figures.Spatial(data, pred, "spatial_domains.png", $"Domains (PCA + k-means), ARI {scores.Ari:F3}", run);
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
    }
}
