using Tessera.Data;
using Tessera.Preprocess;

namespace Tessera.Tests.Preprocess;

public class PcaScaleTests
{
    // sklearn 1.2.1 PCA(n_components=5, svd_solver="full") on float64(log1p(normalize_total(1e4))) of Fixtures.Counts60x40
    private static readonly double[] Evr = [0.42646580341330376, 0.3993426495519165, 0.025677291294170658, 0.020783358437307747, 0.01818966140031092];
    private static readonly double[] Ev = [130.82176510092205, 122.5015226926186, 7.876712606798321, 6.375459916674113, 5.579822794538632];
    private static readonly double[] Scores3x5 = [13.577346849791839, -7.453128580667967, -0.2512386120784865, -2.4024258349412535, -4.222663288491854, -12.959876871647639, -8.45978707005357, 6.4164068482576315, -3.9412347951641267, 0.005397977561220645, -0.10587470588362922, 15.124090873722771, -6.158061803023775, -4.231633453281262, 1.7275133291314284];
    private static readonly double[] Comp0 = [-0.17506965316049491, 0.17042385095434953, 0.015480401095894047, -0.23161736681518857, 0.18061939881165276];

    private static CsrMatrix LogFixture() => Normalize.Log1p(Normalize.Total(Fixtures.Counts60x40().X));

    [Fact]
    public void FullPcaMatchesSklearn()
    {
        var m = Pca.Fit(LogFixture(), new PcaOptions { Components = 5, Solver = PcaSolver.Full });
        Assert.Equal(PcaSolver.Full, m.SolverUsed);
        for (int c = 0; c < 5; c++)
        {
            Assert.Equal(Evr[c], m.ExplainedVarianceRatio[c], 1e-6);
            Assert.Equal(Ev[c], m.ExplainedVariance[c], 1e-4);
        }
        // svd_flip (u-based) fixes the signs, so scores agree with sklearn including sign
        for (int r = 0; r < 3; r++) for (int c = 0; c < 5; c++) Assert.Equal(Scores3x5[r * 5 + c], m.Scores[r, c], 1e-4);
        for (int j = 0; j < 5; j++) Assert.Equal(Comp0[j], m.Components[0, j], 1e-6);
        var t = m.Transform(LogFixture());
        for (int r = 0; r < 60; r++) for (int c = 0; c < 5; c++) Assert.Equal(m.Scores[r, c], t[r, c], 1e-9);
    }

    [Fact]
    public void RandomizedAgreesWithExactAndIsDeterministic()
    {
        var x = LogFixture();
        var exact = Pca.Fit(x, new PcaOptions { Components = 5, Solver = PcaSolver.Full });
        var a = Pca.Fit(x, new PcaOptions { Components = 5, Solver = PcaSolver.Randomized, Seed = 3, Oversamples = 5, PowerIterations = 7 });
        var b = Pca.Fit(x, new PcaOptions { Components = 5, Solver = PcaSolver.Randomized, Seed = 3, Oversamples = 5, PowerIterations = 7 });
        Assert.Equal(a.Scores.Data, b.Scores.Data);
        Assert.Equal(a.Components.Data, b.Components.Data);
        for (int c = 0; c < 5; c++)
        {
            Assert.True(Math.Abs(Correlation(exact.Scores.Column(c), a.Scores.Column(c))) > 0.999, $"component {c}");
            Assert.Equal(exact.ExplainedVarianceRatio[c], a.ExplainedVarianceRatio[c], 1e-6);
        }
    }

    // Dense path: float32 products, LU-normalised power iterations, a zero column (rank-deficient LU) and more rows
    // than columns; the leading explained variances match the exact SVD and the same seed repeats every bit.
    [Fact]
    public void DenseRandomizedMatchesExactOnLowRankPlusNoise()
    {
        int n = 400, g = 60;
        var rng = new Random(5);
        var f = new float[n * g];
        var basis = Enumerable.Range(0, 4 * g).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        for (int r = 0; r < n; r++)
        {
            var w = Enumerable.Range(0, 4).Select(t => (rng.NextDouble() - 0.5) * (8 - 2 * t)).ToArray();
            for (int c = 0; c < g - 1; c++)
                f[r * g + c] = (float)(w[0] * basis[c] + w[1] * basis[g + c] + w[2] * basis[2 * g + c] + w[3] * basis[3 * g + c] + 0.05 * (rng.NextDouble() - 0.5));
        }
        var s = new ScaledMatrix(n, g, f, new double[g], Enumerable.Repeat(1.0, g).ToArray());
        var exact = Pca.Fit(s, new PcaOptions { Components = 4, Solver = PcaSolver.Full });
        var o = new PcaOptions { Components = 4, Solver = PcaSolver.Randomized, Seed = 2, Oversamples = 6, PowerIterations = 5 };
        var a = Pca.Fit(s, o);
        var b = Pca.Fit(s, o);
        Assert.Equal(a.Scores.Data, b.Scores.Data);
        Assert.Equal(a.SingularValues, b.SingularValues);
        for (int c = 0; c < 4; c++)
        {
            Assert.Equal(exact.ExplainedVarianceRatio[c], a.ExplainedVarianceRatio[c], 1e-6);
            Assert.True(Math.Abs(Correlation(exact.Scores.Column(c), a.Scores.Column(c))) > 0.9999, $"component {c}");
        }
    }

    [Fact]
    public void RandomizedOnExactlyRankThreeData_FallsBackFromCholeskyAndStillMatchesExact()
    {
        // rank 3 (after centring) with 12 random directions: the range basis is rank-deficient, so ZᵀZ is singular and
        // the Cholesky QR gives way to LU / Householder QR; the three real components must still be exact
        int n = 200, g = 30;
        var rng = new Random(11);
        var basis = Enumerable.Range(0, 3 * g).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var f = new float[n * g];
        for (int r = 0; r < n; r++)
        {
            double w0 = rng.NextDouble() * 6 - 3, w1 = rng.NextDouble() * 4 - 2, w2 = rng.NextDouble() * 2 - 1;
            for (int c = 0; c < g; c++) f[r * g + c] = (float)(w0 * basis[c] + w1 * basis[g + c] + w2 * basis[2 * g + c]);
        }
        var s = new ScaledMatrix(n, g, f, new double[g], Enumerable.Repeat(1.0, g).ToArray());
        var exact = Pca.Fit(s, new PcaOptions { Components = 3, Solver = PcaSolver.Full });
        var a = Pca.Fit(s, new PcaOptions { Components = 3, Solver = PcaSolver.Randomized, Seed = 4, Oversamples = 9, PowerIterations = 4 });
        Assert.True(a.SingularValues.All(double.IsFinite));
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(exact.ExplainedVarianceRatio[c], a.ExplainedVarianceRatio[c], 1e-5);
            Assert.True(Math.Abs(Correlation(exact.Scores.Column(c), a.Scores.Column(c))) > 0.9999, $"component {c}");
        }
        Assert.Equal(1.0, a.ExplainedVarianceRatio.Sum(), 1e-5);
    }

    [Fact]
    public void ScaleMatchesNumpyAndClipsBothSides()
    {
        var s = Scale.Apply(LogFixture(), maxValue: 2.5);
        double[] row0 = [-1.2869813636093488, 0.9020130304921772, 0.9722684187786904, -1.3838237711156711, 0.7828054829895783, 0.1313128798687538];
        for (int j = 0; j < 6; j++) Assert.Equal(row0[j], s[0, j], 1e-5);
        // numpy: the unclipped values span -3.558..1.545, three below -2.5
        Assert.Equal(-2.5f, s.Data.Min());
        Assert.Equal(3, s.Data.Count(v => v == -2.5f));
        Assert.Equal(1.5447240806707203, s.Data.Max(), 1e-5);
        // gene 39 is all zero: std 1, stays 0
        Assert.Equal(1.0, s.Stds[39]);
        Assert.Equal(0f, s[5, 39]);
        // sklearn PCA(3, full) on the clipped scaled matrix
        double[] evr = [0.42401118462568943, 0.3917794139880521, 0.022574945186155528];
        var m = Pca.Fit(s, new PcaOptions { Components = 3, Solver = PcaSolver.Full });
        for (int c = 0; c < 3; c++) Assert.Equal(evr[c], m.ExplainedVarianceRatio[c], 1e-6);
        var r = Pca.Fit(s, new PcaOptions { Components = 3, Solver = PcaSolver.Randomized, Seed = 1 });
        for (int c = 0; c < 3; c++) Assert.True(Math.Abs(Correlation(m.Scores.Column(c), r.Scores.Column(c))) > 0.999);
        var t = m.Transform(s);
        Assert.Equal(m.Scores[7, 2], t[7, 2], 1e-6);
    }

    [Fact]
    public void UnitVarianceWithoutClipping()
    {
        var s = Scale.Apply(LogFixture());
        for (int j = 0; j < 39; j++)
        {
            var col = Enumerable.Range(0, 60).Select(r => (double)s[r, j]).ToArray();
            double mean = col.Average();
            double var = col.Sum(v => (v - mean) * (v - mean)) / 59;
            Assert.Equal(0, mean, 1e-6);
            Assert.Equal(1, var, 1e-5);
        }
    }

    [Fact]
    public void RunOnWritesObsmAndUnsUsingHighlyVariableGenes()
    {
        var d = Normalize.Log1p(Normalize.Total(Fixtures.Counts60x40()));
        var mask = Enumerable.Range(0, 40).Select(j => j % 2 == 0).ToArray();
        d.Var.Set("highly_variable", new BoolColumn(mask));
        var m = Pca.RunOn(d, new PcaOptions { Components = 4 });
        Assert.Equal(20, m.Components.Cols);
        Assert.Equal(60, d.Obsm["X_pca"].Rows);
        Assert.Equal(4, d.Obsm["X_pca"].Cols);
        var uns = (Dictionary<string, object>)d.Uns["pca"];
        Assert.Equal(m.ExplainedVarianceRatio, (double[])uns["variance_ratio"]);
        Assert.Equal(m.ExplainedVariance, (double[])uns["variance"]);
    }

    [Fact]
    public void BadPcaInputIsReported()
    {
        var ex = Assert.Throws<TesseraException>(() => Pca.Fit(LogFixture(), new PcaOptions { Components = 0 }));
        Assert.Equal("the number of principal components must be positive, got 0", ex.Message);
        var m = Pca.Fit(LogFixture(), new PcaOptions { Components = 2 });
        ex = Assert.Throws<TesseraException>(() => m.Transform(CsrMatrix.Zeros(3, 7)));
        Assert.Equal("PCA was fitted on 40 genes but the data has 7", ex.Message);
        var one = CsrMatrix.FromDense(new float[,] { { 1, 2 } });
        ex = Assert.Throws<TesseraException>(() => Pca.Fit(one));
        Assert.Equal("PCA needs at least 2 spots and 1 gene, the data has 1 spots and 2 genes", ex.Message);
        ex = Assert.Throws<TesseraException>(() => Scale.Apply(LogFixture(), maxValue: -1));
        Assert.Equal("scale max value must be positive, got -1", ex.Message);
    }

    internal static double Correlation(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }
}
