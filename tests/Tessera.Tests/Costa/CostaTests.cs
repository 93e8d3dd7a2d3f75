using Tessera.Analysis;
using Tessera.Data;
using Tessera.Methods.Costa;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Tests.Costa;

public class CostaTests
{
    private static readonly float[] A = [0.5f, -1.0f, 2.0f, 0.1f, 1.5f, 0.3f, -0.7f, 0.0f];
    private static readonly float[] Y = [0.1f, 0.2f, 0.6f, 0.1f, 0.7f, 0.1f, 0.1f, 0.1f];

    [Fact]
    public void BiTemperedLossMatchesReference()
    {
        // Reference: the authors' algorithm (5 fixed-point iterations) written out in plain python.
        using var a = tensor(A, [2, 4]);
        using var y = tensor(Y, [2, 4]);
        using var loss = BiTemperedLoss.Loss(a, y);
        Assert.Equal(0.06266410, loss.item<float>(), 5);
        using var p = BiTemperedLoss.TemperedSoftmax(a, 1.2);
        float[] expected = [0.18304487f, 0.06952676f, 0.60867134f, 0.13875745f];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], p[0, i].item<float>(), 5);
    }

    [Fact]
    public void BiTemperedGradientMatchesFiniteDifferences()
    {
        // The escort-distribution gradient of the normaliser must agree with numerical differentiation of the loss.
        using var a = tensor(A.Select(v => (double)v).ToArray(), [2, 4]).requires_grad_(true);
        using var y = tensor(Y.Select(v => (double)v).ToArray(), [2, 4]);
        using var loss = BiTemperedLoss.Loss(a, y, iters: 30);
        loss.backward();
        var g = a.grad!.data<double>().ToArray();
        var basev = A.Select(v => (double)v).ToArray();
        for (int i = 0; i < 8; i++)
        {
            double h = 1e-5;
            var plus = (double[])basev.Clone(); plus[i] += h;
            var minus = (double[])basev.Clone(); minus[i] -= h;
            using var lp = BiTemperedLoss.Loss(tensor(plus, [2, 4]), y, iters: 30);
            using var lm = BiTemperedLoss.Loss(tensor(minus, [2, 4]), y, iters: 30);
            double num = (lp.item<double>() - lm.item<double>()) / (2 * h);
            Assert.Equal(num, g[i], 6);
        }
    }

    [Fact]
    public void SoftTargetsSharpenTowardsOwnCluster()
    {
        // Two points per cluster at ±1 around centres 0 and 10; the point at -1 has distances 1 and 11: q = softmax(1, 1/11).
        // By symmetry f = (2, 2), so p = q²/Σq².
        var e = new DenseMatrix(4, 1, [-1, 1, 9, 11]);
        var p = CostaTrainer.SoftTargets(e, [0, 0, 1, 1], 3);
        double q0 = Math.Exp(1) / (Math.Exp(1) + Math.Exp(1.0 / 11)), q1 = 1 - q0;
        double p0 = q0 * q0 / (q0 * q0 + q1 * q1);
        Assert.Equal(p0, p[0], 5);
        Assert.Equal(1 - p0, p[1], 5);
        Assert.Equal(0f, p[2]); // empty cluster
        Assert.Equal(p0, p[3 * 3 + 1], 5);
    }

    [Fact]
    public void RealignIsAPermutationFollowingTheOldLabels()
    {
        int[] old = [0, 0, 1, 1, 2, 2], nw = [2, 2, 0, 0, 1, 1];
        var t = new float[18];
        for (int i = 0; i < 6; i++) t[i * 3 + nw[i]] = 1;
        var (t2, l2) = CostaTrainer.Realign(old, nw, t, 3);
        Assert.Equal(old, l2);
        for (int i = 0; i < 6; i++) Assert.Equal(1f, t2[i * 3 + old[i]]);
    }

    [Fact]
    public void NetShapesAdaptToImageSize()
    {
        using var n48 = new CostaNet(48, 48, 30);
        Assert.Equal(128, n48.FeatureDim);
        using var n85 = new CostaNet(85, 85, 10, tanhLast: false);
        Assert.Equal(512, n85.FeatureDim); // the authors' MERFISH net: 128×2×2
        using var n28 = new CostaNet(28, 28, 10);
        Assert.Equal(128, n28.FeatureDim);
        Assert.Equal("images of 16x16 are too small for the CoSTA ConvNet (need at least 22x22)",
            Assert.Throws<TesseraException>(() => new CostaNet(16, 16, 10)).Message);
    }

    private static float[] Blobs(int n, int size, out int[] truth)
    {
        // Two patterns: a bright blob top-left or bottom-right, plus noise.
        var rng = new Random(4);
        var px = new float[n * size * size];
        truth = new int[n];
        for (int g = 0; g < n; g++)
        {
            truth[g] = g % 2;
            for (int r = 0; r < size; r++)
                for (int c = 0; c < size; c++)
                {
                    bool inBlob = truth[g] == 0 ? r < size / 2 && c < size / 2 : r >= size / 2 && c >= size / 2;
                    px[(g * size + r) * size + c] = (inBlob ? 2f : 0f) + (float)rng.NextDouble();
                }
        }
        return px;
    }

    internal static GeneImageSet BlobImages(int n, int size, out int[] truth) =>
        new(Enumerable.Range(0, n).Select(g => $"g{g:D3}").ToArray(), size, size, Blobs(n, size, out truth));

    [Fact]
    public void SameSeedGivesIdenticalEmbeddings()
    {
        var images = BlobImages(80, 24, out var truth);
        var o = new CostaOptions { Models = 1, Clusters = 4, Epochs = 1, BatchSize = 16, UmapNeighbors = 10, UmapEpochs = 30, Seed = 9 };
        using var m1 = CostaTrainer.Fit(images, o);
        using var m2 = CostaTrainer.Fit(images, o);
        var e1 = m1.Result!.Embeddings[0];
        Assert.Equal(e1.Data, m2.Result!.Embeddings[0].Data);
        var history = m1.Result.Histories[0];
        Assert.Equal(2, history.Count);
        Assert.Equal(3, history[1].Steps); // 56 training genes / 16, last partial batch dropped
        Assert.True(double.IsFinite(history[1].Loss));
        // Embeddings are unit vectors.
        for (int i = 0; i < 80; i++) Assert.Equal(1.0, Math.Sqrt(Enumerable.Range(0, e1.Cols).Sum(j => e1[i, j] * e1[i, j])), 4);
        // Two obvious patterns separate even after one epoch.
        var km = new KMeans(new KMeansOptions { Clusters = 2, Restarts = 5 }).Fit(e1);
        Assert.True(Metrics.NormalizedMutualInfo(truth, km.Labels) > 0.9);
    }

    [Fact]
    public void AdamOptionTrainsDeterministicallyAndDiffersFromSgd()
    {
        var images = BlobImages(80, 24, out var truth);
        var o = new CostaOptions { Models = 1, Clusters = 4, Epochs = 1, BatchSize = 16, UmapNeighbors = 10, UmapEpochs = 30, Seed = 9, Optimizer = CostaOptimizer.Adam };
        using var a1 = CostaTrainer.Fit(images, o);
        using var a2 = CostaTrainer.Fit(images, o);
        using var sgd = CostaTrainer.Fit(images, o with { Optimizer = CostaOptimizer.Sgd });
        Assert.Equal(a1.Result!.Embeddings[0].Data, a2.Result!.Embeddings[0].Data);
        Assert.NotEqual(a1.Result!.Embeddings[0].Data, sgd.Result!.Embeddings[0].Data);   // same init and batches: only the update rule differs
        var km = new KMeans(new KMeansOptions { Clusters = 2, Restarts = 5 }).Fit(a1.Result.Embeddings[0]);
        Assert.True(Metrics.NormalizedMutualInfo(truth, km.Labels) > 0.9);
    }

    [Fact]
    public void GeneClustersRecoverSeparatedGroupsBothWays()
    {
        // 3 well separated groups of 40 unit vectors around orthogonal axes in 16-d
        var rng = new Random(5); int n = 120, d = 16; var x = new double[n * d]; var truth = new int[n];
        for (int i = 0; i < n; i++)
        {
            truth[i] = i % 3;
            for (int j = 0; j < d; j++) x[i * d + j] = (j == truth[i] ? 1.0 : 0.0) + 0.05 * (rng.NextDouble() - 0.5);
        }
        var m = new DenseMatrix(n, d, x);
        var umapGmm = CostaAnalysis.GeneClusters(m, 3, GeneClusterMethod.UmapGmm, seed: 2, nNeighbors: 10);
        Assert.Equal(1.0, Metrics.NormalizedMutualInfo(truth, umapGmm), 6);
        Assert.Equal(umapGmm, CostaAnalysis.GeneClusters(m, 3, GeneClusterMethod.UmapGmm, seed: 2, nNeighbors: 10));
        Assert.Equal(1.0, Metrics.NormalizedMutualInfo(truth, CostaAnalysis.GeneClusters(m, 3, GeneClusterMethod.KMeans)), 6);
        Assert.Equal("3 genes are too few for 3 gene clusters",
            Assert.Throws<TesseraException>(() => CostaAnalysis.GeneClusters(new DenseMatrix(3, 2), 3)).Message);
    }

    [Fact]
    public void CorrelatedGenesMatchNumpyReference()
    {
        // 30 genes in 5 groups (g % 5) over 5 models, 3-d; candidates ("SE") are the genes with g % 4 != 3, so query g07 is
        // not a candidate. Expected values from numpy (scipy-style z-scores with the self distance, threshold -1.15, >= 3
        // models; the authors' list = per model the union over queries, then >= 3 of 5 models).
        int g = 30, dim = 3;
        var embs = Enumerable.Range(0, 5).Select(m =>
        {
            var e = new float[g * dim];
            for (int i = 0; i < g; i++)
                for (int j = 0; j < dim; j++) e[i * dim + j] = (float)(3 * Math.Sin(1.3 * (i % 5) + 0.9 * j + 0.4 * m) + 0.9 * Math.Sin(1.7 * i + 2.1 * j + 2.3 * m));
            return e;
        }).ToList();
        var genes = Enumerable.Range(0, g).Select(i => $"g{i:D2}").ToArray();
        var cand = Enumerable.Range(0, g).Where(i => i % 4 != 3).ToArray();
        string[] queries = ["g00", "g05", "g07"];
        var sims = CostaAnalysis.Similarities(embs, dim, genes, queries, cand, threshold: -1.15, minModels: 3);
        var top = sims.Where(x => x.Query == "g00").Take(4).ToArray();
        Assert.Equal(["g25", "g10", "g05", "g20"], top.Select(x => x.Gene));
        Assert.Equal([-1.397837, -1.278257, -1.183692, -1.119326], top.Select(x => Math.Round(x.MeanZ, 6)));
        Assert.Equal([5, 5, 3, 1], top.Select(x => x.Models));
        Assert.Equal([true, true, true, false], top.Select(x => x.Correlated));
        var g05 = sims.Where(x => x.Query == "g05").Take(3).ToArray();
        Assert.Equal([("g20", 5), ("g10", 1), ("g00", 1)], g05.Select(x => (x.Gene, x.Models)));
        Assert.Equal(cand.Length - 1, sims.Count(x => x.Query == "g00")); // every candidate but the query itself
        Assert.Equal(cand.Length, sims.Count(x => x.Query == "g07"));

        var set = CostaAnalysis.CorrelatedSet(embs, dim, genes, queries, cand, threshold: -1.15, minModels: 3);
        Assert.Equal(["g02", "g10", "g12", "g17", "g20", "g22", "g25", "g05"], set.Select(x => x.Gene));
        Assert.Equal([5, 5, 5, 5, 5, 5, 5, 3], set.Select(x => x.Models));
        Assert.Equal(["g00", "g05"], set[1].Queries); // g10: g00 in 5 models, g05 in 1
        Assert.Equal(["g00"], set[7].Queries);       // query g05 listed because g00 flags it (never for itself); g00 only in 1 model
        Assert.Equal("query gene 'gX' is not among the 30 genes",
            Assert.Throws<TesseraException>(() => CostaAnalysis.CorrelatedSet(embs, dim, genes, ["gX"], cand)).Message);
        Assert.Equal("MinModels must be between 1 and the 5 models but is 6",
            Assert.Throws<TesseraException>(() => CostaAnalysis.Similarities(embs, dim, genes, queries, cand, minModels: 6)).Message);
    }

    [Fact]
    public void BadOptionsHaveClearMessages()
    {
        var images = new GeneImageSet(Enumerable.Range(0, 10).Select(g => $"g{g}").ToArray(), 24, 24, new float[10 * 24 * 24]);
        Assert.Equal("CoSTA needs more genes than Clusters (30) and UmapNeighbors (20) but got 10",
            Assert.Throws<TesseraException>(() => CostaTrainer.Fit(images)).Message);
        Assert.Equal("TrainFraction must be in (0, 1] but is 1.5",
            Assert.Throws<TesseraException>(() => CostaTrainer.Fit(images, new CostaOptions { TrainFraction = 1.5 })).Message);
        Assert.Equal("LearningRate must be positive but is 0",
            Assert.Throws<TesseraException>(() => CostaTrainer.Fit(images, new CostaOptions { LearningRate = 0 })).Message);
    }
}
