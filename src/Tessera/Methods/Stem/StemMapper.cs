using Tessera.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Stem;

/// <summary>The sparse mapping outputs of StemMapper.Map.</summary>
internal sealed record StemMapping(CsrMatrix CellToSpot, CsrMatrix SpotToCell, DenseMatrix CoordsAll, DenseMatrix CoordsTopK, int CoordTopK,
    CsrMatrix Adjacency, int[] BestSpot);

/// <summary>
/// Logits of a cell–spot mapping, read in blocks: softmax over spots of <see cref="CellRows"/> is where each cell goes,
/// softmax over cells (of <see cref="SpotRows"/>) what each spot holds. STEM's are embedding dot products; any mapping
/// given as cells × spots probabilities P has logits log P (whose softmax over cells is P normalised per spot).
/// </summary>
internal abstract class MappingLogits
{
    /// <summary>Cells.</summary>
    public abstract int Cells { get; }
    /// <summary>Spots.</summary>
    public abstract int Spots { get; }
    /// <summary>len × spots logits of cells start … start + len − 1.</summary>
    public abstract Tensor CellRows(int start, int len);
    /// <summary>len × cells logits of spots start … start + len − 1 (the transpose of the cell rows' columns).</summary>
    public abstract Tensor SpotRows(int start, int len);
}

/// <summary>STEM's logits e_sc e_stᵀ, computed block by block from the two embeddings.</summary>
internal sealed class EmbeddingLogits(Tensor esc, Tensor est) : MappingLogits
{
    public override int Cells => (int)esc.shape[0];
    public override int Spots => (int)est.shape[0];
    public override Tensor CellRows(int start, int len) => esc.narrow(0, start, len).mm(est.t());
    public override Tensor SpotRows(int start, int len) => est.narrow(0, start, len).mm(esc.t());
}

/// <summary>A dense cells × spots logit matrix (a mapping that is its own parameter, such as Tangram's).</summary>
internal sealed class DenseLogits(Tensor logits) : MappingLogits
{
    public override int Cells => (int)logits.shape[0];
    public override int Spots => (int)logits.shape[1];
    public override Tensor CellRows(int start, int len) => logits.narrow(0, start, len);
    public override Tensor SpotRows(int start, int len) => logits.narrow(1, start, len).t();
}

/// <summary>
/// The mapping outputs of cell–spot logits (STEM's embeddings or Tangram's mapping): softmax over spots (where each cell
/// goes) and over cells (what each spot holds), computed in blocks of cells so that nothing cells × cells is ever dense.
/// </summary>
internal static class StemMapper
{
    private const int Block = 2048;

    /// <summary>Rows per block of a matrix with <paramref name="cols"/> columns: <see cref="Block"/>, fewer so that a block holds at most 2^24 values (64 MB) when a side is large.</summary>
    internal static int RowsPerBlock(int cols) => Math.Clamp((1 << 24) / Math.Max(1, cols), 1, Block);

    private static Tensor T(DenseMatrix m) => torch.tensor(m.ToFloatArray(), [m.Rows, m.Cols]);

    /// <summary>
    /// Dense cells × spots probabilities for evaluation (moderate sizes: cells × spots floats, twice): sc2st = softmax over spots
    /// of e_sc e_stᵀ and st2sc transposed (softmax over cells, each spot's column sums to 1), as STEM's Fig. 2 evaluation.
    /// </summary>
    public static CellSpotProbabilities DenseProbabilities(DenseMatrix scEmbedding, DenseMatrix stEmbedding)
    {
        using var scope = torch.NewDisposeScope();
        return DenseProbabilities(T(scEmbedding).mm(T(stEmbedding).t()));
    }

    /// <summary>Dense probabilities of a cells × spots logit matrix: softmax over spots, and over cells.</summary>
    public static CellSpotProbabilities DenseProbabilities(Tensor logits)
    {
        var a = nn.functional.softmax(logits, 1).contiguous().data<float>().ToArray();
        var b = nn.functional.softmax(logits, 0).contiguous().data<float>().ToArray();
        return new CellSpotProbabilities((int)logits.shape[0], (int)logits.shape[1], a, b);
    }

    /// <summary>STEM's sparse mappings, coordinates and cell–cell graph from the two embeddings.</summary>
    public static StemMapping Map(DenseMatrix scEmbedding, DenseMatrix stEmbedding, DenseMatrix spotCoords, StemOptions options, CancellationToken cancellationToken,
        IProgress<Progress>? progress = null)
    {
        using var scope = torch.NewDisposeScope();
        return Map(new EmbeddingLogits(T(scEmbedding), T(stEmbedding)), spotCoords, options.TopK, options.CoordTopK, options.AdjacencyK, cancellationToken,
            options.IsLarge(stEmbedding.Rows, scEmbedding.Rows), progress);
    }

    /// <summary>
    /// Sparse mappings (each cell's <paramref name="topK"/> spots, each spot's <paramref name="topK"/> cells), predicted
    /// coordinates (all spots; each cell's top <paramref name="coordTopK"/>) and the cell–cell graph (each cell's
    /// <paramref name="adjacencyK"/> largest entries of sc2st·st2sc), computed in blocks of cells (never cells × cells dense).
    /// With <paramref name="coordinateGraph"/> (large data: sc2st·st2sc costs cells² × spots) the cell graph is each cell's
    /// <paramref name="adjacencyK"/> nearest cells by predicted coordinates instead (k-d tree), weight 1 / (1 + d / spacing)
    /// with spacing the median nearest-spot distance.
    /// </summary>
    public static StemMapping Map(MappingLogits logits, DenseMatrix spotCoords, int topK, int coordTopK, int adjacencyK, CancellationToken cancellationToken,
        bool coordinateGraph = false, IProgress<Progress>? progress = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var scope = torch.NewDisposeScope();
        int nc = logits.Cells, ns = logits.Spots, d = spotCoords.Cols;
        int k = Math.Min(topK, ns), kc = Math.Min(coordTopK, ns), kcell = Math.Min(topK, nc);
        var coords = torch.tensor(spotCoords.ToFloatArray(), [ns, d]);
        var all = new double[nc * d]; var topc = new double[nc * d]; var best = new int[nc];
        var c2sR = new List<int>(); var c2sC = new List<int>(); var c2sV = new List<float>();
        // Column log-normaliser of softmax over cells for every spot (two passes over cell blocks).
        int cellBlock = RowsPerBlock(ns), spotBlock = RowsPerBlock(nc);
        var lse = torch.full(ns, float.NegativeInfinity);
        for (int b = 0; !coordinateGraph && b < nc; b += cellBlock)
        {
            using var s = torch.NewDisposeScope();
            var sb = logits.CellRows(b, Math.Min(cellBlock, nc - b));
            lse = torch.logaddexp(lse, torch.logsumexp(sb, 0)).MoveToOuterDisposeScope();
        }
        for (int b = 0; b < nc; b += cellBlock)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var s = torch.NewDisposeScope();
            int len = Math.Min(cellBlock, nc - b);
            var p = nn.functional.softmax(logits.CellRows(b, len), 1);
            var allF = p.mm(coords).contiguous().data<float>().ToArray();
            for (int i = 0; i < allF.Length; i++) all[b * d + i] = allF[i];
            var (vals, idx) = p.topk(k, 1);
            var v = vals.contiguous().data<float>().ToArray(); var ix = idx.contiguous().data<long>().ToArray();
            var (cv, ci) = p.topk(kc, 1);
            var w = cv / cv.sum(1, keepdim: true);
            var tc = (w.unsqueeze(2) * coords.index_select(0, ci.flatten()).view(len, kc, d)).sum(1).contiguous().data<float>().ToArray();
            for (int i = 0; i < tc.Length; i++) topc[b * d + i] = tc[i];
            for (int r = 0; r < len; r++)
            {
                best[b + r] = (int)ix[r * k];
                for (int j = 0; j < k; j++) { c2sR.Add(b + r); c2sC.Add((int)ix[r * k + j]); c2sV.Add(v[r * k + j]); }
            }
            progress?.Report(new Progress("mapping: cells to spots", b + len, nc, clock.Elapsed));
        }
        var cellToSpot = CsrMatrix.FromTriplets(nc, ns, c2sR, c2sC, c2sV);

        var s2cR = new List<int>(); var s2cC = new List<int>(); var s2cV = new List<float>();
        for (int b = 0; b < ns; b += spotBlock)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var s = torch.NewDisposeScope();
            int len = Math.Min(spotBlock, ns - b);
            var lp = nn.functional.log_softmax(logits.SpotRows(b, len), 1);
            var (vals, idx) = lp.topk(kcell, 1);
            var v = vals.exp().contiguous().data<float>().ToArray(); var ix = idx.contiguous().data<long>().ToArray();
            for (int r = 0; r < len; r++) for (int j = 0; j < kcell; j++) { s2cR.Add(b + r); s2cC.Add((int)ix[r * kcell + j]); s2cV.Add(v[r * kcell + j]); }
            progress?.Report(new Progress("mapping: spots to cells", b + len, ns, clock.Elapsed));
        }
        var spotToCell = CsrMatrix.FromTriplets(ns, nc, s2cR, s2cC, s2cV);

        var coordsAll = new DenseMatrix(nc, d, all);
        var adjacency = coordinateGraph ? CoordinateAdjacency(coordsAll, spotCoords, Math.Min(adjacencyK, nc - 1))
            : Adjacency(logits, lse, Math.Min(adjacencyK, nc - 1), cancellationToken);
        return new StemMapping(cellToSpot, spotToCell, coordsAll, new DenseMatrix(nc, d, topc), kc, adjacency, best);
    }

    /// <summary>
    /// Mapped cell-type composition of each spot: Σ over cells of type t of st2sc[spot, cell] (softmax over cells), in blocks of
    /// spots; rows sum to 1 over the typed cells. <paramref name="codes"/> gives each cell's type index (−1 = untyped).
    /// </summary>
    public static DenseMatrix SpotTypeProportions(DenseMatrix scEmbedding, DenseMatrix stEmbedding, IReadOnlyList<int> codes, int types, IProgress<Progress>? progress = null)
    {
        using var scope = torch.NewDisposeScope();
        return SpotTypeProportions(new EmbeddingLogits(T(scEmbedding), T(stEmbedding)), codes, types, progress);
    }

    /// <summary>Mapped cell-type composition of each spot from any mapping's logits (softmax over cells, summed per type).</summary>
    public static DenseMatrix SpotTypeProportions(MappingLogits logits, IReadOnlyList<int> codes, int types, IProgress<Progress>? progress = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ArgumentNullException.ThrowIfNull(codes);
        int nc = logits.Cells, ns = logits.Spots;
        if (codes.Count != nc) throw new TesseraException($"cell types have {codes.Count} entries but the mapping has {nc} cells");
        using var scope = torch.NewDisposeScope();
        var oh = new float[(long)nc * types];
        for (int i = 0; i < nc; i++)
        {
            if (codes[i] >= types) throw new TesseraException($"cell {i} has type index {codes[i]} but there are {types} types");
            if (codes[i] >= 0) oh[(long)i * types + codes[i]] = 1;
        }
        var onehot = torch.tensor(oh, [nc, types]);
        var result = new double[ns * types];
        int block = RowsPerBlock(nc);
        for (int b = 0; b < ns; b += block)
        {
            using var s = torch.NewDisposeScope();
            int len = Math.Min(block, ns - b);
            var v = nn.functional.softmax(logits.SpotRows(b, len), 1).mm(onehot).contiguous().data<float>().ToArray();
            for (int i = 0; i < v.Length; i++) result[b * types + i] = v[i];
            progress?.Report(new Progress("mapping: spot type proportions", b + len, ns, clock.Elapsed));
        }
        return new DenseMatrix(ns, types, result);
    }

    /// <summary>Each cell's <paramref name="k"/> nearest other cells by predicted coordinates (k-d tree; ties to the lower index), weight 1 / (1 + d / spacing).</summary>
    internal static CsrMatrix CoordinateAdjacency(DenseMatrix predicted, DenseMatrix spotCoords, int k)
    {
        int nc = predicted.Rows, d = predicted.Cols;
        if (k < 1) return CsrMatrix.Zeros(nc, nc);
        var spacing = spotCoords.Rows > 1 ? Analysis.Statistics.Median(new Graphs.KdTree(spotCoords).NearestNeighborDistances()) : 1;
        if (!(spacing > 0)) spacing = 1;
        var tree = new Graphs.KdTree(predicted);
        var cols = new int[(long)nc * k]; var vals = new float[(long)nc * k];
        Parallel.For(0, nc, i =>
        {
            var (idx, dist) = tree.Nearest(predicted.Data.AsSpan(i * d, d), k, i);
            // CSR rows in column order; the weight keeps the distance ranking.
            var order = Enumerable.Range(0, idx.Length).OrderBy(j => idx[j]).ToArray();
            for (int j = 0; j < idx.Length; j++) { cols[(long)i * k + j] = idx[order[j]]; vals[(long)i * k + j] = (float)(1 / (1 + dist[order[j]] / spacing)); }
        });
        var ptr = new int[nc + 1];
        for (int i = 0; i < nc; i++) ptr[i + 1] = ptr[i] + k;
        return new CsrMatrix(nc, nc, ptr, cols, vals);
    }

    private static CsrMatrix Adjacency(MappingLogits logits, Tensor lse, int k, CancellationToken cancellationToken)
    {
        int nc = logits.Cells;
        var rows = new List<int>(); var cols = new List<int>(); var vals = new List<float>();
        if (k < 1) return CsrMatrix.Zeros(nc, nc);
        for (int b = 0; b < nc; b += Block)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var s = torch.NewDisposeScope();
            int len = Math.Min(Block, nc - b);
            var sc2st = nn.functional.softmax(logits.CellRows(b, len), 1);
            Tensor? bestV = null, bestI = null;
            for (int c = 0; c < nc; c += Block)
            {
                int clen = Math.Min(Block, nc - c);
                var st2sc = torch.exp(logits.CellRows(c, clen).t() - lse.unsqueeze(1)); // spots × block of cells
                var a = sc2st.mm(st2sc);
                if (c == b) a = a - torch.eye(len) * 1e30f; // exclude self
                var colIdx = torch.arange(c, c + clen, dtype: ScalarType.Int64).unsqueeze(0).expand(len, clen);
                var catV = bestV is null ? a : torch.cat([bestV, a], 1);
                var catI = bestI is null ? colIdx : torch.cat([bestI, colIdx], 1);
                var kk = Math.Min(k, (int)catV.shape[1]);
                var (tv, ti) = catV.topk(kk, 1);
                bestV = tv; bestI = catI.gather(1, ti);
            }
            var v = bestV!.contiguous().data<float>().ToArray(); var ix = bestI!.contiguous().data<long>().ToArray();
            int kk2 = (int)bestV.shape[1];
            for (int r = 0; r < len; r++) for (int j = 0; j < kk2; j++) { rows.Add(b + r); cols.Add((int)ix[r * kk2 + j]); vals.Add(v[r * kk2 + j]); }
        }
        return CsrMatrix.FromTriplets(nc, nc, rows, cols, vals);
    }
}
