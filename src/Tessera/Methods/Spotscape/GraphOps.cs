using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Spotscape;

/// <summary>Graph helpers for message passing on sparse adjacency (TorchSharp sparse tensors are COO).</summary>
public static class GraphOps
{
    /// <summary>
    /// Builds a 2×E int64 edge-index tensor (row 0 = source, row 1 = target, PyG layout) from edge arrays,
    /// validating them against <paramref name="n"/> nodes.
    /// </summary>
    public static Tensor EdgeIndex(int[] src, int[] dst, int n)
    {
        ValidateEdges(src, dst, n);
        var idx = new long[2 * src.Length];
        for (int e = 0; e < src.Length; e++) { idx[e] = src[e]; idx[src.Length + e] = dst[e]; }
        return tensor(idx, [2, src.Length], ScalarType.Int64);
    }

    /// <summary>The edge index with one self-loop per node appended (as the Spotscape authors add <c>sp.eye</c>).</summary>
    public static Tensor WithSelfLoops(Tensor edgeIndex, long n)
    {
        using var loops = arange(n, ScalarType.Int64);
        using var loops2 = stack([loops, loops]);
        return cat([edgeIndex, loops2], 1);
    }

    /// <summary>
    /// PyG <c>gcn_norm</c> with unit edge weights: adds the self-loops that are missing (fill 1, existing ones kept),
    /// then returns the sparse n×n matrix D^-1/2 (A+I) D^-1/2 oriented for aggregation at targets
    /// (entry [dst, src]; degree = in-degree at the target), so that <c>out = adj.mm(x)</c>.
    /// The COO tensor is not marked coalesced (TorchSharp exposes no coalesce); sparse × dense matmul does not need it.
    /// </summary>
    public static Tensor GcnNorm(int[] src, int[] dst, int n)
    {
        using var ei = EdgeIndex(src, dst, n);
        return GcnNorm(ei, n);
    }

    /// <summary>As <see cref="GcnNorm(int[], int[], int)"/> for a 2×E int64 edge-index tensor (may already hold self-loops).</summary>
    public static Tensor GcnNorm(Tensor edgeIndex, long n)
    {
        if (edgeIndex.dim() != 2 || edgeIndex.shape[0] != 2)
            throw new TesseraException($"edge index must have shape [2, E] but has shape [{string.Join(", ", edgeIndex.shape)}]");
        using var scope = NewDisposeScope();
        var row = edgeIndex[0];
        var col = edgeIndex[1];
        // add_remaining_self_loops: keep non-loop edges plus exactly one weight-1 loop per node (all weights are 1,
        // so a kept loop and a re-added loop are the same thing).
        var notLoop = row.ne(col);
        var loops = arange(n, ScalarType.Int64);
        row = cat([row.masked_select(notLoop), loops]);
        col = cat([col.masked_select(notLoop), loops]);
        var w = ones(row.shape[0], ScalarType.Float32);
        var deg = zeros(n, ScalarType.Float32).index_add_(0, col, w, 1);
        var dinv = deg.pow(-0.5);
        var norm = dinv.index_select(0, row) * w * dinv.index_select(0, col);
        var adj = sparse_coo_tensor(stack([col, row]), norm, [n, n]);
        return adj.MoveToOuterDisposeScope();
    }

    /// <summary>Throws a <see cref="TesseraException"/> unless src/dst have equal lengths and all indices lie in [0, n).</summary>
    public static void ValidateEdges(int[] src, int[] dst, int n)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(dst);
        if (src.Length != dst.Length)
            throw new TesseraException($"edge source has {src.Length} entries but edge target has {dst.Length}");
        for (int e = 0; e < src.Length; e++)
        {
            if ((uint)src[e] >= (uint)n) throw new TesseraException($"edge {e} has source {src[e]} outside [0, {n})");
            if ((uint)dst[e] >= (uint)n) throw new TesseraException($"edge {e} has target {dst[e]} outside [0, {n})");
        }
    }
}
