using Tessera.Analysis;
using Tessera.Data;

namespace Tessera.Tests.Analysis;

public class MetricsTests
{
    private const double Discrete = 1e-9;

    [Fact]
    public void LabelMetricsMatchSklearn()
    {
        var (t, p) = ClusterTestData.Labels(200, 5, 7, 0.35, 21);
        Assert.Equal(new[] { 1, 3, 2, 0, 0, 1, 0, 1, 4, 1 }, t.Take(10).ToArray());
        Assert.Equal(new[] { 4, 3, 0, 1, 1, 3, 0, 4, 6, 1 }, p.Take(10).ToArray());
        // sklearn 1.2.1 on the same labels
        ClusterTestData.Rel(0.48271580782963425, Metrics.AdjustedRandIndex(t, p), Discrete);
        ClusterTestData.Rel(0.47749808748372363, Metrics.NormalizedMutualInfo(t, p), Discrete);
        ClusterTestData.Rel(0.45651888398064877, Metrics.AdjustedMutualInfo(t, p), Discrete);
        ClusterTestData.Rel(0.5067879965869845, Metrics.Homogeneity(t, p), Discrete);
        ClusterTestData.Rel(0.45140882801056714, Metrics.Completeness(t, p), Discrete);
        ClusterTestData.Rel(0.4774980874837237, Metrics.VMeasure(t, p), Discrete);
        ClusterTestData.Rel(0.46847292671096663, Metrics.VMeasure(t, p, beta: 2.0), Discrete);
        ClusterTestData.Rel(0.73, Metrics.ClusteringAccuracy(t, p), Discrete);
        ClusterTestData.Rel(0.755, Metrics.Purity(t, p), Discrete);
        // linear_sum_assignment matching, unmatched clusters -> -1, then f1_score(average=macro/micro)
        ClusterTestData.Rel(0.6323898915223117, Metrics.MacroF1(t, p), Discrete);
        ClusterTestData.Rel(0.7299999999999999, Metrics.MicroF1(t, p), Discrete);
    }

    [Fact]
    public void FewerClustersThanClassesMatchesSklearn()
    {
        var (t, p) = ClusterTestData.Labels(150, 6, 4, 0.2, 8);
        ClusterTestData.Rel(0.4791717513025429, Metrics.AdjustedRandIndex(t, p), Discrete);
        ClusterTestData.Rel(0.5120782670217489, Metrics.AdjustedMutualInfo(t, p), Discrete);
        ClusterTestData.Rel(0.528556708325575, Metrics.NormalizedMutualInfo(t, p), Discrete);
        ClusterTestData.Rel(0.6, Metrics.ClusteringAccuracy(t, p), Discrete);
        ClusterTestData.Rel(0.46154465337100054, Metrics.MacroF1(t, p), Discrete);
        ClusterTestData.Rel(0.6, Metrics.MicroF1(t, p), Discrete);
        ClusterTestData.Rel(0.6, Metrics.Purity(t, p), Discrete);
    }

    [Fact]
    public void LargerAmiUsesExactExpectedMutualInformation()
    {
        var (t, p) = ClusterTestData.Labels(3000, 8, 10, 0.5, 77);
        ClusterTestData.Rel(0.27544073937476626, Metrics.AdjustedMutualInfo(t, p), Discrete);
        ClusterTestData.Rel(0.2708958557851055, Metrics.AdjustedRandIndex(t, p), Discrete);
        ClusterTestData.Rel(0.27897004829153466, Metrics.NormalizedMutualInfo(t, p), Discrete);
    }

    [Fact]
    public void StringLabelsDropMissingTruth()
    {
        var (t, p) = ClusterTestData.Labels(200, 5, 7, 0.35, 21);
        var ts = t.Select((v, i) => i % 10 != 0 ? "layer" + v : (i % 20 == 0 ? null : "NA")).ToArray();
        var ps = p.Select(v => "c" + v).ToArray();
        // sklearn on the 180 pairs with known truth
        ClusterTestData.Rel(0.49958476284125775, Metrics.AdjustedRandIndex(ts, ps), Discrete);
        ClusterTestData.Rel(0.4757690566723014, Metrics.AdjustedMutualInfo(ts, ps), Discrete);
        var keep = Enumerable.Range(0, 200).Where(i => i % 10 != 0).ToArray();
        Assert.Equal(Metrics.MacroF1(keep.Select(i => t[i]).ToArray(), keep.Select(i => p[i]).ToArray()), Metrics.MacroF1(ts, ps), 15);
    }

    [Fact]
    public void DegenerateLabelingsFollowSklearn()
    {
        int[] one = { 0, 0, 0, 0 }, many = { 0, 1, 2, 3 };
        Assert.Equal(0.0, Metrics.AdjustedMutualInfo(one, many));
        Assert.Equal(0.0, Metrics.NormalizedMutualInfo(one, many));
        Assert.Equal(0.0, Metrics.AdjustedRandIndex(one, many));
        Assert.Equal(1.0, Metrics.Homogeneity(one, many));
        Assert.Equal(0.0, Metrics.Completeness(one, many));
        Assert.Equal(1.0, Metrics.AdjustedMutualInfo(one, one));
        Assert.Equal(1.0, Metrics.NormalizedMutualInfo(one, one));
        Assert.Equal(1.0, Metrics.AdjustedRandIndex(new[] { 5, 5, 9, 9 }, new[] { 1, 1, 0, 0 }));
    }

    [Fact]
    public void SilhouetteMatchesSklearn()
    {
        var (x, y) = ClusterTestData.Blobs(300, 4, 4, 1.5, 11);
        ClusterTestData.Rel(0.28321974368794534, Metrics.Silhouette(x, y), 1e-9);
        var km = new KMeans(new KMeansOptions { Clusters = 4, InitialCenters = x.SubsetRows(new[] { 0, 1, 2, 5 }) }).Fit(x);
        ClusterTestData.Rel(0.2977071023635384, Metrics.Silhouette(x, km.Labels), 1e-9);
        double s1 = Metrics.Silhouette(x, y, sampleSize: 150, seed: 4);
        Assert.Equal(s1, Metrics.Silhouette(x, y, sampleSize: 150, seed: 4));
        Assert.InRange(s1, 0.2, 0.37);
    }

    [Fact]
    public void SilhouetteSamplesMatchSklearn()
    {
        // sklearn.metrics.silhouette_samples on these 7 points (the last one sits with the wrong group)
        var x = new DenseMatrix(7, 2, new double[] { 0, 0, 1, 0, 0, 1, 5, 5, 6, 5, 5, 7, 0.5, 0.5 });
        var s = Metrics.SilhouetteSamples(x, new[] { 0, 0, 0, 1, 1, 1, 1 });
        double[] expected = { 0.83464754, 0.78292918, 0.78183092, 0.52891221, 0.53185739, 0.50390827, -0.90076154 };
        for (int i = 0; i < 7; i++) Assert.Equal(expected[i], s[i], 7);
    }

    [Fact]
    public void BatchMixingSeparatesMixedFromSplitGroups()
    {
        // Group 0: two batches drawn from the same cloud (mixed); group 1: the two batches 50 units apart (separated).
        var rng = new Random(3);
        int n = 200; var data = new double[n * 2]; var batch = new int[n]; var group = new int[n];
        for (int i = 0; i < n; i++)
        {
            group[i] = i < 100 ? 0 : 1; batch[i] = i % 2;
            double shift = group[i] == 1 && batch[i] == 1 ? 50 : 0;
            data[2 * i] = 100 * group[i] + shift + rng.NextDouble(); data[2 * i + 1] = rng.NextDouble();
        }
        var m = Metrics.BatchMixing(new DenseMatrix(n, 2, data), batch, group);
        Assert.Equal(2, m.Count);
        Assert.InRange(m[0].Mixing, 0.85, 1.0);   // batches overlap: |s_i| near 0
        Assert.InRange(m[1].Mixing, 0.0, 0.05);   // batches apart: s_i near 1
        Assert.InRange(m[1].Silhouette, 0.95, 1.0);
        // One batch only → undefined
        var single = Metrics.BatchMixing(new DenseMatrix(4, 1, new double[] { 0, 1, 2, 3 }), new[] { 0, 0, 0, 0 }, new[] { 0, 0, 0, 0 });
        Assert.True(double.IsNaN(single[0].Mixing));
    }

    [Fact]
    public void SilhouetteSingletonClusterScoresZero()
    {
        // hand-worked: points 0,1 in A, 5 alone in B. s(0) = (5-1)/5, s(1) = (4-1)/4, s(5) = 0
        var x = new DenseMatrix(3, 1, new double[] { 0, 1, 5 });
        Assert.Equal((0.8 + 0.75 + 0) / 3, Metrics.Silhouette(x, new[] { 0, 0, 1 }), 14);
    }

    [Fact]
    public void TrustworthinessMatchesSklearn()
    {
        var (x, _) = ClusterTestData.Blobs(300, 4, 4, 1.5, 11);
        var r = new ClusterTestData.Lcg(99);
        var low = new DenseMatrix(300, 2);
        for (int i = 0; i < 300; i++) { low[i, 0] = x[i, 0] + 2 * r.Normal(); low[i, 1] = x[i, 1] * 0.5 + r.Normal(); }
        ClusterTestData.Rel(0.7243995433789954, Metrics.Trustworthiness(x, low, 5), 1e-12);
        ClusterTestData.Rel(0.7326593645154924, Metrics.Trustworthiness(x, low, 12), 1e-12);
        Assert.Equal(1.0, Metrics.Trustworthiness(x, x, 5), 12);
    }

    [Fact]
    public void CorrelationsAndErrorsMatchScipy()
    {
        double[] a = { 1, 2, 2, 3, 5, 5, 5, 8, 9, 10, 4, 4 };
        double[] b = { 2, 1, 3, 3, 6, 5, 7, 9, 8, 12, 4, 3 };
        ClusterTestData.Rel(0.9451817335378413, Metrics.Pearson(a, b), 1e-12);
        ClusterTestData.Rel(0.9573014355470835, Metrics.Spearman(a, b), 1e-12);
        ClusterTestData.Rel(1.118033988749895, Metrics.Rmse(a, b), 1e-12);
        Assert.True(double.IsNaN(Metrics.Pearson(new double[] { 1, 1, 1 }, new double[] { 1, 2, 3 })));
        int[] yt = { 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1 };
        double[] sc = { 0.9, 0.1, 0.4, 0.4, 0.4, 0.2, 0.8, 0.4, 0.3, 0.7, 0.1, 0.6 };
        ClusterTestData.Rel(0.7777777777777779, Metrics.Auroc(yt, sc), 1e-12);
        bool[] jt = { true, false, true, true, false, false, true, false, true, false };
        bool[] jp = { true, true, true, false, false, false, true, false, false, true };
        ClusterTestData.Rel(0.42857142857142855, Metrics.Jaccard(jt, jp), 1e-15);
        Assert.Equal(2.0 / 5, Metrics.Jaccard(new[] { "Gfap", "Mbp", "Snap25" }, new[] { "Mbp", "Snap25", "Pcp4", "Nrgn" }), 15);
        Assert.Equal(0.0, Metrics.Jaccard(Array.Empty<string>(), Array.Empty<string>()));
    }

    [Fact]
    public void BadInputMessages()
    {
        Assert.Equal("truth has 3639 labels but pred has 3638",
            Assert.Throws<TesseraException>(() => Metrics.AdjustedRandIndex(new int[3639], new int[3638])).Message);
        Assert.Equal("truth and pred are empty", Assert.Throws<TesseraException>(() => Metrics.NormalizedMutualInfo(Array.Empty<int>(), Array.Empty<int>())).Message);
        Assert.Equal("every truth label is missing (null or NA); nothing to compare",
            Assert.Throws<TesseraException>(() => Metrics.AdjustedRandIndex(new string?[] { null, "NA" }, new string?[] { "a", "b" })).Message);
        Assert.Equal("pred has a missing label at index 1 where truth is 'L1'",
            Assert.Throws<TesseraException>(() => Metrics.AdjustedRandIndex(new string?[] { "L1", "L1" }, new string?[] { "a", null })).Message);
        var x = new DenseMatrix(4, 1, new double[] { 0, 1, 2, 3 });
        Assert.Equal("Number of labels is 1. Valid values are 2 to n_samples - 1 (inclusive)",
            Assert.Throws<TesseraException>(() => Metrics.Silhouette(x, new[] { 0, 0, 0, 0 })).Message);
        Assert.Equal("x has 4 rows but labels has 3", Assert.Throws<TesseraException>(() => Metrics.Silhouette(x, new[] { 0, 1, 0 })).Message);
        Assert.Equal("n_neighbors (2) should be less than n_samples / 2 (2)",
            Assert.Throws<TesseraException>(() => Metrics.Trustworthiness(x, x, 2)).Message);
        Assert.Equal("highDim has 4 rows but lowDim has 3",
            Assert.Throws<TesseraException>(() => Metrics.Trustworthiness(x, new DenseMatrix(3, 1), 1)).Message);
        Assert.Equal("Only one class present in truth. ROC AUC score is not defined in that case.",
            Assert.Throws<TesseraException>(() => Metrics.Auroc(new[] { 1, 1 }, new[] { 0.2, 0.3 })).Message);
        Assert.Equal("truth must be 0 or 1 but is 2 at index 1",
            Assert.Throws<TesseraException>(() => Metrics.Auroc(new[] { 1, 2 }, new[] { 0.2, 0.3 })).Message);
        Assert.Equal("x has 3 values but y has 2", Assert.Throws<TesseraException>(() => Metrics.Pearson(new double[3], new double[2])).Message);
        Assert.Equal("y contains NaN at index 1", Assert.Throws<TesseraException>(() => Metrics.Spearman(new double[2], new[] { 0, double.NaN })).Message);
    }

    [Fact]
    public void HungarianMatchesScipyOnRectangularCosts()
    {
        var r = new ClusterTestData.Lcg(5);
        var cost = new double[5, 8];
        for (int i = 0; i < 5; i++) for (int j = 0; j < 8; j++) cost[i, j] = r.Int(20);
        var (rows, cols) = Hungarian.LinearSumAssignment(cost);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, rows);
        Assert.Equal(6.0, rows.Select((ri, t) => cost[ri, cols[t]]).Sum()); // scipy: 6.0 with cols [1, 2, 0, 5, 7]
        Assert.Equal(new[] { 1, 2, 0, 5, 7 }, cols);
        var tr = new double[8, 5];
        for (int i = 0; i < 5; i++) for (int j = 0; j < 8; j++) tr[j, i] = cost[i, j];
        var (r2, c2) = Hungarian.LinearSumAssignment(tr, maximize: true);
        Assert.Equal(87.0, r2.Select((ri, t) => tr[ri, c2[t]]).Sum()); // scipy maximize=True: 87.0
        Assert.Equal(new[] { 0, 1, 2, 4, 7 }, r2);
        Assert.Equal("cost matrix contains NaN at (0, 1)",
            Assert.Throws<TesseraException>(() => Hungarian.LinearSumAssignment(new double[,] { { 1, double.NaN } })).Message);
    }

    [Fact]
    public void HungarianEqualsBruteForceOnRandomRectangularCosts()
    {
        var r = new ClusterTestData.Lcg(123);
        for (int trial = 0; trial < 30; trial++)
        {
            int rows = 1 + r.Int(5), cols = 1 + r.Int(5);
            var cost = new double[rows, cols];
            for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) cost[i, j] = Math.Round(r.Next() * 10, 1);
            var (ri, ci) = Hungarian.LinearSumAssignment(cost);
            Assert.Equal(Math.Min(rows, cols), ri.Length);
            Assert.Equal(ri.Length, ri.Distinct().Count());
            Assert.Equal(ci.Length, ci.Distinct().Count());
            double got = ri.Select((i, t) => cost[i, ci[t]]).Sum();
            Assert.Equal(BruteForce(cost), got, 9);
        }
    }

    private static double BruteForce(double[,] cost)
    {
        int rows = cost.GetLength(0), cols = cost.GetLength(1);
        bool tr = rows > cols;
        int n = Math.Min(rows, cols), m = Math.Max(rows, cols);
        double best = double.PositiveInfinity;
        void Rec(int i, bool[] used, double acc)
        {
            if (i == n) { best = Math.Min(best, acc); return; }
            for (int j = 0; j < m; j++)
            {
                if (used[j]) continue;
                used[j] = true;
                Rec(i + 1, used, acc + (tr ? cost[j, i] : cost[i, j]));
                used[j] = false;
            }
        }
        Rec(0, new bool[m], 0);
        return best;
    }
}
