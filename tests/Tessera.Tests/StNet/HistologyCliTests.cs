using System.Globalization;
using System.Text.Json;
using Tessera.Tests.Support;

namespace Tessera.Tests.StNet;

public class HistologyCliTests
{
    /// <summary>
    /// Three synthetic sections: a 6×6 ST array (pitch 100 px, so 2 µm/px at 200 µm) on a 700-px slide whose tissue darkens
    /// from left to right; gene G1 follows the darkness, G2–G5 are noise.
    /// </summary>
    private static string Build(TempDir dir)
    {
        var rng = new Random(5);
        var lines = new List<string> { "section,counts,spots,image" };
        foreach (var sec in new[] { "S1", "S2", "S3" })
        {
            var png = dir.File($"{sec}.png");
            SyntheticSlide.Write(png, 700, 50, rng);
            var spots = new List<string> { "x\ty\tpixel_x\tpixel_y\tselected" };
            var counts = new List<string> { "\tG1\tG2\tG3\tG4\tG5" };
            for (int ax = 1; ax <= 6; ax++)
                for (int ay = 1; ay <= 6; ay++)
                {
                    double px = 100 * ax + rng.NextDouble() * 4 - 2, py = 100 * ay + rng.NextDouble() * 4 - 2;
                    spots.Add(string.Create(CultureInfo.InvariantCulture, $"{ax}\t{ay}\t{px}\t{py}\t1"));
                    double dark = (px - 50) / 600.0;
                    int g1 = (int)(5 + 60 * dark + rng.Next(0, 6));
                    counts.Add($"{ax}x{ay}\t{g1}\t{rng.Next(20, 40)}\t{rng.Next(10, 30)}\t{rng.Next(5, 25)}\t{rng.Next(1, 20)}");
                }
            File.WriteAllLines(dir.File($"{sec}_spots.tsv"), spots);
            File.WriteAllLines(dir.File($"{sec}_counts.tsv"), counts);
            lines.Add($"{sec},{sec}_counts.tsv,{sec}_spots.tsv,{sec}.png");
        }
        File.WriteAllLines(dir.File("manifest.csv"), lines);
        return dir.File("manifest.csv");
    }

    [Fact]
    public void TrainCrossValidatesWritesTablesAndAModelThatPredictSpotsAndWholeSlides()
    {
        using var dir = new TempDir();
        var manifest = Build(dir);
        var outDir = dir.File("train");
        var r = CliRunner.Run("histology", "train", "--manifest", manifest, "--genes", "5", "--no-tta", "--cache", dir.File("cache"), "--ig-patches", "2", "--ig-steps", "4", "--out", outDir);
        Assert.True(r.Code == 0, r.Err);
        foreach (var f in new[] { "genes.csv", "scores.csv", "summary.json", "run.json", "predictions_S1.csv", "model/model.json", "umap_sections.png", "umap_G1.png", "ig_G1.png" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), $"{f} missing");
        var genes = File.ReadAllLines(Path.Combine(outDir, "genes.csv"));
        Assert.Equal(6, genes.Length);
        var g1 = genes.Single(l => l.StartsWith("G1,", StringComparison.Ordinal)).Split(',');
        double r1 = double.Parse(g1[2], CultureInfo.InvariantCulture);
        Assert.True(r1 > 0.6, $"G1 held-out Pearson {r1}"); // G1 follows the tissue colour
        Assert.Equal("3", g1[4]); // positive in all three held-out sections
        Assert.Equal(3 * 5 * 2 + 1, File.ReadAllLines(Path.Combine(outDir, "scores.csv")).Length); // sections × genes × {stnet, colour}
        Assert.Equal(37, File.ReadAllLines(Path.Combine(outDir, "predictions_S1.csv")).Length);
        Assert.NotEmpty(Directory.GetFiles(outDir, "map_*_predicted.png"));
        using (var s = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json"))))
        {
            Assert.Equal("resnet18-imagenet", s.RootElement.GetProperty("backbone").GetString());
            Assert.Equal(108, s.RootElement.GetProperty("spots").GetInt32());
        }

        var pred = dir.File("pred");
        r = CliRunner.Run("histology", "predict", "--model", outDir, "--image", dir.File("S2.png"), "--spots", dir.File("S2_spots.tsv"), "--out", pred);
        Assert.True(r.Code == 0, r.Err);
        var rows = File.ReadAllLines(Path.Combine(pred, "predictions.csv"));
        Assert.Equal("spot,pixel_x,pixel_y,G1,G2,G3,G4,G5", rows[0].Replace("\"", ""));
        Assert.Equal(37, rows.Length);
        Assert.StartsWith("1x1,", rows[1]);
        // the final model (trained on all sections, S2 included) ranks dark spots above light ones for G1
        double G1(string row) => double.Parse(row.Split(',')[3], CultureInfo.InvariantCulture);
        Assert.True(rows.Skip(1).Where(l => l.StartsWith("6x", StringComparison.Ordinal)).Average(G1) > rows.Skip(1).Where(l => l.StartsWith("1x", StringComparison.Ordinal)).Average(G1));

        var slide = dir.File("slide");
        r = CliRunner.Run("histology", "predict", "--model", outDir, "--image", dir.File("S3.png"), "--out", slide);
        Assert.True(r.Code == 0, r.Err);
        var tiles = File.ReadAllLines(Path.Combine(slide, "predictions.csv"));
        // 75-px tiles: 9 × 9 grid; the outer ring is mostly glass and dropped, the 7 × 7 inside is tissue (edge tiles vary)
        Assert.InRange(tiles.Length - 1, 49, 64);
        Assert.Equal(6, File.ReadAllLines(Path.Combine(slide, "pseudobulk.csv")).Length);
    }

    [Fact]
    public void BadInput_OneMessageAndExitTwo()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("histology", "train", "--manifest", dir.File("none.csv"), "--out", dir.File("o"));
        Assert.Equal(2, r.Code);
        Assert.Contains($"manifest '{dir.File("none.csv")}' does not exist", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        // (the output must lie outside the --model folder, an input)
        r = CliRunner.Run("histology", "predict", "--model", Directory.CreateDirectory(dir.File("nomodel")).FullName, "--image", dir.File("x.png"), "--out", dir.File("o2"));
        Assert.Equal(2, r.Code);
        Assert.Contains("holds no ST-Net model (model.json missing)", r.Err);
        var m = Build(dir);
        r = CliRunner.Run("histology", "train", "--manifest", m, "--genes", "5", "--backbone", "vgg", "--out", dir.File("o3"));
        Assert.Equal(2, r.Code);
        Assert.True(r.Err.Contains("backbone 'vgg' is unknown (resnet18-imagenet, densenet121)"), r.Err);
    }
}
