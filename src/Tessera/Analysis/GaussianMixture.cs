using Tessera.Data;
using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Analysis;

/// <summary>Covariance structure of a <see cref="GaussianMixture"/> (sklearn covariance_type).</summary>
public enum CovarianceType
{
    /// <summary>Each component has its own general covariance (mclust VVV).</summary>
    Full,
    /// <summary>Each component has its own diagonal covariance (mclust VVI).</summary>
    Diag,
    /// <summary>All components share one general covariance (mclust EEE).</summary>
    Tied,
    /// <summary>Each component has its own single variance (mclust VII).</summary>
    Spherical,
}

/// <summary>How a <see cref="GaussianMixture"/> chooses its starting responsibilities.</summary>
public enum GaussianMixtureInit
{
    /// <summary>Hard responsibilities from one k-means run (sklearn init_params="kmeans").</summary>
    KMeans,
    /// <summary>Uniform random responsibilities, normalised per row (sklearn init_params="random").</summary>
    Random,
}

/// <summary>Options for <see cref="GaussianMixture"/> (names and defaults follow sklearn.mixture.GaussianMixture).</summary>
public sealed record GaussianMixtureOptions
{
    /// <summary>Number of mixture components.</summary>
    public int Components { get; init; } = 1;
    /// <summary>Covariance structure.</summary>
    public CovarianceType Covariance { get; init; } = CovarianceType.Full;
    /// <summary>Non-negative value added to covariance diagonals so they stay positive definite.</summary>
    public double RegCovar { get; init; } = 1e-6;
    /// <summary>Maximum EM iterations per initialisation.</summary>
    public int MaxIter { get; init; } = 100;
    /// <summary>EM stops when the lower bound (mean log-likelihood) changes by less than this.</summary>
    public double Tol { get; init; } = 1e-3;
    /// <summary>Number of initialisations; the one with the highest lower bound is kept.</summary>
    public int Restarts { get; init; } = 1;
    /// <summary>Initialisation of the responsibilities.</summary>
    public GaussianMixtureInit Init { get; init; } = GaussianMixtureInit.KMeans;
    /// <summary>Seed for the initialisation; same seed gives identical results.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// Gaussian mixture fitted by EM exactly as sklearn.mixture.GaussianMixture: parameters are kept as Cholesky factors of
/// the precisions, the E-step works in log space with log-sum-exp, and the lower bound is the mean log-likelihood.
/// The per-sample likelihood and the M-step sums run as torch float64 matmuls.
/// </summary>
public sealed class GaussianMixture
{
    private readonly GaussianMixtureOptions _o;

    /// <summary>Creates the estimator.</summary>
    public GaussianMixture(GaussianMixtureOptions options) => _o = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>Fits the mixture to a float32 row-major <paramref name="rows"/> × <paramref name="cols"/> array (computed in float64).</summary>
    public GaussianMixtureModel Fit(ReadOnlySpan<float> data, int rows, int cols) => FitCore(KMeansCore.FromFloat(data, rows, cols), null);

    /// <summary>Fits the mixture to the rows of <paramref name="x"/>.</summary>
    public GaussianMixtureModel Fit(DenseMatrix x) => FitCore(x, null);

    /// <summary>
    /// Fits starting from given N × K responsibilities (rows need not be normalised; sklearn's _initialize(X, resp)),
    /// a single run; used to reproduce another implementation's starting point exactly.
    /// </summary>
    public GaussianMixtureModel Fit(DenseMatrix x, DenseMatrix initialResponsibilities)
    {
        ArgumentNullException.ThrowIfNull(initialResponsibilities);
        return FitCore(x, initialResponsibilities);
    }

    private GaussianMixtureModel FitCore(DenseMatrix x, DenseMatrix? resp0)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = x.Rows, d = x.Cols, k = _o.Components;
        if (k < 1) throw new TesseraException($"GaussianMixture Components must be at least 1, got {k}");
        if (_o.Restarts < 1) throw new TesseraException($"GaussianMixture Restarts must be at least 1, got {_o.Restarts}");
        if (_o.MaxIter < 1) throw new TesseraException($"GaussianMixture MaxIter must be at least 1, got {_o.MaxIter}");
        if (!(_o.RegCovar >= 0)) throw new TesseraException($"GaussianMixture RegCovar must be non-negative, got {_o.RegCovar}");
        if (!(_o.Tol >= 0)) throw new TesseraException($"GaussianMixture Tol must be non-negative, got {_o.Tol}");
        if (d < 1) throw new TesseraException("GaussianMixture input x has no columns");
        if (n < 2) throw new TesseraException($"GaussianMixture needs at least 2 rows but x has {n}");
        if (n < k) throw new TesseraException($"GaussianMixture needs at least Components={k} rows but x has {n}");
        KMeansCore.CheckFinite(x, "x");
        if (resp0 != null)
        {
            if (resp0.Rows != n || resp0.Cols != k)
                throw new TesseraException($"initial responsibilities have shape ({resp0.Rows}, {resp0.Cols}) but ({n}, {k}) is needed");
            KMeansCore.CheckFinite(resp0, "initial responsibilities");
            foreach (var v in resp0.Data) if (v < 0) throw new TesseraException("initial responsibilities must be non-negative");
        }

        // Torch runs single-threaded here and the row blocks run on .NET workers instead (GmmMath.ForBlocks): the
        // blocks are thin (a few thousand rows × K·D), where torch's own pool mostly spins, worst on a busy machine.
        int threads = torch.get_num_threads();
        using var torchScope = TorchScope.Enter(1);
        using var scope = NewDisposeScope();
        var X = torch.tensor(x.Data, new long[] { n, d }, dtype: ScalarType.Float64);
        GmmManaged? best = null;
        double bestLb = double.NegativeInfinity;
        bool bestConverged = false; int bestIter = 0;
        int runs = resp0 == null ? _o.Restarts : 1;
        for (int run = 0; run < runs; run++)
        {
            using var runScope = NewDisposeScope();
            Tensor resp = resp0 != null
                ? torch.tensor(resp0.Data, new long[] { n, k }, dtype: ScalarType.Float64)
                : InitialResp(x, run);
            var p = GmmMath.EstimateFromResp(X, resp, _o.Covariance, _o.RegCovar, threads, BlockRows);
            double lb = double.NegativeInfinity;
            bool converged = false; int iter = 0;
            for (iter = 1; iter <= _o.MaxIter; iter++)
            {
                using var itScope = NewDisposeScope();
                double prev = lb;
                var (lpn, np) = GmmMath.EmStep(X, p, _o.RegCovar, threads, BlockRows);
                np.MoveToOuter();
                p = np;
                lb = lpn;
                if (Math.Abs(lb - prev) < _o.Tol) { converged = true; break; }
            }
            if (iter > _o.MaxIter) iter = _o.MaxIter;
            if (lb > bestLb || best == null)
            {
                best = p.ToManaged(); bestLb = lb; bestConverged = converged; bestIter = iter;
            }
        }
        return new GaussianMixtureModel(_o.Covariance, best!, bestLb, bestConverged, bestIter);
    }

    /// <summary>Rows per block of the E- and M-step (tests set it to check that the blocking does not change results).</summary>
    internal int BlockRows { get; init; } = GmmMath.DefaultBlockRows;

    private Tensor InitialResp(DenseMatrix x, int run)
    {
        int n = x.Rows, k = _o.Components;
        int seed = Seeding.Derive(_o.Seed, "gmm-init-" + run);
        var r = new double[(long)n * k];
        if (_o.Init == GaussianMixtureInit.KMeans)
        {
            var km = new KMeans(new KMeansOptions { Clusters = k, Restarts = 1, Seed = seed }).Fit(x);
            for (int i = 0; i < n; i++) r[(long)i * k + km.Labels[i]] = 1;
        }
        else
        {
            var rng = Seeding.Rng(seed, "gmm-random-resp");
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int c = 0; c < k; c++) { r[(long)i * k + c] = rng.NextDouble(); s += r[(long)i * k + c]; }
                for (int c = 0; c < k; c++) r[(long)i * k + c] /= s;
            }
        }
        return torch.tensor(r, new long[] { n, k }, dtype: ScalarType.Float64);
    }
}

/// <summary>A fitted Gaussian mixture.</summary>
public sealed class GaussianMixtureModel
{
    private readonly GmmManaged _p;

    /// <summary>Covariance structure.</summary>
    public CovarianceType Covariance { get; }
    /// <summary>Number of components.</summary>
    public int K => _p.K;
    /// <summary>Number of features.</summary>
    public int Dim => _p.D;
    /// <summary>Mixing weights, length K, summing to 1.</summary>
    public double[] Weights => (double[])_p.Weights.Clone();
    /// <summary>K × D component means.</summary>
    public DenseMatrix Means => new(_p.K, _p.D, (double[])_p.Means.Clone());
    /// <summary>
    /// Covariances flattened as sklearn's covariances_: Full K×D×D, Tied D×D, Diag K×D, Spherical K.
    /// </summary>
    public double[] Covariances => (double[])_p.Covariances.Clone();
    /// <summary>Mean log-likelihood (per sample) of the training data at the last E-step of the kept run.</summary>
    public double LowerBound { get; }
    /// <summary>Whether the kept run reached <see cref="GaussianMixtureOptions.Tol"/> within MaxIter.</summary>
    public bool Converged { get; }
    /// <summary>EM iterations run by the kept initialisation.</summary>
    public int NIter { get; }

    internal GaussianMixtureModel(CovarianceType cov, GmmManaged p, double lowerBound, bool converged, int nIter)
    {
        Covariance = cov; _p = p; LowerBound = lowerBound; Converged = converged; NIter = nIter;
    }

    /// <summary>Full D × D covariance of component <paramref name="component"/> (expanded for Diag/Spherical; shared for Tied).</summary>
    public DenseMatrix ComponentCovariance(int component)
    {
        if (component < 0 || component >= K) throw new TesseraException($"component {component} is out of range 0..{K - 1}");
        int d = Dim;
        var m = new DenseMatrix(d, d);
        switch (Covariance)
        {
            case CovarianceType.Full: Array.Copy(_p.Covariances, (long)component * d * d, m.Data, 0, d * d); break;
            case CovarianceType.Tied: Array.Copy(_p.Covariances, m.Data, d * d); break;
            case CovarianceType.Diag: for (int j = 0; j < d; j++) m[j, j] = _p.Covariances[component * d + j]; break;
            default: for (int j = 0; j < d; j++) m[j, j] = _p.Covariances[component]; break;
        }
        return m;
    }

    // log p(x) per row and the N × K log responsibilities, over row blocks as in the fit.
    private (double[] LogProbNorm, double[] LogResp) Score(DenseMatrix x)
        => OnRows(x, (X, p, threads) => GmmMath.EStep(X, p, threads, GmmMath.DefaultBlockRows));

    // Checks x and runs a per-block computation on it as the fit does (torch single-threaded, row blocks on .NET workers).
    private T OnRows<T>(DenseMatrix x, Func<Tensor, GmmParams, int, T> compute)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Cols != Dim) throw new TesseraException($"x has {x.Cols} columns but the model was fitted on {Dim}");
        KMeansCore.CheckFinite(x, "x");
        int threads = torch.get_num_threads();
        using var torchScope = TorchScope.Enter(1);
        using var scope = NewDisposeScope();
        var X = torch.tensor(x.Data, new long[] { x.Rows, x.Cols }, dtype: ScalarType.Float64);
        return compute(X, _p.ToTensors(), threads);
    }

    /// <summary>N × K posterior component probabilities.</summary>
    public DenseMatrix PredictProba(DenseMatrix x)
    {
        var lr = Score(x).LogResp;
        for (int i = 0; i < lr.Length; i++) lr[i] = Math.Exp(lr[i]);
        return new DenseMatrix(x.Rows, K, lr);
    }

    /// <summary>Most probable component per row of a float32 row-major array.</summary>
    public int[] Predict(ReadOnlySpan<float> data, int rows, int cols) => Predict(KMeansCore.FromFloat(data, rows, cols));

    /// <summary>
    /// Most probable component per row (the first of equals, as numpy's argmax): as sklearn's predict, the argmax of the
    /// weighted log-probabilities, without normalising them into responsibilities first.
    /// </summary>
    public int[] Predict(DenseMatrix x)
        => OnRows(x, (X, p, threads) => GmmMath.MostProbable(X, p, threads, GmmMath.DefaultBlockRows));

    /// <summary>Per-row log-likelihood log p(x) (sklearn score_samples).</summary>
    public double[] ScoreSamples(DenseMatrix x) => Score(x).LogProbNorm;

    /// <summary>Mean per-row log-likelihood (sklearn score).</summary>
    public double LogLikelihood(DenseMatrix x)
    {
        var s = ScoreSamples(x);
        double t = 0; foreach (var v in s) t += v;
        return t / s.Length;
    }

    /// <summary>Number of free parameters (sklearn _n_parameters).</summary>
    public int NParameters
    {
        get
        {
            int d = Dim, k = K;
            int cov = Covariance switch
            {
                CovarianceType.Full => k * d * (d + 1) / 2,
                CovarianceType.Diag => k * d,
                CovarianceType.Tied => d * (d + 1) / 2,
                _ => k,
            };
            return cov + d * k + k - 1;
        }
    }

    /// <summary>Bayesian information criterion −2·N·score + p·ln N (lower is better; sklearn bic).</summary>
    public double Bic(DenseMatrix x) => -2 * LogLikelihood(x) * x.Rows + NParameters * Math.Log(x.Rows);

    /// <summary>Akaike information criterion −2·N·score + 2p (lower is better; sklearn aic).</summary>
    public double Aic(DenseMatrix x) => -2 * LogLikelihood(x) * x.Rows + 2.0 * NParameters;
}

internal sealed class GmmManaged
{
    public int K, D;
    public CovarianceType Cov;
    public double[] Weights = Array.Empty<double>(), Means = Array.Empty<double>(), Covariances = Array.Empty<double>(), PrecChol = Array.Empty<double>();

    public GmmParams ToTensors()
    {
        long[] cs = Cov switch
        {
            CovarianceType.Full => new long[] { K, D, D },
            CovarianceType.Tied => new long[] { D, D },
            CovarianceType.Diag => new long[] { K, D },
            _ => new long[] { K },
        };
        return new GmmParams
        {
            K = K, D = D, Cov = Cov,
            Weights = torch.tensor(Weights, dtype: ScalarType.Float64),
            Means = torch.tensor(Means, new long[] { K, D }, dtype: ScalarType.Float64),
            Covariances = torch.tensor(Covariances, cs, dtype: ScalarType.Float64),
            PrecChol = torch.tensor(PrecChol, cs, dtype: ScalarType.Float64),
        };
    }
}

internal sealed class GmmParams
{
    public int K, D;
    public CovarianceType Cov;
    public Tensor Weights = null!, Means = null!, Covariances = null!, PrecChol = null!;

    public void MoveToOuter()
    {
        Weights.MoveToOuterDisposeScope(); Means.MoveToOuterDisposeScope();
        Covariances.MoveToOuterDisposeScope(); PrecChol.MoveToOuterDisposeScope();
    }

    public GmmManaged ToManaged() => new()
    {
        K = K, D = D, Cov = Cov,
        Weights = Weights.data<double>().ToArray(), Means = Means.contiguous().data<double>().ToArray(),
        Covariances = Covariances.contiguous().data<double>().ToArray(), PrecChol = PrecChol.contiguous().data<double>().ToArray(),
    };

    private const string IllDefined = "Fitting the Gaussian mixture failed because some components have ill-defined empirical covariance " +
        "(for instance caused by singleton or collapsed samples); decrease K or increase RegCovar";

    /// <summary>sklearn _compute_precision_cholesky: Cholesky of each covariance, then the inverse transposed.</summary>
    public void ComputePrecisionCholesky()
    {
        var cov = Covariances.contiguous().data<double>().ToArray();
        var pc = new double[cov.Length];
        switch (Cov)
        {
            case CovarianceType.Full:
                for (int k = 0; k < K; k++) GmmMath.PrecisionCholesky(cov, pc, (long)k * D * D, D, IllDefined);
                break;
            case CovarianceType.Tied:
                GmmMath.PrecisionCholesky(cov, pc, 0, D, IllDefined);
                break;
            default:
                for (int i = 0; i < cov.Length; i++)
                {
                    if (!(cov[i] > 0)) throw new TesseraException(IllDefined);
                    pc[i] = 1.0 / Math.Sqrt(cov[i]);
                }
                break;
        }
        PrecChol = torch.tensor(pc, Covariances.shape, dtype: ScalarType.Float64);
    }
}

internal static class GmmMath
{
    public const int DefaultBlockRows = 2048;

    /// <summary>
    /// Runs <paramref name="body"/>(block, first row, rows) for fixed blocks of <paramref name="blockRows"/> rows on up to
    /// <paramref name="threads"/> workers. Every sum over rows is kept per block and added up in block order afterwards,
    /// so the results do not depend on the thread count or on which worker ran which block.
    /// </summary>
    public static void ForBlocks(long n, int threads, int blockRows, Action<int, long, long> body)
    {
        int blocks = (int)((n + blockRows - 1) / blockRows);
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, blk =>
        {
            using var scope = NewDisposeScope();
            long s = (long)blk * blockRows;
            body(blk, s, Math.Min(blockRows, n - s));
        });
    }

    /// <summary>Per-parameter tensors of the likelihood, computed once per E-step and shared read-only by the blocks.</summary>
    private sealed class Prepared
    {
        public Tensor A = null!, B = null!, Const = null!;
    }

    private static Prepared Prepare(GmmParams p)
    {
        long d = p.D; int k = p.K;
        Tensor logDet;
        var q = new Prepared();
        switch (p.Cov)
        {
            case CovarianceType.Full:
                // y = x·P_c − μ_c·P_c for all components at once: one (b × D)·(D × K·D) matmul per block
                q.A = p.PrecChol.permute(1, 0, 2).reshape(d, k * d);
                q.B = p.Means.unsqueeze(1).bmm(p.PrecChol).reshape(1, k * d);
                logDet = p.PrecChol.diagonal(0, 1, 2).log().sum(1);
                break;
            case CovarianceType.Tied:
                // y = x·P once, then ‖y − μ_c·P‖² per component: D·D + K·D work per row instead of K·D·D
                q.A = p.PrecChol;
                q.B = p.Means.mm(p.PrecChol);
                logDet = p.PrecChol.diagonal().log().sum().expand(k);
                break;
            case CovarianceType.Diag:
                {
                    var prec = p.PrecChol.square();
                    q.A = prec.t().contiguous();                                          // D × K
                    q.B = (p.Means * prec).t().mul(-2).contiguous();                      // D × K
                    logDet = p.PrecChol.log().sum(1) - 0.5 * (p.Means.square() * prec).sum(1);
                    break;
                }
            default:
                {
                    var prec = p.PrecChol.square();
                    q.A = prec.unsqueeze(0);                                              // 1 × K
                    q.B = p.Means.t().mul(prec.unsqueeze(0)).mul(-2).contiguous();        // D × K
                    logDet = d * p.PrecChol.log() - 0.5 * p.Means.square().sum(1) * prec;
                    break;
                }
        }
        // the row-independent part of log N + log w; for Diag/Spherical it also holds −½ μᵀΛμ of the expansion
        q.Const = (logDet + p.Weights.log() - 0.5 * d * Math.Log(2 * Math.PI)).unsqueeze(0);
        return q;
    }

    /// <summary>log N(x | μ_k, Σ_k) + log w_k for the rows of one block (sklearn _estimate_weighted_log_prob).</summary>
    private static Tensor BlockWeightedLogProb(Tensor xb, Prepared q, CovarianceType cov, int k)
    {
        long b = xb.shape[0], d = xb.shape[1];
        Tensor logProb;
        switch (cov)
        {
            case CovarianceType.Full:
                {
                    var y = xb.mm(q.A).sub_(q.B);
                    logProb = y.mul_(y).view(b, k, d).sum(2);
                    break;
                }
            case CovarianceType.Tied:
                {
                    var y = xb.mm(q.A).unsqueeze(1) - q.B.unsqueeze(0);                  // b × K × D
                    logProb = y.mul_(y).sum(2);
                    break;
                }
            case CovarianceType.Diag:
                logProb = xb.mm(q.B).add_(xb.square().mm(q.A));
                break;
            default:
                logProb = xb.mm(q.B).add_(xb.square().sum(1, keepdim: true).mul(q.A));
                break;
        }
        return logProb.mul_(-0.5).add_(q.Const);
    }

    /// <summary>E-step over all rows: log p(x) per row and the row-major N × K log responsibilities.</summary>
    public static (double[] LogProbNorm, double[] LogResp) EStep(Tensor X, GmmParams p, int threads, int blockRows)
    {
        long n = X.shape[0]; int k = p.K;
        var q = Prepare(p);
        var lpn = new double[n];
        var lr = new double[n * k];
        ForBlocks(n, threads, blockRows, (_, s, b) =>
        {
            var wlp = BlockWeightedLogProb(X.narrow(0, s, b), q, p.Cov, k);
            var norm = wlp.logsumexp(1);
            norm.data<double>().CopyTo(lpn.AsSpan((int)s, (int)b));
            wlp.sub_(norm.unsqueeze(1)).data<double>().CopyTo(lr.AsSpan((int)(s * k), (int)(b * k)));
        });
        return (lpn, lr);
    }

    /// <summary>argmax over components of log N(x | μ_k, Σ_k) + log w_k per row (sklearn predict).</summary>
    public static int[] MostProbable(Tensor X, GmmParams p, int threads, int blockRows)
    {
        long n = X.shape[0];
        var q = Prepare(p);
        var labels = new int[n];
        ForBlocks(n, threads, blockRows, (_, s, b) =>
        {
            var arg = BlockWeightedLogProb(X.narrow(0, s, b), q, p.Cov, p.K).argmax(1).to_type(ScalarType.Int32);
            arg.data<int>().CopyTo(labels.AsSpan((int)s, (int)b));
        });
        return labels;
    }

    // Per-block M-step sums: nk (K), respᵀX (K × D) and the second moments: Full Σ r (x − s_c)(x − s_c)ᵀ around the
    // shift s_c (K × D × D), Tied XᵀX (D × D), Diag/Spherical respᵀ(X²) (K × D).
    private sealed class Sums(int blocks)
    {
        public readonly double[] LogProbNorm = new double[blocks];
        public readonly double[][] Nk = new double[blocks][], RespX = new double[blocks][], Second = new double[blocks][];

        public static double[] Total(double[][] parts)
        {
            var t = new double[parts[0].Length];
            foreach (var part in parts) for (int i = 0; i < t.Length; i++) t[i] += part[i];
            return t;
        }
    }

    private static void Accumulate(Sums sums, int blk, Tensor xb, Tensor rb, CovarianceType cov, Tensor? shift)
    {
        sums.Nk[blk] = rb.sum(dim: 0).data<double>().ToArray();
        sums.RespX[blk] = rb.t().mm(xb).data<double>().ToArray();
        if (shift is null) return;
        Tensor second;
        switch (cov)
        {
            case CovarianceType.Full:
                {
                    var diff = xb.unsqueeze(0) - shift.unsqueeze(1);                          // K × b × D
                    second = (diff * rb.t().unsqueeze(2)).transpose(1, 2).bmm(diff);       // K × D × D
                    break;
                }
            case CovarianceType.Tied: second = xb.t().mm(xb); break;
            default: second = rb.t().mm(xb.square()); break;
        }
        sums.Second[blk] = second.contiguous().data<double>().ToArray();
    }

    /// <summary>sklearn _estimate_gaussian_parameters from given N × K responsibilities (the initialisation), then the precisions.</summary>
    public static GmmParams EstimateFromResp(Tensor X, Tensor resp, CovarianceType cov, double reg, int threads, int blockRows)
    {
        long n = X.shape[0];
        int k = (int)resp.shape[1], blocks = (int)((n + blockRows - 1) / blockRows);
        // first pass the means, so that the full covariances are summed around them (as sklearn's centred sum)
        var sums = new Sums(blocks);
        ForBlocks(n, threads, blockRows, (blk, s, b) => Accumulate(sums, blk, X.narrow(0, s, b), resp.narrow(0, s, b), cov, null));
        var nk = Sums.Total(sums.Nk);
        var rx = Sums.Total(sums.RespX);
        var means = torch.tensor(rx, new long[] { k, X.shape[1] }, dtype: ScalarType.Float64) / (torch.tensor(nk, dtype: ScalarType.Float64) + 10 * Eps).unsqueeze(1);
        ForBlocks(n, threads, blockRows, (blk, s, b) => Accumulate(sums, blk, X.narrow(0, s, b), resp.narrow(0, s, b), cov, means));
        return Finish(sums, k, (int)X.shape[1], cov, reg, means);
    }

    /// <summary>
    /// One EM iteration in one pass over the rows: the E-step of <paramref name="p"/> per block feeds that block's M-step
    /// sums at once (the full covariances are summed around p's means and corrected to the new means exactly:
    /// Σ r(x−μ)(x−μ)ᵀ = Σ r(x−s)(x−s)ᵀ − n_k(μ−s)(μ−s)ᵀ). Returns the mean log-likelihood under p and the new parameters.
    /// </summary>
    public static (double LowerBound, GmmParams Next) EmStep(Tensor X, GmmParams p, double reg, int threads, int blockRows)
    {
        long n = X.shape[0]; int k = p.K;
        var q = Prepare(p);
        var sums = new Sums((int)((n + blockRows - 1) / blockRows));
        ForBlocks(n, threads, blockRows, (blk, s, b) =>
        {
            var xb = X.narrow(0, s, b);
            var wlp = BlockWeightedLogProb(xb, q, p.Cov, k);
            var norm = wlp.logsumexp(1);
            sums.LogProbNorm[blk] = norm.sum().item<double>();
            Accumulate(sums, blk, xb, wlp.sub_(norm.unsqueeze(1)).exp_(), p.Cov, p.Means);
        });
        double total = 0;
        foreach (var v in sums.LogProbNorm) total += v;
        return (total / n, Finish(sums, k, p.D, p.Cov, reg, p.Means));
    }

    private static GmmParams Finish(Sums sums, int k, int d, CovarianceType cov, double reg, Tensor shift)
    {
        var nkRaw = torch.tensor(Sums.Total(sums.Nk), dtype: ScalarType.Float64);
        var nk = nkRaw + 10 * Eps;
        var respTX = torch.tensor(Sums.Total(sums.RespX), new long[] { k, d }, dtype: ScalarType.Float64);
        var means = respTX / nk.unsqueeze(1);
        var second = Sums.Total(sums.Second);
        var eye = torch.eye(d, dtype: ScalarType.Float64);
        Tensor covs;
        switch (cov)
        {
            case CovarianceType.Full:
                {
                    var delta = (means - shift).unsqueeze(2);                                   // K × D × 1
                    covs = torch.tensor(second, new long[] { k, d, d }, dtype: ScalarType.Float64)
                        - nkRaw.view(k, 1, 1) * delta.bmm(delta.transpose(1, 2));
                    covs = covs.div_(nk.view(k, 1, 1)).add_(eye.unsqueeze(0), alpha: reg);
                    break;
                }
            case CovarianceType.Tied:
                {
                    var avgX2 = torch.tensor(second, new long[] { d, d }, dtype: ScalarType.Float64);
                    var avgMeans2 = (nk.unsqueeze(0) * means.t()).mm(means);
                    covs = (avgX2 - avgMeans2) / nk.sum() + reg * eye;
                    break;
                }
            default:
                {
                    var avgX2 = torch.tensor(second, new long[] { k, d }, dtype: ScalarType.Float64) / nk.unsqueeze(1);
                    var avgMeans2 = means * means;
                    var avgXMeans = means * respTX / nk.unsqueeze(1);
                    covs = avgX2 - 2 * avgXMeans + avgMeans2 + reg;
                    if (cov == CovarianceType.Spherical) covs = covs.mean(new long[] { 1 });
                    break;
                }
        }
        var p = new GmmParams { K = k, D = d, Cov = cov, Weights = nk / nk.sum(), Means = means, Covariances = covs };
        p.ComputePrecisionCholesky();
        return p;
    }

    // numpy float64 eps: sklearn adds 10·eps to nk so empty components do not divide by zero.
    private const double Eps = 2.220446049250313e-16;

    /// <summary>Lower Cholesky L of the D × D block at <paramref name="off"/>, then inv(L)ᵀ written to <paramref name="outPc"/>.</summary>
    public static void PrecisionCholesky(double[] cov, double[] outPc, long off, int d, string err)
    {
        var L = new double[d * d];
        for (int j = 0; j < d; j++)
        {
            double s = cov[off + j * d + j];
            for (int m = 0; m < j; m++) s -= L[j * d + m] * L[j * d + m];
            if (!(s > 0)) throw new TesseraException(err);
            double ljj = Math.Sqrt(s);
            L[j * d + j] = ljj;
            for (int i = j + 1; i < d; i++)
            {
                double t = cov[off + i * d + j];
                for (int m = 0; m < j; m++) t -= L[i * d + m] * L[j * d + m];
                L[i * d + j] = t / ljj;
            }
        }
        // inv(L) by forward substitution, column by column; precision Cholesky = inv(L)ᵀ (upper triangular).
        var inv = new double[d * d];
        for (int c = 0; c < d; c++)
        {
            for (int i = c; i < d; i++)
            {
                double t = i == c ? 1.0 : 0.0;
                for (int m = c; m < i; m++) t -= L[i * d + m] * inv[m * d + c];
                inv[i * d + c] = t / L[i * d + i];
            }
        }
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) outPc[off + i * d + j] = inv[j * d + i];
    }

}
