using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.Costa;
using Tessera.Simulate;
using Tessera.Tests.Support;

namespace Tessera.Tests.Costa;

public class GeneImagesTests
{
    [Fact]
    public void ResizeFollowsOpenCvInterLinear()
    {
        // cv2.resize([[0,1],[2,3]], (4,4)) by hand: source coordinate (d + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped at the edges.
        var dst = new float[16];
        GeneImages.Resize(new float[] { 0, 1, 2, 3 }, 2, 2, dst, 4, 4);
        float[] expected = [0, 0.25f, 0.75f, 1, 0.5f, 0.75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3];
        for (int i = 0; i < 16; i++) Assert.Equal(expected[i], dst[i], 5);
    }

    [Fact]
    public void RegressOutMatchesLeastSquares()
    {
        // Reference: per gene lstsq on [1, log(total+1)], subtract only the covariate term (NaiveDE.regress_out), computed in python.
        float[] px = [1, 2, 0, 4, 3, 5, 0, 1, 1, 2, 6, 2, 3, 0, 2, 1, 1, 4];
        GeneImages.RegressOutTotal(px, 3, 6, Enumerable.Repeat(true, 6).ToArray());
        double[] expected = [-4.16171, -2.446055, -4.446055, -2.669082, -4.690411, -2.96947,
            -4.695774, -3.044719, -3.044719, -4.067079, -0.996215, -5.250083,
            1.408657, -1.370708, 0.629292, -1.056062, -1.370935, 1.543032];
        for (int i = 0; i < 18; i++) Assert.Equal(expected[i], px[i], 4);
    }

    private static SpatialData StGrid()
    {
        // 3×2 ST-like array; spot ids "x x y" with jitter as in the MOB data.
        var ids = new[] { "1.02x1.01", "2.05x0.98", "3.0x1.0", "0.97x2.03", "2.01x2.0", "3.04x1.96" };
        var dense = new float[6, 2];
        for (int s = 0; s < 6; s++) { dense[s, 0] = s + 1; dense[s, 1] = s == 4 ? 10 : 0; }
        var d = new SpatialData(CsrMatrix.FromDense(dense), new Table(ids), new Table(["A", "B"]));
        var sp = new DenseMatrix(6, 2);
        for (int s = 0; s < 6; s++) { var parts = ids[s].Split('x'); sp[s, 0] = double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture); sp[s, 1] = double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture); }
        d.SetObsm(SpatialData.SpatialKey, sp);
        return d;
    }

    [Fact]
    public void GridLayoutPlacesSpotsOnTheirArrayPositions()
    {
        var d = StGrid();
        // Size 8 keeps the test tiny; resizing a 2×3 grid to 8×8 without regression keeps corner values exactly.
        var img = GeneImages.FromSpatial(d, new GeneImageOptions { Size = 8, RegressOutTotal = false });
        Assert.Equal(new[] { "A", "B" }, img.Genes);
        var a = img.Image(0);
        Assert.Equal(1f, a[0]);            // spot (1,1) top-left
        Assert.Equal(3f, a[7]);            // spot (3,1) top-right
        Assert.Equal(4f, a[56]);           // spot (1,2) bottom-left
        Assert.Equal(6f, a[63]);           // spot (3,2) bottom-right
        Assert.All(img.Mask, Assert.True); // the array is full
        var b = img.Image(1);
        Assert.True(b[4 * 8 + 4] > b[0]);  // gene B lives at the middle-bottom spot
    }

    /// <summary>The same 3×2 array with its coordinates scaled and shifted (as binned Stereo-seq DNB origins: 9600, 9610, ...).</summary>
    private static SpatialData Scaled(SpatialData d, double step, double origin)
    {
        var sp = d.Spatial;
        var scaled = new DenseMatrix(sp.Rows, 2);
        for (int i = 0; i < sp.Rows; i++) { scaled[i, 0] = origin + step * Math.Round(sp[i, 0]); scaled[i, 1] = origin + step * Math.Round(sp[i, 1]); }
        d.SetObsm(SpatialData.SpatialKey, scaled);
        return d;
    }

    [Fact]
    public void GridLayoutDividesALatticeStep()
    {
        // Without dividing by the step 10, a 21×31 lattice with 6 filled positions would leave most of the tissue mask empty.
        var reference = GeneImages.FromSpatial(StGrid(), new GeneImageOptions { Size = 8, RegressOutTotal = false });
        var stepped = GeneImages.FromSpatial(Scaled(StGrid(), 10, 9600), new GeneImageOptions { Size = 8, RegressOutTotal = false });
        Assert.Equal(reference.Pixels, stepped.Pixels);
        Assert.Equal(reference.Mask, stepped.Mask);
        Assert.All(stepped.Mask, Assert.True);
    }

    [Fact]
    public void ArrayColumnsAreHalvedOnlyForVisiumsHexArray()
    {
        // Square bins (Visium HD): row + col takes odd values, columns step by 1 and are kept; the 3×2 array fills the image.
        var square = StGrid();
        square.Obs.Set("array_row", new NumericColumn([0, 0, 0, 1, 1, 1], true));
        square.Obs.Set("array_col", new NumericColumn([0, 1, 2, 0, 1, 2], true));
        var img = GeneImages.FromSpatial(square, new GeneImageOptions { Size = 8, RegressOutTotal = false });
        Assert.All(img.Mask, Assert.True);
        Assert.Equal(3f, img.Image(0)[7]);   // spot 3 (col 2, row 0) top-right
        // Visium hex: row + col always even, columns step by 2 and are halved to the same 3×2 image.
        var hex = StGrid();
        hex.Obs.Set("array_row", new NumericColumn([0, 0, 0, 1, 1, 1], true));
        hex.Obs.Set("array_col", new NumericColumn([0, 2, 4, 1, 3, 5], true));
        var himg = GeneImages.FromSpatial(hex, new GeneImageOptions { Size = 8, RegressOutTotal = false });
        Assert.All(himg.Mask, Assert.True);
        Assert.Equal(img.Pixels, himg.Pixels);
    }

    [Fact]
    public void LogNormalizeScalesSpotsToTheMedianTotalThenLog1p()
    {
        // Spot totals 1, 2, 3, 4, 15, 6 -> median 3.5. Gene A = s + 1 in spot s, so A/total*3.5 = 3.5 except spot 4 (5/15*3.5).
        var img = GeneImages.FromSpatial(StGrid(), new GeneImageOptions { Size = 8, RegressOutTotal = false, LogNormalize = true });
        var a = img.Image(0);
        Assert.Equal(Math.Log(4.5), a[0], 5);   // spot (1,1)
        Assert.Equal(Math.Log(4.5), a[63], 5);  // spot (3,2)
        Assert.Equal(0f, img.Image(1)[0]);      // gene B is absent from spot (1,1)
        var neg = StGrid();
        neg.X.Data[0] = -1;
        var ex = Assert.Throws<TesseraException>(() => GeneImages.FromSpatial(neg, new GeneImageOptions { Size = 8, LogNormalize = true }));
        Assert.Equal("log-normalising gene images needs non-negative counts, but the data has negative values (z-scored input?)", ex.Message);
    }

    [Fact]
    public void StandardizeGivesEachGeneZeroMeanUnitVarianceInsideTheTissue()
    {
        var img = GeneImages.FromSpatial(StGrid(), new GeneImageOptions { Size = 8, RegressOutTotal = false, Standardize = true });
        for (int g = 0; g < 2; g++)
        {
            var v = img.Image(g).ToArray().Select(x => (double)x).ToArray();
            double mean = v.Average();
            Assert.Equal(0, mean, 5);
            Assert.Equal(1, v.Select(x => (x - mean) * (x - mean)).Average(), 4);
        }
        // a constant image has nothing to scale: it becomes 0 rather than NaN
        float[] px = [2, 2, 2, 2, 1, 2, 3, 9];
        GeneImages.Standardize(px, 2, 4, [true, true, true, false]);
        Assert.Equal(new float[] { 0, 0, 0, 2 }, px[..4]);
        Assert.Equal(-1.224745, px[4], 5);
        Assert.Equal(9f, px[7]); // outside the mask: untouched
    }

    [Fact]
    public void PointLayoutBinsCounts()
    {
        var d = StGrid();
        var img = GeneImages.FromSpatial(d, new GeneImageOptions { Size = 8, Layout = ImageLayout.Points, BinSize = 10, RegressOutTotal = false });
        // A bin of 10 units holds every spot: the 1×1 grid resizes to a constant image of the gene's total.
        Assert.All(img.Image(0).ToArray(), v => Assert.Equal(21f, v));
    }

    [Fact]
    public void GenesRasteriseInParallelExactlyAsOneSpotAfterAnother()
    {
        // 400 spots on random points, several per bin, 300 genes: the per-gene parallel rasterisation must give, bit for
        // bit, the sequential definition (every spot's count added to its bin in spot order, then the bilinear resize),
        // whatever the thread scheduling.
        var rng = new Random(5);
        int spots = 400, genes = 300, bins = 12;
        var dense = new float[spots, genes];
        for (int s = 0; s < spots; s++) for (int g = 0; g < genes; g++) if (rng.NextDouble() < 0.3) dense[s, g] = (float)(rng.NextDouble() * 7.3);
        var d = new SpatialData(CsrMatrix.FromDense(dense), new Table(Enumerable.Range(0, spots).Select(i => $"s{i}").ToArray()),
            new Table(Enumerable.Range(0, genes).Select(i => $"g{i}").ToArray()));
        var sp = new DenseMatrix(spots, 2);
        for (int s = 0; s < spots; s++) { sp[s, 0] = rng.NextDouble() * bins; sp[s, 1] = rng.NextDouble() * bins; }
        sp[0, 0] = 0; sp[0, 1] = 0; sp[1, 0] = bins - 0.5; sp[1, 1] = bins - 0.5; // fix the extent
        d.SetObsm(SpatialData.SpatialKey, sp);
        var img = GeneImages.FromSpatial(d, new GeneImageOptions { Size = 16, Layout = ImageLayout.Points, BinSize = 1, RegressOutTotal = false });
        Assert.Equal(genes, img.Count);
        var grid = new float[bins * bins]; var expected = new float[16 * 16];
        for (int g = 0; g < genes; g++)
        {
            Array.Clear(grid);
            for (int s = 0; s < spots; s++) grid[(int)Math.Floor(sp[s, 1]) * bins + (int)Math.Floor(sp[s, 0])] += dense[s, g];
            GeneImages.Resize(grid, bins, bins, expected, 16, 16);
            var got = img.Image(g);
            for (int i = 0; i < expected.Length; i++) Assert.Equal(img.Mask[i] ? expected[i] : 0f, got[i]);
        }
        // Same input, second call: identical pixels.
        Assert.Equal(img.Pixels, GeneImages.FromSpatial(d, new GeneImageOptions { Size = 16, Layout = ImageLayout.Points, BinSize = 1, RegressOutTotal = false }).Pixels);
    }

    [Fact]
    public void ShuffleUsesOnePermutationForAllGenes()
    {
        var rng = new Random(1);
        var px = new float[3 * 100];
        for (int i = 0; i < 100; i++) { px[i] = (float)rng.NextDouble(); px[100 + i] = px[i]; px[200 + i] = i; }
        var mask = Enumerable.Range(0, 100).Select(i => i % 10 != 0).ToArray();
        var set = new GeneImageSet(["a", "b", "c"], 10, 10, px, mask);
        var sh = set.ShufflePixels(5);
        Assert.Equal(sh.Image(0).ToArray(), sh.Image(1).ToArray());
        Assert.NotEqual(set.Image(2).ToArray(), sh.Image(2).ToArray());
        Assert.Equal(set.Image(2).ToArray().OrderBy(v => v), sh.Image(2).ToArray().OrderBy(v => v));
        for (int i = 0; i < 100; i += 10) Assert.Equal(i, sh.Image(2)[i]); // outside-mask pixels stay put
        Assert.Equal(sh.Pixels, set.ShufflePixels(5).Pixels);
    }

    [Fact]
    public void MaskRegionZeroesAndUnmasks()
    {
        var set = new GeneImageSet(["a"], 4, 4, Enumerable.Range(1, 16).Select(i => (float)i).ToArray());
        var m = set.MaskRegion(0, 0, 2, 2);
        Assert.Equal(0f, m.Image(0)[5]);
        Assert.False(m.Mask[5]);
        Assert.Equal(7f, m.Image(0)[6]);
        var ex = Assert.Throws<TesseraException>(() => set.MaskRegion(0, 0, 5, 2));
        Assert.Equal("region [0,5)x[0,2) is empty or outside the 4x4 images", ex.Message);
    }

    [Fact]
    public void BadInputsHaveClearMessages()
    {
        var d = StGrid();
        Assert.Equal("gene 'Nope' is not in the data (2 genes)",
            Assert.Throws<TesseraException>(() => GeneImages.FromSpatial(d, new GeneImageOptions { Size = 8, Genes = ["Nope"] })).Message);
        Assert.Equal("image size must be at least 8 but is 4",
            Assert.Throws<TesseraException>(() => GeneImages.FromSpatial(d, new GeneImageOptions { Size = 4 })).Message);
        Assert.Equal("mask has 3 pixels but the images have 4",
            Assert.Throws<TesseraException>(() => new GeneImageSet(["a"], 2, 2, new float[4], new bool[3])).Message);
    }

    [SkippableFact]
    public void MobRep11BecomesMaskedGridImages()
    {
        var dir = SharedData.Require("mob_rep11");
        var mob = DataReader.Read(Path.Combine(dir, "Rep11_MOB_counts.csv.gz"));
        var img = GeneImages.FromSpatial(mob, new GeneImageOptions { Genes = ["Penk", "Doc2g", "Kctd12"] });
        Assert.Equal(48, img.Height);
        int inside = img.Mask.Count(m => m);
        Assert.InRange(inside, 1000, 2303); // 262 spots on a ~32×34 array: tissue covers most, not all, of the frame
        for (int i = 0; i < img.PixelCount; i++) if (!img.Mask[i]) Assert.Equal(0f, img.Image(0)[i]);
    }
}
