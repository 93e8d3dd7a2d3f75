using Tessera.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Analysis;

/// <summary>
/// UMAP of more rows than a figure needs: above <see cref="DefaultMaxFitted"/> rows (by default), UMAP is fitted on a seeded random
/// sample of that many rows and every other row is placed the way umap-learn's <c>transform</c> initialises new points:
/// at the membership-weighted mean of the positions of its <see cref="UmapOptions.Neighbors"/> nearest sampled rows
/// (weights exp(−d/σ) with σ from umap-learn's smooth-kNN search at local connectivity 0), without the refinement epochs.
/// At or below the limit it is plain <see cref="Umap"/>.
/// </summary>
/// <remarks>
/// Why: UMAP's cost and its figure's legibility both stop scaling long before 1M spots; the sample fixes the layout, and
/// the placement costs one blocked matrix product against the sample (no N × N matrix; memory is a block of
/// <c>2048 × sample</c> distances). Deterministic: the sample comes from <see cref="UmapOptions.Seed"/>, the blocks
/// are processed in order.
/// </remarks>
public static class SampledUmap
{
    /// <summary>
    /// 20,000 rows: UMAP of 20k rows takes under half a minute on 2 cores and a 1000-pixel figure shows no more structure
    /// with more; the placement of the others costs N × 20,000 distances (1M rows: 2.6 TFLOP, under a minute on 2 cores;
    /// a 50,000-row sample made it 2.5 times that).
    /// </summary>
    public const int DefaultMaxFitted = 20_000;

    /// <summary>UMAP coordinates of every row of <paramref name="x"/> (see the class remarks).</summary>
    /// <param name="x">Rows to embed (spots × embedding dimensions).</param>
    /// <param name="options">UMAP settings; the sample is drawn from its seed.</param>
    /// <param name="maxFitted">Most rows UMAP is fitted on.</param>
    /// <param name="progress">Receives a note on the sampling and the placement's progress.</param>
    /// <param name="fitted">Set to the sorted indices of the rows UMAP was fitted on (all rows at or below the limit).</param>
    public static DenseMatrix FitTransform(DenseMatrix x, UmapOptions options, out int[] fitted, int maxFitted = DefaultMaxFitted,
        IProgress<Progress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        if (maxFitted < options.Neighbors + 1)
            throw new TesseraException($"UMAP sample size must exceed the number of neighbours ({options.Neighbors}) but is {maxFitted}");
        int n = x.Rows;
        if (n <= maxFitted)
        {
            fitted = Enumerable.Range(0, n).ToArray();
            return new Umap(options).FitTransform(x);
        }
        var rng = Nn.Seeding.Rng(options.Seed, "umap-sample");
        var perm = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < maxFitted; i++) { int j = rng.Next(i, n); (perm[i], perm[j]) = (perm[j], perm[i]); }
        fitted = perm[..maxFitted];
        Array.Sort(fitted);
        progress.Note("UMAP", $"{n:N0} rows > {maxFitted:N0}: UMAP fitted on a seeded sample of {maxFitted:N0}; the other {n - maxFitted:N0} placed at the weighted mean of their {options.Neighbors} nearest sampled rows");
        var sample = x.SubsetRows(fitted);
        var fit = new Umap(options).FitTransform(sample);
        var result = new DenseMatrix(n, fit.Cols);
        var inSample = new bool[n];
        for (int s = 0; s < fitted.Length; s++)
        {
            inSample[fitted[s]] = true;
            for (int c = 0; c < fit.Cols; c++) result[fitted[s], c] = fit[s, c];
        }
        var rest = Enumerable.Range(0, n).Where(i => !inSample[i]).ToArray();
        Place(x, rest, sample, fit, options.Neighbors, options.Metric, result, progress);
        return result;
    }

    // Blocked exact kNN of the rows `rest` among the sample (one matrix product and a top-k per block), then the weighted mean.
    private static void Place(DenseMatrix x, int[] rest, DenseMatrix sample, DenseMatrix fit, int k, NeighborMetric metric,
        DenseMatrix result, IProgress<Progress>? progress)
    {
        const int Block = 2048;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var outer = torch.NewDisposeScope();
        var (referenceT, refSq) = Nn.TorchGuard.Run(() =>
        {
            var t = ToTensor(sample, metric);
            return (t.t().contiguous(), t.mul(t).sum(1).unsqueeze(0));
        });
        int blocks = (rest.Length + Block - 1) / Block;
        for (int b = 0; b < blocks; b++)
        {
            int start = b * Block, len = Math.Min(Block, rest.Length - start);
            // inside the guard: the tensor arithmetic below passes temporary Scalars to libtorch (see TorchGuard)
            var (dist, nb) = Nn.TorchGuard.Run(() =>
            {
                using var scope = torch.NewDisposeScope();
                var q = ToTensor(x.SubsetRows(rest.AsSpan(start, len).ToArray()), metric);
                // ‖r‖² − 2 q·r in one fused product; the row constant ‖q‖² does not change the ranking, so it is added to the k kept only
                var partial = torch.addmm(refSq, q, referenceT, beta: 1, alpha: -2);
                var (top, idx) = partial.topk(k, dim: 1, largest: false, sorted: true);
                var vals = top.add(q.mul(q).sum(1, keepdim: true)).clamp_min(0);
                // cosine: rows are unit vectors, so ‖u − v‖²/2 = 1 − cos
                var dd = (metric == NeighborMetric.Cosine ? vals.div(2) : vals.sqrt()).contiguous().data<float>().ToArray();
                return (dd, idx.to_type(ScalarType.Int32).contiguous().data<int>().ToArray());
            });
            var weights = Weights(new KnnResult(len, k, nb, dist, includesSelf: false));
            for (int r = 0; r < len; r++)
            {
                var w = weights.AsSpan(r * k, k);
                for (int c = 0; c < fit.Cols; c++)
                {
                    double s = 0;
                    for (int j = 0; j < k; j++) s += w[j] * fit[nb[r * k + j], c];
                    result[rest[start + r], c] = s;
                }
            }
            progress?.Report(new Progress("UMAP placement", b + 1, blocks, clock.Elapsed));
        }
    }

    private static Tensor ToTensor(DenseMatrix m, NeighborMetric metric)
    {
        var t = torch.tensor(m.ToFloatArray(), new long[] { m.Rows, m.Cols });
        return metric == NeighborMetric.Cosine ? t.div(t.norm(1, keepdim: true).clamp_min(1e-12)) : t;
    }

    /// <summary>
    /// umap-learn's transform weights (0.5: smooth_knn_dist at local connectivity 0, compute_membership_strengths with
    /// bipartite = True, init_graph_transform) for each row of a kNN against the fitted sample, row-major rows × k: σ by
    /// <see cref="Umap.SmoothKnnDist"/> (ρ = 0; as umap-learn the sum that fixes σ skips column 0 although column 0 is not
    /// the point itself here, and the floor is 1e-3 × the mean distance of the rows given), memberships exp(−d/σ) (1 at
    /// distance 0) normalised to sum 1; a row with a membership of exactly 1 takes that neighbour alone (the first by
    /// sample index), as init_graph_transform does. Internal for tests.
    /// </summary>
    internal static double[] Weights(KnnResult knn)
    {
        int n = knn.N, k = knn.K;
        var (sigmas, _) = Umap.SmoothKnnDist(knn, k, localConnectivity: 0);
        var w = new double[(long)n * k];
        for (int r = 0; r < n; r++)
        {
            var row = w.AsSpan(r * k, k);
            int exact = -1;
            double total = 0;
            for (int j = 0; j < k; j++)
            {
                float d = knn.Distance(r, j);
                double v = d <= 0 || sigmas[r] == 0 ? 1.0 : Math.Exp(-(d / sigmas[r]));
                if (v == 1.0 && (exact < 0 || knn.Index(r, j) < knn.Index(r, exact))) exact = j;
                total += row[j] = v;
            }
            if (exact >= 0) { row.Clear(); row[exact] = 1; }
            else for (int j = 0; j < k; j++) row[j] = total > 0 ? row[j] / total : 1.0 / k;
        }
        return w;
    }
}
