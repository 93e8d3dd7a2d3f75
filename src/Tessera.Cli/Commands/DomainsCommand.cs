using System.CommandLine;
using Tessera.Analysis;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.Spotscape;

namespace Tessera.Cli.Commands;

/// <summary>`tessera domains` (one slice) and `tessera integrate` (several): Spotscape spatial domains.</summary>
public static class DomainsCommand
{
    private static readonly SpotscapeOptions Defaults = new();

    /// <summary>The library's option names as this command's flags (for its error messages).</summary>
    private static readonly Dictionary<string, string> FlagNames = new()
    {
        ["Clusters"] = "--clusters", ["Method"] = "--method", ["ClusterMethod"] = "--cluster-method", ["TruthColumn"] = "--truth-column",
        ["Epochs"] = "--epochs", ["LearningRate"] = "--lr", ["Hvg"] = "--hvg", ["Radius"] = "--radius", ["RadiusMicrons"] = "--radius", ["Seed"] = "--seed",
        ["BatchSpots"] = "--batch-spots", ["Sampling"] = "--batch-sampling",
    };

    private sealed class Opts
    {
        public readonly Option<string> Out = new("--out", "-o") { Description = "Output folder", Required = true };
        public readonly Option<bool> Overwrite = new("--overwrite") { Description = "Replace a non-empty output folder" };
        public readonly Option<int> Clusters = new("--clusters", "-k") { Description = "Number of domains", Required = true };
        public readonly Option<string> Method = new("--method") { Description = "spotscape or pca-kmeans (baseline)", DefaultValueFactory = _ => MethodName(Defaults.Method) };
        public readonly Option<string> ClusterMethod = new("--cluster-method") { Description = "kmeans (10 restarts, the paper's protocol) or gmm (tied = mclust EEE)", DefaultValueFactory = _ => Defaults.ClusterMethod.ToString().ToLowerInvariant() };
        public readonly Option<string?> Truth = new("--truth-column") { Description = "obs column with reference domains: ARI/NMI/CA/F1 are reported" };
        public readonly Option<int> Epochs = new("--epochs") { Description = "Training epochs", DefaultValueFactory = _ => Defaults.Epochs };
        public readonly Option<double?> Lr = new("--lr") { Description = "Learning rate (default 1e-4 single slice, 5e-4 integration)" };
        public readonly Option<int> Hvg = new("--hvg") { Description = "seurat_v3 HVGs per slice (intersection across slices)", DefaultValueFactory = _ => Defaults.Hvg };
        public readonly Option<string?> Radius = new("--radius") { Description = "Graph radius: a number in coordinate units (Visium full-res px: 150) or a length in µm (e.g. 50um; needs the input's µm scale, which the platform readers record); default automatic" };
        public readonly Option<int> Seed = new("--seed") { Description = "Seed", DefaultValueFactory = _ => Defaults.Seed };
        public readonly Option<string?> Seeds = new("--seeds") { Description = "Run several seeds, e.g. 0-9: metrics as mean ± sd (outputs of the first seed)" };
        public readonly Option<int?> BatchSpots = new("--batch-spots") { Description = $"Training mode: 0 = full batch, N = mini-batches of spatial tiles of about N spots; default full batch up to {Defaults.FullBatchMaxSpots} spots, tiles of {SpotscapeOptions.DefaultBatchSpots} above (one slice) or {SpotscapeOptions.DefaultRandomSpotsPerSlice} random spots per slice (several)" };
        public readonly Option<string?> Sampling = new("--batch-sampling") { Description = "Mini-batch sampling: tiles (compact spatial tiles) or random (random spots of every slice with their neighbourhoods); default tiles for one slice, random for several" };
        public readonly Option<bool> NoUmap = new("--no-umap") { Description = "Skip the UMAP figures" };

        public void AddTo(Command c)
        {
            Method.AcceptOnlyFromAmong("spotscape", "pca-kmeans");
            ClusterMethod.AcceptOnlyFromAmong("kmeans", "gmm");
            foreach (var o in new Option[] { Out, Overwrite, Clusters, Method, ClusterMethod, Truth, Epochs, Lr, Hvg, Radius, Seed, Seeds, BatchSpots, Sampling, NoUmap }) c.Options.Add(o);
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

        public SpotscapeOptions ToOptions(ParseResult p) => new()
        {
            Method = p.GetValue(Method) == "pca-kmeans" ? DomainMethod.PcaKMeans : DomainMethod.Spotscape,
            Clusters = p.GetValue(Clusters),
            ClusterMethod = p.GetValue(ClusterMethod) == "gmm" ? Analysis.ClusterMethod.Gmm : Analysis.ClusterMethod.KMeans,
            Hvg = p.GetValue(Hvg), Radius = RadiusValue(p.GetValue(Radius)).Units, RadiusMicrons = RadiusValue(p.GetValue(Radius)).Microns, Epochs = p.GetValue(Epochs), LearningRate = p.GetValue(Lr),
            TruthColumn = p.GetValue(Truth), Seed = p.GetValue(Seed), BatchSpots = p.GetValue(BatchSpots),
            Sampling = p.GetValue(Sampling) switch
            {
                null => null, "tiles" => BatchSampling.Tiles, "random" => BatchSampling.RandomSpots,
                var v => throw new TesseraException($"--batch-sampling must be tiles or random but is '{v}'"),
            },
        };

        private static string MethodName(DomainMethod m) => m == DomainMethod.PcaKMeans ? "pca-kmeans" : "spotscape";
    }

    /// <summary>"150" → coordinate units; "50um" / "50µm" / "50 um" → µm.</summary>
    public static (double? Units, double? Microns) RadiusValue(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return (null, null);
        var t = text.Trim();
        bool um = t.EndsWith("um", StringComparison.OrdinalIgnoreCase) || t.EndsWith("µm", StringComparison.Ordinal);
        var number = um ? t[..^2].TrimEnd() : t;
        if (!double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v))
            throw new TesseraException($"--radius must be a number (coordinate units) or a length in µm such as 50um, but is '{text}'");
        return um ? (null, v) : (v, null);
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
            options.Validate();
            using var run = new RunOutput(p.GetValue(o.Out)!, p.GetValue(o.Overwrite));
            var path = p.GetValue(input)!;
            var data = inputs.Load(p, r, path, run);
            return Execute(p, r, o, run, [data], [SliceName(path)], options, seeds, "domains");
        }, FlagNames);
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
        cmd.Options.Add(inputs.Coords); cmd.Options.Add(inputs.Transpose); cmd.Options.Add(inputs.GeneNames); cmd.Options.Add(inputs.AllowMissing); cmd.Options.Add(inputs.Bin);
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
            options.Validate();
            using var run = new RunOutput(p.GetValue(o.Out)!, p.GetValue(o.Overwrite));
            var slices = paths.Select((path, i) => inputs.Load(p, r, path, run, obs.Length > 0 ? obs[i] : null)).ToList();
            return Execute(p, r, o, run, slices, sliceNames, options, seeds, "integrate");
        }, FlagNames);
        return cmd;
    }

    private static string SliceName(string path) => Path.GetFileName(Path.TrimEndingDirectorySeparator(path)) switch
    {
        var f when f.EndsWith(".h5ad", StringComparison.OrdinalIgnoreCase) => f[..^5],
        var f => f,
    };

    private static int Execute(ParseResult p, Reporter r, Opts o, RunOutput run, List<SpatialData> slices, string[] names,
        SpotscapeOptions options, int[] seeds, string command)
    {
        // the library names the missing obsm; the user needs the flag that supplies it
        for (int i = 0; i < slices.Count; i++)
            if (!slices[i].HasSpatial) throw new TesseraException($"slice '{names[i]}' has no spatial coordinates (obsm['spatial']); give them with --coords COLX,COLY");
        PreparedSlices prep;
        using (r.Stage("prepare (seurat_v3 HVGs, normalize, log1p, radius graph)")) prep = SpotscapeTrainer.Prepare(slices, names, options, r.Library());
        var models = new List<SpotscapeModel>();
        try
        {
            foreach (var seed in seeds)
            {
                using (r.Stage($"{(options.Method == DomainMethod.Spotscape ? "Spotscape" : "PCA")} embedding + {options.ClusterMethod} (seed {seed})"))
                    models.Add(SpotscapeTrainer.Fit(prep, options with { Seed = seed }, r.Library($"seed {seed}")));
                var res = models[^1].Result!;
                if (res.Scores is { } sc)
                {
                    r.Info(sc.Joint.ToString());
                    r.Info($"seed {seed}, {sc.OtherMethod} on the same embedding: ARI {sc.Other.Ari:F4}, NMI {sc.Other.Nmi:F4}");
                }
                if (res.Mixing is { } mix)
                    r.Info($"seed {seed}: slice mixing within domains (1 - |silhouette of slice labels|, mean over domains) {mix.Mean:F3}");
            }
            var first = models[0].Result!;
            var data = first.Data!;
            first.AddTo(data);
            var metrics = DomainMetrics.ToJson(models.Select(m => m.Result!).ToList(), options);
            using (r.Stage("write results"))
            {
                if (!p.GetValue(o.NoUmap))
                    using (r.Stage("UMAP of the embedding"))
                        data.SetObsm("X_umap", SampledUmap.FitTransform(first.Embedding, new UmapOptions { Seed = seeds[0], MinDist = 0.3 }, out _, progress: r.Library()));
                H5ad.Write(data, run.File("result.h5ad"));
                bool multi = first.Slices.Count > 1;
                var domain = data.Obs["domain"];
                var spots = first.SpotNames!;
                CsvTable.Write(run.File("domains.csv"), multi ? ["spot", "slice", "domain"] : ["spot", "domain"],
                    Enumerable.Range(0, data.NObs).Select(i => (IReadOnlyList<string>)(multi ? [spots[i], first.Slices[first.SliceOf[i]].Name, domain.Format(i)] : [spots[i], domain.Format(i)])));
                AtomicFile.WriteAllText(run.File("metrics.json"), metrics.ToJsonString(JsonOptions.Default));
                if (models[0].IsTrained) models[0].Save(run.File("model.pt"));
                SpotscapeFigures.Write(first, run.File, slices.Select(RunFigures.Underlay).ToList(), options.TruthColumn);
                if (first.Training is { } rep) RunFigures.TrainingRecord(rep.History, "Spotscape training loss", run);
            }
            run.Extra["metrics"] = metrics;
            run.Commit(command, new { options, seeds, radii = prep.Radii, slices = names }, seeds[0], r);
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
        r.Info($"results in {run.FinalDir}");
        return 0;
    }
}
