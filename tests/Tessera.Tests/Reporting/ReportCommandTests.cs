using System.Text.Json;
using System.Text.RegularExpressions;
using Tessera.Tests.Support;

namespace Tessera.Tests.Reporting;

/// <summary>One short demo run shared by the report command and browser tests.</summary>
public sealed class DemoRunFixture : IDisposable
{
    private readonly TempDir _dir = new();
    /// <summary>The demo's run folder (5 epochs).</summary>
    public string Run { get; }
    /// <summary>The CLI's result.</summary>
    public CliRunner.Result Result { get; }

    public DemoRunFixture()
    {
        Run = _dir.File("demo");
        Result = CliRunner.Run("demo", "--epochs", "5", "--out", Run);
    }

    /// <summary>A fresh folder for a test's own files.</summary>
    public string NewFolder(string name) { var p = _dir.File(name); Directory.CreateDirectory(p); return p; }

    public void Dispose() => _dir.Dispose();
}

/// <summary>The report tests share one demo run.</summary>
[CollectionDefinition(Name)]
public sealed class ReportDemoCollection : ICollectionFixture<DemoRunFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "report demo run";
}

[Collection(ReportDemoCollection.Name)]
public class ReportCommandTests(DemoRunFixture demo)
{
    [Fact]
    public void EveryRunWritesItsReportAndTheCommandRebuildsTheSamePage()
    {
        Assert.True(demo.Result.Code == 0, demo.Result.Err);
        var report = Path.Combine(demo.Run, "report.html");
        Assert.True(File.Exists(report));
        // no temporary name left behind
        Assert.Empty(Directory.GetFiles(demo.Run, ".*"));
        var html = File.ReadAllText(report);
        Assert.DoesNotMatch(RunReportTests.NetworkReference, html);
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(demo.Run, "run.json")));
        Assert.Equal(demo.Run, run.RootElement.GetProperty("output").GetString());
        Assert.Contains($"<span class=\"note\">demo</span>", html);
        Assert.Contains("tessera demo --epochs 5 --out", html);
        // the demo's figures, Spotscape next to its baseline, and the interactive view of its 1538 spots
        foreach (var f in new[] { "spatial_domains.png", "spatial_truth.png", "spatial_baseline.png", "umap_truth.png", "loss.png" })
            Assert.Contains($"<code>{f}</code>", html);
        Assert.Contains("<th class=\"n\">spotscape</th><th class=\"n\">pca_kmeans</th>", html);
        var data = Regex.Match(html, "<script type=\"application/json\" id=\"spatial-data\">(.*?)</script>", RegexOptions.Singleline);
        Assert.True(data.Success);
        using var payload = JsonDocument.Parse(data.Groups[1].Value);
        Assert.Equal(1538, payload.RootElement.GetProperty("x").GetArrayLength());
        Assert.Equal(["spot", "domain", "baseline", "truth"], payload.RootElement.GetProperty("fields").EnumerateArray().Select(e => e.GetString()));

        // rebuilt from the folder: identical page
        File.Delete(report);
        var r = CliRunner.Run("report", demo.Run);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(html, File.ReadAllText(report));
    }

    [Fact]
    public void NotARunFolderIsOneErrorLineAndExit2()
    {
        var empty = demo.NewFolder("empty");
        var r = CliRunner.Run("report", empty);
        Assert.Equal(2, r.Code);
        var lines = r.Err.Trim().Split('\n');
        Assert.Single(lines);
        Assert.Equal($"error: '{empty}' is not a Tessera run folder: it has no run.json", lines[0]);
        Assert.Empty(Directory.GetFileSystemEntries(empty));
        var r2 = CliRunner.Run("report", "--compare", demo.Run, empty, "-o", Path.Combine(empty, "c.html"));
        Assert.Equal(2, r2.Code);
        Assert.StartsWith("error: ", r2.Err.Trim());
        Assert.Empty(Directory.GetFileSystemEntries(empty));
        var r3 = CliRunner.Run("report", "--compare", demo.Run);
        Assert.Equal(2, r3.Code);
        Assert.Contains("error: --compare needs --out OUT.html", r3.Err);
    }

    [Fact]
    public void CompareWritesOnePageWithBothRunsAndTheirSharedFigures()
    {
        var folder = demo.NewFolder("cmp");
        var output = Path.Combine(folder, "compare.html");
        var r = CliRunner.Run("report", "--compare", demo.Run, demo.Run, "-o", output, "--table", Path.Combine(folder, "metrics.csv"));
        Assert.True(r.Code == 0, r.Err);
        var html = File.ReadAllText(output);
        Assert.Contains("2 runs compared", html);
        Assert.Contains("<a href=\"../demo/report.html\">report</a>", html);
        Assert.Contains("<h3>Spatial domains</h3>", html);
        Assert.DoesNotMatch(RunReportTests.NetworkReference, html);
        // the same run twice: mean = its value, sd = 0, n = 2
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(demo.Run, "metrics.json")));
        var ari = run.RootElement.GetProperty("spotscape").GetProperty("ari").GetDouble();
        var row = File.ReadAllLines(Path.Combine(folder, "metrics.csv")).Single(l => l.Contains(",spotscape.ari,", StringComparison.Ordinal)).Split(',');
        Assert.Equal(ari, double.Parse(row[^3], System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Equal("0", row[^2]);
        Assert.Equal("2", row[^1]);
    }
}
