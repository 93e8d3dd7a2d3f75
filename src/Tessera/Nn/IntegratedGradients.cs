using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Nn;

/// <summary>Integrated gradients (Sundararajan et al. 2017) of a scalar model output with respect to one input.</summary>
public static class IntegratedGradients
{
    /// <summary>
    /// Attribution of <paramref name="f"/> (maps a batch [B, ...] to one score per row, [B]) at input <paramref name="x"/>
    /// (shape [1, ...]) against <paramref name="baseline"/> (same shape; null = zeros): (x − x′) × the mean gradient at
    /// x′ + α(x − x′), α = 1/steps … 1 (right Riemann sum), evaluated <paramref name="chunk"/> path points per pass.
    /// The attributions sum to about f(x) − f(x′) (completeness), more closely with more steps.
    /// </summary>
    public static Tensor Compute(Func<Tensor, Tensor> f, Tensor x, Tensor? baseline = null, int steps = 32, int chunk = 8)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        if (steps < 1) throw new TesseraException($"integrated gradients need at least 1 step, got {steps}");
        if (x.shape[0] != 1) throw new TesseraException($"integrated gradients take one input (leading dimension 1), got {x.shape[0]}");
        using var scope = NewDisposeScope();
        var x0 = baseline ?? zeros_like(x);
        var diff = x - x0;
        var total = zeros_like(x);
        for (int s = 0; s < steps; s += chunk)
        {
            int m = Math.Min(chunk, steps - s);
            int first = s;
            TorchGuard.Run(() =>
            {
                using var inner = NewDisposeScope();
                var shape = new long[x.dim()]; shape[0] = m; for (int d = 1; d < shape.Length; d++) shape[d] = 1;
                var alphas = (arange(first + 1, first + m + 1, dtype: x.dtype) / steps).reshape(shape);
                var path = (x0 + alphas * diff).detach().requires_grad_(true);
                var grad = autograd.grad([f(path).sum()], [path])[0];
                total.add_(grad.sum(0L, keepdim: true));
            });
        }
        return (diff * total / steps).MoveToOuterDisposeScope();
    }
}
