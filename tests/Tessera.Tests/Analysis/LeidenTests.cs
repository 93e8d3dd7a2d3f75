using Tessera.Analysis;
using Tessera.Data;

namespace Tessera.Tests.Analysis;

public class LeidenTests
{
    private static readonly int[,] Karate =
    {
        {0,1},{0,2},{0,3},{0,4},{0,5},{0,6},{0,7},{0,8},{0,10},{0,11},{0,12},{0,13},{0,17},{0,19},{0,21},{0,31},{1,2},{1,3},{1,7},
        {1,13},{1,17},{1,19},{1,21},{1,30},{2,3},{2,7},{2,27},{2,28},{2,32},{2,9},{2,8},{2,13},{3,7},{3,12},{3,13},{4,6},{4,10},
        {5,6},{5,10},{5,16},{6,16},{8,30},{8,32},{8,33},{9,33},{13,33},{14,32},{14,33},{15,32},{15,33},{18,32},{18,33},{19,33},
        {20,32},{20,33},{22,32},{22,33},{23,25},{23,27},{23,32},{23,33},{23,29},{24,25},{24,27},{24,31},{25,31},{26,29},{26,33},
        {27,33},{28,31},{28,33},{29,32},{29,33},{30,32},{30,33},{31,32},{31,33},{32,33},
    };

    private static WeightedGraph FromPairs(int n, int[,] pairs)
    {
        var s = new int[pairs.GetLength(0)]; var t = new int[s.Length];
        for (int e = 0; e < s.Length; e++) { s[e] = pairs[e, 0]; t[e] = pairs[e, 1]; }
        return WeightedGraph.FromEdges(n, s, t);
    }

    // Planted partition: 10 blocks of 100, p_in 0.1, p_out 0.01, from a 64-bit LCG that the reference script shares.
    private static WeightedGraph Planted()
    {
        ulong state = 12345;
        double Next() { state = state * 6364136223846793005UL + 1442695040888963407UL; return (state >> 11) / (double)(1UL << 53); }
        var s = new List<int>(); var t = new List<int>();
        for (int i = 0; i < 1000; i++)
            for (int j = i + 1; j < 1000; j++)
                if (Next() < (i / 100 == j / 100 ? 0.1 : 0.01)) { s.Add(i); t.Add(j); }
        return WeightedGraph.FromEdges(1000, s, t);
    }

    [Fact]
    public void TwoCliquesJoinedByOneEdgeGiveTheTwoCliques()
    {
        var s = new List<int>(); var t = new List<int>();
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 6; i++) for (int j = i + 1; j < 6; j++) { s.Add(c * 6 + i); t.Add(c * 6 + j); }
        s.Add(5); t.Add(6);
        var g = WeightedGraph.FromEdges(12, s, t);
        for (int seed = 0; seed < 5; seed++)
        {
            var r = Leiden.Run(g, new LeidenOptions { Seed = seed });
            Assert.Equal(2, r.Count);
            for (int i = 0; i < 12; i++) Assert.Equal(r.Membership[i < 6 ? 0 : 11], r.Membership[i]);
            Assert.NotEqual(r.Membership[0], r.Membership[11]);
            // 31 edges; each clique 15 internal edges, degree sum 31: Q = 2(15/31 − (31/62)²)
            Assert.Equal(2 * (15.0 / 31 - 0.25), r.Quality, 12);
        }
    }

    [Fact]
    public void ModularityHandWorked()
    {
        // two triangles joined by an edge: m = 7, each side 3 internal edges, degree sum 7 → Q = 2(3/7 − 1/4) = 5/14
        var g = FromPairs(6, new[,] { { 0, 1 }, { 1, 2 }, { 0, 2 }, { 3, 4 }, { 4, 5 }, { 3, 5 }, { 2, 3 } });
        var m = new[] { 0, 0, 0, 1, 1, 1 };
        Assert.Equal(5.0 / 14, Leiden.Modularity(g, m), 12);
        // γ = 0.5: Σ_c (3/7 − 0.5·(7/14)²) = 6/7 − 1/4
        Assert.Equal(6.0 / 7 - 0.25, Leiden.Modularity(g, m, 0.5), 12);
        // everything in one community: Q = 1 − 1 = 0
        Assert.Equal(0, Leiden.Modularity(g, new int[6]), 12);
        // CPM γ = 0.1: 2 × (3 − 0.1·3) = 5.4
        Assert.Equal(5.4, Leiden.Cpm(g, m, 0.1), 12);
    }

    // leidenalg 0.9.1 (Debian) ModularityVertexPartition, seeds 0..4: karate 0.419790 (n_iterations 2 and −1, 4 communities);
    // planted partition 0.419094 (10 communities; the planted truth scores 0.418785).
    [Fact]
    public void KarateModularityWithinOnePercentOfLeidenalg()
    {
        var g = FromPairs(34, Karate);
        foreach (int iters in new[] { 2, -1 })
            for (int seed = 0; seed < 5; seed++)
            {
                var r = Leiden.Run(g, new LeidenOptions { Seed = seed, NIterations = iters });
                Assert.True(r.Quality > 0.41979 * 0.99, $"seed {seed}: modularity {r.Quality}");
                Assert.Equal(Leiden.Modularity(g, r.Membership), r.Quality, 12);
            }
    }

    [Fact]
    public void PlantedPartitionWithinOnePercentOfLeidenalg()
    {
        var g = Planted();
        Assert.Equal(9467 * 2, g.StoredEntries);
        Assert.Equal(0.4187851493809884, Leiden.Modularity(g, Enumerable.Range(0, 1000).Select(i => i / 100).ToArray()), 10);
        var r = Leiden.Run(g, new LeidenOptions { Seed = 0 });
        Assert.True(Math.Abs(r.Quality - 0.419094) < 0.01 * 0.419094, $"modularity {r.Quality}");
        Assert.Equal(10, r.Count);
        var again = Leiden.Run(g, new LeidenOptions { Seed = 0 });
        Assert.Equal(r.Membership, again.Membership);
    }

    // leidenalg CPMVertexPartition(resolution 0.1) on karate, n_iterations −1, seed 0: quality 86.2 with 5 communities;
    // leidenalg reports 2 × Σ_c [m_c − γ n_c(n_c−1)/2] for undirected graphs.
    [Fact]
    public void KarateCpmWithinOnePercentOfLeidenalg()
    {
        var g = FromPairs(34, Karate);
        var r = Leiden.Run(g, new LeidenOptions { Quality = LeidenQuality.Cpm, Resolution = 0.1, NIterations = -1, Seed = 0 });
        Assert.True(2 * r.Quality > 86.2 * 0.99, $"CPM {2 * r.Quality}");
    }

    [Fact]
    public void ClusterEndToEndRecoversBlobs()
    {
        int n = 600, d = 8;
        var x = NeighborsTests.RandomData(n, d, 21, clusters: 3, spread: 4.0);
        var m = new DenseMatrix(n, d, x.Select(v => (double)v).ToArray());
        var labels = Leiden.Cluster(m, 15, 0.3, 0);
        Assert.Equal(3, labels.Max() + 1);
        for (int i = 3; i < n; i++) Assert.Equal(labels[i % 3], labels[i]);
        Assert.Equal(labels, Leiden.Cluster(m, 15, 0.3, 0));
    }

    [Fact]
    public void BadInputMessages()
    {
        var g = FromPairs(3, new[,] { { 0, 1 }, { 1, 2 } });
        Assert.Equal("membership has 2 labels but the graph has 3 nodes",
            Assert.Throws<TesseraException>(() => Leiden.Modularity(g, new[] { 0, 1 })).Message);
        Assert.Equal("Leiden resolution must be finite and non-negative but is -1",
            Assert.Throws<TesseraException>(() => Leiden.Run(g, new LeidenOptions { Resolution = -1 })).Message);
        Assert.Equal("edge 0 (0, 5) refers to a node outside 0..2",
            Assert.Throws<TesseraException>(() => WeightedGraph.FromEdges(3, new[] { 0 }, new[] { 5 })).Message);
        Assert.Equal("edge 0 has weight -2; weights must be finite and non-negative",
            Assert.Throws<TesseraException>(() => WeightedGraph.FromEdges(3, new[] { 0 }, new[] { 1 }, new[] { -2.0 })).Message);
    }
}
