using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tessera.IO;
using Tessera.Simulate;
using Tessera.Tests.Support;

namespace Tessera.Tests.Reporting;

/// <summary>
/// workflow/Snakefile on a tiny study (Debian's `snakemake`; .ci/run installs it): two synthetic tissues x two seeds of
/// `domains` (3 epochs) and their integration run to the aggregate table; a rerun does nothing; a deleted run folder is the only run redone;
/// a sample with a bad input fails its job with Tessera's message and leaves the others' results as they were.
/// </summary>
public class WorkflowTests
{
    private static string? RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "workflow", "Snakefile"))) return d.FullName;
        return null;
    }

    private static string? Snakemake() => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
        .Select(d => Path.Combine(d, "snakemake")).FirstOrDefault(File.Exists);

    private static (int Code, string Output) RunSnakemake(string exe, string repo, string config, params string[] extra)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(config)! };
        foreach (var a in new[] { "-s", Path.Combine(repo, "workflow", "Snakefile"), "--configfile", config, "--cores", "2", "--keep-going" }.Concat(extra))
            psi.ArgumentList.Add(a);
        psi.Environment["CI"] = "true";
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync(); var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(8))) { p.Kill(true); throw new TimeoutException("snakemake ran over 8 minutes"); }
        return (p.ExitCode, o.Result + e.Result);
    }

    /// <summary>Jobs of a rule that Snakemake ran or would run, from its "Job stats" table.</summary>
    private static int Jobs(string output, string rule)
    {
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(rule + " ", StringComparison.Ordinal) && l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 4);
        return line == null ? 0 : int.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    [SkippableFact]
    public void TinyStudyRunsToTheAggregateTableAndRerunsOnlyWhatIsMissing()
    {
        var exe = Snakemake();
        Skip.If(exe == null, "snakemake not found on PATH (Debian package `snakemake`; .ci/run installs it): workflow test skipped");
        var repo = RepoRoot();
        Skip.If(repo == null, "workflow/Snakefile not found above the test binary");
        using var dir = new TempDir();
        foreach (var (name, seed) in new[] { ("A", 1), ("B", 2) })
            H5ad.Write(SyntheticTissue.Generate(new SyntheticTissueOptions { Rows = 16, Cols = 32, Genes = 150, Domains = 4, Seed = seed }), dir.File($"{name}.h5ad"));
        var cli = Path.Combine(AppContext.BaseDirectory, "Tessera.Cli.dll");
        string Config(bool withBad) =>
            $"tessera: dotnet {cli}\nresults: results\nseeds: [0, 1]\ndomains_options: --epochs 3 --hvg 100 --no-umap\nsamples:\n" +
            "  A: {input: A.h5ad, domains: --clusters 4 --truth-column layer}\n  B: {input: B.h5ad, domains: --clusters 4 --truth-column layer}\n" +
            (withBad ? "  C: {input: bad.h5ad, domains: --clusters 4}\n" : "") +
            "integrate_options: --epochs 3 --hvg 100 --no-umap\nintegrate:\n  AB: {samples: [A, B], options: --clusters 4 --truth-column layer}\n";
        var config = dir.File("config.yaml");
        File.WriteAllText(config, Config(false));

        var first = RunSnakemake(exe!, repo!, config);
        Assert.True(first.Code == 0, first.Output);
        Assert.True(Jobs(first.Output, "domains") == 4, first.Output);
        Assert.True(Jobs(first.Output, "integrate") == 2, first.Output);
        // the aggregate: mean and sd per sample over its seeds, equal to the runs' own metrics
        var rows = File.ReadAllLines(dir.File("results/metrics.csv")).Select(l => l.Split(',')).ToList();
        Assert.Equal(["group", "command", "inputs", "runs", "metric", "mean", "sd", "n"], rows[0]);
        foreach (var sample in new[] { "A", "B" })
        {
            var ari = new[] { 0, 1 }.Select(s => JsonDocument.Parse(File.ReadAllText(dir.File($"results/{sample}/domains/seed{s}/metrics.json")))
                .RootElement.GetProperty("runs")[0].GetProperty("joint").GetProperty("ari").GetDouble()).ToArray();
            var row = rows.Single(r => r[0] == $"{sample}/domains" && r[4] == "runs.joint.ari");
            Assert.Equal(ari.Average(), double.Parse(row[5], CultureInfo.InvariantCulture), 12);
            Assert.Equal(Math.Abs(ari[0] - ari[1]) / Math.Sqrt(2), double.Parse(row[6], CultureInfo.InvariantCulture), 12);
            Assert.Equal("2", row[7]);
            Assert.Equal($"{sample}/domains/seed0;{sample}/domains/seed1", row[3]);
        }
        Assert.Equal("2", rows.Single(r => r[0] == "AB/integrate" && r[4] == "runs.joint.ari")[7]);
        Assert.Equal("A.h5ad;B.h5ad", string.Join(";", rows.Single(r => r[0] == "AB/integrate" && r[4] == "runs.joint.ari")[2].Split(';').Select(Path.GetFileName)));
        var summary = File.ReadAllText(dir.File("results/summary.html"));
        Assert.Contains("<a href=\"A/domains/seed0/report.html\">report</a>", summary);
        Assert.True(File.Exists(dir.File("results/B/domains/seed1/report.html")));
        Assert.DoesNotMatch(RunReportTests.NetworkReference, summary);

        // up to date: nothing to do
        var again = RunSnakemake(exe!, repo!, config);
        Assert.True(again.Code == 0, again.Output);
        Assert.Contains("Nothing to be done", again.Output);

        // one run folder gone: only that run (and the aggregate) is redone
        var kept = new[] { "A/domains/seed0", "A/domains/seed1", "B/domains/seed0" }.ToDictionary(r => r, r => File.GetLastWriteTimeUtc(dir.File($"results/{r}/run.json")));
        Directory.Delete(dir.File("results/B/domains/seed1"), true);
        var redo = RunSnakemake(exe!, repo!, config);
        Assert.True(redo.Code == 0, redo.Output);
        Assert.True(Jobs(redo.Output, "domains") == 1, redo.Output);
        Assert.True(Jobs(redo.Output, "aggregate") == 1, redo.Output);
        Assert.True(Jobs(redo.Output, "integrate") == 0, redo.Output);
        Assert.True(File.Exists(dir.File("results/B/domains/seed1/run.json")));
        foreach (var (r, t) in kept) Assert.Equal(t, File.GetLastWriteTimeUtc(dir.File($"results/{r}/run.json")));

        // a sample whose input is not data: its jobs fail with Tessera's message, the others' results stay as they were
        File.WriteAllText(dir.File("bad.h5ad"), "not an HDF5 file\n");
        File.WriteAllText(config, Config(true));
        var bad = RunSnakemake(exe!, repo!, config);
        Assert.NotEqual(0, bad.Code);
        Assert.Contains("error: ", bad.Output);
        Assert.Contains("bad.h5ad", bad.Output.Split('\n').First(l => l.StartsWith("error: ", StringComparison.Ordinal)));
        Assert.True(Jobs(bad.Output, "domains") == 2, bad.Output);
        Assert.False(Directory.Exists(dir.File("results/C/domains/seed0")) && File.Exists(dir.File("results/C/domains/seed0/run.json")));
        foreach (var (r, t) in kept) Assert.Equal(t, File.GetLastWriteTimeUtc(dir.File($"results/{r}/run.json")));
        Assert.True(File.Exists(dir.File("results/B/domains/seed1/report.html")));
    }
}
