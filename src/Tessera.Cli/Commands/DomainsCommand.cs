using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Tessera.Analysis;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.Spotscape;
using Tessera.Nn;
using Tessera.Plotting;

namespace Tessera.Cli.Commands;

/// <summary>`tessera domains` (one slice) and `tessera integrate` (several): Spotscape spatial domains.</summary>
public static class DomainsCommand
{
    private sealed class Opts
    {
        public readonly Option<string> Out = new("--out", "-o") { Description = "Output folder", Required = true };
        public readonly Option<bool> Overwrite = new("--overwrite") { Description = "Replace a non-empty output folder" };
        public readonly Option<int> Clusters = new("--clusters", "-k") { Description = "Number of domains", Required = true };
        public readonly Option<string> Method = new("--method") { Description = "spotscape or pca-kmeans (baseline)", DefaultValueFactory = _ => "spotscape" };
        public readonly Option<string> ClusterMethod = new("--cluster-method") { Description = "kmeans (10 restarts, the paper's protocol) or gmm (tied = mclust EEE)", DefaultValueFactory = _ => "kmeans" };
        public readonly Option<string?> Truth = new("--truth-column") { Description = "obs column with reference domains: ARI/NMI/CA/F1 are reported" };
        public readonly Option<int> Epochs = new("--epochs") { Description = "Training epochs", DefaultValueFactory = _ => 1000 };
        public readonly Option<double?> Lr = new("--lr") { Description = "Learning rate (default 1e-4 single slice, 5e-4 integration)" };
        public readonly Option<int> Hvg = new("--hvg") { Description = "seurat_v3 HVGs per slice (intersection across slices)", DefaultValueFactory = _ => 5000 };
        public readonly Option<double?> Radius = new("--radius") { Description = "Graph radius in coordinate units (Visium full-res px: 150); default automatic" };
        public readonly Option<int> Seed = new("--seed") { Description = "Seed", DefaultValueFactory = _ => 0 };
        public readonly Option<string?> Seeds = new("--seeds") { Description = "Run several seeds, e.g. 0-9: metrics as mean ± sd (outputs of the first seed)" };
        public readonly Option<bool> NoUmap = new("--no-umap") { Description = "Skip the UMAP figures" };

        public void AddTo(Command c)
        {
            Method.AcceptOnlyFromAmong("spotscape", "pca-kmeans");
            ClusterMethod.AcceptOnlyFromAmong("kmeans", "gmm");
            foreach (var o in new Option[] { Out, Overwrite, Clusters, Method, ClusterMethod, Truth, Epochs, Lr, Hvg, Radius, Seed, Seeds, NoUmap }) c.Options.Add(o);
        }

        public int[] SeedList(ParseResult p)
        {
            var s = p.GetValue(Seeds);
            if (s == null) return [p.GetValue(Seed)];
            var parts = s.Split('-');
            if (parts.Length == 2 && int.TryParse(parts[0], out var a) && int.TryParse(parts[1], out var b) && a <= b && b - a < 100)
                return Enumerable.Range(a, b - a + 1).ToArray();
            if (int.TryParse(s, out var one)) return [one];
            throw new TesseraException($"--seeds must look like 0-9, got '{s}'");
        }

        public DomainOptions ToOptions(ParseResult p) => new()
        {
            Method = p.GetValue(Method) == "pca-kmeans" ? DomainMethod.PcaKMeans : DomainMethod.Spotscape,
            Clusters = p.GetValue(Clusters),
            ClusterMethod = p.GetValue(ClusterMethod) == "gmm" ? Analysis.ClusterMethod.Gmm : Analysis.ClusterMethod.KMeans,
            Hvg = p.GetValue(Hvg), Radius = p.GetValue(Radius), Epochs = p.GetValue(Epochs), LearningRate = p.GetValue(Lr),
        };
    }

    /// <summary>`tessera domains INPUT --clusters K --out DIR`.</summary>
    public static Command CreateDomains()
    {
        var input = new Argument<string>("input") { Description = "A slice: h5ad, 10x h5, Space Ranger / mtx folder, or csv/tsv table with coordinates" };
        var o = new Opts(); var inputs = new InputOptions();
        var cmd = new Command("domains", "Spatial domains of one slice with Spotscape (or the PCA + k-means baseline)") { input };
        o.AddTo(cmd); inputs.AddTo(cmd);
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var options = o.ToOptions(p); var seeds = o.SeedList(p);
            if (options.Clusters < 2) throw new TesseraException($"--clusters must be at least 2, got {options.Clusters}");
            using var run = new RunOutput(p.GetValue(o.Out)!, p.GetValue(o.Overwrite));
            var path = p.GetValue(input)!;
            var data = inputs.Load(p, r, path, run);
            return Execute(p, r, o, run, [data], [SliceName(path)], options, seeds, "domains");
        });
        return cmd;
    }

    /// <summary>`tessera integrate INPUT1 INPUT2 ... --clusters K --out DIR`.</summary>
    public static Command CreateIntegrate()
    {
        var inputsArg = new Argument<string[]>("inputs") { Description = "Two or more slices", Arity = ArgumentArity.OneOrMore };
        var obsFiles = new Option<string[]>("--obs") { Description = "One --obs file per slice, in order", AllowMultipleArgumentsPerToken = true };
        var names = new Option<string[]>("--names") { Description = "Slice names (default: folder/file names)", AllowMultipleArgumentsPerToken = true };
        var o = new Opts(); var inputs = new InputOptions();
        var cmd = new Command("integrate", "Multi-slice integration and joint domains with Spotscape") { inputsArg, obsFiles, names };
        o.AddTo(cmd);
        cmd.Options.Add(inputs.Coords); cmd.Options.Add(inputs.Transpose); cmd.Options.Add(inputs.GeneNames); cmd.Options.Add(inputs.AllowMissing);
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var paths = p.GetValue(inputsArg)!;
            if (paths.Length < 2) throw new TesseraException($"integrate needs at least 2 slices, got {paths.Length}");
            var obs = p.GetValue(obsFiles) ?? [];
            if (obs.Length != 0 && obs.Length != paths.Length) throw new TesseraException($"{paths.Length} slices but {obs.Length} --obs files");
            var sliceNames = p.GetValue(names) is { Length: > 0 } n ? n : paths.Select(SliceName).ToArray();
            if (sliceNames.Length != paths.Length) throw new TesseraException($"{paths.Length} slices but {sliceNames.Length} --names");
            if (sliceNames.Distinct().Count() != sliceNames.Length) throw new TesseraException($"slice names must be unique: {string.Join(", ", sliceNames)} (use --names)");
            var options = o.ToOptions(p); var seeds = o.SeedList(p);
            using var run = new RunOutput(p.GetValue(o.Out)!, p.GetValue(o.Overwrite));
            var slices = paths.Select((path, i) => inputs.Load(p, r, path, run, obs.Length > 0 ? obs[i] : null)).ToList();
            return Execute(p, r, o, run, slices, sliceNames, options, seeds, "integrate");
        });
        return cmd;
    }

    private static string SliceName(string path) => Path.GetFileName(Path.TrimEndingDirectorySeparator(path)) switch
    {
        var f when f.EndsWith(".h5ad", StringComparison.OrdinalIgnoreCase) => f[..^5],
        var f => f,
    };

    private static int Execute(ParseResult p, Reporter r, Opts o, RunOutput run, List<SpatialData> slices, string[] names,
        DomainOptions options, int[] seeds, string command)
    {
        var truthCol = p.GetValue(o.Truth);
        if (truthCol != null) foreach (var s in slices) _ = s.Obs[truthCol];
        var originalNames = slices.SelectMany(s => s.ObsNames).ToArray();
        PreparedSlices prep;
        using (r.Stage("prepare (seurat_v3 HVGs, normalize, log1p, radius graph)")) prep = SpatialDomains.Prepare(slices, names, options, r.Info);
        var data = prep.Data;
        var truth = truthCol != null ? data.Obs.Labels(truthCol) : null;
        var sliceOf = Enumerable.Range(0, prep.SliceSizes.Length).SelectMany(b => Enumerable.Repeat(b, prep.SliceSizes[b])).ToArray();
        var perSeed = new JsonArray(); var runs = new List<DomainRun>();
        ScottPlot.Plot? mixingPlot = null;   // the first seed's, written as batch_mixing.png
        foreach (var seed in seeds)
        {
            DomainRun dr;
            using (r.Stage($"{(options.Method == DomainMethod.Spotscape ? "Spotscape" : "PCA")} embedding + {options.ClusterMethod} (seed {seed})"))
            {
                dr = SpatialDomains.Run(prep, options, seed, r.Training($"seed {seed}", options.Epochs));
            }
            runs.Add(dr);
            var entry = new JsonObject { ["seed"] = seed, ["seconds"] = Math.Round(dr.Seconds, 2) };
            if (dr.Model?.FitReport is { } fr) entry["seconds_per_epoch"] = Math.Round(fr.SecondsPerEpoch, 4);
            if (truth != null)
            {
                var pred = dr.Labels.Select(l => (string?)l.ToString(CultureInfo.InvariantCulture)).ToArray();
                var joint = ClusterScores.Compute(truth, pred);
                EvaluateCommand.Print(joint, r);
                entry["joint"] = EvaluateCommand.ToJson(joint);
                entry["silhouette"] = Metrics.Silhouette(dr.Embedding, dr.Labels, dr.Embedding.Rows > 5000 ? 5000 : null, seed);
                // The other clustering protocol on the same embedding costs seconds, so both are reported for every seed
                // (the paper uses k-means; most DLPFC papers use mclust EEE = GMM tied).
                var otherMethod = options.ClusterMethod == ClusterMethod.KMeans ? ClusterMethod.Gmm : ClusterMethod.KMeans;
                var otherLabels = SpatialDomains.Cluster(dr.Embedding, otherMethod, options.Clusters, seed);
                var otherScores = ClusterScores.Compute(truth, otherLabels.Select(l => (string?)l.ToString(CultureInfo.InvariantCulture)).ToArray());
                r.Info($"seed {seed}, {otherMethod} on the same embedding: ARI {otherScores.Ari:F4}, NMI {otherScores.Nmi:F4}");
                entry["other"] = new JsonObject { ["cluster_method"] = otherMethod.ToString(), ["joint"] = EvaluateCommand.ToJson(otherScores) };
                if (prep.SliceSizes.Length > 1)
                {
                    var per = new JsonObject();
                    for (int b = 0; b < prep.SliceSizes.Length; b++)
                    {
                        var idx = Enumerable.Range(0, sliceOf.Length).Where(i => sliceOf[i] == b).ToArray();
                        per[names[b]] = EvaluateCommand.ToJson(ClusterScores.Compute(idx.Select(i => truth[i]).ToArray(), idx.Select(i => pred[i]).ToArray()));
                    }
                    entry["per_slice"] = per;
                }
            }
            if (prep.SliceSizes.Length > 1)
            {
                var (mixJson, mixPlot) = MixingReport(dr.Embedding, sliceOf, dr.Labels, seed);
                mixingPlot ??= mixPlot;
                entry["batch_mixing"] = mixJson;
                r.Info($"seed {seed}: slice mixing within domains (1 - |silhouette of slice labels|, mean over domains) {mixJson["mean_mixing"]?.GetValue<double>() ?? double.NaN:F3}");
            }
            perSeed.Add(entry);
        }
        var first = runs[0];
        var key = options.Method == DomainMethod.Spotscape ? "X_spotscape" : "X_pca";
        data.SetObsm(key, first.Embedding);
        var domain = CategoricalColumn.FromInts(first.Labels);
        data.Obs.Set("domain", domain);
        var metrics = new JsonObject { ["method"] = options.Method.ToString(), ["cluster_method"] = options.ClusterMethod.ToString(), ["clusters"] = options.Clusters, ["runs"] = perSeed };
        if (truth != null)
        {
            metrics["summary"] = Summary(perSeed.Select(e => e!["joint"]!));
            metrics["summary_other"] = Summary(perSeed.Select(e => e!["other"]!["joint"]!));
        }
        using (r.Stage("write results"))
        {
            if (!p.GetValue(o.NoUmap))
                using (r.Stage("UMAP of the embedding"))
                    data.SetObsm("X_umap", new Umap(new UmapOptions { Seed = seeds[0], MinDist = 0.3 }).FitTransform(first.Embedding));
            H5ad.Write(data, run.File("result.h5ad"));
            bool multi = prep.SliceSizes.Length > 1;
            CsvTable.Write(run.File("domains.csv"), multi ? ["spot", "slice", "domain"] : ["spot", "domain"],
                Enumerable.Range(0, data.NObs).Select(i => (IReadOnlyList<string>)(multi ? [originalNames[i], names[sliceOf[i]], domain.Format(i)] : [originalNames[i], domain.Format(i)])));
            AtomicFile.WriteAllText(run.File("metrics.json"), metrics.ToJsonString(JsonOptions.Default));
            first.Model?.Save(run.File("model.pt"));
            var labels = Enumerable.Range(0, domain.Length).Select(domain.Label).ToArray();
            int off = 0;
            for (int b = 0; b < prep.SliceSizes.Length; b++)
            {
                var idx = Enumerable.Range(off, prep.SliceSizes[b]).ToArray();
                var slice = data.Subset(idx, Array.Empty<int>());
                var img = RunFigures.Underlay(slices[b]);
                var title = $"{names[b]}: domains ({options.Method})";
                if (truth != null && runs.Count > 0) title += $", ARI {ClusterScores.Compute(idx.Select(i => truth[i]).ToArray(), idx.Select(i => labels[i]).ToArray()).Ari:F3}";
                Tessera.Plotting.Figures.SavePng(SpatialPlot.Categorical(slice, idx.Select(i => labels[i]).ToArray(), title, img),
                    run.File(multi ? $"spatial_domains_{Safe(names[b])}.png" : "spatial_domains.png"), 1100, 900);
                if (truth != null)
                    Tessera.Plotting.Figures.SavePng(SpatialPlot.Categorical(slice, idx.Select(i => truth[i]).ToArray(), $"{names[b]}: {truthCol}", img),
                        run.File(multi ? $"spatial_truth_{Safe(names[b])}.png" : "spatial_truth.png"), 1100, 900);
                off += prep.SliceSizes[b];
            }
            if (data.Obsm.TryGetValue("X_umap", out var umap))
            {
                Tessera.Plotting.Figures.SavePng(EmbeddingPlot.Categorical(umap, labels, "UMAP of the embedding: domain"), run.File("umap_domain.png"), 1000, 850);
                if (multi) Tessera.Plotting.Figures.SavePng(EmbeddingPlot.Categorical(umap, sliceOf.Select(b => (string?)names[b]).ToArray(), "UMAP of the embedding: slice"), run.File("umap_slice.png"), 1000, 850);
            }
            if (mixingPlot != null) Tessera.Plotting.Figures.SavePng(mixingPlot, run.File("batch_mixing.png"), 1000, 700);
            if (first.Model?.FitReport is { } rep)
            {
                RunFigures.TrainingRecord(rep.History, "Spotscape training loss", run);
            }
        }
        foreach (var dr in runs) dr.Model?.Dispose();
        run.Extra["metrics"] = metrics;
        run.Commit(command, new { options, seeds, radii = prep.Radii, slices = names }, seeds[0], r);
        r.Info($"results in {run.FinalDir}");
        return 0;
    }

    /// <summary>
    /// Slice mixing per domain (scIB's batch ASW): 1 − |silhouette of the slice labels| among each domain's spots, averaged;
    /// 1 = the slices overlap inside the domain, 0 = they sit apart; a domain found in one slice only has no value (null) and
    /// is left out of the mean. Returns the JSON block and a bar figure.
    /// </summary>
    internal static (JsonObject Json, ScottPlot.Plot Plot) MixingReport(DenseMatrix embedding, int[] batch, int[] domains, int seed, string[]? domainNames = null)
    {
        var mix = Metrics.BatchMixing(embedding, batch, domains, 3000, seed);
        var per = new JsonArray();
        foreach (var m in mix)
            per.Add(new JsonObject { ["domain"] = domainNames?[m.Group] ?? m.Group.ToString(CultureInfo.InvariantCulture), ["n"] = m.N,
                ["slices"] = m.Batches, ["silhouette"] = double.IsFinite(m.Silhouette) ? m.Silhouette : null, ["mixing"] = double.IsFinite(m.Mixing) ? m.Mixing : null });
        var finite = mix.Where(m => double.IsFinite(m.Mixing)).ToArray();
        double mean = finite.Length > 0 ? finite.Average(m => m.Mixing) : double.NaN;
        var json = new JsonObject { ["mean_mixing"] = double.IsFinite(mean) ? mean : null, ["per_domain"] = per };
        var plot = BarPlot.Bars($"Slice mixing within each domain (mean {mean:F2})", mix.Select(m => domainNames?[m.Group] ?? m.Group.ToString(CultureInfo.InvariantCulture)).ToArray(),
            mix.Select(m => m.Mixing).ToArray(), "1 - |silhouette of slice labels|", "domain", mean, "mean over domains");
        return (json, plot);
    }

    private static string Safe(string s) => string.Concat(s.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

    private static JsonObject Summary(IEnumerable<JsonNode> scores)
    {
        var o = new JsonObject();
        foreach (var k in new[] { "ari", "nmi", "ca", "macro_f1" })
        {
            var v = scores.Select(sc => sc[k]!.GetValue<double>()).ToArray();
            double mean = v.Average(), sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
            o[k] = new JsonObject { ["mean"] = mean, ["sd"] = sd, ["n"] = v.Length };
        }
        return o;
    }
}
