using Tessera.Data;
using Tessera.Preprocess;

namespace Tessera.Tests.Preprocess;

public class QcNormalizeTests
{
    private static SpatialData Small()
    {
        var x = CsrMatrix.FromDense(new float[,] { { 5, 0, 1 }, { 0, 0, 0 }, { 1, 2, 3 }, { 10, 0, 0 } });
        return new SpatialData(x, new Table(["s0", "s1", "s2", "s3"]), new Table(["A", "B", "C"]));
    }

    [Fact]
    public void MetricsAreCountedByHand()
    {
        var d = Small();
        Assert.Equal([6.0, 0, 6, 10], Qc.TotalCounts(d.X));
        Assert.Equal([2, 0, 3, 1], Qc.GenesByCounts(d.X));
        Assert.Equal([3, 1, 2], Qc.SpotsByCounts(d.X));
    }

    [Fact]
    public void FilterRemovesSpotsThenGenes()
    {
        var d = Small();
        var (f, report) = Qc.Filter(d, new QcOptions { MinCounts = 5, MinGenes = 2, MinSpots = 2 });
        Assert.Equal(["s0", "s2"], f.ObsNames);
        // gene B is detected only in s2 among the kept spots
        Assert.Equal(["A", "C"], f.VarNames);
        Assert.Equal(new QcReport(4, 2, 3, 2, 1, 2, 1, 0), report);
        Assert.Equal([6.0, 4], f.Obs.Get<NumericColumn>("total_counts").Values);
        Assert.Equal([2.0, 2], f.Obs.Get<NumericColumn>("n_genes_by_counts").Values);
        Assert.Equal([2.0, 2], f.Var.Get<NumericColumn>("n_cells_by_counts").Values);
        Assert.Equal(3f, f.X[1, 1]);
        // the input is untouched
        Assert.Equal(4, d.NObs);
        Assert.False(d.Obs.Contains("total_counts"));
    }

    [Fact]
    public void EmptyResultsNameTheThresholds()
    {
        var d = Small();
        var ex = Assert.Throws<TesseraException>(() => Qc.Filter(d, new QcOptions { MinCounts = 500 }));
        Assert.Equal("no spots remain after QC (min counts 500): spots have 0..10 total counts and 0..3 genes", ex.Message);
        ex = Assert.Throws<TesseraException>(() => Qc.Filter(d, new QcOptions { MinCounts = 1, MinGenes = 4 }));
        Assert.Equal("no spots remain after QC (min counts 1, min genes 4): spots have 0..10 total counts and 0..3 genes", ex.Message);
        ex = Assert.Throws<TesseraException>(() => Qc.Filter(d, new QcOptions { MinSpots = 5 }));
        Assert.Equal("no genes remain after QC (min spots 5): the most spots any gene is detected in is 3", ex.Message);
        ex = Assert.Throws<TesseraException>(() => Qc.Filter(d, new QcOptions { MinCounts = 10, MaxCounts = 5 }));
        Assert.Equal("QC max counts 5 is below min counts 10", ex.Message);
    }

    [Fact]
    public void NormalizeTotalScalesRowsAndKeepsZeroRows()
    {
        var d = Small();
        var n = Normalize.Total(d.X, 1e4);
        Assert.Equal((float)(5 * 1e4 / 6), n[0, 0]);
        Assert.Equal((float)(1e4 / 6), n[0, 2]);
        Assert.Equal(0f, n[1, 0]);
        Assert.Equal([1e4, 0, 1e4, 1e4], n.RowSums().Select(v => Math.Round(v, 2)).ToArray());
        Assert.Equal(5f, d.X[0, 0]);
        var l = Normalize.Log1p(n);
        Assert.Equal((float)Math.Log(1 + (double)(float)(5 * 1e4 / 6)), l[0, 0]);
        Assert.Equal(0f, l[1, 1]);
        Assert.Equal((float)(5 * 1e4 / 6), n[0, 0]);
        var sd = Normalize.Log1p(Normalize.Total(d, 100));
        Assert.Equal((float)Math.Log(1 + (double)(float)(500.0 / 6)), sd.X[0, 0]);
        Assert.True(sd.Uns.ContainsKey("log1p"));
        Assert.False(d.Uns.ContainsKey("log1p"));
        Assert.Equal(5f, d.X[0, 0]);
    }

    [Fact]
    public void NormalizeMatchesNumpyOnFixture()
    {
        // numpy: Xl = log1p(float32(X / (X.sum(1) / 1e4))), first 8 values of row 0
        double[] row0 = [0.0, 5.6147236824035645, 6.710903644561768, 0.0, 5.374554634094238, 3.6904406547546387, 0.0, 7.06721305847168];
        var l = Normalize.Log1p(Normalize.Total(Fixtures.Counts60x40().X));
        for (int j = 0; j < 8; j++) Assert.Equal(row0[j], l[0, j], 1e-6);
    }

    [Fact]
    public void MedianTargetIgnoresEmptyRows()
    {
        // scanpy normalize_total without target_sum: np.median(counts[counts > 0]). Totals 0, 3, 5, 10, 0 -> median of 3, 5, 10 = 5
        // (over all five rows it would be 3).
        var x = CsrMatrix.FromDense(new float[,] { { 0, 0 }, { 1, 2 }, { 5, 0 }, { 4, 6 }, { 0, 0 } });
        Assert.Equal(5.0, Normalize.MedianTarget(x));
        var even = CsrMatrix.FromDense(new float[,] { { 0, 1 }, { 0, 0 }, { 2, 0 } });
        Assert.Equal(1.5, Normalize.MedianTarget(even));
        var ex = Assert.Throws<TesseraException>(() => Normalize.MedianTarget(CsrMatrix.FromDense(new float[,] { { 0, 0 } })));
        Assert.Equal("every row has a zero total count: nothing to normalise", ex.Message);
    }

    [Fact]
    public void BadNormalizeInputIsReported()
    {
        var ex = Assert.Throws<TesseraException>(() => Normalize.Total(Small().X, 0));
        Assert.Equal("normalisation target sum must be positive, got 0", ex.Message);
        var neg = CsrMatrix.FromDense(new float[,] { { 1, 0 }, { 0, -2 } });
        ex = Assert.Throws<TesseraException>(() => Normalize.Log1p(neg));
        Assert.Equal("log1p is undefined for value -2 (row 1, column 1)", ex.Message);
    }
}
