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
                : InitialResp(x, X, run);
            var p = GmmMath.Estimate(X, resp, _o.Covariance, _o.RegCovar);
            p.Weights = p.Weights / p.Weights.sum();
            p.ComputePrecisionCholesky();
            double lb = double.NegativeInfinity;
            bool converged = false; int iter = 0;
            for (iter = 1; iter <= _o.MaxIter; iter++)
            {
                using var itScope = NewDisposeScope();
                double prev = lb;
                var (lpn, logResp) = GmmMath.EStep(X, p);
                var np = GmmMath.Estimate(X, logResp.exp(), _o.Covariance, _o.RegCovar);
                np.Weights = np.Weights / np.Weights.sum();
                np.ComputePrecisionCholesky();
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

    private Tensor InitialResp(DenseMatrix x, Tensor X, int run)
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

    private Tensor LogProbNorm(DenseMatrix x, out Tensor logResp)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Cols != Dim) throw new TesseraException($"x has {x.Cols} columns but the model was fitted on {Dim}");
        KMeansCore.CheckFinite(x, "x");
        var X = torch.tensor(x.Data, new long[] { x.Rows, x.Cols }, dtype: ScalarType.Float64);
        var wlp = GmmMath.WeightedLogProb(X, _p.ToTensors());
        var lpn = wlp.logsumexp(1);
        logResp = wlp - lpn.unsqueeze(1);
        return lpn;
    }

    /// <summary>N × K posterior component probabilities.</summary>
    public DenseMatrix PredictProba(DenseMatrix x)
    {
        using var scope = NewDisposeScope();
        LogProbNorm(x, out var lr);
        return new DenseMatrix(x.Rows, K, lr.exp().data<double>().ToArray());
    }

    /// <summary>Most probable component per row of a float32 row-major array.</summary>
    public int[] Predict(ReadOnlySpan<float> data, int rows, int cols) => Predict(KMeansCore.FromFloat(data, rows, cols));

    /// <summary>Most probable component per row.</summary>
    public int[] Predict(DenseMatrix x)
    {
        using var scope = NewDisposeScope();
        LogProbNorm(x, out var lr);
        return lr.argmax(1).data<long>().ToArray().Select(v => (int)v).ToArray();
    }

    /// <summary>Per-row log-likelihood log p(x) (sklearn score_samples).</summary>
    public double[] ScoreSamples(DenseMatrix x)
    {
        using var scope = NewDisposeScope();
        return LogProbNorm(x, out _).data<double>().ToArray();
    }

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
    /// <summary>sklearn _estimate_gaussian_parameters (weights unnormalised: nk).</summary>
    public static GmmParams Estimate(Tensor X, Tensor resp, CovarianceType cov, double reg)
    {
        long n = X.shape[0], d = X.shape[1];
        int k = (int)resp.shape[1];
        var nk = resp.sum(dim: 0) + 10 * Eps;
        var respTX = resp.t().mm(X);
        var means = respTX / nk.unsqueeze(1);
        Tensor covs;
        var eye = torch.eye(d, dtype: ScalarType.Float64);
        switch (cov)
        {
            case CovarianceType.Full:
                {
                    // Σ_i r_ic (x_i − μ_c)(x_i − μ_c)ᵀ as sklearn, over row blocks with one batched matmul per block
                    covs = torch.zeros(k, d, d, dtype: ScalarType.Float64);
                    long block = BlockRows(k, d);
                    for (long s = 0; s < n; s += block)
                    {
                        using var bs = NewDisposeScope();
                        long b = Math.Min(block, n - s);
                        var diff = X.narrow(0, s, b).unsqueeze(0) - means.unsqueeze(1);        // K × b × D, contiguous
                        var weighted = diff * resp.narrow(0, s, b).t().unsqueeze(2);
                        covs.add_(weighted.transpose(1, 2).bmm(diff));                         // K × D × D
                    }
                    covs.div_(nk.view(k, 1, 1)).add_(eye.unsqueeze(0), alpha: reg);
                    break;
                }
            case CovarianceType.Tied:
                {
                    var avgX2 = X.t().mm(X);
                    var avgMeans2 = (nk.unsqueeze(0) * means.t()).mm(means);
                    covs = (avgX2 - avgMeans2) / nk.sum() + reg * eye;
                    break;
                }
            default:
                {
                    var avgX2 = resp.t().mm(X * X) / nk.unsqueeze(1);
                    var avgMeans2 = means * means;
                    var avgXMeans = means * respTX / nk.unsqueeze(1);
                    covs = avgX2 - 2 * avgXMeans + avgMeans2 + reg;
                    if (cov == CovarianceType.Spherical) covs = covs.mean(new long[] { 1 });
                    break;
                }
        }
        return new GmmParams { K = k, D = (int)d, Cov = cov, Weights = nk, Means = means, Covariances = covs };
    }

    /// <summary>Rows per block so that a b × K × D temporary stays near 8 MB.</summary>
    private static long BlockRows(long k, long d) => Math.Max(256, (1L << 20) / (k * d));

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

    /// <summary>log N(x | μ_k, Σ_k) + log w_k for every row and component (sklearn _estimate_weighted_log_prob).</summary>
    public static Tensor WeightedLogProb(Tensor X, GmmParams p)
    {
        long n = X.shape[0], d = X.shape[1];
        int k = p.K;
        Tensor logProb, logDet;
        switch (p.Cov)
        {
            case CovarianceType.Full:
            case CovarianceType.Tied:
                {
                    // y = x·P_c − μ_c·P_c for all components at once: one (b × D)·(D × K·D) matmul per row block
                    var pcs = p.Cov == CovarianceType.Full ? p.PrecChol : p.PrecChol.unsqueeze(0).expand(k, d, d);
                    var pcat = pcs.permute(1, 0, 2).reshape(d, k * d);
                    var mup = p.Means.unsqueeze(1).bmm(pcs).reshape(1, k * d);
                    logProb = torch.empty(n, k, dtype: ScalarType.Float64);
                    long block = BlockRows(k, d);
                    for (long s = 0; s < n; s += block)
                    {
                        using var bs = NewDisposeScope();
                        long b = Math.Min(block, n - s);
                        var y = X.narrow(0, s, b).mm(pcat).sub_(mup);
                        logProb.narrow(0, s, b).copy_(y.mul_(y).view(b, k, d).sum(2));
                    }
                    var diag = p.Cov == CovarianceType.Full ? p.PrecChol.diagonal(0, 1, 2) : p.PrecChol.diagonal().unsqueeze(0);
                    logDet = diag.log().sum(1);
                    if (p.Cov == CovarianceType.Tied) logDet = logDet.expand(k);
                    break;
                }
            case CovarianceType.Diag:
                {
                    var prec = p.PrecChol.square();
                    logProb = (p.Means.square() * prec).sum(1).unsqueeze(0) - 2 * X.mm((p.Means * prec).t()) + (X * X).mm(prec.t());
                    logDet = p.PrecChol.log().sum(1);
                    break;
                }
            default:
                {
                    var prec = p.PrecChol.square();
                    logProb = (p.Means.square().sum(1) * prec).unsqueeze(0) - 2 * X.mm(p.Means.t()) * prec.unsqueeze(0)
                        + X.square().sum(1).unsqueeze(1) * prec.unsqueeze(0);
                    logDet = d * p.PrecChol.log();
                    break;
                }
        }
        return -0.5 * (d * Math.Log(2 * Math.PI) + logProb) + logDet.unsqueeze(0) + p.Weights.log().unsqueeze(0);
    }

    /// <summary>E-step: mean log-likelihood and log responsibilities.</summary>
    public static (double meanLogProbNorm, Tensor logResp) EStep(Tensor X, GmmParams p)
    {
        var wlp = WeightedLogProb(X, p);
        var lpn = wlp.logsumexp(1);
        return (lpn.mean().item<double>(), wlp - lpn.unsqueeze(1));
    }
}
