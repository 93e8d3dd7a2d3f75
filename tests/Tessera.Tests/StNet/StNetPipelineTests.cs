using Tessera.Analysis;
using Tessera.Data;
using Tessera.Methods.StNet;
using Tessera.Tests.Support;
using static TorchSharp.torch;

namespace Tessera.Tests.StNet;

public class RidgeTests
{
    private static readonly DenseMatrix X = new(6, 3, [1, 2, 0.5, 2, 1, 1.5, 3, 4, 0.0, 4, 3, 2.0, 5, 6, 1.0, 6, 5, 3.0]);
    private static readonly DenseMatrix Y = new(6, 2, [1.0, 0.3, 2.1, 0.1, 2.9, 0.8, 4.2, 0.2, 5.1, 0.9, 5.8, 0.4]);

    [Fact]
    public void FixedPenalty_MatchesSklearnRidgeOnStandardisedFeatures()
    {
        // sklearn 1.2.1: Ridge(alpha=0.5).fit((X - mean) / std, Y); coef_.T, intercept_, predict of one new row
        var m = Ridge.Fit(X, Y, [0.5]);
        double[] coef = [0.9595119966829596, 0.07051172526047163, 0.4817288779417217, 0.19324719090847475, 0.365363588357896, -0.19317874983418515];
        for (int i = 0; i < coef.Length; i++) Assert.Equal(coef[i], m.Coefficients.Data[i], 10);
        Assert.Equal(3.516666666666666, m.Intercept[0], 12);
        Assert.Equal(0.45, m.Intercept[1], 12);
        var p = m.Predict(new DenseMatrix(1, 3, [2.5, 2.5, 1.0]));
        Assert.Equal(2.549246985367664, p[0, 0], 10);
        Assert.Equal(0.3608649296201384, p[0, 1], 10);
    }

    [Fact]
    public void Gcv_PicksThePenaltyWithTheSmallestScorePerTarget()
    {
        // numpy by hand: GCV = n·RSS/(n − tr H − 1)² is 0.1270/0.2402/3.431 (target 0) and 0.01272/0.01396/0.1225 (target 1) for λ = 0.01, 1, 100
        var m = Ridge.Fit(X, Y, [1, 100, 0.01]);
        Assert.Equal([0.01, 0.01], m.Lambda);
        // pure noise targets: the largest penalty wins and predictions collapse to the mean
        var rng = new Random(3);
        var noise = new DenseMatrix(200, 1, [.. Enumerable.Range(0, 200).Select(_ => rng.NextDouble())]);
        var xs = new DenseMatrix(200, 20, [.. Enumerable.Range(0, 4000).Select(_ => rng.NextDouble())]);
        var fit = Ridge.Fit(xs, noise);
        Assert.True(fit.Lambda[0] >= 1e3, $"λ {fit.Lambda[0]}");
        var pred = fit.Predict(xs).Data;
        double sd(double[] v) => Math.Sqrt(v.Select(a => (a - v.Average()) * (a - v.Average())).Average());
        Assert.True(sd(pred) < 0.05 * sd(noise.Data), $"prediction sd {sd(pred)} vs noise sd {sd(noise.Data)}");
    }

    [Fact]
    public void BadInput_ExactMessages()
    {
        Assert.Equal("ridge: x has 6 rows but y has 2", Assert.Throws<TesseraException>(() => Ridge.Fit(X, new DenseMatrix(2, 1))).Message);
        var bad = new DenseMatrix(6, 3, (double[])X.Data.Clone()); bad[2, 1] = double.NaN;
        Assert.Equal("ridge: features contain NaN or infinity", Assert.Throws<TesseraException>(() => Ridge.Fit(bad, Y)).Message);
        Assert.Equal("ridge model expects 3 features but got 2", Assert.Throws<TesseraException>(() => Ridge.Fit(X, Y).Predict(new DenseMatrix(1, 2))).Message);
    }
}

public class StNetPiecesTests
{
    private static HistologySection Section(float[,] counts, string[] genes, double[] ax, double[] ay)
    {
        var obs = Enumerable.Range(0, counts.GetLength(0)).Select(i => $"{ax[i]}x{ay[i]}").ToArray();
        var data = new SpatialData(CsrMatrix.FromDense(counts), new Table(obs), new Table(genes));
        return new HistologySection { Name = "s", Counts = data, PixelX = [.. ax.Select(a => a * 10)], PixelY = [.. ay.Select(a => a * 10)], ArrayX = ax, ArrayY = ay, ImagePath = "none" };
    }

    [Fact]
    public void Targets_AuthorsTransformAndTopGenes_ByHand()
    {
        var s = Section(new float[,] { { 3, 0, 1 }, { 1, 2, 0 } }, ["A", "B", "C"], [1, 2], [1, 1]);
        Assert.Equal(["A", "B"], StNetTargets.TopGenes([s], 2)); // means 2, 1, 0.5
        var y = StNetTargets.Compute(s, ["A", "C", "Z"], 5, TargetTransform.StNetLog);
        // log((1 + c) / (G + total)): totals 4 and 3, G = 5; an absent gene counts 0
        Assert.Equal(Math.Log(4.0 / 9), y[0, 0], 12);
        Assert.Equal(Math.Log(2.0 / 9), y[0, 1], 12);
        Assert.Equal(Math.Log(1.0 / 9), y[0, 2], 12);
        Assert.Equal(Math.Log(2.0 / 8), y[1, 0], 12);
        var c = StNetTargets.Compute(s, ["A"], 5, TargetTransform.Log1pCpm);
        Assert.Equal(Math.Log(1 + 0.75e6), c[0, 0], 9);
        Assert.Equal("asked for 4 genes but the sections have only 3", Assert.Throws<TesseraException>(() => StNetTargets.TopGenes([s], 4)).Message);
    }

    [Fact]
    public void Smooth3x3_AveragesTheArrayNeighbourhood()
    {
        // spots at (0,0), (1,0), (1,1), (3,3): the last has no neighbour
        var y = new DenseMatrix(4, 1, [1, 2, 4, 8]);
        var s = StNetFrozen.Smooth3x3(y, [0, 1, 1, 3], [0, 0, 1, 3]);
        Assert.Equal([7 / 3.0, 7 / 3.0, 7 / 3.0, 8], s.Data);
    }

    [Fact]
    public void PixelsPerArrayStep_FromTheArrayFit()
    {
        var s = Section(new float[,] { { 1 }, { 1 }, { 1 }, { 1 } }, ["A"], [1, 2, 3, 5], [4, 4, 6, 6]);
        Assert.Equal(10, s.PixelsPerArrayStep(), 9);
        // no array coordinates: the median nearest-neighbour pixel distance (a 3×3 lattice of pitch 7 plus one spot 20 away)
        double[] px = [0, 7, 14, 0, 7, 14, 0, 7, 14, 34], py = [0, 0, 0, 7, 7, 7, 14, 14, 14, 14];
        Assert.Equal(7, new SpotPositions([.. Enumerable.Range(0, 10).Select(i => $"s{i}")], px, py, null, null).PixelsPerArrayStep(), 9);
    }

    private static TissueImage Gradient(int w, int h)
    {
        var rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) { rgb[(y * w + x) * 3] = (byte)x; rgb[(y * w + x) * 3 + 1] = (byte)y; rgb[(y * w + x) * 3 + 2] = 7; }
        return new TissueImage("g", w, h, rgb, 1);
    }

    [Fact]
    public void Patches_BilinearWindowAndEdgeSpotsDropped()
    {
        var img = Gradient(100, 80);
        // window 20 px at (50, 40) resampled to 10 px: pixel c samples x = 40 + (c + 0.5)·2 − 0.5 = 40.5 + 2c → 40.5 … 58.5
        var set = Patches.FromImage(img, [50, 5, 90], [40, 40, 40], 20, 10);
        Assert.Equal([0, 2], set.SpotIndex); // x = 5 leaves the image on the left
        byte R(int patch, int r, int c, int ch) => set.Rgb[((patch * 10 + r) * 10 + c) * 3 + ch];
        Assert.Equal(40, R(0, 0, 0, 0)); // 40.5 rounds half to even
        Assert.Equal(50, R(0, 0, 5, 0)); // 50.5 → 50
        Assert.Equal(58, R(0, 0, 9, 0)); // 58.5 → 58
        Assert.Equal(32, R(0, 1, 0, 1)); // y = 30 + 1.5·2 − 0.5 = 32.5 → 32
        Assert.Equal(7, R(1, 5, 5, 2));
        using var batch = set.Batch(0, 2);
        Assert.Equal(new long[] { 2, 3, 10, 10 }, batch.shape);
        Assert.Equal((float)R(0, 3, 4, 1), batch[0, 1, 3, 4].item<float>());
    }

    [Fact]
    public void EightSymmetries_AreTheDihedralGroupOfTheBatch()
    {
        using var x = arange(2 * 3 * 4 * 4, dtype: ScalarType.Float32).reshape(2, 3, 4, 4);
        var views = Patches.EightSymmetries(x).ToList();
        Assert.Equal(8, views.Count);
        Assert.True(views[0].eq(x).all().item<bool>());
        var keys = views.Select(v => string.Join(",", v[0, 0].flatten().data<float>().ToArray())).ToHashSet();
        Assert.Equal(8, keys.Count); // all distinct
        foreach (var v in views) Assert.Equal(x.sum().item<float>(), v.sum().item<float>()); // pixels permuted, not changed
        Assert.True(views[4].eq(x.rot90(1, (2, 3))).all().item<bool>());
    }

    [Fact]
    public void Patches_CacheRoundTripsAndADamagedCacheIsRebuilt()
    {
        using var dir = new TempDir();
        var img = Gradient(64, 64);
        var png = dir.File("g.png");
        using (var bmp = new SkiaSharp.SKBitmap(64, 64, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque))
        {
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++) bmp.SetPixel(x, y, new SkiaSharp.SKColor((byte)x, (byte)y, 7));
            using var png8 = bmp.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(png, png8.ToArray());
        }
        var cache = dir.File("cache");
        var a = Patches.Extract(png, [32, 20], [32, 30], 16, 8, cache);
        var files = Directory.GetFiles(cache);
        Assert.Single(files);
        var b = Patches.Extract(png, [32, 20], [32, 30], 16, 8, cache);
        Assert.Equal(a.Rgb, b.Rgb);
        Assert.Equal(Patches.FromImage(img, [32, 20], [32, 30], 16, 8).Rgb, a.Rgb);
        File.WriteAllBytes(files[0], [1, 2, 3]);
        Assert.Equal(a.Rgb, Patches.Extract(png, [32, 20], [32, 30], 16, 8, cache).Rgb);
        Assert.Equal($"image '{dir.File("nope.png")}' does not exist", Assert.Throws<TesseraException>(() => Patches.Extract(dir.File("nope.png"), [1], [1], 16)).Message);
    }

    [Fact]
    public void ColorFeatures_OfAUniformPatch()
    {
        var rgb = new byte[4 * 4 * 3];
        for (int i = 0; i < 16; i++) { rgb[3 * i] = 255; rgb[3 * i + 1] = 0; rgb[3 * i + 2] = 64; }
        var f = ColorFeatures.Compute(new PatchSet(4, rgb, [0]));
        Assert.Equal(1.0, f[0, 0], 12); Assert.Equal(0.0, f[0, 1], 12); Assert.Equal(64 / 255.0, f[0, 2], 12);
        Assert.Equal(0.0, f[0, 3], 6); // no spread
        // HSV of (1, 0, 0.251): max is red, hue = ((g − b)/c mod 6)/6 = (−0.251 + 6)/6
        Assert.Equal((6 - 64 / 255.0) / 6, f[0, 6], 12); Assert.Equal(1.0, f[0, 7], 12); Assert.Equal(1.0, f[0, 8], 12);
        Assert.Equal(1.0, f[0, 12 + 7], 12); // red in the top bin
        Assert.Equal(1.0, f[0, 12 + 8], 12); // green in the bottom bin
        Assert.Equal(1.0, f[0, 12 + 16 + 2], 12); // blue 64 → bin 2
    }

    [Fact]
    public void SpotFileAndManifest_BadInputMessages()
    {
        using var dir = new TempDir();
        var spots = dir.File("spots.tsv");
        File.WriteAllText(spots, "x\ty\tpixel_x\n1\t2\t3\n");
        Assert.Equal($"spot file '{spots}' has no pixel_x/pixel_y columns (columns: x, y, pixel_x)", Assert.Throws<TesseraException>(() => SpotPositions.Read(spots)).Message);
        File.WriteAllText(spots, "x\ty\tpixel_x\tpixel_y\n1\t2\t3\t4\n1\t2\t5\t6\n");
        Assert.Equal($"spot file '{spots}' lists spot '1x2' twice", Assert.Throws<TesseraException>(() => SpotPositions.Read(spots)).Message);
        File.WriteAllText(spots, "x\ty\tpixel_x\tpixel_y\tselected\n1\t2\t3\t4\t1\n1\t3\tNaN\t6\t1\n");
        Assert.Equal($"spot file '{spots}' line 3: pixel_x 'NaN' is not a finite number", Assert.Throws<TesseraException>(() => SpotPositions.Read(spots)).Message);
        File.WriteAllText(spots, "x\ty\tpixel_x\tpixel_y\tselected\n1\t2\t3\t4\t1\n1\t3\t5\t6\t0\n");
        var ok = SpotPositions.Read(spots);
        Assert.Equal(["1x2"], ok.Ids);
        var man = dir.File("m.csv");
        File.WriteAllText(man, "section,counts,spots\nA,a,b\n");
        Assert.Equal($"manifest '{man}' has no column 'image' (columns: section, counts, spots; need section, counts, spots, image and optionally patient)",
            Assert.Throws<TesseraException>(() => HistologyManifest.Read(man)).Message);
        File.WriteAllText(man, $"section,counts,spots,image\nA,{spots},{spots},{spots}\nA,{spots},{spots},{spots}\n");
        Assert.Equal($"manifest '{man}' names section 'A' twice", Assert.Throws<TesseraException>(() => HistologyManifest.Read(man)).Message);
        File.WriteAllText(man, "section,counts,spots,image\nA,missing.tsv,spots.tsv,spots.tsv\n");
        Assert.Equal($"manifest '{man}' section 'A': counts file '{dir.File("missing.tsv")}' does not exist", Assert.Throws<TesseraException>(() => HistologyManifest.Read(man)).Message);
    }

    [SkippableFact]
    public void Her2st_C2_LoadsAllSpotsWithTheirPixels()
    {
        var root = SharedData.Require("her2st");
        var s = HistologySection.Load(new HistologySectionSpec("C2", Path.Combine(root, "counts/C2.tsv.gz"), Path.Combine(root, "spotfiles/C2_selection.tsv.gz"),
            Path.Combine(root, "images/C2_5714_HE_BT_C2.jpg"), null));
        Assert.Equal(187, s.NSpots);
        int i = Array.IndexOf(s.Counts.ObsNames, "25x13");
        Assert.True(i >= 0);
        Assert.Equal(6930.58, s.PixelX[i], 6); Assert.Equal(3510.24, s.PixelY[i], 6); // spot file line 2
        Assert.InRange(s.PixelsPerArrayStep(), 280, 300); // ~1.45 px/µm at the 200 µm ST pitch
        Assert.InRange(StNetFrozen.WindowPixels(s, new StNetOptions()), 205, 230);
    }
}
