using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Costa;

/// <summary>
/// Bi-tempered logistic loss (Amid et al. 2019), as in CoSTA's bi_tempered_loss_pytorch.py: tempered log with t1,
/// tempered softmax with t2 whose normaliser (t2 &gt; 1) comes from fixed-point iterations. The normaliser's gradient
/// is the escort distribution p^t2 / Σ p^t2 (the authors' custom autograd backward), obtained here by adding
/// Σ escort·(a − a.detach()) to the detached normaliser: same value, exact gradient.
/// </summary>
public static class BiTemperedLoss
{
    /// <summary>log_t(u) = (u^(1−t) − 1)/(1 − t); log when t = 1.</summary>
    public static Tensor LogT(Tensor u, double t) => t == 1.0 ? u.log() : (u.pow(1 - t) - 1) / (1 - t);

    /// <summary>exp_t(u) = relu(1 + (1 − t)u)^(1/(1 − t)); exp when t = 1.</summary>
    public static Tensor ExpT(Tensor u, double t) => t == 1.0 ? u.exp() : nn.functional.relu(1 + (1 - t) * u).pow(1 / (1 - t));

    /// <summary>Normaliser λ(a) of the tempered softmax (rows of a, last dim) by fixed-point iteration; no gradient.</summary>
    public static Tensor Normalizer(Tensor activations, double t, int iters = 5)
    {
        if (t <= 1.0) throw new ArgumentException($"the fixed-point normaliser needs t > 1 but t = {t}");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var mu = activations.amax([-1], keepdim: true);
        var a0 = activations - mu;
        var an = a0;
        for (int i = 0; i < iters; i++)
        {
            var z = ExpT(an, t).sum(-1, keepdim: true);
            an = a0 * z.pow(1 - t);
        }
        var zf = ExpT(an, t).sum(-1, keepdim: true);
        return (-LogT(1.0 / zf, t) + mu).MoveToOuterDisposeScope();
    }

    /// <summary>Tempered softmax with the normaliser's exact gradient.</summary>
    public static Tensor TemperedSoftmax(Tensor activations, double t, int iters = 5)
    {
        if (t == 1.0) return nn.functional.softmax(activations, -1);
        using var lam = Normalizer(activations, t, iters);
        using var pDet = ExpT(activations.detach() - lam, t);
        using var pt = pDet.pow(t);
        using var escort = pt / pt.sum(-1, keepdim: true);
        using var lamG = lam + (escort * (activations - activations.detach())).sum(-1, keepdim: true);
        return ExpT(activations - lamG, t);
    }

    /// <summary>Mean over the batch of the bi-tempered loss between logits and (soft) targets.</summary>
    public static Tensor Loss(Tensor logits, Tensor targets, double t1 = 0.8, double t2 = 1.2, int iters = 5)
    {
        using var probs = TemperedSoftmax(logits, t2, iters);
        using var l = targets * LogT(targets + 1e-10, t1) - targets * LogT(probs, t1)
            - targets.pow(2 - t1) / (2 - t1) + probs.pow(2 - t1) / (2 - t1);
        return l.sum(-1).mean();
    }
}
