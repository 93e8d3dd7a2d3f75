using Tessera.Data;
using Tessera.Methods.Spotscape;
using Tessera.Nn;
using Tessera.Tests.Support;

namespace Tessera.Tests.Spotscape;

// Threads = 1 everywhere: on an oversubscribed machine libtorch's OpenMP barriers with 2 threads stall for whole
// scheduler slices on every small op (tiny fits took seconds per epoch); one thread is also what determinism is checked at.
public class SpotscapeTests
{
    /// <summary>A w×h grid tissue: left half expresses genes 0-9, right half genes 10-19, genes 20-39 are shared noise.</summary>
    internal static (float[] X, int N, int G, int[] Src, int[] Dst, int[] Truth) Tissue(int w = 20, int h = 20, int seed = 1)
    {
        const int g = 40;
        int n = w * h;
        var rng = new Random(seed);
        var x = new float[n * g];
        var truth = new int[n];
        var src = new List<int>();
        var dst = new List<int>();
        for (int i = 0; i < w; i++)
            for (int j = 0; j < h; j++)
            {
                int s = i * h + j;
                truth[s] = i < w / 2 ? 0 : 1;
                for (int k = 0; k < g; k++)
                {
                    double mean = k < 20 ? ((k < 10) == (truth[s] == 0) ? 4.0 : 0.3) : 1.0;
                    x[s * g + k] = (float)Math.Log(1 + Poisson(rng, mean));
                }
                if (i + 1 < w) { src.Add(s); dst.Add(s + h); src.Add(s + h); dst.Add(s); }
                if (j + 1 < h) { src.Add(s); dst.Add(s + 1); src.Add(s + 1); dst.Add(s); }
            }
        return (x, n, g, [.. src], [.. dst], truth);
    }

    private static int Poisson(Random rng, double mean)
    {
        double l = Math.Exp(-mean), p = 1;
        int k = 0;
        do { k++; p *= rng.NextDouble(); } while (p > l);
        return k - 1;
    }

    private static SpotscapeInput Input(int seed = 1)
    {
        var t = Tissue(seed: seed);
        return new SpotscapeInput(t.X, t.N, t.G, t.Src, t.Dst);
    }

    [Fact]
    public void SyntheticTissue_EmbeddingSeparatesHalves()
    {
        var t = Tissue();
        var input = new SpotscapeInput(t.X, t.N, t.G, t.Src, t.Dst);
        using var model = SpotscapeTrainer.Fit(input, new SpotscapeOptions { Threads = 1, Epochs = 50, LearningRate = 1e-3, Seed = 3, Clusters = 2 });
        var z = model.Embed(input);
        Assert.Equal(t.N * 64, z.Length);
        Assert.All(z, v => Assert.True(v >= 0)); // final BN + ReLU
        var pred = KMeans2(z, t.N, 64);
        Assert.True(Ari(t.Truth, pred) >= 0.9, $"ARI {Ari(t.Truth, pred)}");
        var h = model.Result!.Training!.History;
        Assert.Equal(50, h.Count);
        Assert.Equal(["reconstruction", "telescope"], h.Components.Keys.Order().ToArray());
        Assert.True(h.Components["reconstruction"][^1] < h.Components["reconstruction"][0]);
        Assert.Equal(1e-3, model.Result.Training.LearningRate);
        // the library's own clustering (k-means, 10 restarts) finds the halves too, and the result holds the same embedding
        Assert.True(Ari(t.Truth, model.Result.Labels) >= 0.9, $"ARI {Ari(t.Truth, model.Result.Labels)}");
        Assert.Equal(z, model.Result.Embedding.ToFloatArray());
    }

    [Fact]
    public void SameSeed_GivesIdenticalEmbedding_DifferentSeedDoesNot()
    {
        var input = Input();
        float[] Run(int seed)
        {
            using var m = SpotscapeTrainer.Fit(input, new SpotscapeOptions { Threads = 1, Epochs = 8, Seed = seed, LearningRate = 1e-3 });
            return m.Embed(input);
        }
        var a = Run(5);
        var b = Run(5);
        Assert.Equal(a, b);
        Assert.NotEqual(a, Run(6));
    }

    [Fact]
    public void DenseAndCsrInputs_GiveIdenticalEmbedding()
    {
        var t = Tissue();
        var dense = new SpotscapeInput(t.X, t.N, t.G, t.Src, t.Dst);
        var d2 = new float[t.N, t.G];
        for (int i = 0; i < t.N; i++) for (int k = 0; k < t.G; k++) d2[i, k] = t.X[i * t.G + k];
        var sparse = new SpotscapeInput(CsrMatrix.FromDense(d2), t.Src, t.Dst);
        var o = new SpotscapeOptions { Threads = 1, Epochs = 3, Seed = 1 };
        using var m1 = SpotscapeTrainer.Fit(dense, o);
        using var m2 = SpotscapeTrainer.Fit(sparse, o);
        Assert.Equal(m1.Embed(dense), m2.Embed(sparse));
    }

    [Fact]
    public void SaveLoad_RoundTrip_GivesIdenticalEmbedding()
    {
        var input = Input();
        using var dir = new TempDir();
        var path = dir.File("spotscape.bin");
        using var model = SpotscapeTrainer.Fit(input, new SpotscapeOptions { Threads = 1, Epochs = 5, Seed = 2, EncoderDims = [32, 8] });
        model.Save(path);
        Assert.True(File.Exists(path + ".json"));
        using var loaded = SpotscapeModel.Load(path);
        Assert.Equal(8, loaded.EmbeddingDim);
        Assert.Equal(40, loaded.NGenes);
        Assert.Null(loaded.Result);
        Assert.Null(loaded.Genes);
        Assert.Equal(model.Embed(input), loaded.Embed(input));
    }

    [Theory]
    [InlineData(ScaleMatchingMode.IntraVsInterSlice, 10000)]
    [InlineData(ScaleMatchingMode.AuthorsBooleanMask, 10000)]
    [InlineData(ScaleMatchingMode.IntraVsInterSlice, 150)]
    public void MultiSlice_UsesScaleMatchingAndPrototypesAfterWarmup(ScaleMatchingMode mode, int sample)
    {
        var a = Tissue(10, 10, 1);
        var b = Tissue(10, 10, 2);
        int n = a.N + b.N;
        var x = a.X.Concat(b.X).ToArray();
        var src = a.Src.Concat(b.Src.Select(s => s + a.N)).ToArray();
        var dst = a.Dst.Concat(b.Dst.Select(s => s + a.N)).ToArray();
        var slices = Enumerable.Repeat(0, a.N).Concat(Enumerable.Repeat(1, b.N)).ToArray();
        var input = new SpotscapeInput(x, n, a.G, src, dst, slices);
        var o = new SpotscapeOptions { Threads = 1, Epochs = 4, PrototypeWarmupEpochs = 2, Clusters = 2, ScaleMatching = mode, LossSampleSize = sample };
        using var model = SpotscapeTrainer.Fit(input, o);
        var r = model.Result!.Training!;
        Assert.Equal(2, r.NSlices);
        Assert.Equal(5e-4, r.LearningRate);
        Assert.Equal(sample < n, r.SampledLosses);
        Assert.Equal([2, 3, 4], r.PrototypeCounts);
        var proto = r.History.Components["prototype"];
        Assert.True(double.IsNaN(proto[0]) && double.IsNaN(proto[1]));
        Assert.True(double.IsFinite(proto[2]) && proto[3] > 0);
        Assert.All(r.History.Components["scale_matching"], v => Assert.True(double.IsFinite(v) && v >= 0));
        Assert.All(r.History.Total, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void PrototypeCounts_FollowAuthorsGranularity()
    {
        Assert.Equal([7, 11, 14], new SpotscapeOptions { Clusters = 7 }.PrototypeCounts());
        Assert.Equal([5, 8, 10], new SpotscapeOptions { Clusters = 5 }.PrototypeCounts());
        Assert.Equal([2, 3, 4], new SpotscapeOptions { Clusters = 2 }.PrototypeCounts());
    }

    [Fact]
    public void BadInputs_ExactMessages()
    {
        var t = Tissue(4, 4);
        Assert.Equal("expression has 640 values but nSpots × nGenes = 15 × 40 = 600",
            Assert.Throws<TesseraException>(() => new SpotscapeInput(t.X, 15, 40, t.Src, t.Dst)).Message);
        Assert.Equal("edge 0 is a self-loop on spot 3; pass edges without self-loops (Spotscape adds them)",
            Assert.Throws<TesseraException>(() => new SpotscapeInput(t.X, 16, 40, [3], [3])).Message);
        Assert.Equal("edge 0 has source 16 outside [0, 16)",
            Assert.Throws<TesseraException>(() => new SpotscapeInput(t.X, 16, 40, [16], [3])).Message);
        Assert.Equal("sliceIds has 3 entries but there are 16 spots",
            Assert.Throws<TesseraException>(() => new SpotscapeInput(t.X, 16, 40, t.Src, t.Dst, [0, 0, 1])).Message);
        var bad = (float[])t.X.Clone();
        bad[41] = float.NaN;
        Assert.Equal("expression has a non-finite value NaN at spot 1, gene 1",
            Assert.Throws<TesseraException>(() => new SpotscapeInput(bad, 16, 40, t.Src, t.Dst)).Message);
        Assert.Equal("EdgeDropRate must be in [0, 1) but is 1",
            Assert.Throws<TesseraException>(() => SpotscapeTrainer.Fit(new SpotscapeInput(t.X, 16, 40, t.Src, t.Dst),
                new SpotscapeOptions { Threads = 1, EdgeDropRate = 1 })).Message);
    }

    [Fact]
    public void Embed_GeneCountMismatch_AndMissingModel_ExactMessages()
    {
        var t = Tissue(4, 4);
        var input = new SpotscapeInput(t.X, 16, 40, t.Src, t.Dst);
        using var model = SpotscapeTrainer.Fit(input, new SpotscapeOptions { Threads = 1, Epochs = 1, EncoderDims = [8, 4], Clusters = 2 });
        var other = new SpotscapeInput(new float[16 * 39], 16, 39, t.Src, t.Dst);
        Assert.Equal("model was trained on 40 genes but the input has 39", Assert.Throws<TesseraException>(() => model.Embed(other)).Message);
        using var dir = new TempDir();
        Assert.Equal($"model file '{dir.File("none.bin")}' not found", Assert.Throws<TesseraException>(() => SpotscapeModel.Load(dir.File("none.bin"))).Message);
    }

    // --- small private helpers: 2-means (farthest-point init) and the adjusted Rand index ---

    private static int[] KMeans2(float[] z, int n, int d)
    {
        double Dist(int a, double[] c) { double s = 0; for (int k = 0; k < d; k++) { double v = z[a * d + k] - c[k]; s += v * v; } return s; }
        double[] Row(int a) => Enumerable.Range(0, d).Select(k => (double)z[a * d + k]).ToArray();
        var c0 = Row(0);
        int far = Enumerable.Range(0, n).MaxBy(i => Dist(i, c0));
        var cs = new[] { c0, Row(far) };
        var lab = new int[n];
        for (int it = 0; it < 50; it++)
        {
            for (int i = 0; i < n; i++) lab[i] = Dist(i, cs[0]) <= Dist(i, cs[1]) ? 0 : 1;
            for (int c = 0; c < 2; c++)
            {
                var members = Enumerable.Range(0, n).Where(i => lab[i] == c).ToArray();
                if (members.Length == 0) continue;
                cs[c] = Enumerable.Range(0, d).Select(k => members.Average(i => (double)z[i * d + k])).ToArray();
            }
        }
        return lab;
    }

    internal static double Ari(int[] a, int[] b)
    {
        static double C2(double x) => x * (x - 1) / 2;
        var pairs = a.Zip(b).GroupBy(p => p).Select(g => (double)g.Count());
        var ra = a.GroupBy(v => v).Select(g => (double)g.Count());
        var rb = b.GroupBy(v => v).Select(g => (double)g.Count());
        double index = pairs.Sum(C2), sa = ra.Sum(C2), sb = rb.Sum(C2), total = C2(a.Length);
        double expected = sa * sb / total, max = (sa + sb) / 2;
        return (index - expected) / (max - expected);
    }

    [Fact]
    public void AriHelper_MatchesSklearn()
    {
        // sklearn.metrics.adjusted_rand_score([0,0,1,1,1,2],[0,0,1,1,2,2]) = 0.4444444444444444
        Assert.Equal(0.4444444444444444, Ari([0, 0, 1, 1, 1, 2], [0, 0, 1, 1, 2, 2]), 12);
    }
}
