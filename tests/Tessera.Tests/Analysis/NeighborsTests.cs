using Tessera.Analysis;
using Tessera.Data;

namespace Tessera.Tests.Analysis;

public class NeighborsTests
{
    internal static float[] RandomData(int n, int d, int seed, int clusters = 1, double spread = 3.0)
    {
        var rng = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var centers = new double[clusters * d];
        for (int i = 0; i < centers.Length; i++) centers[i] = spread * Normal();
        var x = new float[n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i * d + j] = (float)(centers[(i % clusters) * d + j] + Normal());
        return x;
    }

    private static (int[] Idx, double[] Dist) BruteForce(float[] x, int n, int d, int k, NeighborMetric metric)
    {
        var idx = new int[n * k]; var dist = new double[n * k];
        for (int i = 0; i < n; i++)
        {
            var all = new List<(double D, int J)>();
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double s = 0, ni = 0, nj = 0;
                for (int c = 0; c < d; c++)
                {
                    double a = x[i * d + c], b = x[j * d + c];
                    if (metric == NeighborMetric.Euclidean) s += (a - b) * (a - b);
                    else { s += a * b; ni += a * a; nj += b * b; }
                }
                all.Add((metric == NeighborMetric.Euclidean ? Math.Sqrt(s) : 1 - s / Math.Sqrt(ni * nj), j));
            }
            all.Sort((p, q) => p.D != q.D ? p.D.CompareTo(q.D) : p.J.CompareTo(q.J));
            for (int t = 0; t < k; t++) { idx[i * k + t] = all[t].J; dist[i * k + t] = all[t].D; }
        }
        return (idx, dist);
    }

    [Theory]
    [InlineData(NeighborMetric.Euclidean)]
    [InlineData(NeighborMetric.Cosine)]
    public void ExactEqualsManagedBruteForce(NeighborMetric metric)
    {
        int n = 300, d = 7, k = 10;
        var x = RandomData(n, d, 1);
        var (bi, bd) = BruteForce(x, n, d, k, metric);
        // a tiny block forces many blocks
        var r = NearestNeighbors.Exact(x, n, d, k, metric, includeSelf: false, blockSize: 37);
        Assert.Equal(bi, r.Indices);
        for (int t = 0; t < bd.Length; t++) Assert.Equal(bd[t], r.Distances[t], 1e-5);
        Assert.False(r.IncludesSelf);
    }

    [Fact]
    public void ExactTilesGiveTheSameAnswerAtEveryTileSizeAndByHand()
    {
        // points on a line at 0, 1, 3, 6, 10 (2-D, second coordinate 0): neighbours worked out by hand
        var line = new float[] { 0, 0, 1, 0, 3, 0, 6, 0, 10, 0 };
        int[] want = { 1, 2, 0, 2, 1, 0, 2, 4, 3, 2 }; // 3: 0 and 6 tie at 3, the lower index wins
        foreach (int block in new[] { 1, 2, 3, 5 })
        {
            var r = NearestNeighbors.Exact(line, 5, 2, 2, blockSize: block);
            Assert.Equal(want, r.Indices);
            Assert.Equal(new float[] { 1, 3, 1, 2, 2, 3, 3, 4, 4, 7 }, r.Distances);
        }
        // the symmetric tile scan (rows and columns of off-diagonal tiles) must not depend on the tiling
        int n = 523, d = 9;
        var x = RandomData(n, d, 11, clusters: 4, spread: 1.0);
        var reference = NearestNeighbors.Exact(x, n, d, 12, NeighborMetric.Euclidean, includeSelf: true, blockSize: 4096);
        foreach (int block in new[] { 17, 100, 256 })
        {
            var r = NearestNeighbors.Exact(x, n, d, 12, NeighborMetric.Euclidean, includeSelf: true, blockSize: block);
            Assert.Equal(reference.Indices, r.Indices);
            Assert.Equal(reference.Distances, r.Distances);
        }
    }

    [Fact]
    public void ExactIsTheSameWithOneOrTwoTorchThreads()
    {
        int n = 2100, d = 12;
        var x = RandomData(n, d, 21, clusters: 3, spread: 1.0);
        int before = TorchSharp.torch.get_num_threads();
        try
        {
            TorchSharp.torch.set_num_threads(1);
            var r1 = NearestNeighbors.Exact(x, n, d, 10, blockSize: 512);
            TorchSharp.torch.set_num_threads(2);
            var r2 = NearestNeighbors.Exact(x, n, d, 10, blockSize: 512);
            Assert.Equal(r1.Indices, r2.Indices);
            Assert.Equal(r1.Distances, r2.Distances);
            // and a row checked by brute force: the nearest of point 0
            int best = -1; double bd = double.MaxValue;
            for (int j = 1; j < n; j++)
            {
                double s = 0;
                for (int c = 0; c < d; c++) { double t = (double)x[c] - x[j * d + c]; s += t * t; }
                if (s < bd) { bd = s; best = j; }
            }
            Assert.Equal(best, r1.Index(0, 0));
        }
        finally { TorchSharp.torch.set_num_threads(before); }
    }

    [Fact]
    public void IncludeSelfPutsThePointFirstThenTheSameNeighbours()
    {
        int n = 200, d = 5;
        var x = RandomData(n, d, 2);
        var without = NearestNeighbors.Exact(x, n, d, 9);
        var with = NearestNeighbors.Exact(x, n, d, 10, includeSelf: true);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(i, with.Index(i, 0));
            Assert.Equal(0f, with.Distance(i, 0));
            for (int j = 0; j < 9; j++) Assert.Equal(without.Index(i, j), with.Index(i, j + 1));
        }
    }

    [Fact]
    public void DuplicatePointsStillExcludeSelf()
    {
        // rows 0,1,2 identical: each one's neighbours are the other two at distance 0, never itself
        var x = new float[] { 1, 1, 1, 1, 1, 1, 5, 5, 9, 9 };
        var r = NearestNeighbors.Exact(x, 5, 2, 2);
        Assert.Equal(new[] { 1, 2 }, new[] { r.Index(0, 0), r.Index(0, 1) });
        Assert.Equal(new[] { 0, 2 }, new[] { r.Index(1, 0), r.Index(1, 1) });
        Assert.Equal(new[] { 0, 1 }, new[] { r.Index(2, 0), r.Index(2, 1) });
        Assert.Equal(0f, r.Distance(2, 1));
        Assert.Equal(0, r.Index(3, 0)); // (5,5) is √32 from rows 0, 1, 2 and 4: ties go to the lowest index
        Assert.Equal((float)Math.Sqrt(32), r.Distance(3, 0), 5);
        Assert.Equal(0, r.IndicesAs2D()[1, 0]);
    }

    [Fact]
    public void NnDescentRecallOnFiveThousandByThirtyTwo()
    {
        int n = 5000, d = 32, k = 15;
        var x = RandomData(n, d, 3, clusters: 10, spread: 1.0);
        var exact = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Method = NeighborMethod.Exact });
        var approx = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Method = NeighborMethod.NnDescent, Seed = 7 });
        double recall = NearestNeighbors.Recall(approx, exact);
        Assert.True(recall >= 0.95, $"recall {recall}");
        var again = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Method = NeighborMethod.NnDescent, Seed = 7 });
        Assert.Equal(approx.Indices, again.Indices);
        Assert.Equal(approx.Distances, again.Distances);
        AssertRowsSortedWithoutSelfAndTrue(x, d, approx, 97);
    }

    // every step-th row: sorted by distance, never the point itself, each distance the true Euclidean distance
    private static void AssertRowsSortedWithoutSelfAndTrue(float[] x, int d, KnnResult r, int step)
    {
        for (int i = 0; i < r.N; i += step)
            for (int j = 0; j < r.K; j++)
            {
                Assert.NotEqual(i, r.Index(i, j));
                if (j > 0) Assert.True(r.Distance(i, j) >= r.Distance(i, j - 1));
                double s = 0;
                for (int c = 0; c < d; c++) { double t = x[i * d + c] - x[r.Index(i, j) * d + c]; s += t * t; }
                Assert.Equal(Math.Sqrt(s), r.Distance(i, j), 1e-4);
            }
    }

    [Fact]
    public void NnDescentLongerListsRaiseRecallOnHighDimensionalData()
    {
        // one 48-d Gaussian (high intrinsic dimension: the hard case for NN-descent)
        int n = 6000, d = 48, k = 15;
        var x = RandomData(n, d, 5);
        var exact = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Method = NeighborMethod.Exact });
        double Recall(double f) => NearestNeighbors.Recall(NearestNeighbors.Compute(x, n, d,
            new NearestNeighborsOptions { Neighbors = k, Method = NeighborMethod.NnDescent, Seed = 2, ListFactor = f }), exact);
        double r1 = Recall(1), r2 = Recall(2);
        Assert.True(r2 >= 0.95, $"recall with lists 2k {r2}");
        Assert.True(r2 > r1 + 0.02, $"recall with lists k {r1}, 2k {r2}");
    }

    [Fact]
    public void NnDescentCosineWithSelfAndRandomInitOnly()
    {
        int n = 1500, d = 16, k = 10;
        var x = RandomData(n, d, 4, clusters: 5, spread: 1.0);
        var exact = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Metric = NeighborMetric.Cosine, Method = NeighborMethod.Exact, IncludeSelf = true });
        var approx = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Metric = NeighborMetric.Cosine, Method = NeighborMethod.NnDescent, IncludeSelf = true, NTrees = 0, Seed = 1 });
        Assert.True(NearestNeighbors.Recall(approx, exact) >= 0.95, $"recall {NearestNeighbors.Recall(approx, exact)}");
        for (int i = 0; i < n; i++) Assert.Equal(i, approx.Index(i, 0));
    }

    [Fact]
    public void IvfRecall_AllCellsProbedIsTheExactSearch_AndSameSeedSameResult()
    {
        int n = 4000, d = 24, k = 15;
        var x = RandomData(n, d, 8, clusters: 10, spread: 1.0);
        var exact = NearestNeighbors.Exact(x, n, d, k);
        var o = new NearestNeighborsOptions { Neighbors = k, Method = NeighborMethod.Ivf, Seed = 3 };
        var ivf = NearestNeighbors.Compute(x, n, d, o);
        double recall = NearestNeighbors.Recall(ivf, exact);
        Assert.True(recall >= 0.95, $"recall {recall}");
        Assert.Equal(ivf.Indices, NearestNeighbors.Compute(x, n, d, o).Indices);
        // fewer probes, lower (or equal) recall; every cell probed = a brute-force search: exactly Exact's answer
        double one = NearestNeighbors.Recall(NearestNeighbors.Compute(x, n, d, o with { IvfProbes = 1 }), exact);
        Assert.True(one <= recall, $"1 probe {one}, default probes {recall}");
        var all = NearestNeighbors.Compute(x, n, d, o with { IvfLists = 20, IvfProbes = 20 });
        Assert.Equal(exact.Indices, all.Indices);
        Assert.Equal(exact.Distances, all.Distances);
        AssertRowsSortedWithoutSelfAndTrue(x, d, ivf, 113);
    }

    [Fact]
    public void IvfOneCellOfTwentyThousandPoints_IsSearchedInColumnBlocks_AndEqualsExact()
    {
        // one cell: each 1024-row tile would be 1024 × 20,000 distances, above the 16M-value block, so it is cut in two
        int n = 20000, d = 4, k = 5;
        var x = RandomData(n, d, 12);
        var ivf = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Method = NeighborMethod.Ivf, IvfLists = 1, IvfProbes = 1 });
        var exact = NearestNeighbors.Exact(x, n, d, k);
        Assert.Equal(exact.Indices, ivf.Indices);
        Assert.Equal(exact.Distances, ivf.Distances);
    }

    [Fact]
    public void IvfCosineWithSelf_TinyCellsStillFindKNeighbours_AndBadOptions()
    {
        int n = 1500, d = 16, k = 10;
        var x = RandomData(n, d, 4, clusters: 5, spread: 1.0);
        var exact = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Metric = NeighborMetric.Cosine, Method = NeighborMethod.Exact, IncludeSelf = true });
        var ivf = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Metric = NeighborMetric.Cosine, Method = NeighborMethod.Ivf, IncludeSelf = true, Seed = 1 });
        Assert.True(NearestNeighbors.Recall(ivf, exact) >= 0.95, $"recall {NearestNeighbors.Recall(ivf, exact)}");
        for (int i = 0; i < n; i++) Assert.Equal(i, ivf.Index(i, 0));
        // 500 cells of ~3 points, one probe: too few candidates in a cell, so nearer cells are added until k are found
        var tiny = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Method = NeighborMethod.Ivf, IvfLists = 500, IvfProbes = 1 });
        Assert.All(tiny.Indices, j => Assert.InRange(j, 0, n - 1));
        Assert.Equal("IVF lists must be between 1 and the number of points (1500) but is 2000",
            Assert.Throws<TesseraException>(() => NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Method = NeighborMethod.Ivf, IvfLists = 2000 })).Message);
        Assert.Equal("IVF probes must be at least 1 but is 0",
            Assert.Throws<TesseraException>(() => NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = k, Method = NeighborMethod.Ivf, IvfProbes = 0 })).Message);
    }

    [Fact]
    public void AutoUsesExactBelowThreshold()
    {
        int n = 400, d = 6;
        var x = RandomData(n, d, 5);
        var m = new DenseMatrix(n, d, x.Select(v => (double)v).ToArray());
        var auto = NearestNeighbors.Compute(m, new NearestNeighborsOptions { Neighbors = 5 });
        var exact = NearestNeighbors.Exact(x, n, d, 5);
        Assert.Equal(exact.Indices, auto.Indices);
    }

    [Fact]
    public void RecallHandWorked()
    {
        var exact = new KnnResult(2, 2, new[] { 1, 2, 0, 2 }, new float[4], false);
        var approx = new KnnResult(2, 2, new[] { 2, 3, 3, 4 }, new float[4], false);
        Assert.Equal(0.25, NearestNeighbors.Recall(approx, exact), 12);
        Assert.Equal(1.0, NearestNeighbors.Recall(exact, exact), 12);
    }

    [Fact]
    public void BadInputMessages()
    {
        var x = new float[] { 0, 1, 2, 3, 4, 5 };
        Assert.Equal("cannot find 3 neighbours among 3 points (self excluded)",
            Assert.Throws<TesseraException>(() => NearestNeighbors.Exact(x, 3, 2, 3)).Message);
        Assert.Equal("data has 6 values but the shape is (4, 2)",
            Assert.Throws<TesseraException>(() => NearestNeighbors.Exact(x, 4, 2, 1)).Message);
        Assert.Equal("number of neighbours must be at least 1 but is 0",
            Assert.Throws<TesseraException>(() => NearestNeighbors.Exact(x, 3, 2, 0)).Message);
        Assert.Equal("NN-descent list factor must be a finite number of at least 1 but is 0.5",
            Assert.Throws<TesseraException>(() => NearestNeighbors.Compute(x, 3, 2, new NearestNeighborsOptions { Neighbors = 1, ListFactor = 0.5 })).Message);
        var bad = new float[] { 0, 1, float.NaN, 3, 4, 5 };
        Assert.Equal("data has a non-finite value at row 1, column 0",
            Assert.Throws<TesseraException>(() => NearestNeighbors.Exact(bad, 3, 2, 1)).Message);
        var a = new KnnResult(3, 1, new int[3], new float[3], false);
        var b = new KnnResult(2, 1, new int[2], new float[2], false);
        Assert.Equal("approx has 3 points but exact has 2", Assert.Throws<TesseraException>(() => NearestNeighbors.Recall(a, b)).Message);
    }
}
