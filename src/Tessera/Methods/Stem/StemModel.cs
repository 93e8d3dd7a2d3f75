using Tessera.Data;
using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Stem;

/// <summary>Sparse and summary outputs of a STEM mapping.</summary>
/// <param name="CellToSpot">Cells × spots, each cell's top-k entries of softmax over spots (not renormalised).</param>
/// <param name="SpotToCell">Spots × cells, each spot's top-k entries of softmax over cells.</param>
/// <param name="CoordsAll">Cell coordinates: sc2st-weighted mean over all spots.</param>
/// <param name="CoordsTopK">Cell coordinates: weighted mean over each cell's top-k spots (weights renormalised).</param>
/// <param name="CoordTopK">k used for <paramref name="CoordsTopK"/>.</param>
/// <param name="Adjacency">Cells × cells sparse top-k graph of sc2st·st2sc (self excluded).</param>
/// <param name="BestSpot">Index of each cell's most probable spot.</param>
public sealed record StemMapping(CsrMatrix CellToSpot, CsrMatrix SpotToCell, DenseMatrix CoordsAll, DenseMatrix CoordsTopK, int CoordTopK,
    CsrMatrix Adjacency, int[] BestSpot);

/// <summary>A trained STEM encoder with its prepared inputs. Dispose to free the tensors.</summary>
public sealed class StemModel : IDisposable
{
    private readonly Tensor _xsc, _xst;
    private const int Block = 2048;

    internal StemModel(StemEncoder encoder, StemInputs inputs, Tensor xsc, Tensor xst, DenseMatrix spotCoords, string[] spotNames,
        string[] cellNames, double sigma, double dropout, LossHistory history, StemOptions options)
    {
        Encoder = encoder; Inputs = inputs; _xsc = xsc; _xst = xst; SpotCoords = spotCoords; SpotNames = spotNames; CellNames = cellNames;
        Sigma = sigma; Dropout = dropout; History = history; Options = options;
        using var _ = torch.no_grad();
        ScEmbedding = ToDense(encoder.forward(xsc));
        StEmbedding = ToDense(encoder.forward(xst));
    }

    /// <summary>The trained encoder (eval mode).</summary>
    public StemEncoder Encoder { get; }
    /// <summary>Shared genes and normalised inputs.</summary>
    public StemInputs Inputs { get; }
    /// <summary>Spot coordinates.</summary>
    public DenseMatrix SpotCoords { get; }
    /// <summary>Spot names (ST obs names).</summary>
    public string[] SpotNames { get; }
    /// <summary>Cell names (SC obs names).</summary>
    public string[] CellNames { get; }
    /// <summary>Kernel width used for the spatial target.</summary>
    public double Sigma { get; }
    /// <summary>ST input dropout rate used.</summary>
    public double Dropout { get; }
    /// <summary>Per-epoch losses: total and the components spatial, mmd, cycle (NaN before the cycle ramp starts).</summary>
    public LossHistory History { get; }
    /// <summary>Options used.</summary>
    public StemOptions Options { get; }
    /// <summary>Cells × 128 embedding (eval mode).</summary>
    public DenseMatrix ScEmbedding { get; }
    /// <summary>Spots × 128 embedding (eval mode).</summary>
    public DenseMatrix StEmbedding { get; }

    private static DenseMatrix ToDense(Tensor t)
    {
        using (t) return DenseMatrix.FromFloat((int)t.shape[0], (int)t.shape[1], t.contiguous().data<float>().ToArray());
    }

    private Tensor Est() => torch.tensor(StEmbedding.ToFloatArray(), [StEmbedding.Rows, StEmbedding.Cols]);
    private Tensor Esc() => torch.tensor(ScEmbedding.ToFloatArray(), [ScEmbedding.Rows, ScEmbedding.Cols]);

    /// <summary>
    /// Dense cells × spots probabilities for evaluation (moderate sizes: cells × spots floats, twice): sc2st = softmax over spots
    /// of e_sc e_stᵀ and st2sc transposed (softmax over cells, each spot's column sums to 1), as STEM's Fig. 2 evaluation.
    /// </summary>
    public CellSpotProbabilities DenseProbabilities()
    {
        using var scope = torch.NewDisposeScope();
        var s = Esc().mm(Est().t());
        var a = nn.functional.softmax(s, 1).contiguous().data<float>().ToArray();
        var b = nn.functional.softmax(s, 0).contiguous().data<float>().ToArray();
        return new CellSpotProbabilities(Inputs.NCells, Inputs.NSpots, a, b);
    }

    /// <summary>Sparse mappings, coordinates and the cell–cell graph, computed in blocks of cells (never cells × cells dense).</summary>
    public StemMapping Map()
    {
        using var scope = torch.NewDisposeScope();
        int nc = Inputs.NCells, ns = Inputs.NSpots, d = SpotCoords.Cols;
        int k = Math.Min(Options.TopK, ns), kc = Math.Min(Options.CoordTopK, ns), kcell = Math.Min(Options.TopK, nc);
        var est = Est(); var esc = Esc();
        var coords = torch.tensor(SpotCoords.ToFloatArray(), [ns, d]);
        var all = new double[nc * d]; var topc = new double[nc * d]; var best = new int[nc];
        var c2sR = new List<int>(); var c2sC = new List<int>(); var c2sV = new List<float>();
        // Column log-normaliser of softmax over cells for every spot (two passes over cell blocks).
        var lse = torch.full(ns, float.NegativeInfinity);
        for (int b = 0; b < nc; b += Block)
        {
            using var s = torch.NewDisposeScope();
            var sb = esc.narrow(0, b, Math.Min(Block, nc - b)).mm(est.t());
            lse = torch.logaddexp(lse, torch.logsumexp(sb, 0)).MoveToOuterDisposeScope();
        }
        for (int b = 0; b < nc; b += Block)
        {
            using var s = torch.NewDisposeScope();
            int len = Math.Min(Block, nc - b);
            var p = nn.functional.softmax(esc.narrow(0, b, len).mm(est.t()), 1);
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
        }
        var cellToSpot = CsrMatrix.FromTriplets(nc, ns, c2sR, c2sC, c2sV);

        var s2cR = new List<int>(); var s2cC = new List<int>(); var s2cV = new List<float>();
        for (int b = 0; b < ns; b += Block)
        {
            using var s = torch.NewDisposeScope();
            int len = Math.Min(Block, ns - b);
            var lp = nn.functional.log_softmax(est.narrow(0, b, len).mm(esc.t()), 1);
            var (vals, idx) = lp.topk(kcell, 1);
            var v = vals.exp().contiguous().data<float>().ToArray(); var ix = idx.contiguous().data<long>().ToArray();
            for (int r = 0; r < len; r++) for (int j = 0; j < kcell; j++) { s2cR.Add(b + r); s2cC.Add((int)ix[r * kcell + j]); s2cV.Add(v[r * kcell + j]); }
        }
        var spotToCell = CsrMatrix.FromTriplets(ns, nc, s2cR, s2cC, s2cV);

        var adjacency = Adjacency(esc, est, lse, Math.Min(Options.AdjacencyK, nc - 1));
        return new StemMapping(cellToSpot, spotToCell, new DenseMatrix(nc, d, all), new DenseMatrix(nc, d, topc), kc, adjacency, best);
    }

    /// <summary>
    /// Mapped cell-type composition of each spot: Σ over cells of type t of st2sc[spot, cell] (softmax over cells), in blocks of
    /// spots; rows sum to 1 over the typed cells. <paramref name="codes"/> gives each cell's type index (−1 = untyped).
    /// </summary>
    public DenseMatrix SpotTypeProportions(IReadOnlyList<int> codes, int types)
    {
        ArgumentNullException.ThrowIfNull(codes);
        int nc = Inputs.NCells, ns = Inputs.NSpots;
        if (codes.Count != nc) throw new TesseraException($"cell types have {codes.Count} entries but the model has {nc} cells");
        using var scope = torch.NewDisposeScope();
        var oh = new float[(long)nc * types];
        for (int i = 0; i < nc; i++)
        {
            if (codes[i] >= types) throw new TesseraException($"cell {i} has type index {codes[i]} but there are {types} types");
            if (codes[i] >= 0) oh[(long)i * types + codes[i]] = 1;
        }
        var onehot = torch.tensor(oh, [nc, types]);
        var est = Est(); var esc = Esc();
        var result = new double[ns * types];
        for (int b = 0; b < ns; b += Block)
        {
            using var s = torch.NewDisposeScope();
            int len = Math.Min(Block, ns - b);
            var v = nn.functional.softmax(est.narrow(0, b, len).mm(esc.t()), 1).mm(onehot).contiguous().data<float>().ToArray();
            for (int i = 0; i < v.Length; i++) result[b * types + i] = v[i];
        }
        return new DenseMatrix(ns, types, result);
    }

    private static CsrMatrix Adjacency(Tensor esc, Tensor est, Tensor lse, int k)
    {
        int nc = (int)esc.shape[0];
        var rows = new List<int>(); var cols = new List<int>(); var vals = new List<float>();
        if (k < 1) return CsrMatrix.Zeros(nc, nc);
        for (int b = 0; b < nc; b += Block)
        {
            using var s = torch.NewDisposeScope();
            int len = Math.Min(Block, nc - b);
            var sc2st = nn.functional.softmax(esc.narrow(0, b, len).mm(est.t()), 1);
            Tensor? bestV = null, bestI = null;
            for (int c = 0; c < nc; c += Block)
            {
                int clen = Math.Min(Block, nc - c);
                var st2sc = torch.exp(est.mm(esc.narrow(0, c, clen).t()) - lse.unsqueeze(1)); // spots × block of cells
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

    /// <summary>
    /// Integrated gradients (zero baseline, right Riemann sum over <paramref name="steps"/> points, batched) of each cell's
    /// maximum mapping probability max_j softmax(e(x) e_stᵀ)_j with respect to its normalised expression; cells × genes.
    /// The spot j is each cell's argmax at the real input and stays fixed along the path.
    /// </summary>
    public DenseMatrix IntegratedGradients(int steps = 50)
    {
        if (steps < 1) throw new TesseraException($"integrated gradients need at least 1 step, got {steps}");
        int nc = Inputs.NCells, g = Inputs.Genes.Length;
        var result = new double[(long)nc * g];
        using var scope = torch.NewDisposeScope();
        var est = Est();
        int batch = Math.Max(1, 16384 / steps); // cells per pass: about 16k path points
        for (int b = 0; b < nc; b += batch)
        {
            using var s = torch.NewDisposeScope();
            int len = Math.Min(batch, nc - b);
            var x = _xsc.narrow(0, b, len);
            Tensor target;
            using (torch.no_grad()) target = Encoder.forward(x).mm(est.t()).argmax(1);
            var ig = Nn.IntegratedGradients.Compute(path =>
            {
                var p = nn.functional.softmax(Encoder.forward(path).mm(est.t()), 1);
                return p.gather(1, target.repeat_interleave(path.shape[0] / len).unsqueeze(1)).squeeze(1);
            }, x, null, steps, steps).contiguous().data<float>().ToArray();
            for (int i = 0; i < ig.Length; i++) result[(long)b * g + i] = ig[i];
        }
        return new DenseMatrix(nc, g, result);
    }

    /// <summary>Frees the encoder and input tensors.</summary>
    public void Dispose()
    {
        _xsc.Dispose(); _xst.Dispose(); Encoder.Dispose();
    }
}
