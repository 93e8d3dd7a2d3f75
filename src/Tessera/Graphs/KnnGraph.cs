using Tessera.Data;

namespace Tessera.Graphs;

/// <summary>k-nearest-neighbour spatial graphs (the "KNN" mode of STAGATE's Cal_Spatial_Net, sklearn's kneighbors_graph).</summary>
public static class KnnGraph
{
    /// <summary>
    /// Connects each point to its <paramref name="k"/> nearest other points (ties broken by the smaller index), weight 1,
    /// then makes the graph undirected: by union ((i, j) when j ∈ kNN(i) OR i ∈ kNN(j); degrees ≥ k) or, with
    /// <paramref name="mutual"/>, by intersection (AND; degrees ≤ k, isolated nodes possible).
    /// </summary>
    /// <param name="coords">N × 2 or N × 3 coordinates.</param>
    /// <param name="k">Neighbours per point, 1 ≤ k &lt; N.</param>
    /// <param name="mutual">Keep only mutual neighbours.</param>
    public static SpatialGraph Build(DenseMatrix coords, int k, bool mutual = false)
    {
        var directed = BuildDirected(coords, k);
        if (!mutual) return directed.Symmetrize();
        var keep = Enumerable.Range(0, directed.NumEdges).Where(e => directed.HasEdge(directed.Dst[e], directed.Src[e])).ToArray();
        return SpatialGraph.FromSorted(directed.NumNodes, keep.Select(e => directed.Src[e]).ToArray(), keep.Select(e => directed.Dst[e]).ToArray());
    }

    /// <summary>The directed kNN graph: edge (i, j) when j is among the k nearest other points of i (exactly k per row).</summary>
    public static SpatialGraph BuildDirected(DenseMatrix coords, int k)
    {
        RadiusGraph.CheckCoords(coords);
        int n = coords.Rows;
        if (k < 1 || k >= n) throw new TesseraException($"k must be between 1 and the number of points - 1 ({n - 1}), got {k}");
        var tree = new KdTree(coords);
        var dst = new int[(long)n * k];
        Parallel.For(0, n, i =>
        {
            var (idx, _) = tree.Nearest(coords.Data.AsSpan(i * coords.Cols, coords.Cols), k, i);
            Array.Sort(idx);
            Array.Copy(idx, 0, dst, (long)i * k, k);
        });
        var src = new int[dst.Length];
        for (int i = 0; i < n; i++) Array.Fill(src, i, i * k, k);
        return SpatialGraph.FromSorted(n, src, dst);
    }
}
