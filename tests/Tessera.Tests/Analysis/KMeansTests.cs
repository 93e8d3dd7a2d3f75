using Tessera.Analysis;
using Tessera.Data;

namespace Tessera.Tests.Analysis;

/// <summary>
/// Deterministic inputs shared with bench/cluster_fixtures.py: a 64-bit LCG gives bit-identical data in C# and Python,
/// so the sklearn/scipy numbers pasted into these tests were computed on exactly the same values.
/// </summary>
internal static class ClusterTestData
{
    internal sealed class Lcg(ulong seed)
    {
        private ulong _s = seed;
        public double Next()
        {
            unchecked { _s = _s * 6364136223846793005UL + 1442695040888963407UL; }
            return (_s >> 11) * (1.0 / 9007199254740992.0);
        }
        public double Normal() { double t = 0; for (int i = 0; i < 12; i++) t += Next(); return t - 6.0; }
        public int Int(int m) => (int)(Next() * m);
    }

    public static (DenseMatrix X, int[] Y) Blobs(int n, int d, int k, double spread, ulong seed)
    {
        var r = new Lcg(seed);
        var centers = new double[k, d];
        for (int c = 0; c < k; c++) for (int j = 0; j < d; j++) centers[c, j] = 10.0 * (r.Next() - 0.5);
        var x = new DenseMatrix(n, d);
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            int c = i % k; y[i] = c;
            for (int j = 0; j < d; j++) x[i, j] = centers[c, j] + spread * r.Normal();
        }
        return (x, y);
    }

    public static (int[] Truth, int[] Pred) Labels(int n, int kt, int kp, double noise, ulong seed)
    {
        var r = new Lcg(seed);
        var t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.Int(kt);
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = r.Next() > noise ? (t[i] * 3 + 1) % kp : r.Int(kp);
        return (t, p);
    }

    public static void Rel(double expected, double actual, double tol)
        => Assert.True(Math.Abs(expected - actual) <= tol * Math.Max(1e-300, Math.Abs(expected)), $"expected {expected:R} but got {actual:R} (rel tol {tol})");
}

public class KMeansTests
{
    [Fact]
    public void FixedInitMatchesSklearnLloyd()
    {
        var (x, _) = ClusterTestData.Blobs(300, 4, 4, 1.5, 11);
        var init = x.SubsetRows(new[] { 0, 1, 2, 5 });
        var m = new KMeans(new KMeansOptions { Clusters = 4, InitialCenters = init }).Fit(x);
        // sklearn 1.2.1 KMeans(4, init=rows, n_init=1, algorithm="lloyd")
        ClusterTestData.Rel(3315.0269818678144, m.Inertia, 1e-9);
        Assert.Equal(8, m.NIter);
        Assert.Equal(new[] { 0, 1, 2, 2, 0, 3, 2, 2, 0, 3, 2, 2 }, m.Labels.Take(12).ToArray());
        double[] centers = { 3.2631478118000405, 0.4686536534392427, -4.709544152137313, -2.629738104772253, 5.058148539241331, 2.1968345147349693,
            -3.1785251091989837, -3.695992495493998, -2.326837080487494, 1.1825426867408004, 1.917064927546539, -2.5656608630220084,
            3.547190685411307, 4.55784806813943, -1.3705652385905251, -2.550531004961487 };
        for (int i = 0; i < centers.Length; i++) Assert.Equal(centers[i], m.Centers.Data[i], 1e-9);
        Assert.Equal(m.Labels, m.Predict(x));
    }

    [Fact]
    public void KMeansPlusPlusRecoversSeparatedBlobs()
    {
        var (x, y) = ClusterTestData.Blobs(400, 5, 5, 0.3, 3);
        var m = new KMeans(new KMeansOptions { Clusters = 5, Seed = 7 }).Fit(x);
        Assert.Equal(1.0, Metrics.AdjustedRandIndex(y, m.Labels), 12);
        ClusterTestData.Rel(175.6265760072942, m.Inertia, 1e-9); // sklearn n_init=10 finds the same optimum
    }

    [Fact]
    public void KMeansPlusPlusInertiaCloseToSklearnOnOverlappingBlobs()
    {
        var (x, _) = ClusterTestData.Blobs(300, 4, 4, 1.5, 11);
        var m = new KMeans(new KMeansOptions { Clusters = 4, Seed = 1 }).Fit(x);
        ClusterTestData.Rel(2592.9256182537247, m.Inertia, 0.02);
    }

    // The assignment is a tiled product (4 rows × 4 centers per step, centers padded to whole vectors): every tail of
    // rows and centers must still give each row its exactly nearest center (checked by brute force).
    [Theory]
    [InlineData(103, 7)]
    [InlineData(4, 4)]
    [InlineData(2050, 13)]
    [InlineData(9, 1)]
    public void PredictIsTheNearestCenterForAnyRowAndCenterCount(int n, int k)
    {
        var (x, _) = ClusterTestData.Blobs(n, 5, 3, 2.0, 5);
        var (cx, _) = ClusterTestData.Blobs(k, 5, k, 1.0, 9);
        var model = new KMeansModel(cx, new int[k], 0, 0);
        var got = model.Predict(x);
        for (int i = 0; i < n; i++)
        {
            int best = 0; double bd = double.PositiveInfinity;
            for (int c = 0; c < k; c++)
            {
                double s = 0;
                for (int j = 0; j < 5; j++) { double t = x[i, j] - cx[c, j]; s += t * t; }
                if (s < bd) { bd = s; best = c; }
            }
            Assert.Equal(best, got[i]);
        }
    }

    [Fact]
    public void SameSeedGivesIdenticalResults()
    {
        var (x, _) = ClusterTestData.Blobs(300, 4, 6, 1.5, 11);
        var a = new KMeans(new KMeansOptions { Clusters = 6, Restarts = 3, Seed = 42 }).Fit(x);
        var b = new KMeans(new KMeansOptions { Clusters = 6, Restarts = 3, Seed = 42 }).Fit(x);
        Assert.Equal(a.Labels, b.Labels);
        Assert.Equal(a.Inertia, b.Inertia);
        Assert.Equal(a.Centers.Data, b.Centers.Data);
    }

    [Fact]
    public void EmptyClusterIsRelocated()
    {
        // two far groups; initial centers put three centers on one side, one far away from everything
        var x = new DenseMatrix(6, 1, new double[] { 0, 0.1, 0.2, 10, 10.1, 10.2 });
        var init = new DenseMatrix(3, 1, new double[] { 0.1, 10.1, 1000 });
        var m = new KMeans(new KMeansOptions { Clusters = 3, InitialCenters = init }).Fit(x);
        Assert.Equal(3, m.Labels.Distinct().Count());
        Assert.True(m.Inertia < 0.1, $"inertia {m.Inertia}");
    }

    [Fact]
    public void BadInputMessages()
    {
        var x = new DenseMatrix(3, 2, new double[] { 0, 1, 2, 3, 4, 5 });
        Assert.Equal("KMeans needs at least Clusters=4 rows but x has 3", Assert.Throws<TesseraException>(() => new KMeans(new KMeansOptions { Clusters = 4 }).Fit(x)).Message);
        Assert.Equal("KMeans Clusters must be at least 1, got 0", Assert.Throws<TesseraException>(() => new KMeans(new KMeansOptions { Clusters = 0 }).Fit(x)).Message);
        var bad = new DenseMatrix(3, 2, new double[] { 0, 1, 2, double.NaN, 4, 5 });
        Assert.Equal("x contains NaN at row 1, column 1", Assert.Throws<TesseraException>(() => new KMeans(new KMeansOptions { Clusters = 2 }).Fit(bad)).Message);
        Assert.Equal("InitialCenters has shape (1, 2) but (2, 2) is needed for Clusters=2 and x with 2 columns",
            Assert.Throws<TesseraException>(() => new KMeans(new KMeansOptions { Clusters = 2, InitialCenters = new DenseMatrix(1, 2) }).Fit(x)).Message);
        var m = new KMeans(new KMeansOptions { Clusters = 2 }).Fit(x);
        Assert.Equal("x has 3 columns but the model was fitted on 2", Assert.Throws<TesseraException>(() => m.Predict(new DenseMatrix(1, 3))).Message);
    }

    [Fact]
    public void EachRestartIsReportedWithItsCount()
    {
        var x = new DenseMatrix(6, 1, [0, 0.1, 0.2, 5, 5.1, 5.2]);
        var seen = new List<(long Done, long Total)>();
        var model = new KMeans(new KMeansOptions { Clusters = 2, Restarts = 4, Seed = 1 }).Fit(x, new Recorder(seen));
        Assert.Equal([(1L, 4L), (2L, 4L), (3L, 4L), (4L, 4L)], seen);
        Assert.Equal(0.04, model.Inertia, 9);   // two clusters of three points, each 0.02 around its mean
    }

    private sealed class Recorder(List<(long, long)> seen) : IProgress<Progress>
    {
        public void Report(Progress value) => seen.Add((value.Done, value.Total));
    }
}
