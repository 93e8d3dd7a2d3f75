using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tessera.Reporting;

/// <summary>
/// Renders a run's metrics JSON as tables, whatever the method: plain values as a list; {mean, sd, n} objects as
/// "mean ± sd" (side by side when siblings, e.g. the k-means and GMM protocols); sibling objects of scores as one table
/// with a column each (a method next to its baselines); arrays of objects (one per seed, fold, domain) as one row each.
/// </summary>
internal static class MetricsTables
{
    private const int MaxRows = 200;

    /// <summary>Whether an object is a summary statistic {mean, sd[, n]}.</summary>
    public static bool IsMeanSd(JsonObject o) => o.ContainsKey("mean") && o.ContainsKey("sd") && o.All(p => p.Key is "mean" or "sd" or "n")
        && RunFolder.Number(o["mean"]) != null;

    /// <summary>A {mean, sd, n} object as a cell: "mean ± sd", or the mean alone over a single run (its sd says nothing).</summary>
    private static string MeanSd(JsonObject c)
    {
        double mean = RunFolder.Number(c["mean"])!.Value;
        return RunFolder.Number(c["n"]) == 1 ? Html.Num(mean) : Html.MeanSd(mean, RunFolder.Number(c["sd"]) ?? 0);
    }

    /// <summary>Whether every child of an object is a {mean, sd} summary.</summary>
    private static bool IsSummary(JsonObject o) => o.Count > 0 && o.All(p => p.Value is JsonObject c && IsMeanSd(c));

    /// <summary>The scalar leaves of an object with dotted names (arrays are left out).</summary>
    public static IEnumerable<(string Key, JsonValue Value)> Leaves(JsonObject o, string prefix)
    {
        foreach (var (k, v) in o)
        {
            var key = prefix.Length == 0 ? k : prefix + "." + k;
            if (v is JsonValue s) yield return (key, s);
            else if (v is JsonObject c && IsMeanSd(c)) yield return (key, JsonValue.Create(MeanSd(c)));
            else if (v is JsonObject c2) foreach (var x in Leaves(c2, key)) yield return x;
        }
    }

    /// <summary>A scalar as a table cell.</summary>
    public static string Cell(JsonNode? v) => v switch
    {
        null => "—",
        JsonValue s when RunFolder.Number(s) is { } d => Html.Num(d),
        JsonValue s when s.GetValueKind() is JsonValueKind.True or JsonValueKind.False => s.ToString(),
        JsonValue s => Html.E(s.ToString()),
        _ => Html.E(v.ToJsonString()),
    };

    private static bool IsNumericCell(JsonNode? v) => v is JsonValue s && (RunFolder.Number(s) != null || s.ToString().Contains(" ± ", StringComparison.Ordinal));

    /// <summary>Writes the tables of a metrics object.</summary>
    public static void Write(StringBuilder sb, JsonObject metrics)
    {
        // plain values of this level: one two-column list
        var plain = metrics.Where(p => p.Value is JsonValue or null).ToList();
        if (plain.Count > 0)
            Html.Table(sb, ["", "value"], plain.Select(p => (IReadOnlyList<string>)[Html.E(p.Key), Cell(p.Value)]), j => j == 1 && plain.All(p => IsNumericCell(p.Value)), "kv");

        // summaries side by side: rows = statistic, columns = summary name
        var summaries = metrics.Where(p => p.Value is JsonObject o && IsSummary(o)).ToList();
        if (summaries.Count > 0)
        {
            var keys = summaries.SelectMany(s => ((JsonObject)s.Value!).Select(p => p.Key)).Distinct().ToList();
            var n = summaries.Select(s => ((JsonObject)s.Value!).Select(p => RunFolder.Number(p.Value!["n"])).FirstOrDefault(x => x != null)).ToList();
            sb.Append(n.All(k => k == 1) ? "<h3>Summary</h3>\n" : "<h3>Mean ± sd over runs</h3>\n");
            Html.Table(sb, ["", .. summaries.Select((s, i) => Html.E(s.Key) + (n[i] is { } k ? $" <span class=\"note\">(n = {k})</span>" : ""))],
                keys.Select(k => (IReadOnlyList<string>)[Html.E(k), .. summaries.Select(s => ((JsonObject)s.Value!)[k] is JsonObject c ? MeanSd(c) : "—")]), j => j > 0);
        }

        // score objects side by side (a method and its baselines): rows = score, columns = object name
        var scores = metrics.Where(p => p.Value is JsonObject o && !IsSummary(o) && !IsMeanSd(o) && !o.Any(q => q.Value is JsonArray)).ToList();
        if (scores.Count >= 2)
        {
            var cols = scores.Select(s => Leaves((JsonObject)s.Value!, "").ToDictionary(l => l.Key, l => (JsonNode?)l.Value)).ToList();
            var keys = cols.SelectMany(c => c.Keys).Distinct().ToList();
            Html.Table(sb, ["", .. scores.Select(s => Html.E(s.Key))],
                keys.Select(k => (IReadOnlyList<string>)[Html.E(k), .. cols.Select(c => c.TryGetValue(k, out var v) ? Cell(v) : "—")]), j => j > 0);
        }
        else
            foreach (var s in scores)
            {
                sb.Append("<h3>").Append(Html.E(s.Key)).Append("</h3>\n");
                var leaves = Leaves((JsonObject)s.Value!, "").ToList();
                Html.Table(sb, ["", "value"], leaves.Select(l => (IReadOnlyList<string>)[Html.E(l.Key), Cell(l.Value)]), j => j == 1, "kv");
            }

        // arrays of objects: one row per element
        foreach (var (key, value) in metrics)
        {
            if (value is not JsonArray arr) continue;
            sb.Append("<h3>").Append(Html.E(key)).Append(key == "runs" ? " <span class=\"note\">(one row per seed)</span>" : "").Append("</h3>\n");
            var rows = arr.OfType<JsonObject>().ToList();
            if (rows.Count == 0) { sb.Append("<p class=\"note\">").Append(Html.E(string.Join(", ", arr.Select(x => x?.ToString())))).Append("</p>\n"); continue; }
            var maps = rows.Take(MaxRows).Select(r => Leaves(r, "").ToDictionary(l => l.Key, l => (JsonNode?)l.Value)).ToList();
            var keys = maps.SelectMany(m => m.Keys).Distinct().ToList();
            sb.Append("<div class=\"scroll\">");
            Html.Table(sb, keys.Select(Html.E).ToList(), maps.Select(m => (IReadOnlyList<string>)keys.Select(k => m.TryGetValue(k, out var v) ? Cell(v) : "—").ToList()),
                j => maps.All(m => !m.TryGetValue(keys[j], out var v) || IsNumericCell(v)));
            sb.Append("</div>");
            if (rows.Count > MaxRows) sb.Append($"<p class=\"note\">first {MaxRows} of {rows.Count} rows</p>\n");
            // nested arrays of a row (per-domain mixing of each seed...) under their own heading, first row only: the figures show the rest
            foreach (var (k, v) in rows[0])
                if (v is JsonObject o && o.Any(q => q.Value is JsonArray))
                {
                    sb.Append("<details><summary>").Append(Html.E($"{key}[0].{k}")).Append("</summary>\n");
                    Write(sb, o);
                    sb.Append("</details>\n");
                }
        }

        // objects holding arrays: recurse under their name
        foreach (var (key, value) in metrics)
            if (value is JsonObject o && o.Any(q => q.Value is JsonArray))
            {
                sb.Append("<h3>").Append(Html.E(key)).Append("</h3>\n");
                Write(sb, o);
            }
    }
}
