using Tessera.Analysis;
using Tessera.Data;

namespace Tessera.Tests.Analysis;

public class SampledUmapTests
{
    // three well-separated Gaussian clusters in 10 dimensions, 1200 points each
    private static (DenseMatrix X, int[] Label) Blobs(int perCluster = 1200)
    {
        var rng = new Random(7);
        int n = 3 * perCluster, d = 10;
        var x = new DenseMatrix(n, d);
        var label = new int[n];
        for (int i = 0; i < n; i++)
        {
            label[i] = i % 3;
            for (int c = 0; c < d; c++)
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                x[i, c] = (c == label[i] ? 12 : 0) + Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            }
        }
        return (x, label);
    }

    [Fact]
    public void WeightsSolveUmapLearnsSmoothKnnAtLocalConnectivityZero()
    {
        // k = 2, d = (1, 2): Σ exp(−d/σ) = log2 2 = 1 → u + u² = 1 with u = exp(−1/σ) → u = (√5 − 1)/2; weights u and u²
        var w = SampledUmap.Weights([1f, 2f]);
        double u = (Math.Sqrt(5) - 1) / 2;
        Assert.Equal(u, w[0], 4);
        Assert.Equal(u * u, w[1], 4);
        // equal distances: equal weights
        Assert.All(SampledUmap.Weights([3f, 3f, 3f, 3f]), v => Assert.Equal(0.25, v, 9));
    }

    [Fact]
    public void AtOrBelowTheLimitItIsPlainUmap()
    {
        var (x, _) = Blobs(100);
        var o = new UmapOptions { Seed = 3, Epochs = 50 };
        var a = SampledUmap.FitTransform(x, o, out var fitted, maxFitted: 300);
        Assert.Equal(Enumerable.Range(0, 300), fitted);
        Assert.Equal(new Umap(o).FitTransform(x).Data, a.Data);
    }

    [Fact]
    public void AboveTheLimitTheSampleIsPlainUmapAndTheOthersLandInTheirCluster()
    {
        var (x, label) = Blobs();
        var o = new UmapOptions { Seed = 5, Epochs = 100 };
        var notes = new List<string>();
        var progress = new Collector(notes);
        var emb = SampledUmap.FitTransform(x, o, out var fitted, maxFitted: 600, progress: progress);
        Assert.Equal(600, fitted.Length);
        Assert.Equal(fitted.Order(), fitted);
        Assert.Contains(notes, m => m.Contains("3,600 rows > 600"));
        // the sampled rows carry exactly the UMAP of the sample
        var alone = new Umap(o).FitTransform(x.SubsetRows(fitted));
        for (int s = 0; s < fitted.Length; s++)
        {
            Assert.Equal(alone[s, 0], emb[fitted[s], 0]);
            Assert.Equal(alone[s, 1], emb[fitted[s], 1]);
        }
        // every placed row sits nearest to a sampled row of its own cluster
        var isSampled = new HashSet<int>(fitted);
        int wrong = 0, placed = 0;
        for (int i = 0; i < x.Rows; i++)
        {
            if (isSampled.Contains(i)) continue;
            placed++;
            int best = -1; double bd = double.PositiveInfinity;
            foreach (int s in fitted)
            {
                double dx = emb[i, 0] - emb[s, 0], dy = emb[i, 1] - emb[s, 1], dd = dx * dx + dy * dy;
                if (dd < bd) { bd = dd; best = s; }
            }
            if (label[best] != label[i]) wrong++;
        }
        Assert.Equal(3000, placed);
        Assert.Equal(0, wrong);
        // same seed → identical coordinates
        Assert.Equal(emb.Data, SampledUmap.FitTransform(x, o, out _, maxFitted: 600).Data);
    }

    private sealed class Collector(List<string> notes) : IProgress<Progress>
    {
        public void Report(Progress value) { if (value.Message is { } m) notes.Add(m); }
    }
}
