using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Spotscape;

/// <summary>Graph-contrastive augmentations (GRACE / PyG semantics). Pass a seeded generator for reproducibility.</summary>
public static class Augment
{
    /// <summary>
    /// PyG <c>dropout_edge</c>: keeps each column of a 2×E edge index independently with probability 1 − p
    /// (self-loops included; <see cref="GraphOps.GcnNorm(Tensor, long)"/> re-adds dropped self-loops).
    /// </summary>
    public static Tensor DropEdges(Tensor edgeIndex, double p, Generator? generator = null)
    {
        CheckRate(p, nameof(p));
        using var scope = NewDisposeScope();
        var keep = rand([edgeIndex.shape[1]], generator: generator).ge(p);
        var kept = edgeIndex.index_select(1, keep.nonzero().squeeze(1));
        return kept.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Column keep-mask for feature masking: each of the <paramref name="columns"/> entries is 0 with probability p,
    /// else 1 (float32). GRACE's <c>drop_feature</c> zeroes these columns for every row.
    /// </summary>
    public static Tensor ColumnKeepMask(long columns, double p, Generator? generator = null)
    {
        CheckRate(p, nameof(p));
        using var u = rand([columns], generator: generator);
        using var keep = u.ge(p);
        return keep.to_type(ScalarType.Float32);
    }

    /// <summary>Zeroes a random set of columns of a dense matrix (each with probability p); returns a new tensor.</summary>
    public static Tensor MaskColumns(Tensor x, double p, Generator? generator = null)
    {
        using var m = ColumnKeepMask(x.shape[1], p, generator);
        return x * m.unsqueeze(0);
    }

    private static void CheckRate(double p, string name)
    {
        if (!(p >= 0 && p < 1)) throw new TesseraException($"{name} must be in [0, 1) but is {p}");
    }
}
