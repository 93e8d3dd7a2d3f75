namespace Tessera.Analysis;

/// <summary>
/// Weighted undirected graph stored as a symmetric CSR adjacency (both directions of every edge are stored; a self-loop
/// is stored once as the diagonal entry A_ii, so a node's degree is the sum of its row). Rows' column indices are sorted.
/// </summary>
public sealed class WeightedGraph
{
    /// <summary>Number of nodes.</summary>
    public int NodeCount { get; }
    /// <summary>CSR row pointers, length NodeCount + 1.</summary>
    public int[] RowPtr { get; }
    /// <summary>CSR column indices (neighbours), sorted within each row.</summary>
    public int[] ColIdx { get; }
    /// <summary>CSR values (edge weights), aligned with <see cref="ColIdx"/>.</summary>
    public double[] Weights { get; }

    /// <summary>Wraps CSR arrays (not copied); the caller guarantees symmetry and sorted rows.</summary>
    public WeightedGraph(int nodeCount, int[] rowPtr, int[] colIdx, double[] weights)
    {
        if (rowPtr.Length != nodeCount + 1) throw new TesseraException($"row pointer has {rowPtr.Length} entries but the graph has {nodeCount} nodes");
        if (colIdx.Length != weights.Length) throw new TesseraException($"graph has {colIdx.Length} column indices but {weights.Length} weights");
        NodeCount = nodeCount; RowPtr = rowPtr; ColIdx = colIdx; Weights = weights;
    }

    /// <summary>Number of stored entries (each undirected non-loop edge counts twice).</summary>
    public int StoredEntries => ColIdx.Length;

    /// <summary>
    /// Builds an undirected graph from an edge list: each (source, target, weight) is one undirected edge (stored in both
    /// directions); duplicates are summed; zero weights are dropped. A self-loop (i, i, w) becomes A_ii = 2w, the
    /// igraph convention in which a loop adds 2w to the degree.
    /// </summary>
    public static WeightedGraph FromEdges(int nodeCount, IReadOnlyList<int> sources, IReadOnlyList<int> targets, IReadOnlyList<double>? weights = null)
    {
        if (nodeCount < 0) throw new TesseraException($"node count must be non-negative but is {nodeCount}");
        if (sources.Count != targets.Count) throw new TesseraException($"edge list has {sources.Count} sources but {targets.Count} targets");
        if (weights != null && weights.Count != sources.Count) throw new TesseraException($"edge list has {sources.Count} edges but {weights.Count} weights");
        var r = new List<int>(sources.Count * 2); var c = new List<int>(sources.Count * 2); var w = new List<double>(sources.Count * 2);
        for (int e = 0; e < sources.Count; e++)
        {
            int s = sources[e], t = targets[e];
            double v = weights?[e] ?? 1.0;
            if (s < 0 || s >= nodeCount || t < 0 || t >= nodeCount) throw new TesseraException($"edge {e} ({s}, {t}) refers to a node outside 0..{nodeCount - 1}");
            if (!double.IsFinite(v) || v < 0) throw new TesseraException($"edge {e} has weight {v}; weights must be finite and non-negative");
            if (s == t) { r.Add(s); c.Add(s); w.Add(2 * v); }
            else { r.Add(s); c.Add(t); w.Add(v); r.Add(t); c.Add(s); w.Add(v); }
        }
        return FromCoo(nodeCount, r, c, w);
    }

    /// <summary>Builds CSR from directed COO entries as given (no symmetrisation); duplicates summed, zeros dropped.</summary>
    internal static WeightedGraph FromCoo(int n, IReadOnlyList<int> rows, IReadOnlyList<int> cols, IReadOnlyList<double> vals)
    {
        var count = new int[n + 1];
        for (int e = 0; e < rows.Count; e++) count[rows[e] + 1]++;
        for (int i = 0; i < n; i++) count[i + 1] += count[i];
        var pos = (int[])count.Clone();
        var ci = new int[rows.Count];
        var cv = new double[rows.Count];
        for (int e = 0; e < rows.Count; e++) { int p = pos[rows[e]]++; ci[p] = cols[e]; cv[p] = vals[e]; }
        var rp = new int[n + 1];
        var oc = new List<int>(rows.Count); var ov = new List<double>(rows.Count);
        for (int i = 0; i < n; i++)
        {
            int a = count[i], b = count[i + 1];
            Array.Sort(ci, cv, a, b - a);
            for (int p = a; p < b;)
            {
                int j = ci[p]; double s = 0;
                while (p < b && ci[p] == j) s += cv[p++];
                if (s != 0) { oc.Add(j); ov.Add(s); }
            }
            rp[i + 1] = oc.Count;
        }
        return new WeightedGraph(n, rp, oc.ToArray(), ov.ToArray());
    }

    /// <summary>Weighted degree of every node (row sums, self-loop entry included).</summary>
    public double[] Degrees()
    {
        var d = new double[NodeCount];
        for (int i = 0; i < NodeCount; i++) for (int p = RowPtr[i]; p < RowPtr[i + 1]; p++) d[i] += Weights[p];
        return d;
    }

    /// <summary>Total of all stored entries, i.e. 2m for a graph with total edge weight m.</summary>
    public double TotalWeight()
    {
        double s = 0;
        foreach (var v in Weights) s += v;
        return s;
    }

    /// <summary>Weight of edge (i, j), 0 when absent.</summary>
    public double Weight(int i, int j)
    {
        int p = Array.BinarySearch(ColIdx, RowPtr[i], RowPtr[i + 1] - RowPtr[i], j);
        return p >= 0 ? Weights[p] : 0;
    }

    /// <summary>Connected component label of every node (labels 0.. in order of first node) and the component count.</summary>
    public (int[] Labels, int Count) ConnectedComponents()
    {
        var lab = new int[NodeCount];
        Array.Fill(lab, -1);
        int c = 0;
        var stack = new Stack<int>();
        for (int s = 0; s < NodeCount; s++)
        {
            if (lab[s] >= 0) continue;
            lab[s] = c; stack.Push(s);
            while (stack.Count > 0)
            {
                int v = stack.Pop();
                for (int p = RowPtr[v]; p < RowPtr[v + 1]; p++)
                {
                    int u = ColIdx[p];
                    if (lab[u] < 0) { lab[u] = c; stack.Push(u); }
                }
            }
            c++;
        }
        return (lab, c);
    }
}
