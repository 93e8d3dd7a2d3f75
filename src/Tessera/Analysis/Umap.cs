using System.Runtime.Intrinsics;
using Tessera.Data;
using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Analysis;

/// <summary>How the UMAP layout starts.</summary>
public enum UmapInit
{
    /// <summary>Normalised-Laplacian eigenvectors (umap-learn's default); falls back to random when the graph is disconnected.</summary>
    Spectral,
    /// <summary>Uniform in [−10, 10]^d (umap-learn's "random").</summary>
    Random,
}

/// <summary>Options for <see cref="Umap"/> (defaults as umap-learn 0.5).</summary>
public sealed record UmapOptions
{
    /// <summary>Size of the local neighbourhood, counting the point itself (umap-learn n_neighbors).</summary>
    public int Neighbors { get; init; } = 15;
    /// <summary>Embedding dimension (CoSTA uses 30).</summary>
    public int Components { get; init; } = 2;
    /// <summary>Minimum distance between embedded points.</summary>
    public double MinDist { get; init; } = 0.1;
    /// <summary>Scale of embedded points.</summary>
    public double Spread { get; init; } = 1.0;
    /// <summary>Optimisation epochs; null = 500 for N ≤ 10,000 else 200 (umap-learn).</summary>
    public int? Epochs { get; init; }
    /// <summary>Initial SGD learning rate (decays linearly to 0).</summary>
    public double LearningRate { get; init; } = 1.0;
    /// <summary>Negative samples per positive sample.</summary>
    public int NegativeSampleRate { get; init; } = 5;
    /// <summary>Weight of the repulsive term (gamma).</summary>
    public double RepulsionStrength { get; init; } = 1.0;
    /// <summary>Input-space distance.</summary>
    public NeighborMetric Metric { get; init; } = NeighborMetric.Euclidean;
    /// <summary>Seed for the approximate kNN (IVF or NN-descent), initialisation noise and negative sampling.</summary>
    public int Seed { get; init; }
    /// <summary>Layout initialisation.</summary>
    public UmapInit Init { get; init; } = UmapInit.Spectral;
    /// <summary>kNN method (exact below 20,000 points by default, IVF above).</summary>
    public NeighborMethod KnnMethod { get; init; } = NeighborMethod.Auto;
    /// <summary>Curve parameter a; null = fitted from <see cref="MinDist"/> and <see cref="Spread"/>.</summary>
    public double? A { get; init; }
    /// <summary>Curve parameter b; null = fitted from <see cref="MinDist"/> and <see cref="Spread"/>.</summary>
    public double? B { get; init; }
}

/// <summary>A fitted UMAP: the embedding, the fuzzy graph and what was used to produce them.</summary>
public sealed class UmapModel
{
    /// <summary>N × Components embedding.</summary>
    public required DenseMatrix Embedding { get; init; }
    /// <summary>The fuzzy simplicial set (symmetric membership graph, umap-learn's graph_), before epoch pruning.</summary>
    public required WeightedGraph Graph { get; init; }
    /// <summary>The kNN (self included) the graph was built from.</summary>
    public required KnnResult Knn { get; init; }
    /// <summary>Curve parameter a used.</summary>
    public double A { get; init; }
    /// <summary>Curve parameter b used.</summary>
    public double B { get; init; }
    /// <summary>Epochs run.</summary>
    public int Epochs { get; init; }
    /// <summary>Initialisation actually used (Random when spectral fell back because the graph was disconnected).</summary>
    public UmapInit InitUsed { get; init; }
}

/// <summary>
/// UMAP (McInnes, Healy &amp; Melville 2018) following umap-learn 0.5: kNN → smooth_knn_dist → membership strengths →
/// fuzzy union → spectral init → SGD layout (optimize_layout_euclidean). The SGD runs on a fixed number of vertex blocks
/// in parallel, each reading other blocks' vertices as they stood at the start of the epoch, so the same seed gives
/// identical coordinates on any number of threads (umap-learn can only seed its single-threaded loop).
/// </summary>
public sealed class Umap
{
    private const double SmoothKTolerance = 1e-5;
    private const double MinKDistScale = 1e-3;
    // Above this many nodes the spectral init uses LOBPCG on the sparse Laplacian instead of a dense eigh.
    private const int DenseEighMaxNodes = 2000;
    // Residual tolerance of the sparse eigensolver: the vectors only seed the SGD (umap-learn's eigsh uses tol 1e-4;
    // the bulk of the spectrum converges slowly and 1e-3 already fixes the eigenvalues to ~3 decimals).
    private const double LobpcgTolerance = 1e-3;

    /// <summary>The options this instance fits with.</summary>
    public UmapOptions Options { get; }

    /// <summary>Creates a UMAP with the given options (defaults when null).</summary>
    public Umap(UmapOptions? options = null) => Options = options ?? new UmapOptions();

    /// <summary>Fits on the rows of a dense matrix.</summary>
    public UmapModel Fit(DenseMatrix x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return Fit(x.ToFloatArray(), x.Rows, x.Cols);
    }

    /// <summary>Fits and returns only the embedding.</summary>
    public DenseMatrix FitTransform(DenseMatrix x) => Fit(x).Embedding;

    /// <summary>Fits on a row-major float matrix (rows × cols).</summary>
    public UmapModel Fit(float[] x, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(x);
        var o = Options;
        ValidateOptions(o);
        if (rows < 3) throw new TesseraException($"UMAP needs at least 3 points but got {rows}");
        if ((long)rows * cols != x.Length) throw new TesseraException($"data has {x.Length} values but the shape is ({rows}, {cols})");
        // umap-learn truncates n_neighbors to N - 1 on tiny data.
        int k = Math.Min(o.Neighbors, rows - 1);
        var knn = NearestNeighbors.Compute(x, rows, cols, new NearestNeighborsOptions
        {
            Neighbors = k, Metric = o.Metric, Method = o.KnnMethod, IncludeSelf = true, Seed = Seeding.Derive(o.Seed, "umap-knn"),
        });
        return FitFromKnn(knn, rows);
    }

    /// <summary>Fits from a precomputed kNN (self included in column 0, as umap-learn's knn arrays).</summary>
    public UmapModel FitFromKnn(KnnResult knn, int rows)
    {
        ArgumentNullException.ThrowIfNull(knn);
        var o = Options;
        ValidateOptions(o);
        if (knn.N != rows) throw new TesseraException($"kNN has {knn.N} points but the data has {rows} rows");
        var graph = FuzzySimplicialSet(knn);
        int nEpochs = o.Epochs ?? (rows <= 10000 ? 500 : 200);
        var (a, b) = o.A.HasValue && o.B.HasValue ? (o.A.Value, o.B.Value) : FindAbParams(o.Spread, o.MinDist);
        var rng = Seeding.Rng(o.Seed, "umap-init");
        int dim = o.Components;
        float[] emb;
        var initUsed = o.Init;
        if (o.Init == UmapInit.Spectral)
        {
            var init = SpectralLayout(graph, dim, Seeding.Derive(o.Seed, "umap-spectral"));
            if (init == null) initUsed = UmapInit.Random;
            else
            {
                double maxAbs = 0;
                foreach (var v in init) maxAbs = Math.Max(maxAbs, Math.Abs(v));
                double expansion = maxAbs > 0 ? 10.0 / maxAbs : 1.0;
                emb = new float[init.Length];
                for (int i = 0; i < init.Length; i++) emb[i] = (float)(init[i] * expansion + 1e-4 * Normal(rng));
                return Finish(emb);
            }
        }
        emb = new float[(long)rows * dim];
        for (int i = 0; i < emb.Length; i++) emb[i] = (float)(rng.NextDouble() * 20 - 10);
        return Finish(emb);

        UmapModel Finish(float[] e)
        {
            RescaleTo10(e, rows, dim);
            OptimizeLayout(e, rows, dim, graph, nEpochs, a, b, o, Seeding.Derive(o.Seed, "umap-sgd"));
            var m = new DenseMatrix(rows, dim);
            for (int i = 0; i < e.Length; i++) m.Data[i] = e[i];
            return new UmapModel { Embedding = m, Graph = graph, Knn = knn, A = a, B = b, Epochs = nEpochs, InitUsed = initUsed };
        }
    }

    private static void ValidateOptions(UmapOptions o)
    {
        if (o.Neighbors < 2) throw new TesseraException($"UMAP n_neighbors must be at least 2 but is {o.Neighbors}");
        if (o.Components < 1) throw new TesseraException($"UMAP n_components must be at least 1 but is {o.Components}");
        if (o.MinDist < 0) throw new TesseraException($"UMAP min_dist must be non-negative but is {o.MinDist}");
        if (o.Spread <= 0) throw new TesseraException($"UMAP spread must be positive but is {o.Spread}");
        if (o.MinDist > o.Spread) throw new TesseraException($"UMAP min_dist ({o.MinDist}) must be less than or equal to spread ({o.Spread})");
        if (o.Epochs is < 1) throw new TesseraException($"UMAP n_epochs must be at least 1 but is {o.Epochs}");
        if (o.LearningRate <= 0) throw new TesseraException($"UMAP learning rate must be positive but is {o.LearningRate}");
        if (o.NegativeSampleRate < 0) throw new TesseraException($"UMAP negative sample rate must be non-negative but is {o.NegativeSampleRate}");
        if (o.RepulsionStrength < 0) throw new TesseraException($"UMAP repulsion strength must be non-negative but is {o.RepulsionStrength}");
        if (o.A.HasValue != o.B.HasValue) throw new TesseraException("UMAP a and b must be given together");
    }

    private static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static void RescaleTo10(float[] e, int rows, int dim)
    {
        for (int c = 0; c < dim; c++)
        {
            float mn = float.PositiveInfinity, mx = float.NegativeInfinity;
            for (int i = 0; i < rows; i++) { float v = e[(long)i * dim + c]; mn = Math.Min(mn, v); mx = Math.Max(mx, v); }
            double range = mx - mn;
            for (int i = 0; i < rows; i++)
            {
                long p = (long)i * dim + c;
                e[p] = range > 0 ? (float)(10.0 * (e[p] - mn) / range) : 0f;
            }
        }
    }

    /// <summary>
    /// umap-learn's smooth_knn_dist: per point, rho = distance to the nearest non-identical neighbour
    /// (local_connectivity 1) and sigma by 64-step binary search so that Σ_{j≥1} exp(−max(0, d_j − rho)/sigma) = log2(k),
    /// floored at 1e-3 × the mean neighbour distance. Column 0 of the kNN must be the point itself.
    /// </summary>
    public static (float[] Sigmas, float[] Rhos) SmoothKnnDist(KnnResult knn, double k, double localConnectivity = 1.0, double bandwidth = 1.0)
    {
        ArgumentNullException.ThrowIfNull(knn);
        int n = knn.N, kk = knn.K;
        double target = Math.Log2(k) * bandwidth;
        var rho = new float[n];
        var result = new float[n];
        double meanAll = 0;
        foreach (var d in knn.Distances) meanAll += d;
        meanAll /= Math.Max(1, knn.Distances.Length);
        Parallel.For(0, n, i =>
        {
            double lo = 0, hi = double.PositiveInfinity, mid = 1;
            long off = (long)i * kk;
            var nonZero = new List<float>(kk);
            double meanI = 0;
            for (int j = 0; j < kk; j++) { float d = knn.Distances[off + j]; meanI += d; if (d > 0) nonZero.Add(d); }
            meanI /= kk;
            if (nonZero.Count >= localConnectivity)
            {
                int index = (int)Math.Floor(localConnectivity);
                double interp = localConnectivity - index;
                if (index > 0)
                {
                    rho[i] = nonZero[index - 1];
                    if (interp > SmoothKTolerance) rho[i] += (float)(interp * (nonZero[index] - nonZero[index - 1]));
                }
                else rho[i] = (float)(interp * nonZero[0]);
            }
            else if (nonZero.Count > 0) rho[i] = nonZero.Max();
            for (int it = 0; it < 64; it++)
            {
                double psum = 0;
                for (int j = 1; j < kk; j++)
                {
                    double d = knn.Distances[off + j] - rho[i];
                    psum += d > 0 ? Math.Exp(-(d / mid)) : 1.0;
                }
                if (Math.Abs(psum - target) < SmoothKTolerance) break;
                if (psum > target) { hi = mid; mid = (lo + hi) / 2.0; }
                else
                {
                    lo = mid;
                    if (double.IsPositiveInfinity(hi)) mid *= 2; else mid = (lo + hi) / 2.0;
                }
            }
            result[i] = (float)mid;
            double floor = rho[i] > 0 ? MinKDistScale * meanI : MinKDistScale * meanAll;
            if (result[i] < floor) result[i] = (float)floor;
        });
        return (result, rho);
    }

    /// <summary>
    /// umap-learn's fuzzy_simplicial_set with set_op_mix_ratio 1: directed memberships exp(−(d − rho)/sigma)
    /// (1 within rho, 0 for self), then the fuzzy union A + Aᵀ − A∘Aᵀ. This is also scanpy's "connectivities".
    /// Column 0 of the kNN must be the point itself (<see cref="NearestNeighborsOptions.IncludeSelf"/>).
    /// </summary>
    public static WeightedGraph FuzzySimplicialSet(KnnResult knn)
    {
        ArgumentNullException.ThrowIfNull(knn);
        if (!knn.IncludesSelf) throw new TesseraException("the fuzzy simplicial set needs a kNN that includes each point itself (IncludeSelf = true)");
        int n = knn.N, k = knn.K;
        var (sigmas, rhos) = SmoothKnnDist(knn, k);
        var rows = new List<int>(n * k); var cols = new List<int>(n * k); var vals = new List<double>(n * k);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
            {
                int nb = knn.Index(i, j);
                if (nb < 0) continue;
                float v;
                if (nb == i) v = 0;
                else if (knn.Distance(i, j) - rhos[i] <= 0 || sigmas[i] == 0) v = 1;
                else v = (float)Math.Exp(-((knn.Distance(i, j) - rhos[i]) / sigmas[i]));
                if (v == 0) continue;
                rows.Add(i); cols.Add(nb); vals.Add(v);
            }
        var a = WeightedGraph.FromCoo(n, rows, cols, vals);
        var at = WeightedGraph.FromCoo(n, cols, rows, vals);
        // fuzzy union on the merged sparsity pattern
        var rp = new int[n + 1];
        var oc = new List<int>(a.StoredEntries * 2); var ov = new List<double>(a.StoredEntries * 2);
        for (int i = 0; i < n; i++)
        {
            int p = a.RowPtr[i], pe = a.RowPtr[i + 1], q = at.RowPtr[i], qe = at.RowPtr[i + 1];
            while (p < pe || q < qe)
            {
                int cp = p < pe ? a.ColIdx[p] : int.MaxValue, cq = q < qe ? at.ColIdx[q] : int.MaxValue;
                double x = 0, y = 0; int c;
                if (cp == cq) { c = cp; x = a.Weights[p++]; y = at.Weights[q++]; }
                else if (cp < cq) { c = cp; x = a.Weights[p++]; }
                else { c = cq; y = at.Weights[q++]; }
                // float32 as umap-learn's sparse matrices
                float v = (float)((float)x + (float)y - (float)x * (float)y);
                if (v != 0) { oc.Add(c); ov.Add(v); }
            }
            rp[i + 1] = oc.Count;
        }
        return new WeightedGraph(n, rp, oc.ToArray(), ov.ToArray());
    }

    /// <summary>
    /// umap-learn's find_ab_params: least-squares fit (Levenberg–Marquardt, as scipy's curve_fit) of 1/(1 + a x^(2b)) to
    /// 1 for x &lt; min_dist and exp(−(x − min_dist)/spread) beyond, on 300 points of [0, 3·spread].
    /// </summary>
    public static (double A, double B) FindAbParams(double spread, double minDist)
    {
        if (spread <= 0) throw new TesseraException($"UMAP spread must be positive but is {spread}");
        const int m = 300;
        var xv = new double[m]; var yv = new double[m];
        for (int i = 0; i < m; i++)
        {
            xv[i] = spread * 3 * i / (m - 1);
            yv[i] = xv[i] < minDist ? 1.0 : Math.Exp(-(xv[i] - minDist) / spread);
        }
        double a = 1, b = 1, lambda = 1e-3;
        double Cost(double aa, double bb)
        {
            double s = 0;
            for (int i = 0; i < m; i++) { double r = 1.0 / (1.0 + aa * Math.Pow(xv[i], 2 * bb)) - yv[i]; s += r * r; }
            return s;
        }
        double cost = Cost(a, b);
        for (int it = 0; it < 2000; it++)
        {
            double jaa = 0, jab = 0, jbb = 0, ga = 0, gb = 0;
            for (int i = 0; i < m; i++)
            {
                double x = xv[i];
                double p = x > 0 ? Math.Pow(x, 2 * b) : 0;
                double den = 1 + a * p;
                double f = 1 / den;
                double r = f - yv[i];
                double da = -p / (den * den);
                double db = x > 0 ? -a * p * 2 * Math.Log(x) / (den * den) : 0;
                jaa += da * da; jab += da * db; jbb += db * db; ga += da * r; gb += db * r;
            }
            bool improved = false;
            for (int tries = 0; tries < 50; tries++)
            {
                double h11 = jaa * (1 + lambda), h22 = jbb * (1 + lambda), h12 = jab;
                double det = h11 * h22 - h12 * h12;
                double sa = -(h22 * ga - h12 * gb) / det;
                double sb = -(h11 * gb - h12 * ga) / det;
                double na = a + sa, nb = b + sb;
                double nc = Cost(na, nb);
                if (double.IsFinite(nc) && nc < cost)
                {
                    double rel = (cost - nc) / Math.Max(cost, 1e-300);
                    a = na; b = nb; cost = nc; lambda = Math.Max(lambda / 10, 1e-12); improved = true;
                    if (rel < 1e-15 && Math.Abs(sa) < 1e-12 * (1 + Math.Abs(a)) && Math.Abs(sb) < 1e-12 * (1 + Math.Abs(b))) return (a, b);
                    break;
                }
                lambda *= 10;
            }
            if (!improved) break;
        }
        return (a, b);
    }

    /// <summary>
    /// umap-learn's spectral_layout: the eigenvectors of the normalised Laplacian I − D^−½AD^−½ for the 2nd..(d+1)-th
    /// smallest eigenvalues. Dense eigh (torch) for small graphs, LOBPCG with a sparse product above; null when the graph
    /// is disconnected or too small (the caller then uses random init — umap-learn's multi-component meta-layout is not
    /// reproduced). Returns N × dim row-major; <paramref name="forceSparse"/> uses LOBPCG whatever the size.
    /// </summary>
    public static double[]? SpectralLayout(WeightedGraph g, int dim, int seed, bool forceSparse = false)
    {
        ArgumentNullException.ThrowIfNull(g);
        int n = g.NodeCount;
        if (dim + 1 >= n) return null;
        if (g.ConnectedComponents().Count > 1) return null;
        var deg = g.Degrees();
        var invSqrt = new double[n];
        for (int i = 0; i < n; i++) invSqrt[i] = deg[i] > 0 ? 1 / Math.Sqrt(deg[i]) : 0;
        var mw = new double[g.Weights.Length];
        for (int i = 0; i < n; i++) for (int p = g.RowPtr[i]; p < g.RowPtr[i + 1]; p++) mw[p] = g.Weights[p] * invSqrt[i] * invSqrt[g.ColIdx[p]];
        double[] result;
        using var scope = torch.NewDisposeScope();
        if (n <= DenseEighMaxNodes && !forceSparse)
        {
            var dense = new double[(long)n * n];
            for (int i = 0; i < n; i++) for (int p = g.RowPtr[i]; p < g.RowPtr[i + 1]; p++) dense[(long)i * n + g.ColIdx[p]] = mw[p];
            var mt = torch.tensor(dense, new long[] { n, n }, ScalarType.Float64);
            var lap = torch.eye(n, dtype: ScalarType.Float64).sub(mt);
            var (_, vecs) = torch.linalg.eigh(lap);
            result = vecs.narrow(1, 1, dim).contiguous().data<double>().ToArray();
        }
        else
        {
            // The blocks are thin (N × 3d): torch's thread pool only spins here, so run them on one thread.
            int threads = torch.get_num_threads();
            torch.set_num_threads(1);
            try { result = Lobpcg(g, mw, deg, dim, seed); }
            finally { torch.set_num_threads(threads); }
        }
        return result;
    }

    // y (at least N × cols, overwritten) = M x.
    private static void SparseMul(WeightedGraph g, double[] mw, double[] x, int cols, double[] y)
    {
        int n = g.NodeCount;
        Array.Clear(y, 0, n * cols);
        Parallel.For(0, (n + 255) / 256, blk =>
        {
            int end = Math.Min(n, (blk + 1) * 256);
            for (int i = blk * 256; i < end; i++)
            {
                var yi = y.AsSpan(i * cols, cols);
                for (int p = g.RowPtr[i]; p < g.RowPtr[i + 1]; p++)
                {
                    double w = mw[p];
                    var xj = x.AsSpan(g.ColIdx[p] * cols, cols);
                    // vectors of 4, multiply then add (not fused): the same roundings as the scalar loop
                    var wv = Vector256.Create(w);
                    int c = 0;
                    for (; c <= cols - 4; c += 4)
                        (Vector256.Create(yi.Slice(c, 4)) + wv * Vector256.Create(xj.Slice(c, 4))).CopyTo(yi.Slice(c, 4));
                    for (; c < cols; c++) yi[c] += w * xj[c];
                }
            }
        });
    }

    // Top eigenvectors of M = D^-½AD^-½ orthogonal to the known top one (D^½·1), by LOBPCG (Knyazev 2001)
    // with Gram-matrix eigen-orthonormalisation so rank-deficient [X, R, P] blocks are handled.
    private static double[] Lobpcg(WeightedGraph g, double[] mw, double[] deg, int m, int seed)
    {
        int n = g.NodeCount;
        var v0a = new double[n];
        double s = 0;
        for (int i = 0; i < n; i++) { v0a[i] = Math.Sqrt(deg[i]); s += deg[i]; }
        for (int i = 0; i < n; i++) v0a[i] /= Math.Sqrt(s);
        var v0 = torch.tensor(v0a, new long[] { n, 1 }, ScalarType.Float64);
        var rng = Seeding.Rng(seed, "lobpcg");
        var xa = new double[(long)n * m];
        for (int i = 0; i < xa.Length; i++) xa[i] = Normal(rng);
        Tensor Deflate(Tensor t) => t.sub(v0.matmul(v0.t().matmul(t)));
        Tensor Ortho(Tensor t)
        {
            for (int pass = 0; pass < 2; pass++)
            {
                // unit columns first so that tiny residual directions are judged by angle, not by norm
                var norms = t.mul(t).sum(0L).sqrt().clamp_min(1e-300);
                t = t.div(norms.unsqueeze(0));
                var gram = t.t().matmul(t);
                gram = gram.add(gram.t()).mul(0.5);
                var (ev, evec) = torch.linalg.eigh(gram);
                var evs = ev.data<double>().ToArray();
                double mx = evs.Max();
                int first = 0;
                while (first < evs.Length && evs[first] <= 1e-10 * mx) first++;
                var keep = evec.narrow(1, first, evs.Length - first);
                var scale = ev.narrow(0, first, evs.Length - first).rsqrt();
                t = t.matmul(keep.mul(scale.unsqueeze(0)));
                // one pass leaves an orthogonality error of about eps × max/min eigenvalue: a second only when that is large
                if (first == 0 && evs[0] >= 1e-6 * mx) break;
            }
            return t;
        }
        // Two reused N × 3m buffers: fresh arrays per product were ~14 MB of large-object garbage per iteration, which the GC
        // let pile up (a 10,000-node, 30-d layout raised the peak working set by ~500 MB).
        var bufX = new double[(long)n * 3 * m];
        var bufY = new double[(long)n * 3 * m];
        Tensor Mul(Tensor t)
        {
            int c = (int)t.shape[1];
            using var tc = t.contiguous();
            tc.data<double>().CopyTo(bufX.AsSpan(0, n * c));
            SparseMul(g, mw, bufX, c, bufY);
            var r = torch.empty(new long[] { n, c }, ScalarType.Float64);
            r.data<double>().CopyFrom(bufY.AsSpan(0, n * c));
            return r;
        }
        var X = Ortho(Deflate(torch.tensor(xa, new long[] { n, m }, ScalarType.Float64)));
        var AX = Mul(X);
        {
            var T = X.t().matmul(AX); T = T.add(T.t()).mul(0.5);
            var (_, c) = torch.linalg.eigh(T);
            c = c.flip(1);
            X = X.matmul(c); AX = AX.matmul(c);
        }
        Tensor? P = null;
        const int maxIter = 100;
        for (int it = 0; it < maxIter; it++)
        {
            using var scope = torch.NewDisposeScope();
            var lam = X.mul(AX).sum(0L);
            var R = AX.sub(X.mul(lam.unsqueeze(0)));
            double resMax = R.mul(R).sum(0L).sqrt().max().item<double>();
            if (resMax < LobpcgTolerance) break;
            var S = P is null ? torch.cat(new[] { X, Deflate(R) }, 1) : torch.cat(new[] { X, Deflate(R), Deflate(P) }, 1);
            S = Ortho(S);
            var AS = Mul(S);
            var T = S.t().matmul(AS); T = T.add(T.t()).mul(0.5);
            var (_, C) = torch.linalg.eigh(T);
            int ns = (int)C.shape[1];
            var top = C.narrow(1, ns - m, m).flip(1);
            var newX = S.matmul(top);
            var newAX = AS.matmul(top);
            // P: the part of the update outside the old X directions
            var pdir = newX.sub(X.matmul(X.t().matmul(newX)));
            X = newX.MoveToOuterDisposeScope(); AX = newAX.MoveToOuterDisposeScope();
            P = pdir.MoveToOuterDisposeScope();
        }
        return X.contiguous().data<double>().ToArray();
    }

    private sealed class TauRng
    {
        private uint s0, s1, s2;
        public TauRng(Random r) { s0 = (uint)r.Next() | 2u; s1 = (uint)r.Next() | 8u; s2 = (uint)r.Next() | 16u; }
        // umap-learn's tau_rand_int (Tausworthe, L'Ecuyer 1996)
        public uint Next()
        {
            s0 = ((s0 & 4294967294u) << 12) ^ (((s0 << 13) ^ s0) >> 19);
            s1 = ((s1 & 4294967288u) << 4) ^ (((s1 << 2) ^ s1) >> 25);
            s2 = ((s2 & 4294967280u) << 17) ^ (((s2 << 3) ^ s2) >> 11);
            return s0 ^ s1 ^ s2;
        }
    }

    private static float ClipF(float v) => v > 4f ? 4f : v < -4f ? -4f : v;

    // Vectorised pieces of the SGD step; the same operations in the same order for a given dim, so still deterministic.
    private static float SqDist(Span<float> a, Span<float> b)
    {
        int d = 0, w = System.Numerics.Vector<float>.Count;
        float s = 0;
        if (a.Length >= w)
        {
            var acc = System.Numerics.Vector<float>.Zero;
            for (; d <= a.Length - w; d += w)
            {
                var t = new System.Numerics.Vector<float>(a.Slice(d, w)) - new System.Numerics.Vector<float>(b.Slice(d, w));
                acc += t * t;
            }
            s = System.Numerics.Vector.Sum(acc);
        }
        for (; d < a.Length; d++) { float t = a[d] - b[d]; s += t * t; }
        return s;
    }

    private static void AttractStep(Span<float> cur, Span<float> oth, float gc, float alpha)
    {
        int d = 0, w = System.Numerics.Vector<float>.Count;
        if (cur.Length >= w)
        {
            var lo = new System.Numerics.Vector<float>(-4f); var hi = new System.Numerics.Vector<float>(4f);
            for (; d <= cur.Length - w; d += w)
            {
                var c = new System.Numerics.Vector<float>(cur.Slice(d, w)); var o = new System.Numerics.Vector<float>(oth.Slice(d, w));
                var g = System.Numerics.Vector.Min(System.Numerics.Vector.Max((c - o) * gc, lo), hi) * alpha;
                (c + g).CopyTo(cur.Slice(d, w));
                (o - g).CopyTo(oth.Slice(d, w));
            }
        }
        for (; d < cur.Length; d++)
        {
            float g = ClipF(gc * (cur[d] - oth[d])) * alpha;
            cur[d] += g;
            oth[d] -= g;
        }
    }

    private static void RepelStep(Span<float> cur, Span<float> neg, float gc, float alpha)
    {
        int d = 0, w = System.Numerics.Vector<float>.Count;
        if (cur.Length >= w)
        {
            var lo = new System.Numerics.Vector<float>(-4f); var hi = new System.Numerics.Vector<float>(4f);
            for (; d <= cur.Length - w; d += w)
            {
                var c = new System.Numerics.Vector<float>(cur.Slice(d, w)); var o = new System.Numerics.Vector<float>(neg.Slice(d, w));
                (c + System.Numerics.Vector.Min(System.Numerics.Vector.Max((c - o) * gc, lo), hi) * alpha).CopyTo(cur.Slice(d, w));
            }
        }
        for (; d < cur.Length; d++) cur[d] += ClipF(gc * (cur[d] - neg[d])) * alpha;
    }

    // The SGD's vertex blocks: a fixed number, so the layout does not depend on how many threads run them.
    internal const int SgdBlocks = 16;

    /// <summary>
    /// umap-learn's optimize_layout_euclidean (head = tail embedding, move_other), run on <see cref="SgdBlocks"/> blocks
    /// of head vertices in parallel, deterministically. Within an epoch a block moves its own vertices in place in edge
    /// order, exactly as the serial loop does; a vertex of another block is read as it stood at the start of the epoch,
    /// and a move of another block's vertex (the tail of an attractive step) is recorded and applied after the epoch, in
    /// block order. No block reads what another writes during the epoch, so the result is the same for any number of
    /// threads. Each block draws its negative samples from its own Tausworthe stream. (umap-learn's parallel mode lets
    /// threads race on shared coordinates instead, and so cannot be seeded.)
    /// </summary>
    private static void OptimizeLayout(float[] emb, int n, int dim, WeightedGraph graph, int nEpochs, double a, double b, UmapOptions o, int seed)
    {
        // Above one vector the rows are padded with zeros to whole vectors, so the steps below run without a scalar tail; a
        // zero coordinate stays zero (its gradient is a difference of zeros) and adds nothing to a distance.
        int w = System.Numerics.Vector<float>.Count, dp = dim > w && dim % w != 0 ? (dim + w - 1) / w * w : dim;
        if (dp == dim) { OptimizeRows(emb, n, dim, dim, graph, nEpochs, a, b, o, seed); return; }
        var padded = new float[(long)n * dp];
        for (int i = 0; i < n; i++) emb.AsSpan(i * dim, dim).CopyTo(padded.AsSpan(i * dp, dim));
        OptimizeRows(padded, n, dp, dim, graph, nEpochs, a, b, o, seed);
        for (int i = 0; i < n; i++) padded.AsSpan(i * dp, dim).CopyTo(emb.AsSpan(i * dim, dim));
    }

    // The SGD on rows of `dim` floats of which the first `real` are coordinates (the rest zero padding).
    private static void OptimizeRows(float[] emb, int n, int dim, int real, WeightedGraph graph, int nEpochs, double a, double b, UmapOptions o, int seed)
    {
        // umap-learn prunes edges that would be sampled less than once over the run.
        double wMax = 0;
        foreach (var w in graph.Weights) wMax = Math.Max(wMax, w);
        var heads = new List<int>(); var tails = new List<int>(); var ws = new List<double>();
        for (int i = 0; i < n; i++)
            for (int p = graph.RowPtr[i]; p < graph.RowPtr[i + 1]; p++)
            {
                double w = graph.Weights[p];
                if (w < wMax / nEpochs) continue;
                heads.Add(i); tails.Add(graph.ColIdx[p]); ws.Add(w);
            }
        int ne = heads.Count;
        if (ne == 0) return;
        double wMax2 = ws.Max();
        var eps = new double[ne];
        for (int e = 0; e < ne; e++)
        {
            double ns = nEpochs * (ws[e] / wMax2);
            eps[e] = ns > 0 ? nEpochs / ns : -1;
        }
        var head = heads.ToArray(); var tail = tails.ToArray();
        var epsNeg = new double[ne]; var nextNeg = new double[ne]; var next = new double[ne];
        int negRate = o.NegativeSampleRate;
        for (int e = 0; e < ne; e++)
        {
            epsNeg[e] = negRate > 0 ? eps[e] / negRate : double.PositiveInfinity;
            nextNeg[e] = epsNeg[e];
            next[e] = eps[e];
        }

        // Blocks of consecutive head vertices with about equal numbers of edges (edges are sorted by head).
        int nb = Math.Min(SgdBlocks, n);
        var vStart = new int[nb + 1];
        vStart[nb] = n;
        for (int bk = 1, e = 0; bk < nb; bk++)
        {
            long want = (long)ne * bk / nb;
            while (e < ne && e < want) e++;
            // move to the first edge of the next head so a vertex's edges stay in one block
            while (e < ne && e > 0 && head[e] == head[e - 1]) e++;
            vStart[bk] = Math.Max(e < ne ? head[e] : n, vStart[bk - 1]);
        }
        var blockOf = new int[n];
        for (int bk = 0; bk < nb; bk++) for (int v = vStart[bk]; v < vStart[bk + 1]; v++) blockOf[v] = bk;
        // each block's first edge, from the vertex boundaries (so the two agree even where a boundary collapsed)
        var eStart = new int[nb + 1];
        eStart[nb] = ne;
        for (int bk = 1, e = 0; bk < nb; bk++) { while (e < ne && head[e] < vStart[bk]) e++; eStart[bk] = e; }

        var rngs = new TauRng[nb];
        for (int bk = 0; bk < nb; bk++) rngs[bk] = new TauRng(Seeding.Rng(seed, $"umap-tau-{bk}"));
        // Deferred moves of other blocks' vertices, bucketed by (source block, target block) so the target blocks can
        // apply them in parallel, each in source-block order.
        var moves = new DeferredMoves[nb * nb];
        for (int q = 0; q < moves.Length; q++) moves[q] = new DeferredMoves(dim);
        var start = (float[])emb.Clone();
        // As many workers as torch's intra-op threads (the library's one thread setting); the result does not depend on it.
        var po = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, torch.get_num_threads()) };

        double gamma = o.RepulsionStrength, alpha0 = o.LearningRate, alpha = alpha0;
        // float32 arithmetic as umap-learn's float32 embedding; MathF.Pow is the hot spot.
        float fa2b = (float)(-2.0 * a * b), fA = (float)a, fB = (float)b, fRep = (float)(2.0 * gamma * b);
        for (int epoch = 0; epoch < nEpochs; epoch++)
        {
            float fa = (float)alpha;
            int ep = epoch;
            Parallel.For(0, nb, po, bk =>
            {
                var E = emb.AsSpan();
                var S = start.AsSpan();
                var rng = rngs[bk];
                int lo = vStart[bk], hi = vStart[bk + 1];
                for (int e = eStart[bk]; e < eStart[bk + 1]; e++)
                {
                    if (!(next[e] <= ep)) continue;
                    int j = head[e], k = tail[e];
                    var cur = E.Slice(j * dim, dim);
                    bool own = k >= lo && k < hi;
                    var oth = own ? E.Slice(k * dim, dim) : S.Slice(k * dim, dim);
                    float d2 = SqDist(cur, oth);
                    float gc = 0;
                    if (d2 > 0)
                    {
                        float pb = MathF.Pow(d2, fB);
                        gc = fa2b * (pb / d2) / (fA * pb + 1f);
                    }
                    if (own) AttractStep(cur, oth, gc, fa);
                    else AttractStep(cur, moves[bk * nb + blockOf[k]].Add(k, oth), gc, fa);
                    next[e] += eps[e];
                    int nNeg = negRate > 0 ? (int)((ep - nextNeg[e]) / epsNeg[e]) : 0;
                    for (int p = 0; p < nNeg; p++)
                    {
                        int kk = (int)(rng.Next() % (uint)n);
                        var neg = kk >= lo && kk < hi ? E.Slice(kk * dim, dim) : S.Slice(kk * dim, dim);
                        d2 = SqDist(cur, neg);
                        if (d2 > 0) gc = fRep / ((0.001f + d2) * (fA * MathF.Pow(d2, fB) + 1f));
                        else if (j == kk) continue;
                        else gc = 0;
                        if (gc > 0) RepelStep(cur, neg, gc, fa);
                        else for (int d = 0; d < real; d++) cur[d] += 4f * fa;
                    }
                    nextNeg[e] += nNeg * epsNeg[e]; // also when negative, exactly as umap-learn
                }
            });
            // The recorded tail moves, then the new epoch's starting positions (a block's start rows are overwritten only
            // after its own moves, which read them, are applied).
            Parallel.For(0, nb, po, tb =>
            {
                var E = emb.AsSpan();
                for (int sb = 0; sb < nb; sb++) moves[sb * nb + tb].ApplyAndClear(E, start);
                int from = vStart[tb] * dim, len = (vStart[tb + 1] - vStart[tb]) * dim;
                E.Slice(from, len).CopyTo(start.AsSpan(from, len));
            });
            alpha = alpha0 * (1.0 - (double)epoch / nEpochs);
        }
    }

    /// <summary>
    /// Moves of other blocks' vertices recorded during an epoch: for each, the vertex and a scratch copy of its position at
    /// the start of the epoch for the attractive step to move; the difference to the start is applied after the epoch.
    /// </summary>
    private sealed class DeferredMoves(int dim)
    {
        private int[] vertex = new int[16];
        private float[] moved = new float[16 * dim];
        private int count;

        public Span<float> Add(int v, ReadOnlySpan<float> start)
        {
            if (count == vertex.Length)
            {
                Array.Resize(ref vertex, count * 2);
                Array.Resize(ref moved, count * 2 * dim);
            }
            vertex[count] = v;
            var slot = moved.AsSpan(count * dim, dim);
            start.CopyTo(slot);
            count++;
            return slot;
        }

        /// <summary>Adds each recorded move to <paramref name="emb"/>; <paramref name="start"/> still holds the epoch's start.</summary>
        public void ApplyAndClear(Span<float> emb, ReadOnlySpan<float> start)
        {
            for (int q = 0; q < count; q++)
            {
                int at = vertex[q] * dim;
                var target = emb.Slice(at, dim);
                var m = moved.AsSpan(q * dim, dim);
                var s = start.Slice(at, dim);
                for (int d = 0; d < dim; d++) target[d] += m[d] - s[d];
            }
            count = 0;
        }
    }
}
