using Tessera.Data;
using TorchSharp;

namespace Tessera.Graphs;

/// <summary>
/// A weighted directed graph on <see cref="NumNodes"/> spots/cells stored as COO edge arrays sorted by (src, dst),
/// without duplicate edges. Undirected graphs store both directions (see <see cref="IsSymmetric"/>).
/// Instances are immutable: every transformation returns a new graph.
/// </summary>
public sealed class SpatialGraph
{
    /// <summary>Number of nodes.</summary>
    public int NumNodes { get; }
    /// <summary>Source node of each edge (sorted ascending, ties sorted by <see cref="Dst"/>).</summary>
    public int[] Src { get; }
    /// <summary>Destination node of each edge.</summary>
    public int[] Dst { get; }
    /// <summary>Weight of each edge.</summary>
    public float[] Weight { get; }
    /// <summary>Number of stored (directed) edges; an undirected edge counts twice, a self-loop once.</summary>
    public int NumEdges => Src.Length;
    /// <summary>Mean out-degree: stored edges per node (self-loops included).</summary>
    public double MeanDegree => NumNodes == 0 ? 0 : (double)NumEdges / NumNodes;

    /// <summary>
    /// Builds a graph from edge lists (copied, then sorted by (src, dst)); weight defaults to 1.
    /// Duplicate (src, dst) pairs and out-of-range nodes are rejected.
    /// </summary>
    public SpatialGraph(int numNodes, IReadOnlyList<int> src, IReadOnlyList<int> dst, IReadOnlyList<float>? weight = null)
    {
        if (numNodes < 0) throw new ArgumentException($"a graph cannot have {numNodes} nodes");
        if (src.Count != dst.Count) throw new ArgumentException($"src has {src.Count} entries but dst has {dst.Count}");
        if (weight != null && weight.Count != src.Count) throw new ArgumentException($"weight has {weight.Count} entries but there are {src.Count} edges");
        int m = src.Count;
        var keys = new long[m];
        var order = new int[m];
        for (int e = 0; e < m; e++)
        {
            if ((uint)src[e] >= (uint)numNodes || (uint)dst[e] >= (uint)numNodes)
                throw new ArgumentException($"edge {e} ({src[e]} -> {dst[e]}) names a node outside 0..{numNodes - 1}");
            keys[e] = (long)src[e] * numNodes + dst[e];
            order[e] = e;
        }
        bool sorted = true;
        for (int e = 1; e < m && sorted; e++) if (keys[e] <= keys[e - 1]) sorted = false;
        if (!sorted) Array.Sort(keys, order);
        for (int e = 1; e < m; e++)
            if (keys[e] == keys[e - 1]) throw new ArgumentException($"edge {keys[e] / numNodes} -> {keys[e] % numNodes} is given twice");
        NumNodes = numNodes;
        Src = new int[m]; Dst = new int[m]; Weight = new float[m];
        for (int e = 0; e < m; e++)
        {
            int o = order[e];
            Src[e] = src[o]; Dst[e] = dst[o]; Weight[e] = weight == null ? 1f : weight[o];
        }
    }

    // Trusted constructor: arrays already sorted and unique (builders produce them in order).
    private SpatialGraph(int numNodes, int[] src, int[] dst, float[] weight, bool _)
    {
        NumNodes = numNodes; Src = src; Dst = dst; Weight = weight;
    }

    internal static SpatialGraph FromSorted(int numNodes, int[] src, int[] dst, float[]? weight = null)
    {
        if (weight == null) { weight = new float[src.Length]; Array.Fill(weight, 1f); }
        return new SpatialGraph(numNodes, src, dst, weight, true);
    }

    /// <summary>Out-degree of each node (number of stored edges leaving it; a self-loop counts once).</summary>
    public int[] Degrees
    {
        get
        {
            var d = new int[NumNodes];
            foreach (var s in Src) d[s]++;
            return d;
        }
    }

    /// <summary>Sum of outgoing edge weights of each node.</summary>
    public double[] WeightedDegrees()
    {
        var d = new double[NumNodes];
        for (int e = 0; e < Src.Length; e++) d[Src[e]] += Weight[e];
        return d;
    }

    /// <summary>Whether every edge (i, j) has a reverse edge (j, i) with the same weight.</summary>
    public bool IsSymmetric
    {
        get
        {
            var ptr = RowPointers();
            for (int e = 0; e < Src.Length; e++)
            {
                int j = Dst[e], i = Src[e];
                int k = Array.BinarySearch(Dst, ptr[j], ptr[j + 1] - ptr[j], i);
                if (k < 0 || Weight[k] != Weight[e]) return false;
            }
            return true;
        }
    }

    /// <summary>Number of self-loops (i, i).</summary>
    public int NumSelfLoops
    {
        get { int n = 0; for (int e = 0; e < Src.Length; e++) if (Src[e] == Dst[e]) n++; return n; }
    }

    /// <summary>Whether edge (src, dst) is stored.</summary>
    public bool HasEdge(int src, int dst)
    {
        if ((uint)src >= (uint)NumNodes) return false;
        int lo = LowerBound(src), hi = LowerBound(src + 1);
        return Array.BinarySearch(Dst, lo, hi - lo, dst) >= 0;
    }

    /// <summary>Destination nodes of the edges leaving <paramref name="node"/>, ascending.</summary>
    public ReadOnlySpan<int> Neighbors(int node)
    {
        if ((uint)node >= (uint)NumNodes) throw new ArgumentOutOfRangeException(nameof(node), $"node {node} is outside 0..{NumNodes - 1}");
        int lo = LowerBound(node), hi = LowerBound(node + 1);
        return Dst.AsSpan(lo, hi - lo);
    }

    private int LowerBound(int node)
    {
        int lo = 0, hi = Src.Length;
        while (lo < hi) { int mid = (lo + hi) >>> 1; if (Src[mid] < node) lo = mid + 1; else hi = mid; }
        return lo;
    }

    private int[] RowPointers()
    {
        var ptr = new int[NumNodes + 1];
        foreach (var s in Src) ptr[s + 1]++;
        for (int i = 0; i < NumNodes; i++) ptr[i + 1] += ptr[i];
        return ptr;
    }

    /// <summary>The adjacency matrix as CSR (N × N, float32): row i holds the edges leaving node i.</summary>
    public CsrMatrix ToCsr() => new(NumNodes, NumNodes, RowPointers(), (int[])Dst.Clone(), (float[])Weight.Clone());

    /// <summary>
    /// The adjacency matrix as a torch sparse COO float32 tensor (indices in sorted, duplicate-free order) of shape (N, N),
    /// the layout torch.sparse.mm and GNN layers (STAGATE, Spotscape) take.
    /// </summary>
    public torch.Tensor ToTorchSparse()
    {
        var idx = new long[2 * (long)NumEdges];
        for (int e = 0; e < NumEdges; e++) { idx[e] = Src[e]; idx[NumEdges + e] = Dst[e]; }
        using var indices = torch.tensor(idx, new long[] { 2, NumEdges }, torch.int64);
        using var values = torch.tensor(Weight, torch.float32);
        // indices are sorted by (src, dst) and unique, i.e. already in coalesced order
        return torch.sparse_coo_tensor(indices, values, new long[] { NumNodes, NumNodes });
    }

    /// <summary>
    /// Union with the reversed edges, so the result is undirected. Where both (i, j) and (j, i) exist with
    /// different weights, both directions get the larger weight (the rule of an "OR" kNN graph).
    /// </summary>
    public SpatialGraph Symmetrize()
    {
        int m = NumEdges;
        var keys = new long[2 * m]; var w = new float[2 * m];
        for (int e = 0; e < m; e++)
        {
            keys[e] = (long)Src[e] * NumNodes + Dst[e]; w[e] = Weight[e];
            keys[m + e] = (long)Dst[e] * NumNodes + Src[e]; w[m + e] = Weight[e];
        }
        Array.Sort(keys, w);
        var src = new List<int>(2 * m); var dst = new List<int>(2 * m); var ww = new List<float>(2 * m);
        for (int e = 0; e < keys.Length; e++)
        {
            if (e > 0 && keys[e] == keys[e - 1]) { if (w[e] > ww[^1]) ww[^1] = w[e]; continue; }
            src.Add((int)(keys[e] / NumNodes)); dst.Add((int)(keys[e] % NumNodes)); ww.Add(w[e]);
        }
        return FromSorted(NumNodes, src.ToArray(), dst.ToArray(), ww.ToArray());
    }

    /// <summary>Copy with a self-loop (i, i) of the given weight on every node; existing self-loops get that weight.</summary>
    public SpatialGraph WithSelfLoops(float weight = 1f)
    {
        var src = new List<int>(NumEdges + NumNodes); var dst = new List<int>(NumEdges + NumNodes); var w = new List<float>(NumEdges + NumNodes);
        int e = 0;
        for (int i = 0; i < NumNodes; i++)
        {
            bool added = false;
            for (; e < NumEdges && Src[e] == i; e++)
            {
                if (!added && Dst[e] >= i) { src.Add(i); dst.Add(i); w.Add(weight); added = true; if (Dst[e] == i) continue; }
                src.Add(i); dst.Add(Dst[e]); w.Add(Weight[e]);
            }
            if (!added) { src.Add(i); dst.Add(i); w.Add(weight); }
        }
        return FromSorted(NumNodes, src.ToArray(), dst.ToArray(), w.ToArray());
    }

    /// <summary>Copy without self-loops.</summary>
    public SpatialGraph RemoveSelfLoops()
    {
        var keep = Enumerable.Range(0, NumEdges).Where(e => Src[e] != Dst[e]).ToArray();
        return FromSorted(NumNodes, keep.Select(e => Src[e]).ToArray(), keep.Select(e => Dst[e]).ToArray(), keep.Select(e => Weight[e]).ToArray());
    }

    /// <summary>Graph restricted to the given nodes (renumbered 0..count-1 in the given order); edges to other nodes are dropped.</summary>
    public SpatialGraph Subgraph(IReadOnlyList<int> nodes)
    {
        var map = new int[NumNodes]; Array.Fill(map, -1);
        for (int k = 0; k < nodes.Count; k++)
        {
            if ((uint)nodes[k] >= (uint)NumNodes) throw new ArgumentException($"node {nodes[k]} is outside 0..{NumNodes - 1}");
            if (map[nodes[k]] >= 0) throw new ArgumentException($"node {nodes[k]} selected twice");
            map[nodes[k]] = k;
        }
        var src = new List<int>(); var dst = new List<int>(); var w = new List<float>();
        for (int e = 0; e < NumEdges; e++)
            if (map[Src[e]] >= 0 && map[Dst[e]] >= 0) { src.Add(map[Src[e]]); dst.Add(map[Dst[e]]); w.Add(Weight[e]); }
        return new SpatialGraph(nodes.Count, src, dst, w);
    }

    /// <summary>Summary such as "SpatialGraph(3639 nodes, 21124 edges, mean degree 5.80)".</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"SpatialGraph({NumNodes} nodes, {NumEdges} edges, mean degree {MeanDegree:F2})");
}
