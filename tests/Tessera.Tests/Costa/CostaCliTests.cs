using Tessera.IO;
using Tessera.Tests.Support;

namespace Tessera.Tests.Costa;

public class CostaCliTests
{
    [SkippableFact]
    public void SimulateThenPatternsWritesAllOutputs()
    {
        var dir = SharedData.Require("mob_rep11");
        using var tmp = new TempDir();
        var sim = tmp.File("sim.h5ad");
        var r1 = CliRunner.Run("simulate", "patterns", "--base", Path.Combine(dir, "Rep11_MOB_counts.csv.gz"), "--genes-per-pattern", "8", "--noise", "0.2", "--seed", "1", "-o", sim);
        Assert.True(r1.Code == 0, r1.Err + r1.Out);
        var d = H5ad.Read(sim);
        Assert.Equal(40, d.NVars);
        var outDir = tmp.File("out");
        var r2 = CliRunner.Run("patterns", sim, "--image-size", "24", "--clusters", "4", "--gene-clusters", "5", "--epochs", "1", "--models", "2",
            "--batch-size", "8", "--umap-epochs", "20", "--min-spots", "1", "--query", "pattern1_0001", "--scale-max", "--preset", "authors", "--out", outDir);
        Assert.True(r2.Code == 0, r2.Err + r2.Out);
        Assert.Contains("preset: authors: log-normalize off, standardize off, regress-out on, scale-max on", r2.Err + r2.Out);
        foreach (var f in new[] { "result.h5ad", "genes.csv", "correlated.csv", "training.csv", "gene_umap.png", "cluster_images.png", "nmi.png", "query_images.png" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        var res = H5ad.Read(Path.Combine(outDir, "result.h5ad"));
        Assert.Equal(40, res.NObs);
        Assert.Equal(128, res.Obsm["X_costa"].Cols);
        Assert.True(res.Obsm.ContainsKey("X_costa_2"));
        Assert.Equal(5, File.ReadAllLines(Path.Combine(outDir, "training.csv")).Length); // header + 2 models × 2 rows
        foreach (var f in new[] { "correlated_set.csv" }) Assert.True(File.Exists(Path.Combine(outDir, f)), f);

        // `correlated` on the saved result reproduces the run's query outputs without training
        var q = tmp.File("q");
        var rq = CliRunner.Run("correlated", outDir, "--query", "pattern1_0001", "--out", q);
        Assert.True(rq.Code == 0, rq.Err + rq.Out);
        foreach (var f in new[] { "correlated.csv", "correlated_set.csv" })
            Assert.Equal(File.ReadAllText(Path.Combine(outDir, f)), File.ReadAllText(Path.Combine(q, f)));
        Assert.True(File.Exists(Path.Combine(q, "query_images.png")));
        var se = res.Obs.Labels("se").Select(v => v is "True" or "true").ToArray();
        int candidates = se.Count(b => b) - (se[Array.IndexOf(res.ObsNames, "pattern1_0001")] ? 1 : 0); // SE genes other than the query
        Assert.Equal(candidates + 1, File.ReadAllLines(Path.Combine(q, "correlated.csv")).Length);
        var rBad = CliRunner.Run("correlated", sim, "--query", "pattern1_0001", "--out", tmp.File("qbad"));
        Assert.Equal(2, rBad.Code);
        Assert.Contains("has no obsm 'X_costa': not a CoSTA result", rBad.Err + rBad.Out);
        rBad = CliRunner.Run("correlated", outDir, "--query", "Nope", "--out", tmp.File("qbad2"));
        Assert.Equal(2, rBad.Code);
        Assert.Contains("gene 'Nope' is not among the 40 gene images", rBad.Err + rBad.Out);
        rBad = CliRunner.Run("correlated", outDir, "--query", "pattern1_0001", "--min-models", "3", "--out", tmp.File("qbad3"));
        Assert.Equal(2, rBad.Code);
        Assert.Contains("--min-models must be between 1 and the 2 models but is 3", rBad.Err + rBad.Out);
        var bad = CliRunner.Run("patterns", sim, "--query", "NoSuchGene", "--out", tmp.File("bad"));
        Assert.Equal(2, bad.Code);
        Assert.Contains("gene 'NoSuchGene' is not among the 40 gene images", bad.Err + bad.Out);

        // The default preset (spot arrays) = --log-normalize --no-regress --standardize: said in the log, recorded in run.json, and
        // every gene image in result.h5ad has mean 0, sd 1 in tissue
        var out2 = tmp.File("out2");
        var r3 = CliRunner.Run("patterns", sim, "--image-size", "24", "--clusters", "4", "--gene-clusters", "5", "--epochs", "1", "--models", "1",
            "--batch-size", "8", "--umap-epochs", "20", "--min-spots", "1", "--out", out2);
        Assert.True(r3.Code == 0, r3.Err + r3.Out);
        Assert.Contains("preset: spot-arrays (the default; --preset authors for the authors' raw-count images): log-normalize on, standardize on, regress-out off", r3.Err + r3.Out);
        // The explicit flags on top of the default preset change nothing: the same run.
        var out3 = tmp.File("out3");
        var r4 = CliRunner.Run("patterns", sim, "--image-size", "24", "--clusters", "4", "--gene-clusters", "5", "--epochs", "1", "--models", "1",
            "--batch-size", "8", "--umap-epochs", "20", "--min-spots", "1", "--log-normalize", "--no-regress", "--standardize", "--out", out3);
        Assert.True(r4.Code == 0, r4.Err + r4.Out);
        Assert.Equal(File.ReadAllText(Path.Combine(out2, "genes.csv")), File.ReadAllText(Path.Combine(out3, "genes.csv")));
        using (var run = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(out2, "run.json"))))
        {
            var prm = run.RootElement.GetProperty("parameters");
            Assert.Equal("spot-arrays", prm.GetProperty("Preset").GetString());
            Assert.True(prm.GetProperty("LogNormalize").GetBoolean());
            Assert.True(prm.GetProperty("Standardize").GetBoolean());
            Assert.False(prm.GetProperty("RegressOutTotal").GetBoolean());
        }
        var img = H5ad.Read(Path.Combine(out2, "result.h5ad"));
        var inTissue = img.Var.Labels("in_tissue").Select(v => v == "True" || v == "true" || v == "1").ToArray();
        Assert.Contains(true, inTissue);
        var x = img.X;
        for (int g = 0; g < img.NObs; g++)
        {
            var v = new double[img.NVars];
            for (int k = x.IndPtr[g]; k < x.IndPtr[g + 1]; k++) v[x.Indices[k]] = x.Data[k];
            var t = v.Where((_, j) => inTissue[j]).ToArray();
            double mean = t.Average();
            Assert.Equal(0, mean, 4);
            Assert.Equal(1, Math.Sqrt(t.Select(a => (a - mean) * (a - mean)).Average()), 3);
        }
    }

    [Fact]
    public void LibraryMessagesNameTheFlags()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run("patterns", tmp.File("none.h5ad"), "--models", "0", "--out", tmp.File("o1"));
        Assert.Equal(2, r.Code);
        Assert.Contains("--models must be at least 1 but is 0", r.Err + r.Out);
        r = CliRunner.Run("patterns", tmp.File("none.h5ad"), "--gene-clusters", "1", "--out", tmp.File("o2"));
        Assert.Contains("--gene-clusters must be at least 2 but is 1", r.Err + r.Out);
        r = CliRunner.Run("simulate", "patterns", "--base", tmp.File("none.h5ad"), "--noise", "-1", "-o", tmp.File("s.h5ad"));
        Assert.Equal(2, r.Code);
        Assert.Contains("--noise must be a variance >= 0 but is -1", r.Err + r.Out);
    }
}
