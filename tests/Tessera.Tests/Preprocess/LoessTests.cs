using Tessera.Preprocess;

namespace Tessera.Tests.Preprocess;

public class LoessTests
{
    // Fixture generated with R 4.2.2 (Debian r-base-core): set.seed(1); x <- round(sort(runif(40, -2, 1)), 4);
    // y <- round(0.5 + 1.2x + 0.3x^2 + 0.4 sin(3x) + rnorm(40, 0, 0.1), 4); loess(y ~ x, span = 0.3, degree = 2, surface = ...)
    internal static readonly double[] X =
    [
        -1.9598, -1.8146, -1.6762, -1.6233, -1.4703, -1.4413, -1.395, -1.3821, -1.3636, -1.2035, -1.1983, -0.979, -0.8836, -0.8599,
        -0.8528, -0.8477, -0.8417, -0.7662, -0.5538, -0.5194, -0.5069, -0.2814, -0.2013, -0.1127, -0.045, -0.0176, 0.0054, 0.0611,
        0.1529, 0.1711, 0.3095, 0.3323, 0.3827, 0.4821, 0.6091, 0.6952, 0.7246, 0.8041, 0.834, 0.9757,
    ];
    internal static readonly double[] Y =
    [
        -0.4505, -0.3138, -0.2809, -0.4613, -0.1719, -0.2418, -0.2601, -0.3949, -0.3011, -0.2871, -0.1961, -0.4788, -0.4759, -0.5285,
        -0.6632, -0.5685, -0.5682, -0.5479, -0.3609, -0.366, -0.4471, -0.1382, 0.1132, 0.2916, 0.3239, 0.3871, 0.5494, 0.7242,
        0.8564, 0.9986, 1.2602, 1.2066, 1.4021, 1.4322, 1.8724, 2.0254, 1.8198, 1.821, 2.0052, 2.0281,
    ];
    // R: fitted(loess(..., surface = "direct"))
    internal static readonly double[] RDirect =
    [
        -0.426654547969231, -0.371252479912243, -0.330295646601474, -0.318273349762458, -0.296659705582622, -0.288075137216869,
        -0.273287204724168, -0.269776174825564, -0.265329971323722, -0.268276398762744, -0.267014058598447, -0.477550951451481,
        -0.547659875375152, -0.559288266169918, -0.561864248821154, -0.563176234899238, -0.564478978440604, -0.5640172870772,
        -0.417547539999789, -0.387982696806055, -0.376880100699717, -0.0874581862598698, 0.0603147738121977, 0.242036433115657,
        0.40209207640629, 0.465763472683745, 0.519433481139572, 0.661641818237215, 0.908632404598659, 0.952391457911671,
        1.22060396922234, 1.25589309093078, 1.34472426339789, 1.55445382023265, 1.78380196676938, 1.87566120928999,
        1.90323585176544, 1.96104330425282, 1.97594391853731, 1.99766799654264,
    ];
    // R: fitted(loess(..., surface = "interpolate")), scikit-misc's default (kd tree + cubic blending)
    internal static readonly double[] RInterpolate =
    [
        -0.426722272031694, -0.371252479912243, -0.330295646601475, -0.319124324498895, -0.296659705582622, -0.287742906207095,
        -0.273287204724168, -0.269776174825564, -0.267759958290901, -0.268276398762744, -0.270083814177796, -0.477550951451481,
        -0.547659875375152, -0.559089809008916, -0.561864248821154, -0.563161004299346, -0.564478978440604, -0.5640172870772,
        -0.419858244437146, -0.387982696806055, -0.37641887562816, -0.0874581862598699, 0.0603147738121976, 0.247291455420583,
        0.40209207640629, 0.465433368468306, 0.519433481139572, 0.661641818237215, 0.908394863744844, 0.95239145791167,
        1.21450795137407, 1.25589309093078, 1.34472426339789, 1.55196948143868, 1.78380196676938, 1.87698506017567,
        1.90323585176544, 1.96104330425282, 1.97590801271655, 1.99784691437106,
    ];

    [Fact]
    public void DirectFitMatchesRLoess()
    {
        var fit = Loess.FitDirect(X, Y, 0.3, 2);
        for (int i = 0; i < X.Length; i++) Assert.Equal(RDirect[i], fit[i], 1e-12);
    }

    [Fact]
    public void DirectFitIsCloseToInterpolatedSurface()
    {
        // documents the surface = "interpolate" gap: at most 6.1e-3 here (range of y is 2.7), exact at kd-tree vertices
        var fit = Loess.FitDirect(X, Y, 0.3, 2);
        double maxDiff = X.Select((_, i) => Math.Abs(fit[i] - RInterpolate[i])).Max();
        Assert.InRange(maxDiff, 1e-3, 7e-3);
    }

    [Fact]
    public void InterpolatedSurfaceMatchesRDefault()
    {
        var fit = Loess.FitInterpolate(X, Y, 0.3, 2);
        for (int i = 0; i < X.Length; i++) Assert.Equal(RInterpolate[i], fit[i], 1e-12);
    }

    [Fact]
    public void FitDoesNotDependOnInputOrder()
    {
        var perm = Enumerable.Range(0, X.Length).Reverse().ToArray();
        var fit = Loess.FitDirect(perm.Select(i => X[i]).ToArray(), perm.Select(i => Y[i]).ToArray());
        for (int t = 0; t < perm.Length; t++) Assert.Equal(RDirect[perm[t]], fit[t], 1e-12);
    }

    // R: x2 <- c(0,0,0,1,1,2,3,3,3,4,5,5,6,7,8,8,8,9,10,11); y2 <- c(1,2,1.5,2,2.5,3,3.5,5,4,4,6,5.5,7,7.5,8,9,8.5,9,10,12)
    private static readonly double[] X2 = [0, 0, 0, 1, 1, 2, 3, 3, 3, 4, 5, 5, 6, 7, 8, 8, 8, 9, 10, 11];
    private static readonly double[] Y2 = [1, 2, 1.5, 2, 2.5, 3, 3.5, 5, 4, 4, 6, 5.5, 7, 7.5, 8, 9, 8.5, 9, 10, 12];

    [Fact]
    public void TiedPredictorsMatchR()
    {
        // loess(y2 ~ x2, span = 0.5, degree = 2, surface = "direct")
        double[] r2 =
        [
            1.50687210263154, 1.50687210263154, 1.50687210263154, 2.21071347099726, 2.21071347099726, 3, 3.96945057101159,
            3.96945057101159, 3.96945057101159, 4.61642192168926, 5.61584879558141, 5.6158487955814, 6.88589665213558,
            7.70642152887234, 8.42533895292956, 8.42533895292956, 8.42533895292956, 9.20738727178565, 10.3341637043115, 11.8169500108615,
        ];
        var fit = Loess.FitDirect(X2, Y2, 0.5, 2);
        for (int i = 0; i < r2.Length; i++) Assert.Equal(r2[i], fit[i], 1e-11);
        // loess(y2 ~ x2, span = 0.75, degree = 1, surface = "direct")
        double[] r3 =
        [
            1.46663703635056, 1.46663703635056, 1.46663703635056, 2.30111949817552, 2.30111949817552, 3.138896913564, 3.983512544995,
            3.983512544995, 3.983512544995, 4.84695870186327, 5.74577479652992, 5.74577479652992, 6.63265990511475, 7.52714089550864,
            8.48609140440017, 8.48609140440017, 8.48609140440017, 9.45445788327038, 10.4189480566083, 11.3863630566782,
        ];
        var fit3 = Loess.FitDirect(X2, Y2, 0.75, 1);
        for (int i = 0; i < r3.Length; i++) Assert.Equal(r3[i], fit3[i], 1e-11);
    }

    [Fact]
    public void QuadraticDataIsReproducedExactly()
    {
        var x = Enumerable.Range(0, 30).Select(i => i * 0.37 - 2).ToArray();
        var y = x.Select(v => 1.5 - 0.25 * v + 0.75 * v * v).ToArray();
        var fit = Loess.FitDirect(x, y, 0.3, 2);
        for (int i = 0; i < x.Length; i++) Assert.Equal(y[i], fit[i], 1e-10);
    }

    [Fact]
    public void TooSmallSpanIsReported()
    {
        var ex = Assert.Throws<TesseraException>(() => Loess.FitDirect(X, Y, 0.05, 2));
        Assert.Equal("loess span 0.05 is too small: 2 neighbours for 40 points cannot fit degree 2", ex.Message);
        var ex2 = Assert.Throws<TesseraException>(() => Loess.FitDirect([1.0, 1, 1, 1, 2], [1.0, 2, 3, 4, 5], 0.6, 2));
        Assert.Equal("loess span 0.6 is too small: all 3 neighbours of x = 1 have the same x", ex2.Message);
    }
}
