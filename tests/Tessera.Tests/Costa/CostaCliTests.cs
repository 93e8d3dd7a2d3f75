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
            "--batch-size", "8", "--umap-epochs", "20", "--min-spots", "1", "--query", "pattern1_0001", "--scale-max", "--out", outDir);
        Assert.True(r2.Code == 0, r2.Err + r2.Out);
        foreach (var f in new[] { "result.h5ad", "genes.csv", "correlated.csv", "training.csv", "gene_umap.png", "cluster_images.png", "nmi.png", "query_images.png" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        var res = H5ad.Read(Path.Combine(outDir, "result.h5ad"));
        Assert.Equal(40, res.NObs);
        Assert.Equal(128, res.Obsm["X_costa"].Cols);
        Assert.True(res.Obsm.ContainsKey("X_costa_2"));
        Assert.Equal(5, File.ReadAllLines(Path.Combine(outDir, "training.csv")).Length); // header + 2 models × 2 rows
        var bad = CliRunner.Run("patterns", sim, "--query", "NoSuchGene", "--out", tmp.File("bad"));
        Assert.Equal(2, bad.Code);
        Assert.Contains("gene 'NoSuchGene' is not among the 40 gene images", bad.Err + bad.Out);

        // --log-normalize --standardize: recorded in run.json, and every gene image in result.h5ad has mean 0, sd 1 in tissue
        var out2 = tmp.File("out2");
        var r3 = CliRunner.Run("patterns", sim, "--image-size", "24", "--clusters", "4", "--gene-clusters", "5", "--epochs", "1", "--models", "1",
            "--batch-size", "8", "--umap-epochs", "20", "--min-spots", "1", "--log-normalize", "--no-regress", "--standardize", "--out", out2);
        Assert.True(r3.Code == 0, r3.Err + r3.Out);
        using (var run = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(out2, "run.json"))))
        {
            var prm = run.RootElement.GetProperty("parameters");
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
}
