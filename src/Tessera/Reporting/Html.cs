using System.Globalization;
using System.Net;
using System.Text;

namespace Tessera.Reporting;

/// <summary>
/// The small HTML vocabulary of Tessera's reports: escaping, tables, figures as data URIs and the one style sheet.
/// Nothing here refers to the network, so a report opens from a USB stick.
/// </summary>
internal static class Html
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Text escaped for an element body or a quoted attribute.</summary>
    public static string E(string? s) => WebUtility.HtmlEncode(s ?? "");

    /// <summary>A number as reports show it: 4 significant decimals for fractions, thousands separators for large values.</summary>
    public static string Num(double v)
    {
        if (double.IsNaN(v)) return "NaN";
        if (double.IsInfinity(v)) return v > 0 ? "∞" : "−∞";
        if (v == Math.Floor(v) && Math.Abs(v) < 1e15) return v.ToString("#,0", Inv);
        double a = Math.Abs(v);
        if (a >= 1000) return v.ToString("#,0.0", Inv);
        if (a >= 1) return v.ToString("0.###", Inv);
        if (a >= 1e-4) return v.ToString("0.####", Inv);
        return v.ToString("0.###e0", Inv);
    }

    /// <summary>mean ± sd as a report cell.</summary>
    public static string MeanSd(double mean, double sd) => $"{Num(mean)} ± {Num(sd)}";

    /// <summary>A duration in seconds as "4.2 s", "3 min 05 s" or "1 h 02 min".</summary>
    public static string Seconds(double s)
    {
        if (s < 60) return s.ToString(s < 10 ? "0.00" : "0.0", Inv) + " s";
        var t = TimeSpan.FromSeconds(s);
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours} h {t.Minutes:00} min" : $"{(int)t.TotalMinutes} min {t.Seconds:00} s";
    }

    /// <summary>A byte count as "12.3 MB".</summary>
    public static string Bytes(double b) => b switch
    {
        < 1024 => $"{b.ToString("0", Inv)} B",
        < 1048576 => $"{(b / 1024).ToString("0.0", Inv)} KB",
        < 1073741824 => $"{(b / 1048576).ToString("0.0", Inv)} MB",
        _ => $"{(b / 1073741824).ToString("0.00", Inv)} GB",
    };

    /// <summary>
    /// A table. Cells are already HTML (escape text with <see cref="E"/>); <paramref name="numeric"/> columns are right
    /// aligned with tabular figures.
    /// </summary>
    public static void Table(StringBuilder sb, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, Func<int, bool>? numeric = null, string? cssClass = null)
    {
        sb.Append("<table").Append(cssClass == null ? "" : $" class=\"{cssClass}\"").Append("><thead><tr>");
        for (int j = 0; j < header.Count; j++) sb.Append(numeric?.Invoke(j) == true ? "<th class=\"n\">" : "<th>").Append(header[j]).Append("</th>");
        sb.Append("</tr></thead><tbody>\n");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            for (int j = 0; j < row.Count; j++) sb.Append(numeric?.Invoke(j) == true ? "<td class=\"n\">" : "<td>").Append(row[j]).Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody></table>\n");
    }

    /// <summary>A PNG file as an &lt;img&gt; with a data URI (the report carries its figures).</summary>
    public static string Image(string pngPath, string alt) =>
        $"<img alt=\"{E(alt)}\" src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(pngPath))}\">";

    /// <summary>The start of a report page: title, style sheet.</summary>
    public static void Begin(StringBuilder sb, string title)
    {
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
          .Append("<meta name=\"generator\" content=\"Tessera ").Append(E(TesseraInfo.Version)).Append("\">\n")
          .Append("<title>").Append(E(title)).Append("</title>\n<style>").Append(Css).Append("</style></head><body><main>\n");
    }

    /// <summary>The end of a report page.</summary>
    public static void End(StringBuilder sb) =>
        sb.Append("<footer>Written by Tessera ").Append(E(TesseraInfo.Version)).Append(" from the files of this run folder; self-contained (no network).</footer>\n</main></body></html>\n");

    private const string Css = """
:root { --ink:#1d2329; --muted:#5b6670; --rule:#d5dbe0; --band:#f4f6f8; --accent:#1f5f8b; }
* { box-sizing:border-box; }
body { margin:0; color:var(--ink); background:#fff; font:15px/1.5 "Source Sans 3","Segoe UI","Helvetica Neue",Arial,sans-serif; }
main { max-width:1180px; margin:0 auto; padding:28px 32px 48px; }
h1 { font:600 26px/1.25 Georgia,"Times New Roman",serif; margin:0 0 4px; }
h2 { font:600 19px/1.3 Georgia,"Times New Roman",serif; margin:34px 0 10px; padding-bottom:4px; border-bottom:2px solid var(--ink); }
h3 { font-size:15px; margin:20px 0 6px; color:var(--accent); }
p.lead { color:var(--muted); margin:0 0 18px; }
code, pre { font:13px/1.45 "JetBrains Mono","DejaVu Sans Mono",Menlo,Consolas,monospace; }
pre.cmd { background:var(--band); border-left:3px solid var(--accent); padding:10px 12px; white-space:pre-wrap; word-break:break-all; margin:6px 0 0; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:3px 18px; margin:0; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
table { border-collapse:collapse; margin:6px 0 14px; font-size:14px; }
th, td { padding:4px 10px; border-bottom:1px solid var(--rule); text-align:left; vertical-align:top; }
thead th { border-bottom:1.5px solid var(--ink); font-weight:600; background:#fff; }
tbody tr:nth-child(even) td { background:var(--band); }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.figs { display:grid; grid-template-columns:repeat(auto-fill,minmax(520px,1fr)); gap:22px; }
figure { margin:0; border:1px solid var(--rule); padding:10px; background:#fff; }
figure img { display:block; width:100%; height:auto; }
figcaption { font-size:13.5px; color:var(--muted); margin-top:6px; }
figcaption b { color:var(--ink); }
details { margin:6px 0; } summary { cursor:pointer; color:var(--accent); }
.scroll { overflow-x:auto; }
.note { color:var(--muted); font-size:13.5px; }
.viewer { border:1px solid var(--rule); padding:10px; }
.viewer canvas { width:100%; height:auto; display:block; cursor:crosshair; background:#fff; }
.viewer .legend { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:13px; color:var(--muted); }
.viewer .legend i { display:inline-block; width:11px; height:11px; border-radius:50%; margin-right:5px; vertical-align:-1px; }
.viewer .tip { font:13px "DejaVu Sans Mono",monospace; min-height:1.5em; color:var(--ink); }
footer { margin-top:40px; padding-top:8px; border-top:1px solid var(--rule); color:var(--muted); font-size:12.5px; }
@media print { main { max-width:none; padding:0; } .figs { grid-template-columns:1fr 1fr; } }
""";
}
