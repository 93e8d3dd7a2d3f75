using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tessera.IO;
using Tessera.Plotting;
using Tessera.Reporting;
using Tessera.Tests.Support;

namespace Tessera.Tests.Reporting;

public class RunReportTests
{
    /// <summary>Any reference that would make a browser reach the network: http(s) or protocol-relative URLs in src/href/url()/@import.</summary>
    internal static readonly Regex NetworkReference = new(@"(?:src|href|action|poster|data)\s*=\s*[""']?\s*(?:https?:)?//|url\(\s*[""']?\s*(?:https?:)?//|@import|<link\b|<iframe\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>A run folder as a domains run with 2 seeds writes it: run.json, metrics.json, a figure, tables.</summary>
    private static string FakeRun(TempDir dir, string name, int seed, double ari, double nmi, bool twoSeeds = true)
    {
        var run = dir.File(name);
        Directory.CreateDirectory(run);
        var runJson = new JsonObject
        {
            ["tool"] = "tessera", ["version"] = TesseraInfo.Version, ["command"] = "domains", ["output"] = run, ["cwd"] = "/data/my study",
            ["command_line"] = new JsonArray("domains", "slice 1.h5ad", "--clusters", "7", "--seed", seed.ToString(CultureInfo.InvariantCulture), "--out", name, "--truth-column", "it's"),
            ["parameters"] = new JsonObject { ["options"] = new JsonObject { ["Method"] = "Spotscape", ["Clusters"] = 7, ["Seed"] = seed }, ["seeds"] = new JsonArray(seed) },
            ["seed"] = seed, ["started_utc"] = "2026-12-06T21:00:00.0000000Z",
            ["inputs"] = new JsonArray(new JsonObject { ["path"] = "/data/my study/slice 1.h5ad", ["bytes"] = 123456789, ["sha256"] = "ab12cd34ef56ab12cd34ef56", ["n_obs"] = 3639, ["n_vars"] = 33538, ["platform"] = "visium" }),
            ["stages"] = new JsonArray(new JsonObject { ["stage"] = "read slice 1.h5ad", ["seconds"] = 2.5 }, new JsonObject { ["stage"] = "Spotscape embedding + KMeans (seed 0)", ["seconds"] = 600.0 }),
            ["wall_seconds"] = 612.25, ["peak_memory_mb"] = 1536.0, ["threads"] = 2,
            ["machine"] = new JsonObject { ["os"] = "Debian", ["cores"] = 2, [".net"] = "10.0" },
        };
        File.WriteAllText(Path.Combine(run, "run.json"), runJson.ToJsonString());
        var runs = new JsonArray(new JsonObject { ["seed"] = seed, ["joint"] = new JsonObject { ["ari"] = ari, ["nmi"] = nmi } });
        var metrics = new JsonObject { ["method"] = "Spotscape", ["clusters"] = 7, ["runs"] = runs };
        if (twoSeeds)
        {
            runs.Add(new JsonObject { ["seed"] = seed + 1, ["joint"] = new JsonObject { ["ari"] = 0.3, ["nmi"] = 0.5 } });
            metrics["summary"] = new JsonObject { ["ari"] = new JsonObject { ["mean"] = 0.4, ["sd"] = 0.1414, ["n"] = 2 } };
            metrics["summary_other"] = new JsonObject { ["ari"] = new JsonObject { ["mean"] = 0.35, ["sd"] = 0.05, ["n"] = 2 } };
        }
        File.WriteAllText(Path.Combine(run, "metrics.json"), metrics.ToJsonString());
        var plot = new ScottPlot.Plot();
        plot.Add.Scatter(new double[] { 0, 1, 2 }, new double[] { 1, 0, 2 });
        Figures.SavePng(plot, Path.Combine(run, "spatial_domains.png"), 300, 200);
        CsvTable.Write(Path.Combine(run, "training.csv"), ["epoch", "total"], [["1", "2.5"], ["2", "1.25"]]);
        return run;
    }

    [Fact]
    public void ReportShowsHeaderFiguresAndMetricsFromTheFolderAndNothingFromTheNetwork()
    {
        using var dir = new TempDir();
        var run = FakeRun(dir, "151673_spotscape", 0, 0.5, 0.6);
        var path = RunReport.Write(run);
        Assert.Equal(Path.Combine(run, "report.html"), path);
        var html = File.ReadAllText(path);
        // header, from run.json
        Assert.Contains("<dt>seed</dt><dd>0</dd>", html);
        Assert.Contains("<dt>wall time</dt><dd>10 min 12 s</dd>", html);
        Assert.Contains("<dt>peak memory</dt><dd>1.50 GB", html);
        Assert.Contains("3,639 × 33,538", html);
        Assert.Contains("<td>visium</td>", html);
        Assert.Contains("<td>Spotscape embedding + KMeans (seed 0)</td><td class=\"n\">10 min 00 s</td><td class=\"n\">98.0 %</td>", html);
        // the rerun line quotes what a shell would split, and starts in the folder the run started in
        Assert.Contains("cd &#39;/data/my study&#39; &amp;&amp; tessera domains &#39;slice 1.h5ad&#39; --clusters 7 --seed 0 --out 151673_spotscape --truth-column &#39;it&#39;\\&#39;&#39;s&#39;", html);
        // the figure is inlined byte for byte, with its caption
        var m = Regex.Match(html, "<img alt=\"Spatial domains\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\">");
        Assert.True(m.Success);
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "spatial_domains.png")), Convert.FromBase64String(m.Groups[1].Value));
        Assert.Contains("coloured by its predicted domain", html);
        // metrics: per seed rows and the two protocols' mean ± sd side by side
        Assert.Contains("<th class=\"n\">joint.ari</th>", html);
        Assert.Contains("<td class=\"n\">0</td><td class=\"n\">0.5</td><td class=\"n\">0.6</td>", html);
        Assert.Contains("<td>ari</td><td class=\"n\">0.4 ± 0.1414</td><td class=\"n\">0.35 ± 0.05</td>", html);
        // the folder's table, previewed
        Assert.Contains("training.csv", html);
        Assert.Contains("<td class=\"n\">1.25</td>", html);
        Assert.DoesNotMatch(NetworkReference, html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        // rebuilt from the same files: the same page
        Assert.Equal(html, RunReport.Build(RunFolder.Open(run)));
    }

    [Fact]
    public void NetworkReferenceCheckCatchesWhatItMust()
    {
        Assert.Matches(NetworkReference, "<img src=\"https://x.org/a.png\">");
        Assert.Matches(NetworkReference, "<script src='//cdn.plot.ly/plotly.js'></script>");
        Assert.Matches(NetworkReference, "body { background: url(http://x/y.png) }");
        Assert.Matches(NetworkReference, "<link rel=stylesheet href=a.css>");
        Assert.DoesNotMatch(NetworkReference, "<img src=\"data:image/png;base64,AAAA\">");
        Assert.DoesNotMatch(NetworkReference, "<a href=\"runs/s1/report.html\">report</a>");
    }

    [Fact]
    public void ComparisonGivesMeanAndSdOverRunsThatDifferOnlyInTheirSeed()
    {
        using var dir = new TempDir();
        var a = FakeRun(dir, "seed0", 0, 0.5, 0.6, twoSeeds: false);
        var b = FakeRun(dir, "seed1", 1, 0.7, 0.8, twoSeeds: false);
        RunReport.Write(a); RunReport.Write(b);
        var output = dir.File("compare.html");
        RunReport.Compare([a, b], output);
        var html = File.ReadAllText(output);
        // hand-worked: mean(0.5, 0.7) = 0.6, sample sd = sqrt(((0.1)^2 + (0.1)^2) / 1) = 0.1414
        Assert.Contains("<td>runs.joint.ari</td><td class=\"n\">0.6 ± 0.1414</td>", html);
        Assert.Contains("<td>runs.joint.ari</td><td class=\"n\">0.5</td><td class=\"n\">0.7</td>", html);
        Assert.Contains("<a href=\"seed0/report.html\">report</a>", html);
        Assert.DoesNotMatch(NetworkReference, html);
        var csv = dir.File("metrics.csv");
        RunReport.WriteComparisonTable([a, b], csv);
        var row = File.ReadAllLines(csv).Single(l => l.Contains(",runs.joint.ari,", StringComparison.Ordinal)).Split(',');
        Assert.Equal(0.6, double.Parse(row[5], CultureInfo.InvariantCulture), 12);
        Assert.Equal(Math.Sqrt(0.02), double.Parse(row[6], CultureInfo.InvariantCulture), 12);
        Assert.Equal("2", row[7]);
        Assert.Equal("seed0;seed1", row[3]);
    }

    [Fact]
    public void RunsThatDifferInMoreThanTheSeedAreNotPooled()
    {
        using var dir = new TempDir();
        var a = FakeRun(dir, "a", 0, 0.5, 0.6, twoSeeds: false);
        var b = FakeRun(dir, "b", 1, 0.7, 0.8, twoSeeds: false);
        var runJson = JsonNode.Parse(File.ReadAllText(Path.Combine(b, "run.json")))!;
        runJson["parameters"]!["options"]!["Clusters"] = 5;
        File.WriteAllText(Path.Combine(b, "run.json"), runJson.ToJsonString());
        var csv = dir.File("metrics.csv");
        RunReport.WriteComparisonTable([a, b], csv);
        var rows = File.ReadAllLines(csv).Where(l => l.Contains(",runs.joint.ari,", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.EndsWith(",0,1", r, StringComparison.Ordinal));
    }

    [Fact]
    public void NotARunFolderIsAClearError()
    {
        using var dir = new TempDir();
        Assert.Contains("does not exist", Assert.Throws<TesseraException>(() => RunReport.Write(dir.File("nope"))).Message);
        Assert.Contains("has no run.json", Assert.Throws<TesseraException>(() => RunReport.Write(dir.Path)).Message);
        File.WriteAllText(dir.File("run.json"), "{\"tool\": ");
        Assert.Contains("is not valid JSON", Assert.Throws<TesseraException>(() => RunReport.Write(dir.Path)).Message);
        File.WriteAllText(dir.File("run.json"), "{\"tool\": \"other\"}");
        Assert.Contains("was not written by a Tessera command", Assert.Throws<TesseraException>(() => RunReport.Write(dir.Path)).Message);
        Assert.False(File.Exists(dir.File("report.html")));
    }

    [Theory]
    [InlineData("spatial_domains_151673.png", "Spatial domains (151673)")]
    [InlineData("umap_slice.png", "UMAP by slice")]
    [InlineData("map_ERBB2_predicted.png", "ERBB2: predicted from histology")]
    [InlineData("proportion_Inhibitory.png", "Mapped proportion: Inhibitory")]
    [InlineData("something_else.png", "something else")]
    public void FiguresAreCaptionedByName(string file, string title) => Assert.Equal(title, FigureCaptions.Describe(file).Title);
}
