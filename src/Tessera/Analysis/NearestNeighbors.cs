using Tessera.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Analysis;

/// <summary>Distance used for neighbour search.</summary>
public enum NeighborMetric
{
    /// <summary>Euclidean distance ‖x − y‖.</summary>
    Euclidean,
    /// <summary>Cosine distance 1 − x·y/(‖x‖‖y‖) (as umap-learn/pynndescent; a zero vector is at distance 1 from others).</summary>
    Cosine,
}

/// <summary>How neighbours are searched.</summary>
public enum NeighborMethod
{
    /// <summary>
    /// Exact below <see cref="NearestNeighborsOptions.AutoExactThreshold"/> points, IVF above (bench/Peers, 100 000 × 64:
    /// IVF 4 probes 5.5 s at recall@15 0.979, NN-descent 27.9 s at 0.950, exact 28.4 s).
    /// </summary>
    Auto,
    /// <summary>Exact blocked brute force with torch (matrix products + topk).</summary>
    Exact,
    /// <summary>Approximate NN-descent (Dong et al. 2011) as pynndescent, with optional random-projection-tree init.</summary>
    NnDescent,
    /// <summary>
    /// Approximate inverted-file search (IVF-flat, as faiss IndexIVFFlat): k-means cells, every point searched exactly
    /// among the points of the cells nearest to it (<see cref="NearestNeighborsOptions.IvfProbes"/>).
    /// </summary>
    Ivf,
}

/// <summary>k nearest neighbours of every point: row-major N×K indices and distances, each row sorted by increasing distance.</summary>
public sealed class KnnResult
{
    /// <summary>Number of points.</summary>
    public int N { get; }
    /// <summary>Neighbours per point.</summary>
    public int K { get; }
    /// <summary>Neighbour indices, row-major N×K (row i = neighbours of point i, nearest first).</summary>
    public int[] Indices { get; }
    /// <summary>Neighbour distances in the chosen metric, row-major N×K, increasing along each row.</summary>
    public float[] Distances { get; }
    /// <summary>Whether each row starts with the point itself (distance 0).</summary>
    public bool IncludesSelf { get; }

    /// <summary>Wraps arrays (not copied).</summary>
    public KnnResult(int n, int k, int[] indices, float[] distances, bool includesSelf)
    {
        if ((long)n * k != indices.Length || indices.Length != distances.Length)
            throw new ArgumentException($"indices has {indices.Length} and distances {distances.Length} values but the shape is ({n}, {k})");
        N = n; K = k; Indices = indices; Distances = distances; IncludesSelf = includesSelf;
    }

    /// <summary>Index of the j-th neighbour of point i.</summary>
    public int Index(int i, int j) => Indices[(long)i * K + j];

    /// <summary>Distance to the j-th neighbour of point i.</summary>
    public float Distance(int i, int j) => Distances[(long)i * K + j];

    /// <summary>Indices as an N×K 2-D array (copy).</summary>
    public int[,] IndicesAs2D()
    {
        var r = new int[N, K];
        for (int i = 0; i < N; i++) for (int j = 0; j < K; j++) r[i, j] = Indices[(long)i * K + j];
        return r;
    }
}

/// <summary>Options for <see cref="NearestNeighbors.Compute(DenseMatrix, NearestNeighborsOptions)"/>.</summary>
public sealed record NearestNeighborsOptions
{
    /// <summary>Neighbours per point (counting the point itself when <see cref="IncludeSelf"/>).</summary>
    public int Neighbors { get; init; } = 15;
    /// <summary>Distance.</summary>
    public NeighborMetric Metric { get; init; } = NeighborMetric.Euclidean;
    /// <summary>Exact, NN-descent, or automatic choice by size.</summary>
    public NeighborMethod Method { get; init; } = NeighborMethod.Auto;
    /// <summary>When true, column 0 of each row is the point itself at distance 0 (umap-learn / scanpy convention).</summary>
    public bool IncludeSelf { get; init; }
    /// <summary>Seed for NN-descent (exact search uses no randomness).</summary>
    public int Seed { get; init; }
    /// <summary>Auto uses exact search when N is below this.</summary>
    public int AutoExactThreshold { get; init; } = 20000;
    /// <summary>Side of the square distance tiles of the exact search (block × block float32 values; capped at 4096).</summary>
    public int BlockSize { get; init; } = 2048;
    /// <summary>NN-descent: number of random projection trees for initialisation; null = pynndescent's min(32, 5 + round(N^0.25)); 0 = random init only.</summary>
    public int? NTrees { get; init; }
    /// <summary>NN-descent: maximum iterations; null = pynndescent's max(5, round(log2 N)).</summary>
    public int? NIters { get; init; }
    /// <summary>NN-descent: candidates sampled per point per iteration; null = min(60, K).</summary>
    public int? MaxCandidates { get; init; }
    /// <summary>NN-descent: stop when fewer than Delta·K·N heap updates happen in an iteration (pynndescent 0.001).</summary>
    public double Delta { get; init; } = 0.001;
    /// <summary>
    /// NN-descent: length of the neighbour lists kept during the search as a multiple of the neighbours returned (the
    /// nearest are returned). 1 is pynndescent; the default 2 raised recall@15 on 100 000 × 64 Gaussian clusters from
    /// 0.73 to 0.95 for about twice the time (bench/Peers).
    /// </summary>
    public double ListFactor { get; init; } = 2.0;
    /// <summary>IVF: number of k-means cells; null = round(√N).</summary>
    public int? IvfLists { get; init; }
    /// <summary>
    /// IVF: cells searched per point (its nearest centroids; the points of a cell search the union of their cells, so each
    /// sees at least this many); more = higher recall, slower. 100 000 × 64, 316 cells: 2 probes recall@15 0.975,
    /// 4 probes 0.979, 8 probes 0.983 (bench/Peers).
    /// </summary>
    public int IvfProbes { get; init; } = 4;
}

/// <summary>k-nearest-neighbour search: exact (blocked torch matrix products + topk) or approximate (IVF or NN-descent).</summary>
public static partial class NearestNeighbors
{
    /// <summary>kNN of the rows of a dense matrix.</summary>
    public static KnnResult Compute(DenseMatrix x, NearestNeighborsOptions options)
    {
        ArgumentNullException.ThrowIfNull(x);
        return Compute(x.ToFloatArray(), x.Rows, x.Cols, options);
    }

    /// <summary>kNN of the rows of a row-major float matrix (rows × cols).</summary>
    public static KnnResult Compute(float[] x, int rows, int cols, NearestNeighborsOptions options)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        Validate(x, rows, cols, options.Neighbors, options.IncludeSelf);
        if (!(options.ListFactor >= 1) || double.IsInfinity(options.ListFactor))
            throw new TesseraException($"NN-descent list factor must be a finite number of at least 1 but is {options.ListFactor}");
        var method = options.Method;
        if (method == NeighborMethod.Auto) method = rows < options.AutoExactThreshold ? NeighborMethod.Exact : NeighborMethod.Ivf;
        return method switch
        {
            NeighborMethod.Exact => Exact(x, rows, cols, options.Neighbors, options.Metric, options.IncludeSelf, options.BlockSize),
            NeighborMethod.Ivf => Ivf(x, rows, cols, options),
            _ => NnDescent.Run(x, rows, cols, options),
        };
    }

    internal static void Validate(float[] x, int rows, int cols, int k, bool includeSelf)
    {
        if (rows < 1 || cols < 1) throw new TesseraException($"kNN needs at least one row and one column but the data is {rows}×{cols}");
        if ((long)rows * cols != x.Length) throw new TesseraException($"data has {x.Length} values but the shape is ({rows}, {cols})");
        if (k < 1) throw new TesseraException($"number of neighbours must be at least 1 but is {k}");
        int maxK = includeSelf ? rows : rows - 1;
        if (k > maxK) throw new TesseraException($"cannot find {k} neighbours among {rows} points" + (includeSelf ? "" : " (self excluded)"));
        for (int i = 0; i < x.Length; i++)
            if (!float.IsFinite(x[i])) throw new TesseraException($"data has a non-finite value at row {i / cols}, column {i % cols}");
    }

    /// <summary>
    /// Exact kNN. Distances are computed in float32, one square tile of the N × N distance matrix at a time (never the
    /// whole matrix): each tile is a single torch matrix product of augmented rows ([x, ‖x‖², 1]·[−2y, 1, ‖y‖²] =
    /// ‖x − y‖², so no extra passes add the norms), scanned by bounded per-point max-heaps that keep a few spare
    /// candidates; the candidates' distances are then recomputed in float64 so that the order is exact (ties broken by
    /// lower index). Every query is also a data point, so only tiles on and above the diagonal are computed: tile (I, J)
    /// feeds the heaps of block I along its rows and those of block J along its columns, halving the products.
    /// Determinism: tiles are visited in a fixed order and each heap is updated by one task at a time in a fixed
    /// (row, column) order, so the result does not depend on the thread count.
    /// </summary>
    public static KnnResult Exact(float[] x, int rows, int cols, int k, NeighborMetric metric = NeighborMetric.Euclidean, bool includeSelf = false, int blockSize = 2048)
    {
        ArgumentNullException.ThrowIfNull(x);
        Validate(x, rows, cols, k, includeSelf);
        if (blockSize < 1) throw new TesseraException($"block size must be at least 1 but is {blockSize}");
        float[] data = metric == NeighborMetric.Cosine ? NormalizeRows(x, rows, cols) : x;
        int kOthers = includeSelf ? k - 1 : k;
        int kc = Math.Min(rows - 1, kOthers + 8); // heap capacity: the wanted neighbours plus spares for the float64 refinement
        var heaps = new TileHeaps(rows, kc);
        if (kc > 0)
        {
            // A tile is block × block float32 distances (16 MB at the default 2048, at most 64 MB).
            int block = Math.Min(blockSize, 4096);
            using var outer = torch.NewDisposeScope();
            var (left, right) = AugmentedRows(data, rows, cols, metric);
            for (int si = 0; si < rows; si += block)
            {
                int bi = Math.Min(block, rows - si);
                var li = left.narrow(0, si, bi);
                for (int sj = si; sj < rows; sj += block)
                {
                    using var scope = torch.NewDisposeScope();
                    int bj = Math.Min(block, rows - sj);
                    var tile = li.matmul(right.narrow(0, sj, bj).t()).contiguous();
                    heaps.ScanRows(TilePointer(tile), bi, bj, si, sj);
                    if (sj != si) heaps.ScanColumns(TilePointer(tile), bi, bj, si, sj);
                }
            }
        }
        var idx = new int[(long)rows * k];
        var dst = new float[(long)rows * k];
        Parallel.For(0, rows, r => RefineRow(data, cols, metric, r, heaps.Idx.AsSpan(r * kc, kc), k, includeSelf, idx, dst));
        return new KnnResult(rows, k, idx, dst, includeSelf);
    }

    /// <summary>
    /// Rows augmented so that one matrix product gives distances: Euclidean [x, ‖x‖², 1] · [−2y, 1, ‖y‖²]ᵀ = ‖x − y‖²;
    /// cosine (unit rows) [x, 1] · [−y, 1]ᵀ = 1 − x·y. Tensors in the caller's dispose scope.
    /// </summary>
    internal static (Tensor Left, Tensor Right) AugmentedRows(float[] data, int rows, int cols, NeighborMetric metric)
    {
        using var scope = torch.NewDisposeScope();
        var all = torch.tensor(data, new long[] { rows, cols });
        var one = torch.ones(rows, 1);
        Tensor left, right;
        if (metric == NeighborMetric.Euclidean)
        {
            var sq = all.mul(all).sum(1, keepdim: true);
            left = torch.cat(new[] { all, sq, one }, 1);
            right = torch.cat(new[] { all.mul(-2), one, sq }, 1);
        }
        else
        {
            left = torch.cat(new[] { all, one }, 1);
            right = torch.cat(new[] { all.neg(), one }, 1);
        }
        return (left.MoveToOuterDisposeScope(), right.MoveToOuterDisposeScope());
    }

    internal static nint TilePointer(Tensor t) => t.storage<float>().data_ptr() + (nint)(t.storage_offset() * sizeof(float));

    /// <summary>Per-point bounded max-heaps (root = current worst kept candidate) filled from distance tiles.</summary>
    internal sealed class TileHeaps
    {
        public readonly int[] Idx;
        private readonly float[] _dist;
        private readonly float[] _root; // _dist[i * K], kept contiguous for the vectorised column scan
        private readonly int K;

        public TileHeaps(int n, int k)
        {
            K = k;
            Idx = new int[(long)n * k];
            _dist = new float[(long)n * k];
            _root = new float[n];
            Array.Fill(Idx, -1);
            Array.Fill(_dist, float.PositiveInfinity);
            Array.Fill(_root, float.PositiveInfinity);
        }

        /// <summary>Rows of the tile (points si..si+bi) against its columns (points sj..sj+bj); one task per row.</summary>
        public unsafe void ScanRows(nint ptr, int bi, int bj, int si, int sj) =>
            Parallel.For(0, bi, r => ScanRow((float*)ptr + (long)r * bj, bj, si + r, sj, null));

        /// <summary>
        /// One tile row of point <paramref name="i"/> into its heap: column t is point <paramref name="colIdx"/>[t], or
        /// <paramref name="colStart"/> + t without an index; the point itself is skipped. Vectors of distances that hold
        /// none below the heap's root are passed over whole.
        /// </summary>
        private unsafe void ScanRow(float* p, int nc, int i, int colStart, int[]? colIdx)
        {
            int w = System.Numerics.Vector<float>.Count, c = 0;
            var thr = new System.Numerics.Vector<float>(_root[i]);
            for (; c <= nc - w; c += w)
            {
                var v = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<System.Numerics.Vector<float>>(p + c);
                if (!System.Numerics.Vector.LessThanAny(v, thr)) continue;
                for (int t = c; t < c + w; t++)
                    if (p[t] < _root[i]) PushOther(i, p[t], colIdx?[t] ?? colStart + t);
                thr = new System.Numerics.Vector<float>(_root[i]);
            }
            for (; c < nc; c++)
                if (p[c] < _root[i]) PushOther(i, p[c], colIdx?[c] ?? colStart + c);
        }

        private void PushOther(int row, float d, int j)
        {
            if (j != row) Push(row, d, j);
        }

        /// <summary>Columns of an off-diagonal tile (points sj..) against its rows (points si..); one task per column chunk, rows in order.</summary>
        public unsafe void ScanColumns(nint ptr, int bi, int bj, int si, int sj)
        {
            const int Chunk = 64;
            int chunks = (bj + Chunk - 1) / Chunk;
            Parallel.For(0, chunks, ch =>
            {
                int c0 = ch * Chunk, c1 = Math.Min(bj, c0 + Chunk);
                int w = System.Numerics.Vector<float>.Count;
                for (int r = 0; r < bi; r++)
                {
                    float* p = (float*)ptr + (long)r * bj;
                    int c = c0;
                    for (; c <= c1 - w; c += w)
                    {
                        var v = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<System.Numerics.Vector<float>>(p + c);
                        var thr = new System.Numerics.Vector<float>(_root.AsSpan(sj + c, w));
                        if (!System.Numerics.Vector.LessThanAny(v, thr)) continue;
                        for (int t = c; t < c + w; t++)
                            if (p[t] < _root[sj + t]) Push(sj + t, p[t], si + r);
                    }
                    for (; c < c1; c++)
                        if (p[c] < _root[sj + c]) Push(sj + c, p[c], si + r);
                }
            });
        }

        /// <summary>
        /// Rows of a gathered tile: row r is point <paramref name="rowIdx"/>[r], column t point <paramref name="colIdx"/>[t]
        /// (one task; the caller owns these rows' heaps).
        /// </summary>
        public unsafe void ScanGathered(nint ptr, ReadOnlySpan<int> rowIdx, int[] colIdx, int nc)
        {
            for (int r = 0; r < rowIdx.Length; r++) ScanRow((float*)ptr + (long)r * nc, nc, rowIdx[r], 0, colIdx);
        }

        private void Push(int row, float d, int j)
        {
            long off = (long)row * K;
            KnnHeap.ReplaceRoot(_dist.AsSpan((int)off, K), Idx.AsSpan((int)off, K), Span<bool>.Empty, d, j, false);
            _root[row] = _dist[off];
        }
    }

    internal static void RefineRow(float[] data, int cols, NeighborMetric metric, int i, ReadOnlySpan<int> cand, int k, bool includeSelf, int[] idx, float[] dst)
    {
        var list = new List<(double D, int J)>(cand.Length);
        foreach (int j in cand)
        {
            if (j < 0 || j == i) continue;
            list.Add((ExactDistance(data, cols, metric, i, j), j));
        }
        list.Sort((a, b) => a.D != b.D ? a.D.CompareTo(b.D) : a.J.CompareTo(b.J));
        long o = (long)i * k;
        int p = 0;
        if (includeSelf) { idx[o] = i; dst[o] = 0f; p = 1; }
        for (int t = 0; p < k; p++, t++) { idx[o + p] = list[t].J; dst[o + p] = (float)list[t].D; }
    }

    internal static double ExactDistance(float[] data, int cols, NeighborMetric metric, int i, int j)
    {
        long oi = (long)i * cols, oj = (long)j * cols;
        double s = 0;
        if (metric == NeighborMetric.Euclidean)
        {
            for (int c = 0; c < cols; c++) { double t = (double)data[oi + c] - data[oj + c]; s += t * t; }
            return Math.Sqrt(s);
        }
        // data rows are already unit (or zero) vectors
        double ni = 0, nj = 0;
        for (int c = 0; c < cols; c++) { s += (double)data[oi + c] * data[oj + c]; ni += (double)data[oi + c] * data[oi + c]; nj += (double)data[oj + c] * data[oj + c]; }
        if (ni == 0 && nj == 0) return 0;
        if (ni == 0 || nj == 0) return 1;
        return Math.Max(0, 1 - s / Math.Sqrt(ni * nj));
    }

    internal static float[] NormalizeRows(float[] x, int rows, int cols)
    {
        var r = new float[x.Length];
        for (int i = 0; i < rows; i++)
        {
            long o = (long)i * cols;
            double n = 0;
            for (int c = 0; c < cols; c++) n += (double)x[o + c] * x[o + c];
            if (n == 0) continue;
            double inv = 1 / Math.Sqrt(n);
            for (int c = 0; c < cols; c++) r[o + c] = (float)(x[o + c] * inv);
        }
        return r;
    }

    /// <summary>
    /// Fraction of the exact neighbours found by the approximate search (mean over points of |approx_i ∩ exact_i| / K),
    /// the recall used by pynndescent and ann-benchmarks. Self entries are ignored when both include self.
    /// </summary>
    public static double Recall(KnnResult approx, KnnResult exact)
    {
        ArgumentNullException.ThrowIfNull(approx);
        ArgumentNullException.ThrowIfNull(exact);
        if (approx.N != exact.N) throw new TesseraException($"approx has {approx.N} points but exact has {exact.N}");
        if (approx.K != exact.K) throw new TesseraException($"approx has {approx.K} neighbours per point but exact has {exact.K}");
        if (approx.IncludesSelf != exact.IncludesSelf) throw new TesseraException("approx and exact disagree on whether self is included");
        int k = exact.K, skip = exact.IncludesSelf ? 1 : 0;
        if (k - skip == 0) return 1;
        long hits = 0;
        var set = new HashSet<int>();
        for (int i = 0; i < exact.N; i++)
        {
            set.Clear();
            for (int j = skip; j < k; j++) set.Add(exact.Index(i, j));
            for (int j = skip; j < k; j++) if (set.Contains(approx.Index(i, j))) hits++;
        }
        return hits / (double)((long)exact.N * (k - skip));
    }
}

/// <summary>Bounded max-heaps of neighbour candidates (root = current worst kept), shared by the exact and NN-descent searches.</summary>
internal static class KnnHeap
{
    /// <summary>
    /// Replaces the root of the max-heap held in <paramref name="dist"/> / <paramref name="idx"/> (and <paramref name="flag"/>
    /// when it is not empty) by (<paramref name="d"/>, <paramref name="j"/>, <paramref name="f"/>) and sifts it down; the
    /// caller has checked that d is below the root.
    /// </summary>
    public static void ReplaceRoot(Span<float> dist, Span<int> idx, Span<bool> flag, float d, int j, bool f)
    {
        int k = dist.Length, i = 0;
        bool flags = !flag.IsEmpty;
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, sw;
            if (l >= k) break;
            if (r >= k) sw = dist[l] > d ? l : -1;
            else if (dist[l] >= dist[r]) sw = dist[l] > d ? l : -1;
            else sw = dist[r] > d ? r : -1;
            if (sw < 0) break;
            dist[i] = dist[sw]; idx[i] = idx[sw];
            if (flags) flag[i] = flag[sw];
            i = sw;
        }
        dist[i] = d; idx[i] = j;
        if (flags) flag[i] = f;
    }
}
