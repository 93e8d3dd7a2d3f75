using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Spotscape;

/// <summary>Self-supervised losses shared by the graph methods. All return scalar tensors that support backward.</summary>
public static class Losses
{
    /// <summary>Row-wise cosine similarity matrix S = norm(a) norm(b)ᵀ (rows of a × rows of b).</summary>
    public static Tensor CosineSimilarity(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var s = nn.functional.normalize(a, 2, 1, 1e-12).mm(nn.functional.normalize(b, 2, 1, 1e-12).t());
        return s.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Spotscape's similarity telescope (relation consistency): MSE(S, Sᵀ), mean over all n² entries, where S is a square
    /// similarity matrix between two views (the authors' [MSE(S,Sᵀ)+MSE(Sᵀ,S)]/2 is the same number).
    /// </summary>
    public static Tensor SimilarityTelescope(Tensor s)
    {
        if (s.dim() != 2 || s.shape[0] != s.shape[1])
            throw new TesseraException($"similarity matrix must be square but has shape [{string.Join(", ", s.shape)}]");
        return nn.functional.mse_loss(s, s.t());
    }

    /// <summary>
    /// Similarity telescope on two view embeddings; when <paramref name="rows"/> (int64 indices) is given only that subset of
    /// spots enters S (|rows|×|rows| instead of N×N), which is the sampled path for large N.
    /// </summary>
    public static Tensor SimilarityTelescope(Tensor z1, Tensor z2, Tensor? rows = null)
    {
        using var scope = NewDisposeScope();
        var a = rows is null ? z1 : z1.index_select(0, rows);
        var b = rows is null ? z2 : z2.index_select(0, rows);
        var l = SimilarityTelescope(CosineSimilarity(a, b));
        return l.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The similarity telescope MSE(S, Sᵀ) of S = norm(z1)·norm(z2)ᵀ without forming S: with A = norm(z1), B = norm(z2),
    /// ‖S‖²_F = Σ(AᵀA ∘ BᵀB) and tr(S·S) = Σ(M ∘ Mᵀ) for M = BᵀA, so MSE = 2(‖S‖²_F − tr(S·S))/n². Cost O(n·d²) and memory
    /// O(d²) instead of O(n²·d) and O(n²): the single-slice path needs no N×N matrix at all. Same value as
    /// <see cref="SimilarityTelescope(Tensor)"/> up to rounding.
    /// </summary>
    public static Tensor SimilarityTelescopeGram(Tensor z1, Tensor z2)
    {
        if (z1.dim() != 2 || !z1.shape.SequenceEqual(z2.shape))
            throw new TesseraException($"view embeddings must have equal 2-d shapes but have [{string.Join(", ", z1.shape)}] and [{string.Join(", ", z2.shape)}]");
        using var scope = NewDisposeScope();
        var a = nn.functional.normalize(z1, 2, 1, 1e-12);
        var b = nn.functional.normalize(z2, 2, 1, 1e-12);
        var frob = (a.t().mm(a) * b.t().mm(b)).sum();
        var m = b.t().mm(a);
        var trace = (m * m.t()).sum();
        double n = z1.shape[0];
        var l = (frob - trace) * (2.0 / (n * n));
        return l.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Similarity-scale matching, paper's intent: for every ordered pair of distinct slices (a, b) and every spot i of slice a,
    /// the mean of the top-k similarities S[i, j] over spots j of slice a (j ≠ i) should equal the mean of the top-k over
    /// spots j of slice b; the loss sums, over ordered pairs, the MSE over slice a's spots. k is clipped to the block size.
    /// <paramref name="slice"/> holds one int64 slice index per row/column of the square S.
    /// </summary>
    public static Tensor SimilarityScaleMatching(Tensor s, Tensor slice, int topK)
    {
        CheckSquare(s, slice, topK);
        using var scope = NewDisposeScope();
        var ids = slice.unique().Item1.data<long>().ToArray();
        var members = ids.Select(id => slice.eq(id).nonzero().squeeze(1)).ToArray();
        Tensor total = zeros(1, ScalarType.Float32).squeeze(0);
        for (int a = 0; a < ids.Length; a++)
        {
            var rowsA = s.index_select(0, members[a]);
            // intra-slice block without the diagonal (the same spot in the other view is not a neighbour)
            var intra = rowsA.index_select(1, members[a]);
            long na = members[a].shape[0];
            if (na < 2) continue;
            var eye = torch.eye(na, dtype: ScalarType.Bool);
            intra = intra.masked_fill(eye, double.NegativeInfinity);
            var intraTop = intra.topk((int)Math.Min(topK, na - 1), 1).values.mean([1]);
            for (int b = 0; b < ids.Length; b++)
            {
                if (b == a) continue;
                var inter = rowsA.index_select(1, members[b]);
                if (inter.shape[1] == 0) continue;
                var interTop = inter.topk((int)Math.Min(topK, inter.shape[1]), 1).values.mean([1]);
                total = total + nn.functional.mse_loss(intraTop, interTop);
            }
        }
        return total.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Similarity-scale matching exactly as the Spotscape code computes it (<c>Spotscape.py</c>): for ordered slice pairs
    /// (i, j), inside = [(slice==i)[:,None] == (slice==i)[None,:]], outside = [(slice==i)[:,None] == (slice==j)[None,:]]
    /// (equality of boolean vectors, so rows outside slice i also count), masked entries are 0 (not −∞) and may enter the
    /// top-k, the diagonal is inside; loss = Σ_pairs MSE(mean top-k of S·inside, mean top-k of S·outside) over all rows.
    /// Builds n×n masks: small-n path.
    /// </summary>
    public static Tensor SimilarityScaleMatchingAuthors(Tensor s, Tensor slice, int topK)
    {
        CheckSquare(s, slice, topK);
        using var scope = NewDisposeScope();
        var ids = slice.unique().Item1.data<long>().ToArray();
        int k = (int)Math.Min(topK, s.shape[1]);
        Tensor total = zeros(1, ScalarType.Float32).squeeze(0);
        foreach (var i in ids)
            foreach (var j in ids)
            {
                if (i == j) continue;
                var bi = slice.eq(i);
                var bj = slice.eq(j);
                var inside = bi.unsqueeze(1).eq(bi.unsqueeze(0)).to_type(s.dtype);
                var outside = bi.unsqueeze(1).eq(bj.unsqueeze(0)).to_type(s.dtype);
                var inTop = (s * inside).topk(k, 1).values.mean([1]);
                var outTop = (s * outside).topk(k, 1).values.mean([1]);
                total = total + nn.functional.mse_loss(inTop, outTop);
            }
        return total.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// MSE(hidden·Wᵀ + b, X), mean over all N×G entries, without forming the N×G reconstruction: expands
    /// Σ(r − x)² = Σr² − 2Σr·x + Σx² with Σr² = ⟨HᵀH, WᵀW⟩ + 2 colsum(H)·(Wᵀb) + N‖b‖² and Σr·x = ⟨W, XᵀH⟩ + b·colsum(X),
    /// so the cost is one sparse Xᵀ·H plus h×h Gram matrices instead of an N×h×G decoder matmul. Algebraically identical to
    /// <c>mse_loss(linear(hidden, W, b), X)</c> (values and gradients), differing only by float rounding.
    /// </summary>
    public static Tensor LinearReconstructionMse(Tensor hidden, Tensor weight, Tensor bias, CsrOperand target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (hidden.shape[0] != target.Rows || weight.shape[0] != target.Cols || weight.shape[1] != hidden.shape[1])
            throw new TesseraException($"reconstruction shapes do not match: hidden [{string.Join(", ", hidden.shape)}], weight [{string.Join(", ", weight.shape)}], target [{target.Rows}, {target.Cols}]");
        using var scope = NewDisposeScope();
        long n = hidden.shape[0];
        var xth = target.TransposeMatmul(hidden);                       // G×h
        var sr2 = (hidden.t().mm(hidden) * weight.t().mm(weight)).sum()
                  + 2 * (hidden.sum(dim: 0) * bias.matmul(weight)).sum()
                  + n * bias.pow(2).sum();
        using var colX = tensor(target.ColumnSums.Select(v => (float)v).ToArray());
        var srx = (weight * xth).sum() + (bias * colX).sum();
        var mse = (sr2 - 2 * srx + target.SumSquares) / ((double)n * target.Cols);
        return mse.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Prototypical contrastive loss (ProtoNCE term): mean over spots of −log softmax_c(cos(z_i, c)/τ)[y_i] for
    /// centroids (K×d) and assignments y (int64, one per row of z).
    /// </summary>
    public static Tensor PrototypicalContrastive(Tensor z, Tensor centroids, Tensor assignments, double temperature)
    {
        if (!(temperature > 0)) throw new TesseraException($"temperature must be positive but is {temperature}");
        using var scope = NewDisposeScope();
        var logits = CosineSimilarity(z, centroids) / temperature;
        var l = nn.functional.cross_entropy(logits, assignments);
        return l.MoveToOuterDisposeScope();
    }

    private static void CheckSquare(Tensor s, Tensor slice, int topK)
    {
        if (s.dim() != 2 || s.shape[0] != s.shape[1])
            throw new TesseraException($"similarity matrix must be square but has shape [{string.Join(", ", s.shape)}]");
        if (slice.shape[0] != s.shape[0])
            throw new TesseraException($"similarity matrix has {s.shape[0]} rows but slice has {slice.shape[0]} entries");
        if (topK < 1) throw new TesseraException($"top-k must be at least 1 but is {topK}");
    }
}
