using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tessera.Methods.Stem;

/// <summary>
/// STEM's FeatureNet: Linear(G, 512) → LayerNorm → ReLU → Linear(512, 256) → LayerNorm → ReLU → Linear(256, 128).
/// The reference names its LayerNorms bn1/bn2; the names are kept so state dicts line up. Shared by SC and ST.
/// </summary>
public sealed class StemEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1, fc2, fc3;
    private readonly LayerNorm bn1, bn2;

    /// <summary>Creates the encoder (PyTorch default initialisation from torch's global generator).</summary>
    public StemEncoder(int genes, int hidden1 = 512, int hidden2 = 256, int embedding = 128) : base(nameof(StemEncoder))
    {
        fc1 = nn.Linear(genes, hidden1); bn1 = nn.LayerNorm(hidden1);
        fc2 = nn.Linear(hidden1, hidden2); bn2 = nn.LayerNorm(hidden2);
        fc3 = nn.Linear(hidden2, embedding);
        RegisterComponents();
    }

    /// <summary>
    /// PyTorch's default initialisation of every Linear (weights and biases U(−1/√fan_in, 1/√fan_in), i.e. kaiming_uniform with
    /// a = √5) and LayerNorm (ones, zeros), drawn from <paramref name="gen"/> for process-independent determinism.
    /// </summary>
    public void ResetParameters(torch.Generator gen)
    {
        using var _ = torch.no_grad();
        foreach (var fc in new[] { fc1, fc2, fc3 })
        {
            double bound = 1 / Math.Sqrt(fc.weight!.shape[1]);
            fc.weight.copy_(torch.rand(fc.weight.shape, generator: gen) * (2 * bound) - bound);
            fc.bias!.copy_(torch.rand(fc.bias.shape, generator: gen) * (2 * bound) - bound);
        }
        foreach (var ln in new[] { bn1, bn2 }) { ln.weight!.fill_(1); ln.bias!.fill_(0); }
    }

    /// <summary>Embeds rows of log-normalised expression.</summary>
    public override Tensor forward(Tensor x)
    {
        using var h1 = fc1.forward(x);
        using var n1 = bn1.forward(h1);
        using var a1 = nn.functional.relu(n1);
        using var h2 = fc2.forward(a1);
        using var n2 = bn2.forward(h2);
        using var a2 = nn.functional.relu(n2);
        return fc3.forward(a2);
    }
}
