using Tessera.Data;
using Tessera.Nn;

namespace Tessera.Analysis;

/// <summary>Quality function optimised by <see cref="Leiden"/>.</summary>
public enum LeidenQuality
{
    /// <summary>Modularity with resolution γ (leidenalg's RBConfigurationVertexPartition; γ = 1 is ModularityVertexPartition).</summary>
    Modularity,
    /// <summary>Constant Potts model Σ_c [m_c − γ·n_c(n_c−1)/2] (leidenalg's CPMVertexPartition, node sizes 1).</summary>
    Cpm,
}

/// <summary>Options for <see cref="Leiden.Run"/>.</summary>
public sealed class LeidenOptions
{
    /// <summary>Quality function.</summary>
    public LeidenQuality Quality { get; set; } = LeidenQuality.Modularity;
    /// <summary>Resolution γ.</summary>
    public double Resolution { get; set; } = 1.0;
    /// <summary>
    /// Iterations of the full Leiden algorithm, each starting from the previous partition; a negative value runs until
    /// an iteration changes nothing. Default 2 as leidenalg.find_partition (scanpy's sc.tl.leiden uses −1).
    /// </summary>
    public int NIterations { get; set; } = 2;
    /// <summary>Randomness θ of the refinement merge (Traag et al. 2019; igraph's beta = 0.01).</summary>
    public double Theta { get; set; } = 0.01;
    /// <summary>Seed for node orders and refinement choices.</summary>
    public int Seed { get; set; }
}

/// <summary>A Leiden partition.</summary>
public sealed class LeidenResult
{
    /// <summary>Community of every node, 0..Count−1, numbered by decreasing size (ties: lowest node first), as leidenalg.</summary>
    public required int[] Membership { get; init; }
    /// <summary>Number of communities.</summary>
    public int Count { get; init; }
    /// <summary>Quality of the partition: normalised modularity Q (Modularity) or the CPM value (Cpm).</summary>
    public double Quality { get; init; }
    /// <summary>Full iterations run.</summary>
    public int Iterations { get; init; }
}

/// <summary>
/// Leiden community detection (Traag, Waltman &amp; van Eck 2019): queue-based fast local moving, randomised refinement
/// (merges only into well-connected sub-communities within each community, chosen with probability ∝ exp(ΔH/θ), as the
/// paper and igraph; leidenalg's refinement is the greedy θ → 0 limit), aggregation of the refined partition with the
/// unrefined one as its start, repeated until aggregation no longer shrinks the graph.
/// </summary>
public static class Leiden
{
    /// <summary>Runs Leiden on a weighted undirected graph.</summary>
    public static LeidenResult Run(WeightedGraph graph, LeidenOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var o = options ?? new LeidenOptions();
        if (!double.IsFinite(o.Resolution) || o.Resolution < 0) throw new TesseraException($"Leiden resolution must be finite and non-negative but is {o.Resolution}");
        if (!(o.Theta > 0)) throw new TesseraException($"Leiden theta must be positive but is {o.Theta}");
        foreach (var w in graph.Weights)
            if (!double.IsFinite(w) || w < 0) throw new TesseraException($"graph has edge weight {w}; weights must be finite and non-negative");
        int n = graph.NodeCount;
        if (n == 0) return new LeidenResult { Membership = Array.Empty<int>(), Count = 0, Quality = 0, Iterations = 0 };

        bool mod = o.Quality == LeidenQuality.Modularity;
        double total = graph.TotalWeight();
        double[] nodeW = mod ? graph.Degrees() : Enumerable.Repeat(1.0, n).ToArray();
        double scale = mod ? (total > 0 ? 1.0 / total : 0) : 1.0;
        double gamma = o.Resolution;
        var rng = Seeding.Rng(o.Seed, "leiden");

        var membership = new int[n];
        for (int i = 0; i < n; i++) membership[i] = i;
        int maxIter = o.NIterations < 0 ? 10000 : o.NIterations;
        int iters = 0;
        for (; iters < maxIter; iters++)
        {
            var before = (int[])membership.Clone();
            membership = OneIteration(graph, nodeW, scale, gamma, o.Theta, membership, rng);
            bool changed = !SamePartition(before, membership);
            if (o.NIterations < 0 && !changed) { iters++; break; }
        }
        var final = Renumber(membership);
        int count = final.Length == 0 ? 0 : final.Max() + 1;
        double q = mod ? Modularity(graph, final, gamma) : Cpm(graph, final, gamma);
        return new LeidenResult { Membership = final, Count = count, Quality = q, Iterations = iters };
    }

    /// <summary>
    /// scanpy-style clustering end to end: kNN (self included, <paramref name="nNeighbors"/> like sc.pp.neighbors),
    /// UMAP fuzzy connectivities, then Leiden with modularity at the given resolution run until stable
    /// (sc.tl.leiden's n_iterations = −1). Returns the membership.
    /// </summary>
    public static int[] Cluster(DenseMatrix x, int nNeighbors = 15, double resolution = 1.0, int seed = 0, NeighborMetric metric = NeighborMetric.Euclidean)
    {
        ArgumentNullException.ThrowIfNull(x);
        var g = NeighborGraph(x, nNeighbors, metric, seed);
        return Run(g, new LeidenOptions { Resolution = resolution, Seed = seed, NIterations = -1 }).Membership;
    }

    /// <summary>scanpy's connectivities: kNN with self (n_neighbors) → UMAP fuzzy simplicial set.</summary>
    public static WeightedGraph NeighborGraph(DenseMatrix x, int nNeighbors = 15, NeighborMetric metric = NeighborMetric.Euclidean, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (nNeighbors < 2) throw new TesseraException($"number of neighbours must be at least 2 but is {nNeighbors}");
        if (x.Rows < 2) throw new TesseraException($"clustering needs at least 2 points but got {x.Rows}");
        var knn = NearestNeighbors.Compute(x, new NearestNeighborsOptions { Neighbors = Math.Min(nNeighbors, x.Rows), Metric = metric, IncludeSelf = true, Seed = seed });
        return Umap.FuzzySimplicialSet(knn);
    }

    /// <summary>
    /// Newman–Girvan modularity with resolution γ: Q = (1/2m) Σ_ij (A_ij − γ k_i k_j / 2m) δ(c_i, c_j),
    /// with A the stored symmetric adjacency (2m = Σ_ij A_ij).
    /// </summary>
    public static double Modularity(WeightedGraph graph, IReadOnlyList<int> membership, double resolution = 1.0)
    {
        ArgumentNullException.ThrowIfNull(graph);
        CheckMembership(graph, membership);
        double total = graph.TotalWeight();
        if (total == 0) return 0;
        var deg = graph.Degrees();
        var kc = new Dictionary<int, double>();
        double inside = 0;
        for (int i = 0; i < graph.NodeCount; i++)
        {
            kc[membership[i]] = kc.GetValueOrDefault(membership[i]) + deg[i];
            for (int p = graph.RowPtr[i]; p < graph.RowPtr[i + 1]; p++)
                if (membership[graph.ColIdx[p]] == membership[i]) inside += graph.Weights[p];
        }
        double sq = 0;
        foreach (var v in kc.Values) sq += v * v;
        return (inside - resolution * sq / total) / total;
    }

    /// <summary>Constant Potts model quality Σ_c [m_c − γ·n_c(n_c−1)/2], m_c = internal edge weight (each edge once).</summary>
    public static double Cpm(WeightedGraph graph, IReadOnlyList<int> membership, double resolution)
    {
        ArgumentNullException.ThrowIfNull(graph);
        CheckMembership(graph, membership);
        var nc = new Dictionary<int, long>();
        double inside = 0;
        for (int i = 0; i < graph.NodeCount; i++)
        {
            nc[membership[i]] = nc.GetValueOrDefault(membership[i]) + 1;
            for (int p = graph.RowPtr[i]; p < graph.RowPtr[i + 1]; p++)
                if (membership[graph.ColIdx[p]] == membership[i]) inside += graph.Weights[p];
        }
        double pen = 0;
        foreach (var c in nc.Values) pen += c * (c - 1) / 2.0;
        return inside / 2 - resolution * pen;
    }

    private static void CheckMembership(WeightedGraph g, IReadOnlyList<int> membership)
    {
        ArgumentNullException.ThrowIfNull(membership);
        if (membership.Count != g.NodeCount) throw new TesseraException($"membership has {membership.Count} labels but the graph has {g.NodeCount} nodes");
    }

    private static bool SamePartition(int[] a, int[] b)
    {
        var map = new Dictionary<int, int>();
        var rev = new Dictionary<int, int>();
        for (int i = 0; i < a.Length; i++)
        {
            if (map.TryGetValue(a[i], out int x)) { if (x != b[i]) return false; }
            else map[a[i]] = b[i];
            if (rev.TryGetValue(b[i], out int y)) { if (y != a[i]) return false; }
            else rev[b[i]] = a[i];
        }
        return true;
    }

    private static int[] Renumber(int[] m)
    {
        var size = new Dictionary<int, int>();
        var first = new Dictionary<int, int>();
        for (int i = 0; i < m.Length; i++) { size[m[i]] = size.GetValueOrDefault(m[i]) + 1; if (!first.ContainsKey(m[i])) first[m[i]] = i; }
        var order = size.Keys.OrderByDescending(c => size[c]).ThenBy(c => first[c]).ToList();
        var map = new Dictionary<int, int>();
        for (int r = 0; r < order.Count; r++) map[order[r]] = r;
        return m.Select(c => map[c]).ToArray();
    }

    private static int[] Compact(int[] m, out int count)
    {
        var map = new Dictionary<int, int>();
        var r = new int[m.Length];
        for (int i = 0; i < m.Length; i++)
        {
            if (!map.TryGetValue(m[i], out int c)) { c = map.Count; map[m[i]] = c; }
            r[i] = c;
        }
        count = map.Count;
        return r;
    }

    private static int[] Permutation(int n, Random rng)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) { int j = rng.Next(i + 1); (p[i], p[j]) = (p[j], p[i]); }
        return p;
    }

    // One full Leiden iteration starting from `start` (a partition of the original nodes).
    private static int[] OneIteration(WeightedGraph g0, double[] w0, double scale, double gamma, double theta, int[] start, Random rng)
    {
        int n0 = g0.NodeCount;
        var g = g0;
        var w = w0;
        var comm = Compact(start, out _);
        var nodeOf = new int[n0]; // original node -> current aggregate node
        for (int i = 0; i < n0; i++) nodeOf[i] = i;
        while (true)
        {
            MoveNodesFast(g, w, scale, gamma, comm, rng);
            comm = Compact(comm, out int nComm);
            if (nComm == g.NodeCount) break;
            var refined = Refine(g, w, scale, gamma, theta, comm, rng);
            refined = Compact(refined, out int nRef);
            if (nRef >= g.NodeCount) break;
            // aggregate on the refined partition; its nodes start in their unrefined community
            var rows = new List<int>(g.StoredEntries); var cols = new List<int>(g.StoredEntries); var vals = new List<double>(g.StoredEntries);
            for (int i = 0; i < g.NodeCount; i++)
                for (int p = g.RowPtr[i]; p < g.RowPtr[i + 1]; p++) { rows.Add(refined[i]); cols.Add(refined[g.ColIdx[p]]); vals.Add(g.Weights[p]); }
            var ng = WeightedGraph.FromCoo(nRef, rows, cols, vals);
            var nw = new double[nRef];
            var ncomm = new int[nRef];
            for (int i = 0; i < g.NodeCount; i++) { nw[refined[i]] += w[i]; ncomm[refined[i]] = comm[i]; }
            for (int i = 0; i < n0; i++) nodeOf[i] = refined[nodeOf[i]];
            g = ng; w = nw; comm = ncomm;
        }
        var result = new int[n0];
        for (int i = 0; i < n0; i++) result[i] = comm[nodeOf[i]];
        return result;
    }

    private static bool MoveNodesFast(WeightedGraph g, double[] w, double scale, double gamma, int[] comm, Random rng)
    {
        int n = g.NodeCount;
        var commW = new double[n];
        var commCount = new int[n];
        for (int i = 0; i < n; i++) { commW[comm[i]] += w[i]; commCount[comm[i]]++; }
        var empty = new Stack<int>();
        for (int c = n - 1; c >= 0; c--) if (commCount[c] == 0) empty.Push(c);
        var queue = new Queue<int>(Permutation(n, rng));
        var inQueue = new bool[n];
        Array.Fill(inQueue, true);
        var neighW = new double[n];
        var touched = new List<int>();
        var mark = new bool[n];
        bool changed = false;
        while (queue.Count > 0)
        {
            int v = queue.Dequeue();
            inQueue[v] = false;
            int cur = comm[v];
            touched.Clear();
            for (int p = g.RowPtr[v]; p < g.RowPtr[v + 1]; p++)
            {
                int u = g.ColIdx[p];
                if (u == v) continue;
                int c = comm[u];
                if (!mark[c]) { mark[c] = true; touched.Add(c); }
                neighW[c] += g.Weights[p];
            }
            commW[cur] -= w[v]; commCount[cur]--;
            double wv = w[v];
            int best = cur;
            double bestGain = neighW[cur] - gamma * wv * commW[cur] * scale;
            foreach (int c in touched)
            {
                double gain = neighW[c] - gamma * wv * commW[c] * scale;
                if (gain > bestGain) { bestGain = gain; best = c; }
            }
            if (commCount[cur] > 0 && 0 > bestGain)
            {
                while (empty.Count > 0 && commCount[empty.Peek()] != 0) empty.Pop();
                if (empty.Count > 0) { best = empty.Pop(); bestGain = 0; }
            }
            foreach (int c in touched) { neighW[c] = 0; mark[c] = false; }
            comm[v] = best; commW[best] += wv; commCount[best]++;
            if (commCount[cur] == 0) empty.Push(cur);
            if (best != cur)
            {
                changed = true;
                for (int p = g.RowPtr[v]; p < g.RowPtr[v + 1]; p++)
                {
                    int u = g.ColIdx[p];
                    if (!inQueue[u] && comm[u] != best) { inQueue[u] = true; queue.Enqueue(u); }
                }
            }
        }
        return changed;
    }

    private static int[] Refine(WeightedGraph g, double[] w, double scale, double gamma, double theta, int[] comm, Random rng)
    {
        int n = g.NodeCount;
        var rc = new int[n];
        var rW = new double[n];
        var rCount = new int[n];
        var ext = new double[n]; // E(C, S − C) for refined community C
        var sW = new double[n];  // total weight of each unrefined community S
        for (int i = 0; i < n; i++)
        {
            rc[i] = i; rW[i] = w[i]; rCount[i] = 1;
            sW[comm[i]] += w[i];
            for (int p = g.RowPtr[i]; p < g.RowPtr[i + 1]; p++)
            {
                int u = g.ColIdx[p];
                if (u != i && comm[u] == comm[i]) ext[i] += g.Weights[p];
            }
        }
        var neighW = new double[n];
        var touched = new List<int>();
        var mark = new bool[n];
        var probs = new List<double>();
        foreach (int v in Permutation(n, rng))
        {
            if (rCount[rc[v]] != 1) continue;
            double wv = w[v], total = sW[comm[v]];
            if (ext[v] < gamma * wv * (total - wv) * scale) continue; // v not well connected to its community
            touched.Clear();
            for (int p = g.RowPtr[v]; p < g.RowPtr[v + 1]; p++)
            {
                int u = g.ColIdx[p];
                if (u == v || comm[u] != comm[v]) continue;
                int c = rc[u];
                if (!mark[c]) { mark[c] = true; touched.Add(c); }
                neighW[c] += g.Weights[p];
            }
            int own = rc[v];
            // candidates: staying alone (ΔH = 0) and every well-connected refined community with ΔH ≥ 0
            probs.Clear();
            var cands = new List<(int C, double Gain)> { (own, 0.0) };
            foreach (int c in touched)
            {
                if (ext[c] < gamma * rW[c] * (total - rW[c]) * scale) continue;
                double gain = neighW[c] - gamma * wv * rW[c] * scale;
                if (gain >= 0) cands.Add((c, gain));
            }
            double mx = cands.Max(t => t.Gain);
            double sum = 0;
            foreach (var t in cands) { double pr = Math.Exp((t.Gain - mx) / theta); probs.Add(pr); sum += pr; }
            double r = rng.NextDouble() * sum, acc = 0;
            int choice = cands.Count - 1;
            for (int t = 0; t < cands.Count; t++) { acc += probs[t]; if (r < acc) { choice = t; break; } }
            int target = cands[choice].C;
            if (target != own)
            {
                double wvc = neighW[target];
                ext[target] = ext[target] + ext[own] - 2 * wvc;
                rW[target] += wv; rCount[target]++;
                rW[own] = 0; rCount[own] = 0;
                rc[v] = target;
            }
            foreach (int c in touched) { neighW[c] = 0; mark[c] = false; }
        }
        return rc;
    }
}
