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
    public void WeightsAreUmapLearnsTransformWeights()
    {
        // umap-learn 0.5.3 (Debian): smooth_knn_dist(d, 4.0, local_connectivity=0.0), compute_membership_strengths(idx, d,
        // sigmas, rhos, bipartite=True), each row divided by its sum (init_graph_transform). σ = 4.3236084, 7.3568115, 2.5410156.
        float[] d = [0.5f, 1.0f, 1.5f, 3.0f, 2.0f, 2.1f, 2.2f, 5.0f, 0.1f, 0.9f, 1.0f, 1.2f];
        double[] expected = [0.30814758, 0.27449545, 0.2445184, 0.17283858, 0.27587721, 0.2721526, 0.2684783, 0.18349189,
            0.32464597, 0.23696218, 0.22781779, 0.21057406];
        var w = SampledUmap.Weights(new KnnResult(3, 4, Enumerable.Range(0, 12).ToArray(), d, includesSelf: false));
        for (int i = 0; i < 12; i++) Assert.Equal(expected[i], w[i], 5);
        // a neighbour at distance 0 has membership 1: the point lands on it alone (init_graph_transform's break)
        var dup = SampledUmap.Weights(new KnnResult(1, 3, [7, 2, 5], [0f, 0f, 1f], includesSelf: false));
        Assert.Equal([0.0, 1.0, 0.0], dup);
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
