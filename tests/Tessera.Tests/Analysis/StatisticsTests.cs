using Tessera.Analysis;

namespace Tessera.Tests.Analysis;

public class StatisticsTests
{
    [Fact]
    public void QuantilesInterpolateAsNumpy()
    {
        // numpy.quantile([3, 1, 4, 1, 5], [0.1, 0.25, 0.5, 0.75]) = [1, 1, 3, 4]; numpy.quantile([1, 2, 3, 4], 0.3) = 1.9
        double[] v = [3, 1, 4, 1, 5];
        Assert.Equal(1.0, Statistics.Quantile(v, 0.1), 12);
        Assert.Equal(1.0, Statistics.Quantile(v, 0.25), 12);
        Assert.Equal(3.0, Statistics.Median(v), 12);
        Assert.Equal(4.0, Statistics.Quantile(v, 0.75), 12);
        Assert.Equal(1.9, Statistics.Quantile([1.0, 2, 3, 4], 0.3), 12);
        Assert.Equal(2.5, Statistics.Median([4.0, 1, 3, 2]), 12);
        Assert.Equal(new double[] { 3, 1, 4, 1, 5 }, v); // input untouched
        Assert.True(double.IsNaN(Statistics.Median([])));
        Assert.Equal("quantile must lie in [0, 1], got 1.5", Assert.Throws<TesseraException>(() => Statistics.Quantile(v, 1.5)).Message);
    }

    [Fact]
    public void ZScoresMatchScipy()
    {
        double[] expected = { -1.1009637651263606, -0.8257228238447705, -0.27524094128159016, 0.5504818825631803, 1.651445647689541 };
        var z = Statistics.ZScores(new double[] { 1, 2, 4, 7, 11 });
        for (int i = 0; i < 5; i++) Assert.Equal(expected[i], z[i], 14);
        Assert.Equal(-0.9847319278346618, Statistics.ZScores(new double[] { 1, 2, 4, 7, 11 }, ddof: 1)[0], 14);
        Assert.True(double.IsNaN(Statistics.ZScores(new double[] { 3, 3 })[0]));
    }

    // scipy.stats.binom.sf(k - 1, n, p) and logsf
    [Theory]
    [InlineData(5, 20, 0.1, 0.04317449528446339, -3.142505345012781)]
    [InlineData(60, 100, 0.3, 5.129949815583127e-10, -21.39075505334303)]
    [InlineData(1, 10, 0.5, 0.9990234375, -0.0009770396478266127)]
    [InlineData(900, 1000, 0.5, 6.701717790006182e-162, -371.1164211849318)]
    [InlineData(3000, 10000, 0.25, 6.149550004102131e-30, -67.26117388074469)]
    public void BinomialTailMatchesScipy(int k, int n, double p, double sf, double logSf)
    {
        ClusterTestData.Rel(sf, Statistics.BinomialTailTest(k, n, p), 1e-9);
        ClusterTestData.Rel(logSf, Statistics.LogBinomialTail(k, n, p), 1e-10);
    }

    [Fact]
    public void BinomialTailEdgesAndUnderflow()
    {
        Assert.Equal(1.0, Statistics.BinomialTailTest(0, 10, 0.3));
        Assert.Equal(0.0, Statistics.BinomialTailTest(11, 10, 0.3));
        Assert.Equal(Math.Pow(0.5, 10), Statistics.BinomialTailTest(10, 10, 0.5), 15);
        double logTail = Statistics.LogBinomialTail(5000, 5000, 0.01); // 5000·ln 0.01, far below double's range
        ClusterTestData.Rel(5000 * Math.Log(0.01), logTail, 1e-12);
        Assert.Equal("binomial p must lie in [0, 1], got 1.5", Assert.Throws<TesseraException>(() => Statistics.BinomialTailTest(1, 3, 1.5)).Message);
    }

    private static readonly double[] P = { 0.01, 0.04, 0.03, 0.2, 0.04, 0.5, 0.001, 0.9, 0.03, 0.07 };

    [Fact]
    public void HolmMatchesRPAdjust()
    {
        double[] expected = { 0.09, 0.24, 0.24, 0.6000000000000001, 0.24, 1.0, 0.01, 1.0, 0.24, 0.28 };
        var adj = Statistics.HolmBonferroni(P);
        for (int i = 0; i < P.Length; i++) Assert.Equal(expected[i], adj[i], 15);
    }

    [Fact]
    public void BenjaminiHochbergMatchesRPAdjust()
    {
        double[] expected = { 0.05, 0.06666666666666667, 0.06666666666666667, 0.25, 0.06666666666666667, 0.5555555555555556, 0.01, 0.9, 0.06666666666666667, 0.1 };
        var adj = Statistics.BenjaminiHochberg(P);
        for (int i = 0; i < P.Length; i++) Assert.Equal(expected[i], adj[i], 15);
        // NaN entries are kept and not counted, as R: same as adjusting the 10 valid values alone
        var withNan = P.Append(double.NaN).ToArray();
        var adj2 = Statistics.BenjaminiHochberg(withNan);
        Assert.True(double.IsNaN(adj2[10]));
        Assert.Equal(expected[3], adj2[3], 15);
        Assert.Equal("p-value at index 1 is 1.2; p-values must lie in [0, 1]",
            Assert.Throws<TesseraException>(() => Statistics.HolmBonferroni(new[] { 0.1, 1.2 })).Message);
    }

    private static readonly double[] Mx = { 1.1, 2.2, 2.2, 3.5, 4.0, 5.5, 6.1, 2.2 };
    private static readonly double[] My = { 0.5, 1.0, 2.2, 2.2, 1.7, 0.9, 3.3, 0.2, 1.1, 2.2 };

    [Fact]
    public void RankSumMatchesScipyMannWhitneyU()
    {
        var r = Statistics.WilcoxonRankSum(Mx, My);
        Assert.Equal(67.0, r.U);
        ClusterTestData.Rel(0.01641375993259235, r.P, 1e-10);
        Assert.True(r.Z > 2);
        var rev = Statistics.WilcoxonRankSum(My, Mx);
        Assert.Equal(13.0, rev.U);
        ClusterTestData.Rel(0.01641375993259235, rev.P, 1e-10);
        Assert.Equal(-r.Z, rev.Z, 14);
        Assert.Equal("rank-sum test: y is empty", Assert.Throws<TesseraException>(() => Statistics.WilcoxonRankSum(Mx, Array.Empty<double>())).Message);
    }

    [Fact]
    public void OneVsRestMatchesScipyPerGroup()
    {
        var values = Mx.Concat(My).ToArray();
        var groups = Enumerable.Repeat(0, 8).Concat(Enumerable.Repeat(1, 4)).Concat(Enumerable.Repeat(2, 6)).ToArray();
        var res = Statistics.WilcoxonOneVsRest(values, groups);
        Assert.Equal(new[] { 0, 1, 2 }, res.Select(g => g.Group).ToArray());
        Assert.Equal(new[] { 8, 4, 6 }, res.Select(g => g.Count).ToArray());
        Assert.Equal(new[] { 67.0, 17.0, 20.0 }, res.Select(g => g.Result.U).ToArray());
        ClusterTestData.Rel(0.01641375993259235, res[0].Result.P, 1e-10);
        ClusterTestData.Rel(0.25579034546055324, res[1].Result.P, 1e-10);
        ClusterTestData.Rel(0.1390200425086619, res[2].Result.P, 1e-10);
        var named = Statistics.WilcoxonOneVsRest(values, groups.Select(g => "domain" + g).ToArray());
        Assert.Equal(res[2].Result, named[2].Result);
        Assert.Equal("values has 18 entries but groups has 3",
            Assert.Throws<TesseraException>(() => Statistics.WilcoxonOneVsRest(values, new[] { 1, 2, 3 })).Message);
    }

    [Fact]
    public void PermutationNullIsSeededAndCountsObserved()
    {
        // statistic: mean of the first 5 of 20 values under the permutation; observed takes the 5 largest
        var v = Enumerable.Range(0, 20).Select(i => (double)(19 - i)).ToArray();
        double Stat(int[] perm) => perm.Take(5).Average(i => v[i]);
        var a = Statistics.PermutationNull(20, Stat, 199, seed: 3);
        var b = Statistics.PermutationNull(20, Stat, 199, seed: 3);
        Assert.Equal(17.0, a.Observed);
        Assert.Equal(a.Null, b.Null);
        Assert.Equal((1.0 + a.Null.Count(x => x >= 17.0)) / 200, a.P);
        Assert.True(a.P < 0.02);
        var c = Statistics.PermutationNull(20, perm => 1.0, 9, seed: 1);
        Assert.Equal(1.0, c.P); // every null value ties the observed one
    }
}
