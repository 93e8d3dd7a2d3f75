using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Nn;

/// <summary>Integrated gradients (Sundararajan et al. 2017) of a scalar model output with respect to one input.</summary>
public static class IntegratedGradients
{
    /// <summary>
    /// Attributions of <paramref name="f"/> at each row of <paramref name="x"/> (shape [B, ...]) against
    /// <paramref name="baseline"/> (same shape; null = zeros): (x − x′) × the mean gradient at x′ + α(x − x′), α = 1/steps … 1
    /// (right Riemann sum). <paramref name="f"/> maps a batch of path points to one score per point; it receives
    /// <paramref name="chunk"/> consecutive points of every input per pass, input-major ([B·m, ...], rows i·m … i·m + m − 1 belong
    /// to input i). Each row's attributions sum to about f(x) − f(x′) (completeness), more closely with more steps.
    /// </summary>
    public static Tensor Compute(Func<Tensor, Tensor> f, Tensor x, Tensor? baseline = null, int steps = 32, int chunk = 8)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        if (steps < 1) throw new TesseraException($"integrated gradients need at least 1 step, got {steps}");
        if (chunk < 1) throw new TesseraException($"integrated gradients need at least 1 path point per pass, got {chunk}");
        if (x.dim() < 1 || x.shape[0] < 1) throw new TesseraException("integrated gradients need at least one input row");
        using var scope = NewDisposeScope();
        var x0 = baseline ?? zeros_like(x);
        var diff = x - x0;
        var total = zeros_like(x);
        long b = x.shape[0];
        var rest = x.shape.Skip(1).ToArray();
        for (int s = 0; s < steps; s += chunk)
        {
            int m = Math.Min(chunk, steps - s);
            int first = s;
            TorchGuard.Run(() =>
            {
                using var inner = NewDisposeScope();
                var shape = new long[x.dim() + 1]; shape[1] = m; for (int d = 0; d < shape.Length; d++) if (d != 1) shape[d] = 1;
                var alphas = (arange(first + 1, first + m + 1, dtype: x.dtype) / steps).reshape(shape);
                var path = (x0.unsqueeze(1) + alphas * diff.unsqueeze(1)).reshape([b * m, .. rest]).detach().requires_grad_(true);
                var grad = autograd.grad([f(path).sum()], [path])[0];
                total.add_(grad.reshape([b, m, .. rest]).sum(1));
            });
        }
        return (diff * total / steps).MoveToOuterDisposeScope();
    }
}
