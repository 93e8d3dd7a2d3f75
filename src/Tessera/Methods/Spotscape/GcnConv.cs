using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tessera.Methods.Spotscape;

/// <summary>
/// PyG-style GCNConv: out = Â (x Wᵀ) + b with Â a pre-normalised sparse adjacency (<see cref="GraphOps.GcnNorm(Tensor, long)"/>).
/// Parameter names match PyG (<c>lin.weight</c> [out, in], <c>bias</c> [out]); init as PyG: glorot weight, zero bias.
/// The input may be dense or sparse COO (sparse × dense matmul backpropagates into the weight).
/// </summary>
public sealed class GcnConv : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear lin;
    private readonly Parameter bias;

    /// <summary>Creates the layer.</summary>
    public GcnConv(long inChannels, long outChannels, string name = "GcnConv") : base(name)
    {
        lin = nn.Linear(inChannels, outChannels, hasBias: false);
        bias = new Parameter(zeros(outChannels));
        using (no_grad()) nn.init.xavier_uniform_(lin.weight!);
        RegisterComponents();
    }

    /// <summary>Input feature count.</summary>
    public long InChannels => lin.weight!.shape[1];

    /// <summary>Output feature count.</summary>
    public long OutChannels => lin.weight!.shape[0];

    /// <summary>The weight lin.weight [out, in].</summary>
    public Parameter Weight => lin.weight!;

    /// <summary>Aggregation half of the layer for pre-multiplied features xw = x·Wᵀ (N×out): adj·xw + bias.</summary>
    public Tensor Propagate(Tensor xw, Tensor adj) => adj.mm(xw) + bias;

    /// <summary>Applies the layer to features x (N×in, dense or sparse) with normalised adjacency adj (N×N sparse).</summary>
    public override Tensor forward(Tensor x, Tensor adj) => Forward(x, adj, null);

    /// <summary>
    /// As <see cref="forward"/>, with an optional per-input-column scale (e.g. a feature keep-mask): x·diag(s)·Wᵀ is computed
    /// as x·(W·diag(s))ᵀ so a sparse x stays untouched.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor adj, Tensor? inputColumnScale)
    {
        using var scope = NewDisposeScope();
        Tensor w = lin.weight!;
        if (inputColumnScale is not null) w = w * inputColumnScale.unsqueeze(0);
        var h = x.is_sparse ? x.mm(w.t()) : nn.functional.linear(x, w);
        var outp = adj.mm(h) + bias;
        return outp.MoveToOuterDisposeScope();
    }
}
