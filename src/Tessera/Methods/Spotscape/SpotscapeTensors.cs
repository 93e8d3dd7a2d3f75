using TorchSharp;
using Tessera.Nn;
using static TorchSharp.torch;

namespace Tessera.Methods.Spotscape;

/// <summary>Torch views of a <see cref="SpotscapeInput"/>: sparse expression operand, graph with self-loops, slice ids.</summary>
internal sealed class SpotscapeTensors : IDisposable
{
    public CsrOperand X { get; }
    public Tensor EdgeIndexWithLoops { get; }
    public Tensor Slice { get; }

    public SpotscapeTensors(SpotscapeInput input)
    {
        int n = input.NSpots;
        X = input.Dense is { } d ? new CsrOperand(d, n, input.NGenes) : new CsrOperand(input.Sparse!);
        using var ei = GraphOps.EdgeIndex(input.EdgeSrc, input.EdgeDst, n);
        EdgeIndexWithLoops = GraphOps.WithSelfLoops(ei, n);
        Slice = tensor(input.SliceIds.Select(s => (long)s).ToArray());
    }

    public void Dispose()
    {
        EdgeIndexWithLoops.Dispose();
        Slice.Dispose();
    }
}
