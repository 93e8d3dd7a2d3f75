using System.CommandLine;
using System.Text.Json.Nodes;
using Tessera.Analysis;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;

namespace Tessera.Cli.Commands;

/// <summary>`tessera cluster INPUT --use-rep X_pca --method kmeans|gmm|leiden ...`.</summary>
public static class ClusterCommand
{
    private static readonly ClusteringOptions Defaults = new();

    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "Data with an embedding in obsm (e.g. the result.h5ad of preprocess)" };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var useRep = new Option<string>("--use-rep") { Description = "obsm key to cluster (X_pca, X_spotscape, ...)", DefaultValueFactory = _ => "X_pca" };
        var method = new Option<string>("--method") { Description = "kmeans, gmm or leiden", DefaultValueFactory = _ => "kmeans" };
        method.AcceptOnlyFromAmong("kmeans", "gmm", "leiden");
        var cov = new Option<string>("--covariance") { Description = "GMM covariance: full, diag, tied (= mclust EEE) or spherical", DefaultValueFactory = _ => "tied" };
        cov.AcceptOnlyFromAmong("full", "diag", "tied", "spherical");
        var k = new Option<int?>("--clusters", "-k") { Description = "Number of clusters (kmeans, gmm)" };
        var res = new Option<double>("--resolution") { Description = "Leiden resolution", DefaultValueFactory = _ => Defaults.Resolution };
        var restarts = new Option<int>("--restarts") { Description = "k-means restarts", DefaultValueFactory = _ => Defaults.Restarts };
        var truthCol = new Option<string?>("--truth-column") { Description = "obs column with reference labels: scores are computed and written" };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => Defaults.Seed };
        var inputs = new InputOptions();
        var cmd = new Command("cluster", "Cluster spots on an embedding; writes obs 'cluster'") { input, outOpt, overwrite, useRep, method, cov, k, res, restarts, truthCol, seed };
        inputs.AddTo(cmd);
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var m = p.GetValue(method)!;
            var options = new ClusteringOptions
            {
                Method = m switch { "gmm" => ClusterMethod.Gmm, "leiden" => ClusterMethod.Leiden, _ => ClusterMethod.KMeans },
                Clusters = p.GetValue(k) ?? (m == "leiden" ? 0 : throw new TesseraException($"--clusters K is required with --method {m}")),
                Covariance = Enum.Parse<CovarianceType>(p.GetValue(cov)!, ignoreCase: true),
                Resolution = p.GetValue(res), Restarts = p.GetValue(restarts), Seed = p.GetValue(seed),
            };
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            var data = inputs.Load(p, r, p.GetValue(input)!, run);
            var rep = p.GetValue(useRep)!;
            var x = data.GetObsm(rep);
            var truth = p.GetValue(truthCol) is { } tc ? data.Obs.Labels(tc) : null;
            int[] labels;
            using (r.Stage($"cluster ({m}) on {rep} ({x.Rows} x {x.Cols})")) labels = Clustering.Run(x, options);
            var col = CategoricalColumn.FromInts(labels);
            data.Obs.Set("cluster", col);
            r.Info($"{col.Categories.Length} clusters; sizes {string.Join(", ", col.Categories.Select((c, i) => $"{c}: {col.Codes.Count(v => v == i)}"))}");
            using (r.Stage("write results"))
            {
                H5ad.Write(data, run.File("result.h5ad"));
                CsvTable.Write(run.File("clusters.csv"), ["spot", "cluster"], data.ObsNames.Select((n, i) => (IReadOnlyList<string>)[n, col.Format(i)]));
                if (truth != null)
                {
                    var scores = ClusterScores.Compute(truth, Enumerable.Range(0, col.Length).Select(col.Label).ToArray());
                    r.Info(scores.ToString());
                    var json = scores.ToJson();
                    AtomicFile.WriteAllText(run.File("metrics.json"), json.ToJsonString(JsonOptions.Default));
                    run.Extra["metrics"] = json;
                }
                RunFigures.SpatialAndEmbedding(data, col, "cluster", run, r);
            }
            run.Commit("cluster", options, options.Seed, r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        });
        return cmd;
    }
}
