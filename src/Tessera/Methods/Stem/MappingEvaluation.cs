using Tessera.Analysis;
using Tessera.Data;
using Tessera.Simulate;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Stem;

/// <summary>
/// Dense cell–spot probabilities of any mapping method (evaluation path: 2 × cells × spots floats).
/// <see cref="CellToSpot"/> rows sum to 1 (where each cell goes); <see cref="SpotToCellT"/> columns sum to 1 (what each spot holds).
/// </summary>
public sealed class CellSpotProbabilities
{
    /// <summary>Cells.</summary>
    public int Cells { get; }
    /// <summary>Spots.</summary>
    public int Spots { get; }
    /// <summary>Row-major cells × spots, rows sum to 1.</summary>
    public float[] CellToSpot { get; }
    /// <summary>Row-major cells × spots, columns sum to 1.</summary>
    public float[] SpotToCellT { get; }

    /// <summary>Wraps the two matrices (checked for size).</summary>
    public CellSpotProbabilities(int cells, int spots, float[] cellToSpot, float[] spotToCellT)
    {
        ArgumentNullException.ThrowIfNull(cellToSpot); ArgumentNullException.ThrowIfNull(spotToCellT);
        if (cellToSpot.Length != (long)cells * spots) throw new TesseraException($"cell→spot matrix has {cellToSpot.Length} values but {cells} x {spots} were expected");
        if (spotToCellT.Length != (long)cells * spots) throw new TesseraException($"spot→cell matrix has {spotToCellT.Length} values but {cells} x {spots} were expected");
        Cells = cells; Spots = spots; CellToSpot = cellToSpot; SpotToCellT = spotToCellT;
    }

    /// <summary>Cell coordinates: weighted mean of spot coordinates over all spots (k = null) or each cell's top-k spots (weights renormalised).</summary>
    public DenseMatrix Coordinates(DenseMatrix spotCoords, int? k = null)
    {
        ArgumentNullException.ThrowIfNull(spotCoords);
        if (spotCoords.Rows != Spots) throw new TesseraException($"spot coordinates have {spotCoords.Rows} rows but the mapping has {Spots} spots");
        using var scope = torch.NewDisposeScope();
        int d = spotCoords.Cols;
        var p = torch.tensor(CellToSpot, [Cells, Spots]);
        var c = torch.tensor(spotCoords.ToFloatArray(), [Spots, d]);
        Tensor res;
        if (k is null || k >= Spots) res = p.mm(c) / p.sum(1, keepdim: true);
        else
        {
            var (v, i) = p.topk(k.Value, 1);
            var w = v / v.sum(1, keepdim: true);
            res = (w.unsqueeze(2) * c.index_select(0, i.flatten()).view(Cells, k.Value, d)).sum(1);
        }
        return DenseMatrix.FromFloat(Cells, d, res.contiguous().data<float>().ToArray());
    }
}

/// <summary>STEM's evaluation scores of one mapping.</summary>
/// <param name="Types">Cell types scored (those present in at least one spot).</param>
/// <param name="Pearson">Per type: Pearson r over spots between true proportions and mapped mass.</param>
/// <param name="Kl">Per type: KL(true ‖ mapped), both normalised over spots.</param>
/// <param name="PearsonMean">Mean of <paramref name="Pearson"/> (NaN entries skipped).</param>
/// <param name="KlMean">Mean of <paramref name="Kl"/>.</param>
/// <param name="Hit10">Mean fraction of each cell's 10 nearest true neighbours among its 10 nearest predicted ones.</param>
/// <param name="Hit30">Same for k = 30.</param>
/// <param name="Hit50">Same for k = 50.</param>
/// <param name="CoordError10">Mean Euclidean error of top-10 coordinates.</param>
/// <param name="CoordError30">Mean error of top-30 coordinates.</param>
/// <param name="CoordError50">Mean error of top-50 coordinates.</param>
/// <param name="CoordErrorAll">Mean error of all-spot coordinates.</param>
public sealed record MappingScores(string[] Types, double[] Pearson, double[] Kl, double PearsonMean, double KlMean,
    double Hit10, double Hit30, double Hit50, double CoordError10, double CoordError30, double CoordError50, double CoordErrorAll);

/// <summary>STEM's mapping metrics (STEM/evaluate.py and the Fig. 2 notebook).</summary>
public static class MappingEvaluation
{
    /// <summary>
    /// Scores a mapping against the truth. Proportion metrics use <see cref="CellSpotProbabilities.SpotToCellT"/> (each spot's
    /// mass over cells summed per type); neighbourhood hits use all-spot weighted coordinates; errors use top-10/30/50/all.
    /// </summary>
    public static MappingScores Evaluate(CellSpotProbabilities mapping, DenseMatrix spotCoords, DenseMatrix trueCellCoords,
        IReadOnlyList<string?> cellTypes, DenseMatrix trueProportions, IReadOnlyList<string> proportionTypes)
    {
        ArgumentNullException.ThrowIfNull(mapping); ArgumentNullException.ThrowIfNull(trueCellCoords);
        ArgumentNullException.ThrowIfNull(cellTypes); ArgumentNullException.ThrowIfNull(trueProportions); ArgumentNullException.ThrowIfNull(proportionTypes);
        if (trueCellCoords.Rows != mapping.Cells) throw new TesseraException($"true coordinates have {trueCellCoords.Rows} rows but the mapping has {mapping.Cells} cells");
        if (cellTypes.Count != mapping.Cells) throw new TesseraException($"cell types have {cellTypes.Count} labels but the mapping has {mapping.Cells} cells");
        if (trueProportions.Rows != mapping.Spots) throw new TesseraException($"true proportions have {trueProportions.Rows} rows but the mapping has {mapping.Spots} spots");
        if (trueProportions.Cols != proportionTypes.Count) throw new TesseraException($"true proportions have {trueProportions.Cols} columns but {proportionTypes.Count} type names");

        var (pearson, kl, types) = ProportionScores(mapping, cellTypes, trueProportions, proportionTypes);
        var all = mapping.Coordinates(spotCoords);
        double Err(DenseMatrix p) => CellErrors(p, trueCellCoords).Average();
        int n = mapping.Cells;
        return new MappingScores(types, pearson, kl, MeanFinite(pearson), MeanFinite(kl),
            HitRate(all, trueCellCoords, Math.Min(10, n - 1)), HitRate(all, trueCellCoords, Math.Min(30, n - 1)), HitRate(all, trueCellCoords, Math.Min(50, n - 1)),
            Err(mapping.Coordinates(spotCoords, 10)), Err(mapping.Coordinates(spotCoords, 30)), Err(mapping.Coordinates(spotCoords, 50)), Err(all));
    }

    /// <summary>
    /// Scores mappings of <paramref name="data"/> against the pseudo-spot simulation's truth (true cell coordinates in SC obsm
    /// "spatial_true", true proportions in ST obsm "proportions" with uns "proportion_types") by the cell-type column; null
    /// when the data carry no truth or no cell-type column.
    /// </summary>
    internal static Func<CellSpotProbabilities, MappingScores>? TruthScorer(StemData data, DenseMatrix spotCoords) =>
        Truth(data) is { } t ? p => Evaluate(p, spotCoords, t.Coords, t.Labels, t.Proportions, t.Types) : null;

    /// <summary><see cref="TruthScorer"/> for mappings given by their logits, scored in blocks (the blocked Evaluate).</summary>
    /// <remarks>The scorer takes the mapped type proportions already computed for the cell-type column (types, spots × types), if any, to save a pass over cells × spots.</remarks>
    internal static Func<IProgress<Progress>?, MappingLogits, (string[] Types, DenseMatrix Mass)?, MappingScores>? BlockedTruthScorer(StemData data, DenseMatrix spotCoords) =>
        Truth(data) is { } t ? (p, l, m) => Evaluate(l, spotCoords, t.Coords, t.Labels, t.Proportions, t.Types, p, m) : null;

    private static (DenseMatrix Coords, string?[] Labels, DenseMatrix Proportions, string[] Types)? Truth(StemData data)
    {
        var (sc, st) = (data.Sc, data.St);
        if (data.CellTypeColumn is null || !sc.Obsm.TryGetValue(PseudoSpots.TrueCoordsKey, out var truth)
            || !st.Obsm.TryGetValue(PseudoSpots.ProportionsKey, out var trueProps)
            || !st.Uns.TryGetValue(PseudoSpots.ProportionTypesKey, out var tn) || tn is not string?[] propTypes) return null;
        return (truth, sc.Obs.Labels(data.CellTypeColumn), trueProps, propTypes.Select(t => t ?? "").ToArray());
    }

    /// <summary>
    /// <see cref="Evaluate(CellSpotProbabilities, DenseMatrix, DenseMatrix, IReadOnlyList{string?}, DenseMatrix, IReadOnlyList{string})"/>
    /// of a mapping given by its logits, computed in blocks of cells and spots (large data: nothing cells × spots is dense);
    /// the same quantities up to float rounding.
    /// </summary>
    internal static MappingScores Evaluate(MappingLogits logits, DenseMatrix spotCoords, DenseMatrix trueCellCoords, IReadOnlyList<string?> cellTypes,
        DenseMatrix trueProportions, IReadOnlyList<string> proportionTypes, IProgress<Progress>? progress = null, (string[] Types, DenseMatrix Mass)? known = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int nc = logits.Cells, ns = logits.Spots, d = spotCoords.Cols;
        if (trueCellCoords.Rows != nc) throw new TesseraException($"true coordinates have {trueCellCoords.Rows} rows but the mapping has {nc} cells");
        if (cellTypes.Count != nc) throw new TesseraException($"cell types have {cellTypes.Count} labels but the mapping has {nc} cells");
        if (trueProportions.Rows != ns) throw new TesseraException($"true proportions have {trueProportions.Rows} rows but the mapping has {ns} spots");
        var typeIndex = proportionTypes.Select((t, i) => (t, i)).ToDictionary(a => a.t, a => a.i, StringComparer.Ordinal);
        var codes = cellTypes.Select(t => t is not null && typeIndex.TryGetValue(t, out int i) ? i : -1).ToArray();
        double[] mass;
        if (known is { } k && k.Mass.Rows == ns)
        {
            // the mass of type t per spot is the mapped proportion of the cells labelled t: the same sum, already computed
            int nt = proportionTypes.Count;
            mass = new double[ns * nt];
            for (int t = 0; t < nt; t++)
            {
                int col = Array.IndexOf(k.Types, proportionTypes[t]);
                if (col >= 0) for (int sp = 0; sp < ns; sp++) mass[sp * nt + t] = k.Mass[sp, col];
            }
        }
        else mass = StemMapper.SpotTypeProportions(logits, codes, proportionTypes.Count, progress).Data;
        var (pearson, kl, types) = ProportionScores(mass, ns, trueProportions, proportionTypes);

        int[] ks = [10, 30, 50];
        var coords = ks.Select(_ => new double[(long)nc * d]).Append(new double[(long)nc * d]).ToArray(); // top-10, 30, 50, all
        using (var scope = torch.NewDisposeScope())
        {
            var c = torch.tensor(spotCoords.ToFloatArray(), [ns, d]);
            int block = StemMapper.RowsPerBlock(ns);
            for (int b = 0; b < nc; b += block)
            {
                using var s = torch.NewDisposeScope();
                int len = Math.Min(block, nc - b);
                var p = nn.functional.softmax(logits.CellRows(b, len), 1);
                var parts = ks.Select(k =>
                {
                    if (k >= ns) return p.mm(c) / p.sum(1, keepdim: true);
                    var (v, i) = p.topk(k, 1);
                    var w = v / v.sum(1, keepdim: true);
                    return (w.unsqueeze(2) * c.index_select(0, i.flatten()).view(len, k, d)).sum(1);
                }).Append(p.mm(c) / p.sum(1, keepdim: true)).ToArray();
                for (int q = 0; q < parts.Length; q++)
                {
                    var v = parts[q].contiguous().data<float>().ToArray();
                    for (int i = 0; i < v.Length; i++) coords[q][(long)b * d + i] = v[i];
                }
                progress?.Report(new Progress("evaluation: predicted coordinates", b + len, nc, clock.Elapsed));
            }
        }
        var all = new DenseMatrix(nc, d, coords[3]);
        double Err(double[] p) => CellErrors(new DenseMatrix(nc, d, p), trueCellCoords).Average();
        return new MappingScores(types, pearson, kl, MeanFinite(pearson), MeanFinite(kl),
            HitRate(all, trueCellCoords, Math.Min(10, nc - 1)), HitRate(all, trueCellCoords, Math.Min(30, nc - 1)), HitRate(all, trueCellCoords, Math.Min(50, nc - 1)),
            Err(coords[0]), Err(coords[1]), Err(coords[2]), Err(coords[3]));
    }

    private static double MeanFinite(double[] v)
    {
        var f = v.Where(double.IsFinite).ToArray();
        return f.Length == 0 ? double.NaN : f.Average();
    }

    /// <summary>Per-type Pearson and KL between true proportions and the mapped type mass per spot.</summary>
    public static (double[] Pearson, double[] Kl, string[] Types) ProportionScores(CellSpotProbabilities mapping, IReadOnlyList<string?> cellTypes,
        DenseMatrix trueProportions, IReadOnlyList<string> proportionTypes)
    {
        int nc = mapping.Cells, ns = mapping.Spots, nt = proportionTypes.Count;
        var typeIndex = proportionTypes.Select((t, i) => (t, i)).ToDictionary(a => a.t, a => a.i, StringComparer.Ordinal);
        var mass = new double[ns * nt];
        for (int c = 0; c < nc; c++)
        {
            if (cellTypes[c] is not { } t || !typeIndex.TryGetValue(t, out int ti)) continue;
            for (int s = 0; s < ns; s++) mass[s * nt + ti] += mapping.SpotToCellT[(long)c * ns + s];
        }
        return ProportionScores(mass, ns, trueProportions, proportionTypes);
    }

    /// <summary>Per-type Pearson and KL between true proportions and the mapped type mass per spot (<paramref name="mass"/>: spots × types, row-major).</summary>
    private static (double[] Pearson, double[] Kl, string[] Types) ProportionScores(double[] mass, int ns, DenseMatrix trueProportions, IReadOnlyList<string> proportionTypes)
    {
        int nt = proportionTypes.Count;
        var pearson = new List<double>(); var kl = new List<double>(); var types = new List<string>();
        for (int t = 0; t < nt; t++)
        {
            var truth = new double[ns]; var pred = new double[ns];
            for (int s = 0; s < ns; s++) { truth[s] = trueProportions[s, t]; pred[s] = mass[s * nt + t]; }
            if (truth.Sum() <= 0) continue;
            types.Add(proportionTypes[t]);
            pearson.Add(Metrics.Pearson(truth, pred));
            double st = truth.Sum(), sp = pred.Sum(), k = 0;
            for (int s = 0; s < ns; s++)
            {
                double p = truth[s] / st, q = sp > 0 ? pred[s] / sp : 1.0 / ns;
                if (p > 0) k += p * Math.Log((p + 1e-15) / (q + 1e-15));
            }
            kl.Add(k);
        }
        return (pearson.ToArray(), kl.ToArray(), types.ToArray());
    }

    private const int KdTreeMinCells = 20000;

    private static KnnResult Neighbours(DenseMatrix x, int k)
    {
        if (x.Rows <= KdTreeMinCells) return NearestNeighbors.Exact(x.ToFloatArray(), x.Rows, x.Cols, k);
        var tree = new Graphs.KdTree(x);
        var idx = new int[(long)x.Rows * k]; var dst = new float[(long)x.Rows * k];
        Parallel.For(0, x.Rows, i =>
        {
            var (ix, ds) = tree.Nearest(x.Data.AsSpan(i * x.Cols, x.Cols), k, i);
            for (int j = 0; j < k; j++) { idx[(long)i * k + j] = ix[j]; dst[(long)i * k + j] = (float)ds[j]; }
        });
        return new KnnResult(x.Rows, k, idx, dst, false);
    }

    /// <summary>Mean over cells of |kNN_pred(i) ∩ kNN_true(i)| / k (exact kNN, self excluded).</summary>
    public static double HitRate(DenseMatrix predicted, DenseMatrix truth, int k)
    {
        if (predicted.Rows != truth.Rows) throw new TesseraException($"predicted coordinates have {predicted.Rows} rows but the truth has {truth.Rows}");
        // Tiny deterministic jitter-free tie handling: exact kNN breaks ties by lower index (as the k-d tree, used above
        // KdTreeMinCells cells because the exact search is quadratic in cells).
        var a = Neighbours(predicted, k);
        var b = Neighbours(truth, k);
        double s = 0;
        for (int i = 0; i < predicted.Rows; i++)
        {
            var set = new HashSet<int>();
            for (int j = 0; j < k; j++) set.Add(b.Index(i, j));
            int hit = 0;
            for (int j = 0; j < k; j++) if (set.Contains(a.Index(i, j))) hit++;
            s += (double)hit / k;
        }
        return s / predicted.Rows;
    }

    /// <summary>
    /// Each cell's <paramref name="k"/> neighbours ranked by the embedding inner product e_i·e_j, largest first (STEM's Fig. 2
    /// hit curve: argsort(−e_sc e_scᵀ)). With <paramref name="includeSelf"/> the cell itself competes like any other cell
    /// (the authors' ranking; self is first only when its own product is the largest); without it, self is excluded.
    /// Computed in blocks of rows (never cells × cells dense); ties go to the lower index. Distances hold −e_i·e_j.
    /// </summary>
    public static KnnResult NeighboursByInnerProduct(DenseMatrix embedding, int k, bool includeSelf, int blockSize = 1024)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        int n = embedding.Rows;
        int max = includeSelf ? n : n - 1;
        if (k < 1 || k > max) throw new TesseraException($"cannot rank {k} neighbours among {n} cells" + (includeSelf ? "" : " (self excluded)"));
        var idx = new int[(long)n * k]; var dst = new float[(long)n * k];
        using var scope = torch.NewDisposeScope();
        var e = torch.tensor(embedding.ToFloatArray(), [n, embedding.Cols]).to_type(ScalarType.Float64);
        for (int b = 0; b < n; b += blockSize)
        {
            using var s = torch.NewDisposeScope();
            int len = Math.Min(blockSize, n - b);
            var ip = e.narrow(0, b, len).mm(e.t());
            if (!includeSelf) ip.index_put_(double.NegativeInfinity, torch.arange(len), torch.arange(b, b + len));
            // Stable descending order: ties keep the lower index first, as numpy's argsort of the negated products.
            var (_, order) = torch.sort(ip.neg(), 1, false, true);
            var top = order.narrow(1, 0, k).to_type(ScalarType.Int32).contiguous().data<int>().ToArray();
            var vals = ip.gather(1, order.narrow(1, 0, k)).neg().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
            Array.Copy(top, 0, idx, (long)b * k, top.Length);
            Array.Copy(vals, 0, dst, (long)b * k, vals.Length);
        }
        return new KnnResult(n, k, idx, dst, false);
    }

    /// <summary>Each cell's <paramref name="k"/> nearest cells by Euclidean distance of <paramref name="coords"/> (exact; with <paramref name="includeSelf"/> the cell itself is rank 0, as the authors count).</summary>
    public static KnnResult NeighboursByDistance(DenseMatrix coords, int k, bool includeSelf)
    {
        ArgumentNullException.ThrowIfNull(coords);
        return NearestNeighbors.Exact(coords.ToFloatArray(), coords.Rows, coords.Cols, k, includeSelf: includeSelf);
    }

    /// <summary>
    /// Hit counts for K = 1 … min(K of both lists): entry K − 1 is the mean over <paramref name="cells"/> (all cells when null)
    /// of |first K of <paramref name="predicted"/> ∩ first K of <paramref name="truth"/>| (a count, as STEM/evaluate.py; divide by
    /// K for a fraction). With self-including lists this is the authors' hit number; with self-excluded lists K × our hit rate.
    /// </summary>
    public static double[] HitCounts(KnnResult predicted, KnnResult truth, IReadOnlyList<int>? cells = null)
    {
        ArgumentNullException.ThrowIfNull(predicted); ArgumentNullException.ThrowIfNull(truth);
        if (predicted.N != truth.N) throw new TesseraException($"predicted neighbours cover {predicted.N} cells but the truth {truth.N}");
        int kMax = Math.Min(predicted.K, truth.K);
        var rows = cells ?? Enumerable.Range(0, predicted.N).ToArray();
        var counts = new long[kMax + 1];
        var rankInTruth = new Dictionary<int, int>();
        foreach (int i in rows)
        {
            rankInTruth.Clear();
            for (int r = 0; r < kMax; r++) rankInTruth.TryAdd(truth.Index(i, r), r);
            // A predicted neighbour at rank r that is the truth's rank t counts for every K > max(r, t).
            for (int r = 0; r < kMax; r++)
                if (rankInTruth.TryGetValue(predicted.Index(i, r), out int t)) counts[Math.Max(r, t) + 1]++;
        }
        var result = new double[kMax];
        long run = 0;
        for (int kk = 1; kk <= kMax; kk++) { run += counts[kk]; result[kk - 1] = rows.Count == 0 ? double.NaN : (double)run / rows.Count; }
        return result;
    }

    /// <summary>Euclidean distance between each cell's predicted and true coordinates.</summary>
    public static double[] CellErrors(DenseMatrix predicted, DenseMatrix truth)
    {
        ArgumentNullException.ThrowIfNull(predicted); ArgumentNullException.ThrowIfNull(truth);
        if (predicted.Rows != truth.Rows || predicted.Cols != truth.Cols)
            throw new TesseraException($"predicted coordinates are {predicted.Rows} x {predicted.Cols} but the truth is {truth.Rows} x {truth.Cols}");
        var e = new double[predicted.Rows];
        for (int i = 0; i < e.Length; i++)
        {
            double s = 0;
            for (int j = 0; j < predicted.Cols; j++) { double t = predicted[i, j] - truth[i, j]; s += t * t; }
            e[i] = Math.Sqrt(s);
        }
        return e;
    }
}
