using System.Security.Cryptography;
using System.Text.Json;
using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

public class CliCommandTests
{
    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private static string WriteCsv(TempDir dir, string name, string text) { var p = dir.File(name); File.WriteAllText(p, text); return p; }

    private const string SmallTable = "spot,x,y,GeneA,GeneB,GeneC\ns1,0,0,1,0,3\ns2,1,0,0,2,1\ns3,0,1,4,1,0\ns4,1,1,2,2,2\n";

    [Fact]
    public void DemoWritesEveryResultBeatsTheBaselineAndIsDeterministic()
    {
        using var dir = new TempDir();
        var outDir = dir.File("demo");
        var r = CliRunner.Run("demo", "--out", outDir);
        Assert.True(r.Code == 0, r.Err);
        foreach (var f in new[] { "result.h5ad", "domains.csv", "metrics.json", "run.json", "spatial_truth.png", "spatial_domains.png",
                     "spatial_baseline.png", "umap_truth.png", "loss.png" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), $"{f} missing");
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "run.json")));
        var root = run.RootElement;
        Assert.Equal("demo", root.GetProperty("command").GetString());
        Assert.Equal(0, root.GetProperty("seed").GetInt32());
        Assert.True(root.GetProperty("stages").GetArrayLength() >= 5);
        Assert.True(root.GetProperty("peak_memory_mb").GetDouble() > 0);
        Assert.Equal(0, root.GetProperty("inputs").GetArrayLength()); // built-in data: no input files
        // seed 0 measured: Spotscape ARI 0.89 vs PCA + k-means 0.51 on the synthetic layers
        var spot = root.GetProperty("metrics").GetProperty("spotscape").GetProperty("ari").GetDouble();
        var pca = root.GetProperty("metrics").GetProperty("pca_kmeans").GetProperty("ari").GetDouble();
        Assert.True(spot >= 0.7, $"Spotscape ARI {spot}");
        Assert.True(spot > pca + 0.1, $"Spotscape ARI {spot} vs baseline {pca}");
        var data = H5ad.Read(Path.Combine(outDir, "result.h5ad"));
        Assert.True(data.Obs.Contains("domain"));
        Assert.Equal(64, data.Obsm["X_spotscape"].Cols);
        Assert.Equal(data.NObs, File.ReadAllLines(Path.Combine(outDir, "domains.csv")).Length - 1);
        Assert.Empty(Directory.GetDirectories(dir.Path, ".demo.tmp-*"));
        // same seed again: identical domains
        var again = CliRunner.Run("demo", "--out", dir.File("demo2"));
        Assert.True(again.Code == 0, again.Err);
        Assert.Equal(File.ReadAllText(Path.Combine(outDir, "domains.csv")), File.ReadAllText(dir.File("demo2/domains.csv")));
    }

    [Fact]
    public void MissingInputIsExit2WithOneLineAndNoOutputFolder()
    {
        using var dir = new TempDir();
        var outDir = dir.File("out");
        var r = CliRunner.Run("preprocess", dir.File("nope.h5ad"), "--out", outDir);
        Assert.Equal(2, r.Code);
        Assert.StartsWith("error: ", r.Err.Trim().Split('\n')[^1]);
        Assert.Contains("nope.h5ad", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.False(Directory.Exists(outDir));
        Assert.Empty(Directory.GetDirectories(dir.Path));
    }

    [Fact]
    public void HvgLargerThanGeneCountIsRefusedAndInputIsUnchanged()
    {
        using var dir = new TempDir();
        var input = WriteCsv(dir, "t.csv", SmallTable);
        var before = Hash(input);
        var outDir = dir.File("out");
        var r = CliRunner.Run("preprocess", input, "--coords", "x,y", "--hvg", "10", "--pca", "0", "--out", outDir);
        Assert.Equal(2, r.Code);
        Assert.Contains("error: --hvg 10 is larger than the 3 genes", r.Err);
        Assert.False(Directory.Exists(outDir));
        Assert.Equal(before, Hash(input));
    }

    [Fact]
    public void NegativeCountsAreAUserError()
    {
        using var dir = new TempDir();
        var input = WriteCsv(dir, "neg.csv", SmallTable.Replace("s2,1,0,0,2,1", "s2,1,0,0,-2,1"));
        var r = CliRunner.Run("info", input, "--coords", "x,y");
        Assert.Equal(2, r.Code);
        Assert.Contains("negative", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public void ConvertThenInfoRoundTripsATable()
    {
        using var dir = new TempDir();
        var input = WriteCsv(dir, "t.csv", SmallTable);
        var h5 = dir.File("t.h5ad");
        var r = CliRunner.Run("convert", input, "--coords", "x,y", "-o", h5);
        Assert.True(r.Code == 0, r.Err);
        var d = H5ad.Read(h5);
        Assert.Equal(["s1", "s2", "s3", "s4"], d.ObsNames);
        Assert.Equal(["GeneA", "GeneB", "GeneC"], d.VarNames);
        Assert.Equal(4f, d.X[2, 0]);
        Assert.Equal(1.0, d.Spatial[2, 1]);
        // a second convert onto the same file is refused without --overwrite, and the file is untouched
        var before = Hash(h5);
        var again = CliRunner.Run("convert", input, "--coords", "x,y", "-o", h5);
        Assert.Equal(2, again.Code);
        Assert.Contains($"error: output '{h5}' exists; use --overwrite to replace it", again.Err);
        Assert.Equal(before, Hash(h5));
        var info = CliRunner.Run("info", h5);
        Assert.Equal(0, info.Code);
        Assert.Contains("4 spots x 3 genes", info.Out);
    }

    [Fact]
    public void ClusterAndEvaluateAgreeOnAKnownPartition()
    {
        using var dir = new TempDir();
        // two well separated groups in X_pca; truth in obs
        var n = 40;
        var x = CsrMatrix.FromDense(new float[n, 2]);
        var d = new SpatialData(x, new Table(Enumerable.Range(0, n).Select(i => $"c{i}").ToArray()), new Table(["g1", "g2"]));
        var pcs = new double[n * 2];
        for (int i = 0; i < n; i++) { pcs[2 * i] = (i < 20 ? -5 : 5) + 0.01 * i; pcs[2 * i + 1] = 0.02 * (i % 7); }
        d.SetObsm("X_pca", new DenseMatrix(n, 2, pcs));
        d.Obs.Set("truth", CategoricalColumn.FromLabels(Enumerable.Range(0, n).Select(i => i < 20 ? "A" : i == 39 ? null : "B").ToArray()));
        var h5 = dir.File("in.h5ad");
        H5ad.Write(d, h5);
        var r = CliRunner.Run("cluster", h5, "--method", "kmeans", "--clusters", "2", "--truth-column", "truth", "--out", dir.File("cl"));
        Assert.True(r.Code == 0, r.Err);
        var ev = CliRunner.Run("evaluate", "--pred", dir.File("cl/clusters.csv"), "--truth", WriteCsv(dir, "truth.csv",
            "spot,label\n" + string.Join("\n", Enumerable.Range(0, n).Select(i => $"c{i},{(i < 20 ? "A" : i == 39 ? "NA" : "B")}")) + "\n"));
        Assert.True(ev.Code == 0, ev.Err);
        using var j = JsonDocument.Parse(ev.Out);
        Assert.Equal(39, j.RootElement.GetProperty("n").GetInt32());
        Assert.Equal(1.0, j.RootElement.GetProperty("ari").GetDouble(), 12);
        Assert.Equal(1.0, j.RootElement.GetProperty("ca").GetDouble(), 12);
        var missingRep = CliRunner.Run("cluster", h5, "--use-rep", "X_umap", "--clusters", "2", "--out", dir.File("cl2"));
        Assert.Equal(2, missingRep.Code);
        Assert.Contains("error: obsm 'X_umap' not found; available: X_pca", missingRep.Err);
        Assert.False(Directory.Exists(dir.File("cl2")));
        // tessera umap --sample: a negative size and one not above --neighbors are one-line errors, nothing written
        var negative = CliRunner.Run("umap", h5, "--sample", "-1", "--out", dir.File("u1"));
        Assert.Equal(2, negative.Code);
        Assert.Contains("error: --sample must be 0 (all rows) or a row count, got -1", negative.Err);
        var small = CliRunner.Run("umap", h5, "--sample", "10", "--neighbors", "15", "--out", dir.File("u2"));
        Assert.Equal(2, small.Code);
        Assert.Contains("error: --sample (10) must exceed --neighbors (15)", small.Err);
        Assert.False(Directory.Exists(dir.File("u1")) || Directory.Exists(dir.File("u2")));
    }
}
