using System.Numerics;
using Tessera.Nn;

namespace Tessera.Analysis;

/// <summary>
/// NN-descent (Dong, Moses &amp; Li 2011) following pynndescent: random-projection-forest initialisation, random fill,
/// then local joins of sampled new/old candidates until fewer than delta·k·N heap updates happen. The lists searched
/// are <see cref="NearestNeighborsOptions.ListFactor"/> times longer than the k returned; the final k are ordered by
/// their float64 distances (ties by index).
/// Determinism: candidate sampling and tree splits come from one seeded generator; the local join of a chunk of points
/// is computed in parallel against a snapshot of the heap thresholds and applied sequentially in point order, so the
/// result does not depend on thread scheduling.
/// Cosine runs as squared Euclidean on unit-normalised rows (monotone in the cosine distance; converted at the end).
/// </summary>
internal static class NnDescent
{
    private const int Chunk = 4096;

    public static KnnResult Run(float[] x, int n, int dim, NearestNeighborsOptions o)
    {
        bool cosine = o.Metric == NeighborMetric.Cosine;
        float[] data = cosine ? NearestNeighbors.NormalizeRows(x, n, dim) : x;
        int k = o.IncludeSelf ? o.Neighbors - 1 : o.Neighbors;
        var rng = Seeding.Rng(o.Seed, "nndescent");
        if (k == 0) return Finish(null, null, n, 0, 0, o, cosine);
        // Longer lists than asked for during the search (kept nearest kOut at the end): the local joins then reach
        // neighbours that a k-list would have dropped, the cheapest way found to raise recall on high-dimensional data.
        int kOut = k;
        k = Math.Min(n - 1, Math.Max(k, (int)Math.Ceiling(k * o.ListFactor)));

        var heap = new Heap(n, k);
        int nTrees = o.NTrees ?? Math.Min(32, 5 + (int)Math.Round(Math.Pow(n, 0.25)));
        int leafSize = Math.Max(10, k);
        for (int t = 0; t < nTrees; t++)
        {
            var leaves = new List<int[]>();
            var all = new int[n];
            for (int i = 0; i < n; i++) all[i] = i;
            BuildTree(data, dim, all, leafSize, rng, leaves, cosine, 0);
            foreach (var leaf in leaves)
                for (int a = 0; a < leaf.Length; a++)
                    for (int b = a + 1; b < leaf.Length; b++)
                    {
                        int p = leaf[a], q = leaf[b];
                        float d = SqDist(data, dim, p, q);
                        heap.Push(p, d, q, true);
                        heap.Push(q, d, p, true);
                    }
        }
        // random fill of rows that are not full
        for (int i = 0; i < n; i++)
        {
            int guard = 0;
            while (heap.Count(i) < k && guard++ < 50 * k)
            {
                int j = rng.Next(n);
                if (j == i) continue;
                heap.Push(i, SqDist(data, dim, i, j), j, true);
            }
        }

        int nIters = o.NIters ?? Math.Max(5, (int)Math.Round(Math.Log2(n)));
        int maxCand = o.MaxCandidates ?? Math.Min(60, k);
        var newC = new Heap(n, maxCand);
        var oldC = new Heap(n, maxCand);
        var thresh = new float[n];
        for (int iter = 0; iter < nIters; iter++)
        {
            newC.Clear(); oldC.Clear();
            for (int i = 0; i < n; i++)
            {
                long off = (long)i * k;
                for (int j = 0; j < k; j++)
                {
                    int idx = heap.Idx[off + j];
                    if (idx < 0) continue;
                    float pr = (float)rng.NextDouble();
                    if (heap.Flag[off + j])
                    {
                        newC.Push(i, pr, idx, false);
                        newC.Push(idx, pr, i, false);
                    }
                    else
                    {
                        oldC.Push(i, pr, idx, false);
                        oldC.Push(idx, pr, i, false);
                    }
                }
            }
            // entries sampled as new are now old
            for (int i = 0; i < n; i++)
            {
                long off = (long)i * k;
                for (int j = 0; j < k; j++)
                {
                    int idx = heap.Idx[off + j];
                    if (idx < 0 || !heap.Flag[off + j]) continue;
                    if (newC.Contains(i, idx)) heap.Flag[off + j] = false;
                }
            }

            long updates = 0;
            var pending = new List<(int P, int Q, float D)>[Chunk];
            for (int start = 0; start < n; start += Chunk)
            {
                int len = Math.Min(Chunk, n - start);
                for (int i = 0; i < n; i++) thresh[i] = heap.Dist[(long)i * k]; // root = current worst
                Parallel.For(0, len, r =>
                {
                    int i = start + r;
                    var list = pending[r] ??= new List<(int, int, float)>();
                    list.Clear();
                    long nb = (long)i * maxCand;
                    for (int a = 0; a < maxCand; a++)
                    {
                        int p = newC.Idx[nb + a];
                        if (p < 0) continue;
                        for (int b = a + 1; b < maxCand; b++)
                        {
                            int q = newC.Idx[nb + b];
                            if (q < 0) continue;
                            float d = SqDist(data, dim, p, q);
                            if (d < thresh[p] || d < thresh[q]) list.Add((p, q, d));
                        }
                        for (int b = 0; b < maxCand; b++)
                        {
                            int q = oldC.Idx[nb + b];
                            if (q < 0) continue;
                            float d = SqDist(data, dim, p, q);
                            if (d < thresh[p] || d < thresh[q]) list.Add((p, q, d));
                        }
                    }
                });
                for (int r = 0; r < len; r++)
                    foreach (var (p, q, d) in pending[r])
                    {
                        if (p == q) continue;
                        if (heap.Push(p, d, q, true)) updates++;
                        if (heap.Push(q, d, p, true)) updates++;
                    }
            }
            if (updates <= o.Delta * k * n) break;
        }
        return Finish(heap, data, n, k, kOut, o, cosine);
    }

    /// <summary>
    /// Sorts each list by the float64 distance (ties by index) and keeps the nearest kOut; with the point itself first
    /// when asked. The search may have kept longer lists (k ≥ kOut) for recall.
    /// </summary>
    private static KnnResult Finish(Heap? graph, float[]? data, int n, int k, int kOut, NearestNeighborsOptions o, bool cosine)
    {
        int K = o.Neighbors;
        var idx = new int[(long)n * K];
        var dst = new float[(long)n * K];
        var metric = cosine ? NeighborMetric.Cosine : NeighborMetric.Euclidean;
        Parallel.For(0, n, () => new (double D, int J)[Math.Max(k, 1)], (i, _, row) =>
        {
            long outOff = (long)i * K;
            int p = 0;
            if (o.IncludeSelf) { idx[outOff] = i; dst[outOff] = 0; p = 1; }
            if (k == 0) return row;
            long off = (long)i * k;
            for (int j = 0; j < k; j++)
            {
                int J = graph!.Idx[off + j];
                row[j] = (J < 0 ? double.PositiveInfinity : NearestNeighbors.ExactDistance(data!, data!.Length / n, metric, i, J), J < 0 ? int.MaxValue : J);
            }
            Array.Sort(row, 0, k, Comparer<(double D, int J)>.Create((a, b) => a.D != b.D ? a.D.CompareTo(b.D) : a.J.CompareTo(b.J)));
            for (int j = 0; j < kOut; j++, p++) { idx[outOff + p] = row[j].J; dst[outOff + p] = (float)row[j].D; }
            return row;
        }, _ => { });
        return new KnnResult(n, K, idx, dst, o.IncludeSelf);
    }

    private static void BuildTree(float[] data, int dim, int[] pts, int leafSize, Random rng, List<int[]> leaves, bool angular, int depth)
    {
        if (pts.Length <= leafSize || depth > 200) { leaves.Add(pts); return; }
        // hyperplane between two random points (pynndescent's euclidean/angular random projection split)
        int a = pts[rng.Next(pts.Length)], b = pts[rng.Next(pts.Length - 1)];
        if (b == a) b = pts[pts.Length - 1];
        var normal = new float[dim];
        double offset = 0;
        long oa = (long)a * dim, ob = (long)b * dim;
        for (int c = 0; c < dim; c++)
        {
            normal[c] = data[oa + c] - data[ob + c];
            offset -= normal[c] * (data[oa + c] + data[ob + c]) / 2.0;
        }
        if (angular) offset = 0;
        var side = new bool[pts.Length];
        int nLeft = 0;
        for (int t = 0; t < pts.Length; t++)
        {
            long o = (long)pts[t] * dim;
            double m = offset;
            for (int c = 0; c < dim; c++) m += normal[c] * data[o + c];
            bool left = Math.Abs(m) < 1e-8 ? rng.Next(2) == 0 : m > 0;
            side[t] = left;
            if (left) nLeft++;
        }
        if (nLeft == 0 || nLeft == pts.Length)
        {
            // degenerate split (duplicates): random halves
            nLeft = 0;
            for (int t = 0; t < pts.Length; t++) { side[t] = rng.Next(2) == 0; if (side[t]) nLeft++; }
            if (nLeft == 0 || nLeft == pts.Length) { leaves.Add(pts); return; }
        }
        var left2 = new int[nLeft];
        var right = new int[pts.Length - nLeft];
        int l = 0, r = 0;
        for (int t = 0; t < pts.Length; t++) if (side[t]) left2[l++] = pts[t]; else right[r++] = pts[t];
        BuildTree(data, dim, left2, leafSize, rng, leaves, angular, depth + 1);
        BuildTree(data, dim, right, leafSize, rng, leaves, angular, depth + 1);
    }

    internal static float SqDist(float[] data, int dim, int i, int j)
    {
        var a = data.AsSpan(i * dim, dim);
        var b = data.AsSpan(j * dim, dim);
        int c = 0;
        float s = 0;
        if (Vector.IsHardwareAccelerated && dim >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            int w = Vector<float>.Count;
            for (; c <= dim - w; c += w)
            {
                var d = new Vector<float>(a.Slice(c, w)) - new Vector<float>(b.Slice(c, w));
                acc += d * d;
            }
            s = Vector.Sum(acc);
        }
        for (; c < dim; c++) { float d = a[c] - b[c]; s += d * d; }
        return s;
    }

    /// <summary>Per-row bounded max-heaps (root = largest key), as pynndescent's heap arrays.</summary>
    private sealed class Heap
    {
        public readonly int N, K;
        public readonly int[] Idx;
        public readonly float[] Dist;
        public readonly bool[] Flag;

        public Heap(int n, int k)
        {
            N = n; K = k;
            Idx = new int[(long)n * k];
            Dist = new float[(long)n * k];
            Flag = new bool[(long)n * k];
            Clear();
        }

        public void Clear()
        {
            Array.Fill(Idx, -1);
            Array.Fill(Dist, float.PositiveInfinity);
            Array.Clear(Flag);
        }

        public int Count(int row)
        {
            long off = (long)row * K;
            int c = 0;
            for (int j = 0; j < K; j++) if (Idx[off + j] >= 0) c++;
            return c;
        }

        public bool Contains(int row, int idx)
        {
            long off = (long)row * K;
            for (int j = 0; j < K; j++) if (Idx[off + j] == idx) return true;
            return false;
        }

        public bool Push(int row, float d, int idx, bool flag)
        {
            long off = (long)row * K;
            if (!(d < Dist[off])) return false;
            for (int j = 0; j < K; j++) if (Idx[off + j] == idx) return false;
            KnnHeap.ReplaceRoot(Dist.AsSpan((int)off, K), Idx.AsSpan((int)off, K), Flag.AsSpan((int)off, K), d, idx, flag);
            return true;
        }
    }
}
