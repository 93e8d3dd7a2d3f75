using Tessera.Data;
using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Analysis;

/// <summary>A fitted multi-output ridge regression: standardised features, an intercept, one penalty per target.</summary>
public sealed class RidgeModel
{
    /// <summary>Feature means used for standardisation.</summary>
    public required double[] FeatureMean { get; init; }
    /// <summary>Feature standard deviations (1 for constant features).</summary>
    public required double[] FeatureScale { get; init; }
    /// <summary>Coefficients on standardised features, features × targets (row-major).</summary>
    public required DenseMatrix Coefficients { get; init; }
    /// <summary>Intercept per target (the training mean).</summary>
    public required double[] Intercept { get; init; }
    /// <summary>Penalty chosen per target.</summary>
    public required double[] Lambda { get; init; }

    /// <summary>Predictions for new rows (rows × targets).</summary>
    public DenseMatrix Predict(DenseMatrix x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Cols != FeatureMean.Length) throw new TesseraException($"ridge model expects {FeatureMean.Length} features but got {x.Cols}");
        return TorchGuard.Run(() =>
        {
            using var scope = NewDisposeScope();
            var xs = (tensor(x.Data, [x.Rows, x.Cols]) - tensor(FeatureMean)) / tensor(FeatureScale);
            var b = tensor(Coefficients.Data, [Coefficients.Rows, Coefficients.Cols]);
            var y = xs.mm(b) + tensor(Intercept);
            return new DenseMatrix(x.Rows, Intercept.Length, y.contiguous().data<double>().ToArray());
        });
    }
}

/// <summary>Ridge regression with the penalty chosen per target by generalised cross-validation (one SVD for all targets and penalties).</summary>
public static class Ridge
{
    /// <summary>The default penalty grid: 10^-2 … 10^6 (25 values), for standardised features.</summary>
    public static double[] DefaultLambdas { get; } = [.. Enumerable.Range(0, 25).Select(i => Math.Pow(10, -2 + i / 3.0))];

    /// <summary>
    /// Fits y ≈ intercept + standardise(x)·B with ‖B‖² penalised, choosing for each target the λ of <paramref name="lambdas"/>
    /// with the smallest GCV score n·RSS / (n − df − 1)², df = Σ s²/(s² + λ) (Golub, Heath and Wahba 1979).
    /// </summary>
    public static RidgeModel Fit(DenseMatrix x, DenseMatrix y, IReadOnlyList<double>? lambdas = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Rows != y.Rows) throw new TesseraException($"ridge: x has {x.Rows} rows but y has {y.Rows}");
        if (x.Rows < 3) throw new TesseraException($"ridge needs at least 3 training rows, got {x.Rows}");
        foreach (var v in x.Data) if (!double.IsFinite(v)) throw new TesseraException("ridge: features contain NaN or infinity");
        foreach (var v in y.Data) if (!double.IsFinite(v)) throw new TesseraException("ridge: targets contain NaN or infinity");
        var grid = (lambdas ?? DefaultLambdas).ToArray();
        if (grid.Length == 0 || grid.Any(l => !(l > 0))) throw new TesseraException("ridge: penalties must be positive");
        int n = x.Rows, p = x.Cols, q = y.Cols;
        return TorchGuard.Run(() =>
        {
            using var scope = NewDisposeScope();
            var X = tensor(x.Data, [n, p]);
            var mean = X.mean([0]);
            var sd = X.std(0, unbiased: false);
            sd = where(sd > 1e-12, sd, ones_like(sd));
            var Xs = (X - mean) / sd;
            var Y = tensor(y.Data, [n, q]);
            var ymean = Y.mean([0]);
            var Yc = Y - ymean;
            var (U, S, Vh) = linalg.svd(Xs, fullMatrices: false);
            var uty = U.t().mm(Yc);                         // r × q
            var uty2 = uty.pow(2);
            var yss = Yc.pow(2).sum(0L);                    // q
            var s2 = S.pow(2);
            var best = full([q], double.PositiveInfinity, dtype: ScalarType.Float64);
            var bestIdx = zeros([q], dtype: ScalarType.Int64);
            for (int li = 0; li < grid.Length; li++)
            {
                var d = s2 / (s2 + grid[li]);               // r
                var rss = yss - 2 * (d.unsqueeze(1) * uty2).sum(0L) + (d.pow(2).unsqueeze(1) * uty2).sum(0L);
                double df = d.sum().item<double>() + 1;     // + intercept
                var gcv = n * rss.clamp_min(0) / Math.Pow(Math.Max(n - df, 1e-9), 2);
                var better = gcv < best;
                best = where(better, gcv, best);
                bestIdx = where(better, full([q], (long)li, dtype: ScalarType.Int64), bestIdx);
            }
            var lam = tensor(grid).index_select(0, bestIdx);        // q
            var shrink = S.unsqueeze(1) / (s2.unsqueeze(1) + lam.unsqueeze(0)); // r × q
            var B = Vh.t().mm(shrink * uty);                         // p × q
            return new RidgeModel
            {
                FeatureMean = mean.data<double>().ToArray(), FeatureScale = sd.data<double>().ToArray(),
                Coefficients = new DenseMatrix(p, q, B.contiguous().data<double>().ToArray()),
                Intercept = ymean.data<double>().ToArray(), Lambda = lam.data<double>().ToArray(),
            };
        });
    }
}
