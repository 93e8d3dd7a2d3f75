using ScottPlot;
using StbImageSharp;
using Tessera.Data;
using Tessera.Plotting;
using Tessera.Tests.Support;

namespace Tessera.Tests.Plotting;

public class PlotTests
{
    private static SpatialData Slice(double[] xy)
    {
        int n = xy.Length / 2;
        var d = new SpatialData(CsrMatrix.Zeros(n, 0), new Table(Enumerable.Range(0, n).Select(i => $"s{i}").ToArray()), new Table([]));
        d.SetObsm(SpatialData.SpatialKey, new DenseMatrix(n, 2, xy));
        return d;
    }

    // 3 × 3 square grid with spacing 10, origin (10, 10)
    private static SpatialData Grid3() => Slice([10, 10, 20, 10, 30, 10, 10, 20, 20, 20, 30, 20, 10, 30, 20, 30, 30, 30]);

    private static ImageResult Decode(string path) => ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.RedGreenBlue);

    private static (byte R, byte G, byte B) At(ImageResult img, Pixel p)
    {
        int x = (int)Math.Round(p.X), y = (int)Math.Round(p.Y), k = (y * img.Width + x) * 3;
        return (img.Data[k], img.Data[k + 1], img.Data[k + 2]);
    }

    [Fact]
    public void EveryFigureKindWritesAPngOfTheRequestedSize()
    {
        using var tmp = new TempDir();
        var grid = Grid3();
        var labels = new string?[] { "a", "a", "b", null, "b", "b", "c", "c", "c" };
        var values = new[] { 1.0, 2, 3, 4, double.NaN, 6, 7, 8, 9 };
        var xy = grid.Spatial;
        var plots = new (string Name, Plot Plot)[]
        {
            ("spatial_cat", SpatialPlot.Categorical(grid, labels, "categorical", palette: new CategoryPalette())),
            ("spatial_hex", SpatialPlot.Categorical(grid, labels, "hexagons", palette: new CategoryPalette(), shape: SpotShape.Hexagon)),
            ("spatial_cont", SpatialPlot.Continuous(grid, values, "continuous", "magma")),
            ("umap_cat", EmbeddingPlot.Categorical(xy, labels, "umap", new CategoryPalette())),
            ("umap_cont", EmbeddingPlot.Continuous(xy, values, "umap value")),
            ("loss", CurvePlot.Lines("loss", "epoch", new Dictionary<string, double[]> { ["loss"] = [3, 2, 1.5, 1.2], ["recon"] = [2, 1, 0.8, 0.7] }, "loss", new CategoryPalette())),
        };
        foreach (var (name, plot) in plots)
        {
            var path = tmp.File(name + ".png");
            Figures.SavePng(plot, path, 640, 480);
            Assert.Equal((640, 480), PngTests.PngSize(path));
            Assert.Empty(Directory.GetFiles(tmp.Path, "*.tmp"));
        }
        var nested = tmp.File("a/b/c.png");
        Figures.SavePng(plots[0].Plot, nested, 321, 123);
        Assert.Equal((321, 123), PngTests.PngSize(nested));
    }

    [Fact]
    public void PaletteIsStableAcrossFigures()
    {
        var p = new CategoryPalette();
        Assert.Equal(new[] { "Layer2", "Layer10", "WM" }, p.Register(["WM", "Layer10", null, "Layer2", "Layer2", ""]));
        Assert.Equal(CategoryPalette.BaseColors[0], p["Layer2"]);
        Assert.Equal(CategoryPalette.BaseColors[1], p["Layer10"]);
        Assert.Equal(CategoryPalette.BaseColors[2], p["WM"]);
        // a later figure with a new label that sorts first: old labels keep their colours, the new one takes the next colour
        p.Register(["Layer1", "WM"]);
        Assert.Equal(CategoryPalette.BaseColors[3], p["Layer1"]);
        Assert.Equal(CategoryPalette.BaseColors[2], p["WM"]);
        Assert.Equal(CategoryPalette.MissingColor, p[null]);
        Assert.Equal(CategoryPalette.MissingColor, p[""]);
        // cluster ids sort numerically
        Assert.Equal(new[] { "0", "2", "10" }, new CategoryPalette().Register(["10", "2", "0"]));
        // the sequence has ≥ 20 distinct base colours and stays distinct beyond them
        var first60 = Enumerable.Range(0, 60).Select(CategoryPalette.ColorAt).ToList();
        Assert.True(CategoryPalette.BaseColors.Count >= 20);
        Assert.Equal(60, first60.Distinct().Count());
        Assert.DoesNotContain(CategoryPalette.MissingColor, first60);
        // figures built with a palette use its colours
        var grid = Grid3();
        var plot = SpatialPlot.Categorical(grid, ["WM", "WM", "WM", "WM", "Layer1", "WM", "WM", "WM", "WM"], "t", palette: p);
        var layer = plot.GetPlottables<PointLayer>().Single();
        Assert.Equal(p["Layer1"], layer.Colors[4]);
        Assert.Equal(new[] { "Layer1", "WM" }, layer.Legend.Select(l => l.LabelText));
    }

    [Fact]
    public void SpotDiameterIsTheLatticeSpacing()
    {
        // hexagonal lattice with spacing 100: rows 100·√3/2 apart, odd rows shifted by 50
        var hex = new List<double>();
        for (int r = 0; r < 6; r++) for (int c = 0; c < 6; c++) { hex.Add(c * 100 + (r % 2) * 50); hex.Add(r * 100 * Math.Sqrt(3) / 2); }
        Assert.Equal(100, SpatialPlot.SpotDiameter(new DenseMatrix(36, 2, hex.ToArray())), 9);
        // duplicated points (distance 0) are ignored
        Assert.Equal(10, SpatialPlot.SpotDiameter(new DenseMatrix(4, 2, [0, 0, 0, 0, 10, 0, 20, 0])), 9);
        var layer = new PointLayer([0], [0], [Colors.Red]) { DataDiameter = 137 };
        Assert.Equal(137 * 0.25f, layer.DiameterInPixels(0.25), 4);
        Assert.Equal(6f, new PointLayer([0], [0], [Colors.Red]) { PixelDiameter = 6 }.DiameterInPixels(123));
        Assert.Equal(5.742f, EmbeddingPlot.MarkerPixels(3639), 3);
        Assert.Equal(2f, EmbeddingPlot.MarkerPixels(1_000_000));
    }

    [Fact]
    public void RenderedSpotsTouchTheirNeighbours()
    {
        using var tmp = new TempDir();
        var labels = new string?[] { "a", "a", "a", "a", "b", "a", "a", "a", "a" };
        var p = new CategoryPalette();
        var plot = SpatialPlot.Categorical(Grid3(), labels, "", palette: p);
        var path = tmp.File("grid.png");
        Figures.SavePng(plot, path, 500, 400);
        var img = Decode(path);
        Pixel c = plot.GetPixel(new Coordinates(20, 20)), right = plot.GetPixel(new Coordinates(30, 20)), below = plot.GetPixel(new Coordinates(20, 30));
        double spacing = right.X - c.X;
        Assert.True(spacing > 50, $"grid spacing is only {spacing} px");
        Assert.Equal(spacing, below.Y - c.Y, 1); // equal axis scaling, y grows downwards
        // width of the centre spot's colour run along its row = one spacing (markers touch, no gap, no overlap)
        var b = p["b"]; int y = (int)Math.Round(c.Y), run = 0;
        for (int x = 0; x < img.Width; x++)
        {
            int k = (y * img.Width + x) * 3;
            if (Math.Abs(img.Data[k] - b.R) < 8 && Math.Abs(img.Data[k + 1] - b.G) < 8 && Math.Abs(img.Data[k + 2] - b.B) < 8) run++;
        }
        Assert.InRange(run, spacing - 3, spacing + 1);
    }

    [Fact]
    public void AboveTheRasterThresholdEveryDataPixelIsCoveredAndOrderIsKept()
    {
        // 600 × 600 lattice (360,000 spots) at spacing 1 drawn into ~450 px: finer than a pixel, so every pixel of the
        // lattice must carry a spot colour (no background speckle); left half "a", right half "b", and a 20 × 20 block "c"
        // in the middle that is drawn last must show as a solid square.
        using var tmp = new TempDir();
        int side = 600, n = side * side;
        var xy = new double[2 * n]; var labels = new string?[n];
        for (int i = 0; i < side; i++)
            for (int j = 0; j < side; j++)
            {
                int k = i * side + j; xy[2 * k] = j; xy[2 * k + 1] = i;
                labels[k] = Math.Abs(i - 300) < 10 && Math.Abs(j - 300) < 10 ? "c" : j < 300 ? "a" : "b";
            }
        var p = new CategoryPalette();
        var plot = SpatialPlot.Categorical(Slice(xy), labels, "", palette: p);
        var layer = plot.GetPlottables().OfType<PointLayer>().Single();
        Assert.True(n > layer.RasterThreshold);
        var path = tmp.File("raster.png");
        Figures.SavePng(plot, path, 600, 500);
        var img = Decode(path);
        Pixel lo = plot.GetPixel(new Coordinates(5, 5)), hi = plot.GetPixel(new Coordinates(594, 594));
        int x0 = (int)Math.Ceiling(Math.Min(lo.X, hi.X)), x1 = (int)Math.Floor(Math.Max(lo.X, hi.X));
        int y0 = (int)Math.Ceiling(Math.Min(lo.Y, hi.Y)), y1 = (int)Math.Floor(Math.Max(lo.Y, hi.Y));
        Assert.True(x1 - x0 > 300, $"lattice only {x1 - x0} px wide");
        int other = 0, total = 0;
        var (a, b) = (p["a"], p["b"]);
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
            {
                int k = (y * img.Width + x) * 3; total++;
                var px = (img.Data[k], img.Data[k + 1], img.Data[k + 2]);
                bool isA = px == (a.R, a.G, a.B), isB = px == (b.R, b.G, b.B), isC = px == (p["c"].R, p["c"].G, p["c"].B);
                if (!isA && !isB && !isC) other++;
            }
        Assert.Equal(0, other);   // exact colours: no blending, no gaps
        Assert.Equal(((byte)p["a"].R, (byte)p["a"].G, (byte)p["a"].B), At(img, plot.GetPixel(new Coordinates(100, 300))));
        Assert.Equal(((byte)p["b"].R, (byte)p["b"].G, (byte)p["b"].B), At(img, plot.GetPixel(new Coordinates(500, 300))));
        Assert.Equal(((byte)p["c"].R, (byte)p["c"].G, (byte)p["c"].B), At(img, plot.GetPixel(new Coordinates(300, 300))));
        Assert.Equal(((byte)p["c"].R, (byte)p["c"].G, (byte)p["c"].B), At(img, plot.GetPixel(new Coordinates(294, 306))));
    }

    [Fact]
    public void UnderlayIsPlacedWithTheImageScale()
    {
        var img = new TissueImage("lowres", 200, 100, new byte[200 * 100 * 3], 0.5);
        var rect = SpatialPlot.UnderlayRect(img);
        Assert.Equal((0.0, 400.0, 200.0, 0.0), (rect.Left, rect.Right, rect.Bottom, rect.Top));

        // 20 × 10 grey image at scale 0.1 (full-res 200 × 100) with a red block at image px x 5..6, y 2..3 = full-res x 50..70, y 20..40
        var rgb = Enumerable.Repeat((byte)200, 20 * 10 * 3).ToArray();
        for (int v = 2; v <= 3; v++) for (int u = 5; u <= 6; u++) { int k = (v * 20 + u) * 3; rgb[k] = 255; rgb[k + 1] = 0; rgb[k + 2] = 0; }
        var tissue = new TissueImage("lowres", 20, 10, rgb, 0.1);
        // cropping to full-res x 51..69, y 21..39 widens to whole image pixels 5..6 × 2..3: exactly the red block
        var (crop, cropRect) = SpatialPlot.CropUnderlay(tissue, 51, 69, 21, 39);
        Assert.Equal((2, 2), (crop!.Width, crop.Height));
        Assert.Equal((50.0, 70.0, 40.0, 20.0), (cropRect.Left, cropRect.Right, cropRect.Bottom, cropRect.Top));
        Assert.All(Enumerable.Range(0, 4), k => Assert.Equal(((byte)255, (byte)0, (byte)0), (crop.GetArrayRGB()[k / 2, k % 2, 0], crop.GetArrayRGB()[k / 2, k % 2, 1], crop.GetArrayRGB()[k / 2, k % 2, 2])));
        Assert.Null(SpatialPlot.CropUnderlay(tissue, 300, 400, 0, 10).Image);
        var slice = Slice([5, 5, 195, 5, 5, 95, 195, 95]);
        var plot = SpatialPlot.Categorical(slice, ["a", "a", "a", "a"], "", tissue, new CategoryPalette());
        using var tmp = new TempDir();
        var path = tmp.File("underlay.png");
        Figures.SavePng(plot, path, 600, 400);
        var png = Decode(path);
        Assert.Equal(((byte)255, (byte)0, (byte)0), At(png, plot.GetPixel(new Coordinates(60, 30))));
        Assert.Equal(((byte)200, (byte)200, (byte)200), At(png, plot.GetPixel(new Coordinates(60, 70)))); // would be red if y were flipped (the image is smoothed, so probes stay 1.5 image px from the block)
        Assert.Equal(((byte)200, (byte)200, (byte)200), At(png, plot.GetPixel(new Coordinates(90, 30))));
        Assert.Equal(((byte)200, (byte)200, (byte)200), At(png, plot.GetPixel(new Coordinates(60, 55))));
    }

    [Fact]
    public void BadInputMessages()
    {
        var grid = Grid3();
        Assert.Equal("labels has 2 entries but the data has 9 observations", Assert.Throws<TesseraException>(() => SpatialPlot.Categorical(grid, ["a", "b"], "t")).Message);
        Assert.Equal("values has 1 entries but the data has 9 observations", Assert.Throws<TesseraException>(() => SpatialPlot.Continuous(grid, [1.0], "t")).Message);
        Assert.Equal("unknown colormap 'rainbow'; available: viridis, magma, inferno, plasma, turbo, blues, greens, grayscale, balance, jet",
            Assert.Throws<TesseraException>(() => SpatialPlot.Continuous(grid, new double[9], "t", "rainbow")).Message);
        Assert.Equal("an embedding plot needs 2 columns, got 1", Assert.Throws<TesseraException>(() => EmbeddingPlot.Categorical(new DenseMatrix(2, 1), ["a", "b"], "t")).Message);
        Assert.Equal("a curve plot needs at least one series", Assert.Throws<TesseraException>(() => CurvePlot.Lines("t", "epoch", new Dictionary<string, double[]>())).Message);
        Assert.Equal("figure size must be positive, got 0x10", Assert.Throws<TesseraException>(() => Figures.SavePng(new Plot(), "x.png", 0, 10)).Message);
        Assert.Equal("colour scale maximum 1 must exceed minimum 2", Assert.Throws<TesseraException>(() => SpatialPlot.Continuous(grid, new double[9], "t", vmin: 2, vmax: 1)).Message);
    }
}
