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
    /// <summary>Exact below <see cref="NearestNeighborsOptions.AutoExactThreshold"/> points, NN-descent above.</summary>
    Auto,
    /// <summary>Exact blocked brute force with torch (matrix products + topk).</summary>
    Exact,
    /// <summary>Approximate NN-descent (Dong et al. 2011) as pynndescent, with optional random-projection-tree init.</summary>
    NnDescent,
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
    /// <summary>Upper bound on query rows per block of the exact search (the block is also capped at about 256 MB).</summary>
    public int BlockSize { get; init; } = 2048;
    /// <summary>NN-descent: number of random projection trees for initialisation; null = pynndescent's min(32, 5 + round(N^0.25)); 0 = random init only.</summary>
    public int? NTrees { get; init; }
    /// <summary>NN-descent: maximum iterations; null = pynndescent's max(5, round(log2 N)).</summary>
    public int? NIters { get; init; }
    /// <summary>NN-descent: candidates sampled per point per iteration; null = min(60, K).</summary>
    public int? MaxCandidates { get; init; }
    /// <summary>NN-descent: stop when fewer than Delta·K·N heap updates happen in an iteration (pynndescent 0.001).</summary>
    public double Delta { get; init; } = 0.001;
}

/// <summary>k-nearest-neighbour search: exact (blocked torch matrix products + topk) or approximate (NN-descent).</summary>
public static class NearestNeighbors
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
        var method = options.Method;
        if (method == NeighborMethod.Auto) method = rows < options.AutoExactThreshold ? NeighborMethod.Exact : NeighborMethod.NnDescent;
        return method == NeighborMethod.Exact
            ? Exact(x, rows, cols, options.Neighbors, options.Metric, options.IncludeSelf, options.BlockSize)
            : NnDescent.Run(x, rows, cols, options);
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
    /// Exact kNN. Distances are computed in float32 with torch one block of query rows at a time (never more than
    /// block × N of the distance matrix), a few spare candidates are kept, and their distances are recomputed in
    /// float64 so that the order is exact (ties broken by lower index).
    /// </summary>
    public static KnnResult Exact(float[] x, int rows, int cols, int k, NeighborMetric metric = NeighborMetric.Euclidean, bool includeSelf = false, int blockSize = 2048)
    {
        ArgumentNullException.ThrowIfNull(x);
        Validate(x, rows, cols, k, includeSelf);
        if (blockSize < 1) throw new TesseraException($"block size must be at least 1 but is {blockSize}");
        float[] data = metric == NeighborMetric.Cosine ? NormalizeRows(x, rows, cols) : x;
        int kOthers = includeSelf ? k - 1 : k;
        int kk = Math.Min(rows, kOthers + 1 + 8);
        // Cap a block at ~256 MB of float32 distances.
        int block = (int)Math.Clamp((1L << 26) / Math.Max(1, rows), 16, blockSize);
        var idx = new int[(long)rows * k];
        var dst = new float[(long)rows * k];
        using (var outer = torch.NewDisposeScope())
        {
            var all = torch.tensor(data, new long[] { rows, cols });
            var sqAll = metric == NeighborMetric.Euclidean ? all.mul(all).sum(1) : null;
            for (int start = 0; start < rows; start += block)
            {
                using var scope = torch.NewDisposeScope();
                int b = Math.Min(block, rows - start);
                var q = all.narrow(0, start, b);
                Tensor d;
                if (metric == NeighborMetric.Euclidean)
                {
                    d = q.matmul(all.t()).mul_(-2).add_(sqAll!.unsqueeze(0)).add_(sqAll!.narrow(0, start, b).unsqueeze(1));
                }
                else
                {
                    d = q.matmul(all.t()).neg_().add_(1);
                }
                var (_, ti) = d.topk(kk, dim: 1, largest: false, sorted: true);
                var cand = ti.to_type(ScalarType.Int32).data<int>().ToArray();
                Parallel.For(0, b, r => RefineRow(data, cols, metric, start + r, cand.AsSpan(r * kk, kk), k, includeSelf, idx, dst));
            }
        }
        return new KnnResult(rows, k, idx, dst, includeSelf);
    }

    private static void RefineRow(float[] data, int cols, NeighborMetric metric, int i, ReadOnlySpan<int> cand, int k, bool includeSelf, int[] idx, float[] dst)
    {
        var list = new List<(double D, int J)>(cand.Length);
        foreach (int j in cand)
        {
            if (j == i) continue;
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
