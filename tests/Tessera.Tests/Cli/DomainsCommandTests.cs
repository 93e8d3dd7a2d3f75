using System.Text.Json;
using Tessera.IO;
using Tessera.Simulate;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

public class DomainsCommandTests
{
    private static string Tissue(TempDir dir, string name, int seed)
    {
        var t = SyntheticTissue.Generate(new SyntheticTissueOptions { Rows = 24, Cols = 48, Domains = 4, Genes = 160, MarkersPerDomain = 12, Seed = seed });
        var p = dir.File(name + ".h5ad");
        H5ad.Write(t, p);
        return p;
    }

    [Fact]
    public void DomainsFindsTheLayersOfASyntheticSlice()
    {
        using var dir = new TempDir();
        var input = Tissue(dir, "slice", 5);
        var r = CliRunner.Run("domains", input, "--clusters", "4", "--truth-column", "layer", "--epochs", "40", "--lr", "0.001",
            "--radius", "150", "--hvg", "100", "--no-umap", "--out", dir.File("dom"));
        Assert.True(r.Code == 0, r.Err);
        using var m = JsonDocument.Parse(File.ReadAllText(dir.File("dom/metrics.json")));
        var ari = m.RootElement.GetProperty("runs")[0].GetProperty("joint").GetProperty("ari").GetDouble();
        Assert.True(ari >= 0.6, $"ARI {ari}");
        var lines = File.ReadAllLines(dir.File("dom/domains.csv"));
        Assert.Equal("spot,domain", lines[0]);
        foreach (var f in new[] { "result.h5ad", "model.pt", "model.pt.json", "loss.png", "spatial_domains.png", "spatial_truth.png", "training.csv", "run.json" })
            Assert.True(File.Exists(dir.File("dom/" + f)), f + " missing");
        var d = H5ad.Read(dir.File("dom/result.h5ad"));
        Assert.Equal(64, d.Obsm["X_spotscape"].Cols);
    }

    [Fact]
    public void IntegrateKeepsOriginalBarcodesAndScoresEachSlice()
    {
        using var dir = new TempDir();
        var a = Tissue(dir, "A", 1);
        var b = Tissue(dir, "B", 2);
        var r = CliRunner.Run("integrate", a, b, "--clusters", "4", "--truth-column", "layer", "--epochs", "30", "--lr", "0.001",
            "--radius", "150", "--hvg", "100", "--no-umap", "--out", dir.File("int"));
        Assert.True(r.Code == 0, r.Err);
        var lines = File.ReadAllLines(dir.File("int/domains.csv"));
        Assert.Equal("spot,slice,domain", lines[0]);
        // both synthetic slices use the same barcodes: the CSV keeps them as they were, with the slice beside
        var first = lines.Skip(1).Where(l => l.StartsWith("spot000x")).Select(l => l.Split(',')[1]).Distinct().Order().ToArray();
        Assert.Equal(["A", "B"], first);
        using var m = JsonDocument.Parse(File.ReadAllText(dir.File("int/metrics.json")));
        var run0 = m.RootElement.GetProperty("runs")[0];
        Assert.True(run0.GetProperty("per_slice").TryGetProperty("A", out _));
        // the two simulated slices differ in every gene's baseline (a strong batch effect); each slice's layers must still show
        foreach (var slice in new[] { "A", "B" })
        {
            var ari = run0.GetProperty("per_slice").GetProperty(slice).GetProperty("ari").GetDouble();
            // measured with these settings (30 epochs): per-slice ARI 0.44, joint 0.29; chance is 0
            Assert.True(ari >= 0.25, $"slice {slice} ARI {ari}; joint {run0.GetProperty("joint").GetProperty("ari").GetDouble()}");
        }
        Assert.True(File.Exists(dir.File("int/spatial_domains_A.png")));
        Assert.True(File.Exists(dir.File("int/batch_mixing.png")));
        // slice mixing per domain lies in [0, 1]; the other clustering protocol (GMM tied) is scored on the same embedding
        // (null where a domain holds one slice only: with this strong simulated batch effect some domains are slice-specific)
        var perDomain = run0.GetProperty("batch_mixing").GetProperty("per_domain").EnumerateArray().ToArray();
        Assert.Equal(4, perDomain.Length);
        foreach (var d in perDomain)
        {
            var mix = d.GetProperty("mixing");
            if (mix.ValueKind == JsonValueKind.Number) Assert.InRange(mix.GetDouble(), 0.0, 1.0);
            else Assert.Equal(1, d.GetProperty("slices").GetInt32());
        }
        Assert.Equal("Gmm", run0.GetProperty("other").GetProperty("cluster_method").GetString());
        Assert.InRange(m.RootElement.GetProperty("summary_other").GetProperty("ari").GetProperty("mean").GetDouble(), -0.5, 1.0);
    }

    [Fact]
    public void UnknownTruthColumnFailsBeforeTraining()
    {
        using var dir = new TempDir();
        var input = Tissue(dir, "slice", 5);
        var r = CliRunner.Run("domains", input, "--clusters", "4", "--truth-column", "layers", "--out", dir.File("dom"));
        Assert.Equal(2, r.Code);
        Assert.Contains("error: unknown column 'layers'; available: layer, array_row, array_col", r.Err);
        Assert.False(Directory.Exists(dir.File("dom")));
    }

    [Fact]
    public void LibraryValidationReachesTheUserAsFlags()
    {
        using var dir = new TempDir();
        var input = Tissue(dir, "slice", 5);
        var r = CliRunner.Run("domains", input, "--clusters", "1", "--out", dir.File("dom"));
        Assert.Equal(2, r.Code);
        Assert.Contains("error: --clusters must be at least 2 but is 1", r.Err);
        r = CliRunner.Run("domains", input, "--clusters", "4", "--hvg", "-1", "--out", dir.File("dom"));
        Assert.Contains("error: --hvg must be non-negative but is -1", r.Err);
        Assert.False(Directory.Exists(dir.File("dom")));
        r = CliRunner.Run("integrate", input, Tissue(dir, "other", 6), "--clusters", "4", "--batch-sampling", "spots", "--out", dir.File("dom"));
        Assert.Equal(2, r.Code);
        Assert.Contains("--batch-sampling", r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(dir.File("dom")));
    }

    [Fact]
    public void SimulateTissueWritesSectionsOfOneTissue_AndRejectsANegativeSection()
    {
        using var dir = new TempDir();
        var a = CliRunner.Run("simulate", "tissue", "--spots", "300", "--genes", "200", "--seed", "3", "-o", dir.File("s0.h5ad"));
        var b = CliRunner.Run("simulate", "tissue", "--spots", "300", "--genes", "200", "--seed", "3", "--section", "1", "--batch-effect", "0.4", "-o", dir.File("s1.h5ad"));
        Assert.Equal(0, a.Code);
        Assert.Equal(0, b.Code);
        var s0 = H5ad.Read(dir.File("s0.h5ad"));
        var s1 = H5ad.Read(dir.File("s1.h5ad"));
        Assert.Equal(s0.Obs.Labels("layer"), s1.Obs.Labels("layer"));
        Assert.NotEqual(s0.X.Data, s1.X.Data);
        var bad = CliRunner.Run("simulate", "tissue", "--spots", "300", "--section", "-1", "-o", dir.File("bad.h5ad"));
        Assert.Equal(2, bad.Code);
        Assert.Contains("error: --section must be at least 0 but is -1", bad.Err);
        Assert.False(File.Exists(dir.File("bad.h5ad")));
    }
}
