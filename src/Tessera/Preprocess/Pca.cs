using Tessera.Data;
using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Preprocess;

/// <summary>How <see cref="Pca"/> computes the decomposition.</summary>
public enum PcaSolver
{
    /// <summary>As sklearn: full when both dimensions are ≤ 500 or ≥ 80 % of the components are wanted (and spots × genes ≤ <see cref="Pca.FullSolverLimit"/>), randomized otherwise.</summary>
    Auto,
    /// <summary>Exact thin SVD of the dense centred matrix (torch.linalg.svd); memory spots × genes × 8 bytes.</summary>
    Full,
    /// <summary>Randomized SVD (Halko et al. 2011) with LU-normalised power iterations as sklearn; centring is implicit (sparse input stays sparse).</summary>
    Randomized,
}

/// <summary>Options of <see cref="Pca.Fit(CsrMatrix, PcaOptions)"/>.</summary>
public sealed record PcaOptions
{
    /// <summary>Number of components (scanpy's default 50; clamped to min(spots, genes) − 1 as scanpy does).</summary>
    public int Components { get; init; } = 50;
    /// <summary>Solver.</summary>
    public PcaSolver Solver { get; init; } = PcaSolver.Auto;
    /// <summary>Seed of the randomized solver's test matrix.</summary>
    public int Seed { get; init; }
    /// <summary>
    /// Power iterations of the randomized solver. sklearn uses 7 with 10 oversamples; on DLPFC 151673 (3639 × 3000 HVGs,
    /// 50 PCs, flat spectrum) that keeps only PCs 1–8 at |corr| &gt; 0.999 with the exact scores, while 10 iterations with
    /// 50 oversamples keep PCs 1–23 (and the 50-PC variance ratio within 1e-4) for about 2.3× the time.
    /// </summary>
    public int PowerIterations { get; init; } = 10;
    /// <summary>Extra random directions of the randomized solver (see <see cref="PowerIterations"/>).</summary>
    public int Oversamples { get; init; } = 50;
    /// <summary><see cref="Pca.RunOn"/>: restrict to var highly_variable when that column exists (scanpy's mask_var default).</summary>
    public bool UseHighlyVariable { get; init; } = true;
    /// <summary><see cref="Pca.RunOn"/>: standardise genes first (<see cref="Scale.Apply"/>); dense, so mind memory.</summary>
    public bool Scale { get; init; }
    /// <summary><see cref="Pca.RunOn"/>: clip value of the scaling (scanpy max_value; null = no clipping).</summary>
    public double? ScaleMaxValue { get; init; }
}

/// <summary>A fitted PCA: mean, components and explained variance (sklearn PCA attributes).</summary>
public sealed class PcaModel
{
    /// <summary>Per-gene mean removed before projection (sklearn mean_).</summary>
    public required double[] Means { get; init; }
    /// <summary>Principal axes, components × genes, sign-fixed like sklearn's svd_flip (largest |score| entry of each component positive).</summary>
    public required DenseMatrix Components { get; init; }
    /// <summary>Variance along each component: singular value² / (n − 1).</summary>
    public required double[] ExplainedVariance { get; init; }
    /// <summary>Explained variance divided by the total variance (sum of ddof=1 gene variances).</summary>
    public required double[] ExplainedVarianceRatio { get; init; }
    /// <summary>Singular values of the centred matrix.</summary>
    public required double[] SingularValues { get; init; }
    /// <summary>Scores of the fitted data, spots × components (U·S, as sklearn's fit_transform).</summary>
    public required DenseMatrix Scores { get; init; }
    /// <summary>Which solver ran.</summary>
    public required PcaSolver SolverUsed { get; init; }
    /// <summary>Number of components.</summary>
    public int ComponentCount => Components.Rows;

    /// <summary>Projects new data with the same genes: (x − mean) · componentsᵀ.</summary>
    public DenseMatrix Transform(CsrMatrix x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Cols != Means.Length) throw new TesseraException($"PCA was fitted on {Means.Length} genes but the data has {x.Cols}");
        return Project(Pca.SparseMul(x, Components, transposeB: true), x.Rows);
    }

    /// <summary>Projects dense data (e.g. scaled) with the same genes.</summary>
    public DenseMatrix Transform(ScaledMatrix x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Cols != Means.Length) throw new TesseraException($"PCA was fitted on {Means.Length} genes but the data has {x.Cols}");
        using var scope = NewDisposeScope();
        var xt = tensor(x.Data, [x.Rows, x.Cols]).to(float64);
        var ct = tensor(Components.Data, [Components.Rows, Components.Cols]);
        var p = xt.matmul(ct.t()).contiguous();
        return Project(p.data<double>().ToArray(), x.Rows);
    }

    private DenseMatrix Project(double[] xv, int rows)
    {
        int k = Components.Rows, g = Components.Cols;
        var shift = new double[k];
        for (int c = 0; c < k; c++) { double s = 0; for (int j = 0; j < g; j++) s += Means[j] * Components[c, j]; shift[c] = s; }
        for (int r = 0; r < rows; r++) for (int c = 0; c < k; c++) xv[(long)r * k + c] -= shift[c];
        return new DenseMatrix(rows, k, xv);
    }
}

/// <summary>
/// Principal component analysis of spots × genes (scanpy pp.pca / sklearn PCA with zero centring), via torch SVD.
/// </summary>
public static class Pca
{
    /// <summary>
    /// Above this many spots × genes the Auto solver is randomized. The exact thin SVD costs ~N·G·min(N, G): on
    /// 3639 × 3000 (1.1e7) it took 281 s on a heavily shared 2-core machine against 20 s for the randomized solver, so
    /// the exact path is kept for small inputs only.
    /// </summary>
    public const long FullSolverLimit = 2_000_000;

    /// <summary>Fits PCA on a sparse matrix (usually log-normalised HVGs). The full solver densifies; the randomized one never does.</summary>
    public static PcaModel Fit(CsrMatrix x, PcaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        options ??= new PcaOptions();
        var (mean, var) = GeneStats.MeanVar(x);
        return FitCore(x.Rows, x.Cols, mean, var, options,
            full: () => x.ToDenseArray(),
            mul: m => SparseMulTensor(x, m),
            tmul: p => SparseMulTensor(TransposeCache.GetValue(x, xx => xx.Transpose()), p));
    }

    /// <summary>Fits PCA on a dense (e.g. scaled) matrix.</summary>
    public static PcaModel Fit(ScaledMatrix x, PcaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        options ??= new PcaOptions();
        int n = x.Rows, g = x.Cols;
        var mean = new double[g]; var ss = new double[g];
        for (int r = 0; r < n; r++) for (int j = 0; j < g; j++) mean[j] += x.Data[(long)r * g + j];
        for (int j = 0; j < g; j++) mean[j] /= n;
        for (int r = 0; r < n; r++) for (int j = 0; j < g; j++) { double d = x.Data[(long)r * g + j] - mean[j]; ss[j] += d * d; }
        var var = ss.Select(s => s / (n - 1)).ToArray();
        // The products of the randomized solver run on the float32 data as stored (no float64 copy; sklearn given float32
        // data does the same), with float32 inputs and results widened to float64 for the LU/QR/SVD. The tensor is made on
        // first use and kept out of the solver's per-iteration dispose scopes.
        Tensor? x32 = null;
        Tensor X32() => x32 ??= tensor(x.Data, [n, g]).DetachFromDisposeScope();
        try
        {
            return FitCore(n, g, mean, var, options,
                full: () => x.Data,
                mul: m => X32().mm(m.to(float32)).to(float64),
                tmul: p => X32().t().mm(p.to(float32)).to(float64));
        }
        finally { x32?.Dispose(); }
    }

    /// <summary>
    /// scanpy pp.pca on <paramref name="data"/>: X (log-normalised), restricted to var highly_variable when present and
    /// <see cref="PcaOptions.UseHighlyVariable"/>, optionally scaled. Writes obsm["X_pca"] and uns["pca"] =
    /// {variance, variance_ratio} into <paramref name="data"/> (in place) and returns the model.
    /// </summary>
    public static PcaModel RunOn(SpatialData data, PcaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new PcaOptions();
        var x = data.X;
        if (options.UseHighlyVariable && data.Var.Contains("highly_variable"))
        {
            var mask = data.Var.Get<BoolColumn>("highly_variable").Values;
            var cols = Enumerable.Range(0, mask.Length).Where(i => mask[i]).ToArray();
            if (cols.Length == 0) throw new TesseraException("var 'highly_variable' selects no genes");
            x = x.Subset(null, cols);
        }
        var model = options.Scale ? Fit(Preprocess.Scale.Apply(x, options.ScaleMaxValue), options) : Fit(x, options);
        data.SetObsm("X_pca", model.Scores);
        data.Uns["pca"] = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["variance"] = (double[])model.ExplainedVariance.Clone(),
            ["variance_ratio"] = (double[])model.ExplainedVarianceRatio.Clone(),
        };
        return model;
    }

    private static PcaModel FitCore(int n, int g, double[] mean, double[] var, PcaOptions o,
        Func<float[]> full, Func<Tensor, Tensor> mul, Func<Tensor, Tensor> tmul)
    {
        if (n < 2 || g < 1) throw new TesseraException($"PCA needs at least 2 spots and 1 gene, the data has {n} spots and {g} genes");
        if (o.Components < 1) throw new TesseraException($"the number of principal components must be positive, got {o.Components}");
        if (o.PowerIterations < 0 || o.Oversamples < 0) throw new TesseraException("PCA power iterations and oversamples must not be negative");
        int k = Math.Min(o.Components, Math.Min(n, g) - (Math.Min(n, g) > 1 ? 1 : 0));
        // sklearn's "auto" policy: exact SVD only for small inputs or when most components are wanted; a full SVD of
        // a 3639 x 3000 DLPFC matrix costs minutes on 2 cores while 7 randomized power iterations take about a second.
        var solver = o.Solver != PcaSolver.Auto ? o.Solver
            : (long)n * g <= FullSolverLimit && (Math.Max(n, g) <= 500 || k >= 0.8 * Math.Min(n, g)) ? PcaSolver.Full : PcaSolver.Randomized;
        double totalVar = var.Sum();
        using var scope = NewDisposeScope();
        var mu = tensor(mean, [1, g]);
        Tensor u, s, vt;
        if (solver == PcaSolver.Full)
        {
            var xd = tensor(full(), [n, g]).to(float64) - mu;
            (u, s, vt) = linalg.svd(xd, fullMatrices: false);
            u = u[.., ..k]; s = s[..k]; vt = vt[..k, ..];
        }
        else
        {
            (u, s, vt) = Randomized(n, g, k, mean, o, mul, tmul);
        }
        // sklearn svd_flip (u-based): make the largest-|u| entry of each component positive
        var maxIdx = u.abs().argmax(0);
        var signs = u.gather(0, maxIdx.unsqueeze(0)).sign();
        signs = where(signs.eq(0), ones_like(signs), signs);
        u = u * signs; vt = vt * signs.t();
        var sv = s.contiguous().data<double>().ToArray();
        var comps = vt.contiguous().data<double>().ToArray();
        var scores = (u * s.unsqueeze(0)).contiguous().data<double>().ToArray();
        var ev = sv.Select(v => v * v / (n - 1)).ToArray();
        return new PcaModel
        {
            Means = mean, Components = new DenseMatrix(k, g, comps), SingularValues = sv, ExplainedVariance = ev,
            ExplainedVarianceRatio = ev.Select(v => totalVar > 0 ? v / totalVar : double.NaN).ToArray(),
            Scores = new DenseMatrix(n, k, scores), SolverUsed = solver,
        };
    }

    /// <summary>
    /// Randomized SVD (Halko, Martinsson &amp; Tropp 2011, Alg. 4.4 with QR re-orthonormalisation as sklearn's
    /// randomized_svd, LU-normalised power iterations) of the implicitly centred matrix: the products go through
    /// <paramref name="mul"/> / <paramref name="tmul"/>, the LU, QR and small SVD through LAPACK (torch.linalg).
    /// Deterministic for a given seed and thread count (the test sample is drawn in managed code from the seed).
    /// Returns U (n × k), S (k), Vt (k × g).
    /// </summary>
    private static (Tensor U, Tensor S, Tensor Vt) Randomized(int n, int g, int k, double[] mean, PcaOptions o,
        Func<Tensor, Tensor> mul, Func<Tensor, Tensor> tmul)
    {
        int l = Math.Min(k + o.Oversamples, Math.Min(n, g));
        var rng = Seeding.Rng(o.Seed, "pca-randomized");
        var omega = new double[(long)g * l];
        for (long i = 0; i < omega.Length; i += 2)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double rad = Math.Sqrt(-2 * Math.Log(u1));
            omega[i] = rad * Math.Cos(2 * Math.PI * u2);
            if (i + 1 < omega.Length) omega[i + 1] = rad * Math.Sin(2 * Math.PI * u2);
        }
        var mu = tensor(mean, [1, g]);
        // (X − 1μᵀ) M = X M − 1 (μᵀ M);  (X − 1μᵀ)ᵀ P = Xᵀ P − μ (1ᵀ P)
        Tensor CMul(Tensor m) => mul(m).sub_(mu.mm(m));
        Tensor CTMul(Tensor p) => tmul(p).sub_(mu.t().mm(p.sum(0, keepdim: true)));
        // sklearn's randomized_range_finder (power iterations normalised by LU, P·L of A = P L U; one orthonormal basis at
        // the end; then B = Qᵀ Xc and its SVD), except that the n × l side is normalised by Cholesky QR (Q = Z R⁻¹ with
        // R = chol(ZᵀZ): one l × l Gram product and a triangular solve, cheaper than LAPACK's LU or QR of a tall n × l
        // matrix). It spans the same subspace, which is all a range finder keeps; where Z is ill-conditioned or
        // rank-deficient (CholQr returns null) the LU / Householder QR path is used.
        var q = tensor(omega, [g, l]);
        for (int it = 0; it < o.PowerIterations; it++)
        {
            using var itScope = NewDisposeScope();
            var z = CMul(q);
            z = CholQr(z, twice: false) ?? LuNormalise(z);
            q = LuNormalise(CTMul(z)).MoveToOuterDisposeScope();
        }
        var y = CMul(q);
        q = CholQr(y, twice: true) ?? linalg.qr(y).Q;
        // B = Qᵀ Xc through Bᵀ = Qb R: B = Rᵀ Qbᵀ = Us Σ (Vh Qbᵀ) with the l × l SVD Rᵀ = Us Σ Vh (LAPACK's SVD of the wide
        // l × g B directly was the slowest step of the whole fit)
        var (qb, rb) = linalg.qr(CTMul(q));
        var (ub, sig, vh) = linalg.svd(rb.t(), fullMatrices: false);
        return (q.mm(ub[.., ..k]), sig[..k], vh[..k, ..].mm(qb.t()));
    }

    /// <summary>
    /// Cholesky QR of a tall float64 <paramref name="a"/>: A R⁻¹ with R the upper Cholesky factor of AᵀA (twice: CholQR2,
    /// orthonormal to rounding); null when AᵀA is not positive definite or A's condition (by the Cholesky diagonal) exceeds
    /// about 1e5, where the caller's LU / Householder path is used instead.
    /// </summary>
    private static Tensor? CholQr(Tensor a, bool twice)
    {
        for (int pass = 0; pass < (twice ? 2 : 1); pass++)
        {
            var (lower, info) = linalg.cholesky_ex(a.t().mm(a));
            if (info.item<int>() != 0) return null;
            // the orthogonality error of Cholesky QR grows like cond(A)² × rounding: give way to LU / QR above cond(A) ≈ 1e5
            var diag = lower.diagonal();
            double lo = diag.min().item<double>(), hi = diag.max().item<double>();
            if (!(lo > 1e-5 * hi)) return null;
            a = linalg.solve_triangular(lower.t(), a, upper: true, left: false);
        }
        return a;
    }

    /// <summary>P·L of the partially pivoted A = P L U (scipy.linalg.lu(A, permute_l=True)): a well-conditioned basis of A's columns.</summary>
    private static Tensor LuNormalise(Tensor a)
    {
        long m = a.shape[0], l = a.shape[1];
        // with infos, so that a rank-deficient A (a constant gene: a zero pivot in U, harmless here) does not throw
        var (lu, pivots, _) = torch.lu(a, get_infos: true);
        var lower = lu.tril(-1).add_(eye(m, l, float64));
        // LAPACK's pivots are row swaps applied in order: row r of L U is row perm[r] of A
        var piv = pivots!.to(int64).data<long>().ToArray();
        var perm = new long[m];
        for (long r = 0; r < m; r++) perm[r] = r;
        for (int i = 0; i < piv.Length; i++) (perm[i], perm[piv[i] - 1]) = (perm[piv[i] - 1], perm[i]);
        return zeros_like(lower).index_copy_(0, tensor(perm), lower);
    }

    /// <summary>y += a·x with SIMD (fixed evaluation order, so results are reproducible).</summary>
    private static void Axpy(double a, ReadOnlySpan<double> x, Span<double> y)
    {
        int c = 0, w = System.Numerics.Vector<double>.Count;
        var va = new System.Numerics.Vector<double>(a);
        for (; c <= x.Length - w; c += w)
            (new System.Numerics.Vector<double>(y[c..]) + va * new System.Numerics.Vector<double>(x[c..])).CopyTo(y[c..]);
        for (; c < x.Length; c++) y[c] += a * x[c];
    }

    /// <summary>x · b (b: g × k tensor) or x · bᵀ (b: k × g DenseMatrix) as a managed loop over stored values.</summary>
    internal static double[] SparseMul(CsrMatrix x, DenseMatrix b, bool transposeB)
    {
        int k = transposeB ? b.Rows : b.Cols;
        var bt = transposeB ? Transpose(b) : b.Data;
        return SparseMulArray(x, bt, k);
    }

    private static double[] Transpose(DenseMatrix b)
    {
        var t = new double[b.Data.Length];
        for (int r = 0; r < b.Rows; r++) for (int c = 0; c < b.Cols; c++) t[(long)c * b.Rows + r] = b.Data[(long)r * b.Cols + c];
        return t;
    }

    private static double[] SparseMulArray(CsrMatrix x, double[] m, int k)
    {
        var y = new double[(long)x.Rows * k];
        Parallel.For(0, x.Rows, r =>
        {
            var yr = y.AsSpan((int)((long)r * k), k);
            for (int p = x.IndPtr[r]; p < x.IndPtr[r + 1]; p++)
                Axpy(x.Data[p], m.AsSpan(x.Indices[p] * k, k), yr);
        });
        return y;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<CsrMatrix, CsrMatrix> TransposeCache = new();

    /// <summary>Sparse x · m for an m × l float64 tensor (the randomized solver's products).</summary>
    private static Tensor SparseMulTensor(CsrMatrix x, Tensor m)
    {
        int l = (int)m.shape[1];
        return tensor(SparseMulArray(x, m.contiguous().data<double>().ToArray(), l), [x.Rows, l]);
    }
}
