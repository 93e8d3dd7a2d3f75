using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tessera.Reporting;

/// <summary>
/// A finished run folder as a report sees it: its <c>run.json</c> (what ran, inputs, stages, memory, command line), its
/// metrics (<c>metrics.json</c>, or <c>summary.json</c> for histology), figures and tables. Everything a report shows
/// comes from these files, so a report can be rebuilt from the folder alone.
/// </summary>
public sealed class RunFolder
{
    /// <summary>Files of a run folder that are neither figures nor tables for the report.</summary>
    private static readonly string[] SkipFolders = ["model"];

    /// <summary>The folder (full path).</summary>
    public string Dir { get; }
    /// <summary>The parsed run.json.</summary>
    public JsonObject Run { get; }
    /// <summary>The parsed metrics (metrics.json, else summary.json), or null.</summary>
    public JsonObject? Metrics { get; }
    /// <summary>The file the metrics came from (relative), or null.</summary>
    public string? MetricsFile { get; }
    /// <summary>PNG figures, relative paths, in report order.</summary>
    public IReadOnlyList<ReportFigure> Figures { get; }
    /// <summary>CSV tables, relative paths, sorted.</summary>
    public IReadOnlyList<string> Tables { get; }

    private RunFolder(string dir, JsonObject run, JsonObject? metrics, string? metricsFile, IReadOnlyList<ReportFigure> figures, IReadOnlyList<string> tables)
    {
        Dir = dir; Run = run; Metrics = metrics; MetricsFile = metricsFile; Figures = figures; Tables = tables;
    }

    /// <summary>Reads a run folder; a path that is not one (no folder, no or unreadable run.json) is a <see cref="TesseraException"/>.</summary>
    public static RunFolder Open(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (File.Exists(dir)) throw new TesseraException($"'{dir}' is a file, not a run folder (a folder with run.json written by a Tessera command)");
        if (!Directory.Exists(dir)) throw new TesseraException($"run folder '{dir}' does not exist");
        var full = Path.GetFullPath(dir);
        var runFile = Path.Combine(full, "run.json");
        if (!File.Exists(runFile)) throw new TesseraException($"'{dir}' is not a Tessera run folder: it has no run.json");
        var run = ReadObject(runFile, dir) ?? throw new TesseraException($"{Path.Combine(dir, "run.json")} is not a JSON object");
        if (run["tool"]?.GetValueKind() != JsonValueKind.String || (string?)run["tool"] != "tessera" || run["command"] is null)
            throw new TesseraException($"{Path.Combine(dir, "run.json")} was not written by a Tessera command (no tool/command entries)");
        JsonObject? metrics = null; string? metricsFile = null;
        foreach (var name in new[] { "metrics.json", "summary.json" })
            if (File.Exists(Path.Combine(full, name))) { metrics = ReadObject(Path.Combine(full, name), dir); metricsFile = name; break; }
        var figures = Files(full, "*.png").Select(FigureCaptions.Describe).OrderBy(f => f.Order).ThenBy(f => f.File, StringComparer.Ordinal).ToList();
        var tables = Files(full, "*.csv").Order(StringComparer.Ordinal).ToList();
        return new RunFolder(full, run, metrics, metricsFile, figures, tables);
    }

    private static IEnumerable<string> Files(string dir, string pattern) =>
        Directory.EnumerateFiles(dir, pattern, new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 2, AttributesToSkip = FileAttributes.Hidden })
            .Select(f => Path.GetRelativePath(dir, f))
            .Where(f => !Path.GetFileName(f).StartsWith('.') && !SkipFolders.Any(s => f.StartsWith(s + Path.DirectorySeparatorChar, StringComparison.Ordinal)));

    private static JsonObject? ReadObject(string path, string shownDir)
    {
        try { return JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true }) as JsonObject; }
        catch (JsonException e) { throw new TesseraException($"{Path.Combine(shownDir, Path.GetFileName(path))} is not valid JSON: {e.Message}"); }
    }

    /// <summary>The command that wrote the folder ("domains", "histology train"...).</summary>
    public string Command => (string?)Run["command"] ?? "?";
    /// <summary>The seed recorded in run.json, if any.</summary>
    public int? Seed => Run["seed"] is JsonValue v && v.TryGetValue<int>(out var s) ? s : null;
    /// <summary>Wall time of the whole run in seconds, if recorded.</summary>
    public double? WallSeconds => Number(Run["wall_seconds"]);
    /// <summary>Peak working set in MB, if recorded.</summary>
    public double? PeakMemoryMb => Number(Run["peak_memory_mb"]);
    /// <summary>A short name for the run: the name of the folder it was written to (run.json "output"), else the folder's own name.</summary>
    public string Name => Path.GetFileName(Path.TrimEndingDirectorySeparator(Run["output"] is JsonValue o ? o.ToString() : Dir));

    /// <summary>The inputs as recorded: path, bytes, and shape / platform when the command read them as spatial data.</summary>
    public IEnumerable<JsonObject> Inputs => (Run["inputs"] as JsonArray ?? []).OfType<JsonObject>();

    /// <summary>The command line that reruns the run: <c>cd</c> into the folder it ran from, then <c>tessera</c> with the recorded arguments, quoted for a POSIX shell.</summary>
    public string RerunCommand
    {
        get
        {
            var args = (Run["command_line"] as JsonArray ?? []).Select(a => a?.ToString() ?? "").ToList();
            var line = "tessera " + string.Join(' ', args.Select(ShellQuote));
            return Run["cwd"] is JsonValue cwd ? $"cd {ShellQuote(cwd.ToString())} && {line}" : line;
        }
    }

    /// <summary>Quotes a word for a POSIX shell when it needs it.</summary>
    public static string ShellQuote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>A JSON number as a double (null when absent or not a number).</summary>
    public static double? Number(JsonNode? n) =>
        n is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : null;

    /// <summary>
    /// The run's metrics as flat (name, value) pairs for comparisons: nested objects joined with '.', a {mean, sd, n}
    /// object as its mean, a one-element array (the runs of a single-seed run) as that element; longer arrays are left out.
    /// </summary>
    public IReadOnlyList<(string Key, double Value, double? Sd)> FlatMetrics()
    {
        var list = new List<(string, double, double?)>();
        if (Metrics != null) Flatten(Metrics, "", list);
        return list;
    }

    private static void Flatten(JsonNode node, string prefix, List<(string, double, double?)> list)
    {
        switch (node)
        {
            case JsonObject o when MetricsTables.IsMeanSd(o):
                list.Add((prefix, Number(o["mean"])!.Value, Number(o["n"]) == 1 ? null : Number(o["sd"]))); // over one run an sd says nothing
                break;
            case JsonObject o:
                foreach (var (k, v) in o) if (v != null) Flatten(v, prefix.Length == 0 ? k : prefix + "." + k, list);
                break;
            case JsonArray { Count: 1 } a when a[0] is JsonObject:
                Flatten(a[0]!, prefix, list);
                break;
            case JsonValue v when Number(v) is { } d && !prefix.Split('.')[^1].Equals("seed", StringComparison.OrdinalIgnoreCase): // a seed is no metric
                list.Add((prefix, d, null));
                break;
        }
    }
}
