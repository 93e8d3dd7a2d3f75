using TorchSharp;
using TorchSharp.Modules;
using Tessera.Nn;
using static TorchSharp.torch;

namespace Tessera.Methods.Spotscape;

/// <summary>
/// The Spotscape graph auto-encoder (authors' <c>GAE</c>, dropout 0 as in all their scripts): encoder per layer GCNConv →
/// BatchNorm1d → ReLU (so the embedding is non-negative); decoder mirrors it with Linear → BatchNorm1d → ReLU and a final
/// Linear to the genes. The first GCN layer multiplies the constant sparse expression through <see cref="CsrOperand"/>.
/// </summary>
public sealed class SpotscapeNet : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<GcnConv> convs = new();
    private readonly ModuleList<BatchNorm1d> bns = new();
    private readonly ModuleList<Linear> dec_lins = new();
    private readonly ModuleList<BatchNorm1d> dec_bns = new();

    /// <summary>Builds the network (weights drawn from torch's global generator: seed it first).</summary>
    public SpotscapeNet(int nGenes, int[] encoderDims, double bnMomentum) : base("SpotscapeNet")
    {
        long prev = nGenes;
        foreach (var d in encoderDims)
        {
            convs.Add(new GcnConv(prev, d));
            bns.Add(nn.BatchNorm1d(d, momentum: bnMomentum));
            prev = d;
        }
        for (int i = encoderDims.Length - 2; i >= 0; i--)
        {
            dec_lins.Add(nn.Linear(prev, encoderDims[i]));
            dec_bns.Add(nn.BatchNorm1d(encoderDims[i], momentum: bnMomentum));
            prev = encoderDims[i];
        }
        dec_lins.Add(nn.Linear(prev, nGenes));
        RegisterComponents();
    }

    /// <summary>Embeds spots from dense features x (N×G) and normalised sparse adjacency adj (N×N).</summary>
    public override Tensor forward(Tensor x, Tensor adj)
    {
        using var scope = NewDisposeScope();
        var h = convs[0].forward(x, adj);
        return Rest(h, adj).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Encoder on a sparse expression operand with an optional gene keep-mask (feature masking: x·diag(m)·Wᵀ computed as
    /// x·(W·diag(m))ᵀ, identical to zeroing the masked columns of x).
    /// </summary>
    public Tensor Encode(CsrOperand x, Tensor adj, Tensor? geneMask)
    {
        using var scope = NewDisposeScope();
        Tensor w = convs[0].Weight;
        if (geneMask is not null) w = w * geneMask.unsqueeze(0);
        var h = convs[0].Propagate(x.Matmul(w.t()), adj);
        return Rest(h, adj).MoveToOuterDisposeScope();
    }

    private Tensor Rest(Tensor h, Tensor adj)
    {
        h = nn.functional.relu(bns[0].forward(h));
        for (int i = 1; i < convs.Count; i++)
            h = nn.functional.relu(bns[i].forward(convs[i].forward(h, adj)));
        return h;
    }

    /// <summary>Decoder up to (and including) the last hidden layer: the input of the final gene Linear.</summary>
    public Tensor DecodeHidden(Tensor z)
    {
        using var scope = NewDisposeScope();
        var h = z;
        for (int i = 0; i < dec_bns.Count; i++) h = nn.functional.relu(dec_bns[i].forward(dec_lins[i].forward(h)));
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Full decoder: embedding → reconstructed expression (N×G, no output activation).</summary>
    public Tensor Decode(Tensor z)
    {
        using var scope = NewDisposeScope();
        return dec_lins[^1].forward(DecodeHidden(z)).MoveToOuterDisposeScope();
    }

    /// <summary>The encoder's BatchNorm layers (their running statistics define the eval-mode embedding).</summary>
    internal IReadOnlyList<BatchNorm1d> EncoderBatchNorms => bns.ToArray();

    /// <summary>Number of GCN layers (the receptive field in hops).</summary>
    public int Depth => convs.Count;

    /// <summary>Final decoder layer weight (G × hidden) and bias (G).</summary>
    public (Tensor Weight, Tensor Bias) OutputLayer => (dec_lins[^1].weight!, dec_lins[^1].bias!);
}
