using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.IO;

namespace Tessera.Reporting;

/// <summary>
/// <c>report.html</c>: one self-contained page per run folder (header, key figures with captions, metrics tables, the
/// folder's tables), and a page comparing several runs. Built only from the folder's own files (see <see cref="RunFolder"/>),
/// so <c>tessera report DIR</c> rebuilds it at any time; figures are inlined as data URIs and nothing refers to the network.
/// </summary>
public static class RunReport
{
    /// <summary>The report's file name inside a run folder.</summary>
    public const string FileName = "report.html";

    private const int MaxFigures = 48;
    private const int PreviewRows = 12;
    private const long MaxPreviewBytes = 16 << 20;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes <c>report.html</c> into a run folder (atomically) and returns its path.</summary>
    public static string Write(string runDir)
    {
        var run = RunFolder.Open(runDir);
        var html = Build(run);
        var path = Path.Combine(run.Dir, FileName);
        AtomicFile.WriteAllText(path, html);
        return path;
    }

    /// <summary>The report of a run folder as HTML text.</summary>
    public static string Build(RunFolder run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var sb = new StringBuilder(1 << 16);
        Html.Begin(sb, $"Tessera {run.Command}: {run.Name}");
        sb.Append("<h1>").Append(Html.E($"tessera {run.Command}")).Append(" <span class=\"note\">").Append(Html.E(run.Name)).Append("</span></h1>\n");
        sb.Append("<p class=\"lead\">").Append(Html.E(Describe(run))).Append("</p>\n");
        Header(sb, run);
        Figures(sb, run);
        Interactive(sb, run);
        if (run.Metrics != null)
        {
            sb.Append("<h2>Metrics</h2>\n<p class=\"note\">From <code>").Append(Html.E(run.MetricsFile)).Append("</code>.</p>\n");
            MetricsTables.Write(sb, run.Metrics);
        }
        Tables(sb, run);
        Parameters(sb, run);
        Html.End(sb);
        return sb.ToString();
    }

    /// <summary>One sentence saying what ran on what.</summary>
    private static string Describe(RunFolder run)
    {
        var inputs = run.Inputs.Select(i => Path.GetFileName(Path.TrimEndingDirectorySeparator((string?)i["path"] ?? ""))).ToList();
        var on = inputs.Count == 0 ? "" : $" on {string.Join(", ", inputs)}";
        var when = run.Run["started_utc"] is JsonValue s && DateTime.TryParse(s.ToString(), Inv, DateTimeStyles.RoundtripKind, out var t)
            ? $", started {t.ToUniversalTime():yyyy-MM-dd HH:mm} UTC" : "";
        return $"{MethodOf(run.Command)}{on}{when}.";
    }

    private static string MethodOf(string command) => command switch
    {
        "domains" => "Spotscape spatial domains",
        "integrate" => "Spotscape multi-slice integration",
        "demo" => "Demo: Spotscape on a simulated layered tissue",
        "patterns" => "CoSTA gene spatial patterns",
        "correlated" => "CoSTA correlated genes",
        "map" => "STEM mapping of single cells onto spots",
        "histology train" => "ST-Net expression from histology, cross-validated",
        "histology predict" => "ST-Net expression predicted from a histology image",
        "cluster" => "Clustering",
        _ => $"tessera {command}",
    };

    private static void Header(StringBuilder sb, RunFolder run)
    {
        sb.Append("<h2>Run</h2>\n<dl class=\"facts\">\n");
        void Fact(string k, string v) => sb.Append("<dt>").Append(Html.E(k)).Append("</dt><dd>").Append(v).Append("</dd>\n");
        Fact("command", $"<code>tessera {Html.E(run.Command)}</code>");
        Fact("Tessera version", Html.E((string?)run.Run["version"] ?? "?"));
        Fact("seed", run.Seed is { } seed ? seed.ToString(Inv) : "—");
        if (run.WallSeconds is { } w) Fact("wall time", Html.Seconds(w));
        if (run.PeakMemoryMb is { } m) Fact("peak memory", Html.Bytes(m * 1048576) + " <span class=\"note\">(peak working set of the process)</span>");
        var threads = RunFolder.Number(run.Run["threads"]);
        if (run.Run["machine"] is JsonObject mc)
            Fact("machine", Html.E($"{mc["os"]}, {mc["cores"]} cores, .NET {mc[".net"]}" + (threads is { } th ? $", {th} torch threads" : "")));
        sb.Append("</dl>\n");

        var inputs = run.Inputs.ToList();
        if (inputs.Count > 0)
        {
            sb.Append("<h3>Inputs</h3>\n");
            Html.Table(sb, ["path", "shape", "platform", "size", "SHA-256"], inputs.Select(i => (IReadOnlyList<string>)[
                $"<code>{Html.E((string?)i["path"])}</code>",
                RunFolder.Number(i["n_obs"]) is { } o && RunFolder.Number(i["n_vars"]) is { } v ? $"{Html.Num(o)} × {Html.Num(v)}" : "—",
                Html.E((string?)i["platform"] ?? "—"),
                RunFolder.Number(i["bytes"]) is { } b ? Html.Bytes(b) : i["files"] is JsonArray fs ? $"{fs.Count} files, {Html.Bytes(fs.Sum(f => RunFolder.Number(f?["bytes"]) ?? 0))}" : "—",
                i["sha256"] is JsonValue h ? $"<code title=\"{Html.E(h.ToString())}\">{Html.E(h.ToString()[..Math.Min(12, h.ToString().Length)])}…</code>" : "—",
            ]), j => j is 1 or 3);
        }

        if (run.Run["stages"] is JsonArray { Count: > 0 } stages)
        {
            sb.Append("<h3>Wall time per stage</h3>\n");
            double total = run.WallSeconds ?? stages.Sum(s => RunFolder.Number(s?["seconds"]) ?? 0);
            Html.Table(sb, ["stage", "time", "share"], stages.OfType<JsonObject>().Select(s =>
            {
                var sec = RunFolder.Number(s["seconds"]) ?? 0;
                return (IReadOnlyList<string>)[Html.E((string?)s["stage"]), Html.Seconds(sec), total > 0 ? (100 * sec / total).ToString("0.0", Inv) + " %" : "—"];
            }), j => j > 0);
            double staged = stages.Sum(x => RunFolder.Number(x?["seconds"]) ?? 0);
            if (run.WallSeconds is { } wall && wall - staged > 0.2 * wall)
                sb.Append("<p class=\"note\">").Append(Html.Seconds(wall - staged)).Append(" of the run lie outside these stages (work the command reports as progress, not as a stage).</p>\n");
            else
                sb.Append("<p class=\"note\">Stages nest (e.g. a UMAP inside “write results”), so shares can add up to more than 100 %.</p>\n");
        }

        sb.Append("<h3>Rerun</h3>\n<pre class=\"cmd\">").Append(Html.E(run.RerunCommand)).Append("</pre>\n");
        sb.Append("<p class=\"note\">Same seed and threads give identical results")
          .Append(run.RerunCommand.Contains(" --overwrite", StringComparison.Ordinal) ? "" : " (add <code>--overwrite</code> to write into this folder again)").Append(".</p>\n");
    }

    private static void Figures(StringBuilder sb, RunFolder run)
    {
        if (run.Figures.Count == 0) return;
        sb.Append("<h2>Figures</h2>\n<div class=\"figs\">\n");
        foreach (var f in run.Figures.Take(MaxFigures)) Figure(sb, run.Dir, f);
        sb.Append("</div>\n");
        if (run.Figures.Count > MaxFigures)
            sb.Append("<p class=\"note\">").Append(run.Figures.Count - MaxFigures).Append(" more figures in the folder: ")
              .Append(Html.E(string.Join(", ", run.Figures.Skip(MaxFigures).Select(f => f.File)))).Append("</p>\n");
    }

    private static void Interactive(StringBuilder sb, RunFolder run)
    {
        var viewer = SpatialViewer.Build(run, out var note);
        if (viewer == null && note == null) return;
        sb.Append("<h2>Interactive spatial view</h2>\n");
        if (viewer != null) sb.Append("<p class=\"note\">Spots at their positions (slices side by side), coloured by their label; the page draws them itself, offline.</p>\n").Append(viewer);
        else sb.Append("<p class=\"note\">").Append(Html.E(note)).Append("</p>\n");
    }

    private static void Figure(StringBuilder sb, string dir, ReportFigure f, string? label = null) =>
        sb.Append("<figure>").Append(Html.Image(Path.Combine(dir, f.File), f.Title))
          .Append("<figcaption><b>").Append(Html.E(label ?? f.Title)).Append(".</b> ").Append(Html.E(f.Caption))
          .Append(" <span class=\"note\">(<code>").Append(Html.E(f.File)).Append("</code>)</span></figcaption></figure>\n");

    /// <summary>The tables that hold a command's main result, shown open (the others are folded).</summary>
    private static readonly Dictionary<string, string[]> KeyTables = new(StringComparer.Ordinal)
    {
        ["patterns"] = ["correlated_set.csv", "correlated.csv"], ["correlated"] = ["correlated_set.csv", "correlated.csv"],
        ["map"] = ["sdg.csv"], ["histology train"] = ["genes.csv"], ["histology predict"] = ["pseudobulk.csv"],
    };

    private static void Tables(StringBuilder sb, RunFolder run)
    {
        if (run.Tables.Count == 0) return;
        sb.Append("<h2>Tables</h2>\n<p class=\"note\">The first rows of each table the run wrote; the files hold all rows.</p>\n");
        foreach (var t in run.Tables)
        {
            var path = Path.Combine(run.Dir, t);
            long bytes = new FileInfo(path).Length;
            sb.Append(KeyTables.TryGetValue(run.Command, out var key) && key.Contains(t) ? "<details open>" : "<details>").Append("<summary><code>").Append(Html.E(t)).Append("</code> <span class=\"note\">").Append(Html.Bytes(bytes));
            if (bytes > MaxPreviewBytes) { sb.Append(", too large to preview</span></summary></details>\n"); continue; }
            ObsJoin.TextTable table;
            try { table = ObsJoin.ReadTextTable(path); }
            catch (TesseraException e) { sb.Append("</span></summary><p class=\"note\">").Append(Html.E(e.Message)).Append("</p></details>\n"); continue; }
            sb.Append(", ").Append(table.Rows.Count.ToString("#,0", Inv)).Append(" rows</span></summary>\n<div class=\"scroll\">");
            var header = table.RowNames ? ["", .. table.Header] : table.Header;
            var rows = table.Rows.Take(PreviewRows).ToList();
            Html.Table(sb, header.Select(Html.E).ToList(), rows.Select(r => (IReadOnlyList<string>)r.Select(c => double.TryParse(c, NumberStyles.Float, Inv, out var d) ? Html.Num(d) : Html.E(c)).ToList()),
                j => rows.All(r => j >= r.Length || double.TryParse(r[j], NumberStyles.Float, Inv, out _)));
            sb.Append("</div></details>\n");
        }
    }

    private static void Parameters(StringBuilder sb, RunFolder run)
    {
        if (run.Run["parameters"] is not JsonNode p) return;
        sb.Append("<h2>Parameters</h2>\n<details><summary>All parameters as recorded in <code>run.json</code></summary>\n<pre>")
          .Append(Html.E(p.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })))
          .Append("</pre></details>\n");
    }

    /// <summary>
    /// Writes one page comparing run folders side by side (atomically): what ran, wall time and memory, every metric
    /// with one column per run and, where runs differ only in their seed, mean ± sd over them; the figures the runs share,
    /// in a row each; links to each run's own report.
    /// </summary>
    public static void Compare(IReadOnlyList<string> runDirs, string output)
    {
        ArgumentNullException.ThrowIfNull(runDirs); ArgumentNullException.ThrowIfNull(output);
        if (runDirs.Count < 1) throw new TesseraException("--compare needs at least one run folder");
        var runs = runDirs.Select(RunFolder.Open).ToList();
        AtomicFile.WriteAllText(output, BuildComparison(runs, Path.GetDirectoryName(Path.GetFullPath(output))!));
    }

    /// <summary>The comparison page as HTML text; links to the runs' reports are relative to <paramref name="baseDir"/>.</summary>
    public static string BuildComparison(IReadOnlyList<RunFolder> runs, string baseDir)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var sb = new StringBuilder(1 << 16);
        var names = DisplayNames(runs);
        Html.Begin(sb, $"Tessera: {runs.Count} runs compared");
        sb.Append("<h1>").Append(runs.Count).Append(" runs compared</h1>\n<p class=\"lead\">")
          .Append(Html.E(string.Join("; ", runs.Select((r, i) => $"{names[i]} ({r.Command})")))).Append(".</p>\n");

        sb.Append("<h2>Runs</h2>\n<div class=\"scroll\">");
        Html.Table(sb, ["run", "command", "inputs", "seed", "wall time", "peak memory", "report"], runs.Select((r, i) => (IReadOnlyList<string>)[
            Html.E(names[i]), $"<code>{Html.E(r.Command)}</code>",
            Html.E(string.Join(", ", r.Inputs.Select(i => Path.GetFileName(Path.TrimEndingDirectorySeparator((string?)i["path"] ?? ""))))),
            r.Seed?.ToString(Inv) ?? "—", r.WallSeconds is { } w ? Html.Seconds(w) : "—", r.PeakMemoryMb is { } m ? Html.Bytes(m * 1048576) : "—",
            File.Exists(Path.Combine(r.Dir, FileName)) ? $"<a href=\"{Html.E(RelativeLink(baseDir, Path.Combine(r.Dir, FileName)))}\">report</a>" : "—",
        ]), j => j is 3 or 4 or 5);
        sb.Append("</div>\n");

        var groups = Groups(runs);
        var flat = runs.Select(r => r.FlatMetrics().GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.First())).ToList();
        var keys = flat.SelectMany(f => f.Keys).Distinct().ToList();
        if (keys.Count > 0)
        {
            sb.Append("<h2>Metrics</h2>\n");
            var multi = groups.Where(g => g.Runs.Count > 1).ToList();
            if (multi.Count > 0)
            {
                sb.Append("<h3>Mean ± sd over runs that differ only in their seed</h3>\n<div class=\"scroll\">");
                Html.Table(sb, ["metric", .. multi.Select(g => Html.E(g.Label) + $" <span class=\"note\">(n = {g.Runs.Count})</span>")],
                    keys.Where(k => multi.Any(g => g.Runs.Count(i => flat[i].ContainsKey(k)) > 1)).Select(k => (IReadOnlyList<string>)[Html.E(k), .. multi.Select(g =>
                    {
                        var v = g.Runs.Where(i => flat[i].ContainsKey(k)).Select(i => flat[i][k].Value).ToArray();
                        return v.Length == 0 ? "—" : Html.MeanSd(v.Average(), Sd(v));
                    })]), j => j > 0);
                sb.Append("</div>\n");
            }
            sb.Append("<h3>Per run</h3>\n<div class=\"scroll\">");
            Html.Table(sb, ["metric", .. names.Select(Html.E)], keys.Select(k => (IReadOnlyList<string>)[Html.E(k), .. flat.Select(f =>
                f.TryGetValue(k, out var v) ? (v.Sd is { } sd ? Html.MeanSd(v.Value, sd) : Html.Num(v.Value)) : "—")]), j => j > 0);
            sb.Append("</div>\n");
        }

        var shared = runs.SelectMany(r => r.Figures.Select(f => f.File)).GroupBy(f => f).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (shared.Count > 0)
        {
            sb.Append("<h2>Figures side by side</h2>\n");
            foreach (var file in shared.Take(MaxFigures / 2))
            {
                var desc = FigureCaptions.Describe(file);
                sb.Append("<h3>").Append(Html.E(desc.Title)).Append("</h3>\n<p class=\"note\">").Append(Html.E(desc.Caption)).Append("</p>\n<div class=\"figs\">\n");
                for (int i = 0; i < runs.Count; i++)
                    if (runs[i].Figures.FirstOrDefault(f => f.File == file) is { } fig) Figure(sb, runs[i].Dir, fig, names[i]);
                sb.Append("</div>\n");
            }
        }
        Html.End(sb);
        return sb.ToString();
    }

    /// <summary>Writes the comparison's per-group metric table (group, command, inputs, runs, metric, mean, sd, n) as CSV.</summary>
    public static void WriteComparisonTable(IReadOnlyList<string> runDirs, string output)
    {
        ArgumentNullException.ThrowIfNull(runDirs);
        var runs = runDirs.Select(RunFolder.Open).ToList();
        var names = DisplayNames(runs);
        var rows = new List<IReadOnlyList<string>>();
        foreach (var g in Groups(runs))
        {
            var flat = g.Runs.Select(i => runs[i].FlatMetrics().GroupBy(m => m.Key).ToDictionary(x => x.Key, x => x.First().Value)).ToList();
            foreach (var k in flat.SelectMany(f => f.Keys).Distinct())
            {
                var v = flat.Where(f => f.ContainsKey(k)).Select(f => f[k]).ToArray();
                var r0 = runs[g.Runs[0]];
                rows.Add([g.Label, r0.Command, string.Join(";", r0.Inputs.Select(i => (string?)i["path"] ?? "")), string.Join(";", g.Runs.Select(i => names[i])),
                    k, v.Average().ToString("R", Inv), Sd(v).ToString("R", Inv), v.Length.ToString(Inv)]);
            }
        }
        CsvTable.Write(output, ["group", "command", "inputs", "runs", "metric", "mean", "sd", "n"], rows);
    }

    private static double Sd(double[] v)
    {
        if (v.Length < 2) return 0;
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
    }

    private sealed record Group(string Label, List<int> Runs);

    /// <summary>
    /// Runs grouped by what they ran apart from the seed: the same command, the same inputs (by content hash) and the
    /// same parameters once every seed entry is removed.
    /// </summary>
    private static List<Group> Groups(IReadOnlyList<RunFolder> runs)
    {
        var names = DisplayNames(runs);
        var groups = new List<Group>();
        var keys = new Dictionary<string, Group>(StringComparer.Ordinal);
        for (int i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            var p = r.Run["parameters"]?.DeepClone();
            StripSeeds(p);
            var inputs = string.Join("|", r.Inputs.Select(x => (string?)x["sha256"] ?? (string?)x["path"]));
            var key = $"{r.Command}\n{inputs}\n{p?.ToJsonString()}";
            if (!keys.TryGetValue(key, out var g))
            {
                var method = FindString(r.Run["parameters"], "Method") ?? FindString(r.Metrics, "method");
                var inputNames = string.Join(", ", r.Inputs.Take(2).Select(x => Path.GetFileName(Path.TrimEndingDirectorySeparator((string?)x["path"] ?? ""))));
                var label = $"{r.Command}{(method == null ? "" : " " + method)}{(inputNames.Length == 0 ? "" : " · " + inputNames)}";
                while (groups.Any(x => x.Label == label)) label += "′";
                g = new Group(label, []);
                keys[key] = g; groups.Add(g);
            }
            g.Runs.Add(i);
        }
        // runs laid out as .../SAMPLE/METHOD/seedN (a workflow's results) are labelled by the folders they share
        for (int k = 0; k < groups.Count; k++)
        {
            var parts = groups[k].Runs.Select(i => names[i].Split('/')).ToList();
            int common = 0;
            while (parts.All(p => p.Length > common + 1) && parts.All(p => p[common] == parts[0][common])) common++;
            var label = string.Join('/', parts[0].Take(common));
            if (label.Length > 0 && groups.All(x => x == groups[k] || !x.Runs.Any(i => names[i].StartsWith(label + "/", StringComparison.Ordinal))))
                groups[k] = groups[k] with { Label = label };
        }
        return groups;
    }

    /// <summary>
    /// Names that tell the runs apart: the last folder names of each run's path, as many (the same number for all) as
    /// needed for them to differ (e.g. "151673/domains/seed0" among a workflow's runs, just "seed0" among one folder's).
    /// </summary>
    public static IReadOnlyList<string> DisplayNames(IReadOnlyList<RunFolder> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var paths = runs.Select(r => (r.Run["output"] is JsonValue o ? o.ToString() : r.Dir).Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries)).ToList();
        int max = paths.Count == 0 ? 1 : paths.Max(p => p.Length);
        for (int depth = 1; depth <= max; depth++)
        {
            var names = paths.Select(p => string.Join('/', p.Skip(Math.Max(0, p.Length - depth)))).ToList();
            if (names.Distinct(StringComparer.Ordinal).Count() == names.Count || depth == max) return names;
        }
        return paths.Select(p => string.Join('/', p)).ToList();
    }

    private static void StripSeeds(JsonNode? n)
    {
        if (n is JsonObject o)
        {
            foreach (var k in o.Select(p => p.Key).Where(k => k.Equals("seed", StringComparison.OrdinalIgnoreCase) || k.Equals("seeds", StringComparison.OrdinalIgnoreCase)).ToList()) o.Remove(k);
            foreach (var (_, v) in o) StripSeeds(v);
        }
        else if (n is JsonArray a) foreach (var v in a) StripSeeds(v);
    }

    /// <summary>The first string value under a key (case-insensitive), searched depth-first.</summary>
    internal static string? FindString(JsonNode? n, string key) => n switch
    {
        JsonObject o when o.FirstOrDefault(p => p.Key.Equals(key, StringComparison.OrdinalIgnoreCase)).Value is JsonValue v && v.GetValueKind() == JsonValueKind.String => v.ToString(),
        JsonObject o => o.Select(p => FindString(p.Value, key)).FirstOrDefault(s => s != null),
        _ => null,
    };

    private static string RelativeLink(string from, string to) =>
        string.Join('/', Path.GetRelativePath(from, to).Split(Path.DirectorySeparatorChar).Select(Uri.EscapeDataString));
}
