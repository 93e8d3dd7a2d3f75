using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Stem;

/// <summary>
/// STEM's cycle term KL(target ‖ st2sc·sc2st), evaluated only where the spatial target is not negligible.
/// <para>
/// Why: the round-trip matrix st2sc·sc2st costs spots × cells × spots multiply-adds (twice more in the backward pass) and
/// dominated every epoch, yet the Gaussian target is vanishingly small beyond a few σ, where an entry's contribution
/// t·(log t − log p) is below 1e-9 × 40. Spots are grouped into square tiles (side ≥ 2 × cutoff) and each tile's rows of
/// st2sc meet only the sc2st columns of spots within the cutoff of the tile's bounding box; when the tiles would cover
/// more than half of all pairs, one dense tile is used and the result is the reference's exactly.
/// </para>
/// </summary>
internal sealed class CycleLoss : IDisposable
{
    /// <summary>Kernel values exp(−d²/2σ²) below this are dropped (d > 6.44 σ).</summary>
    public const double KernelFloor = 1e-9;

    /// <summary>Distance beyond which the kernel exp(−d²/2σ²) is below <see cref="KernelFloor"/>: σ √(2 ln 1e9) ≈ 6.44 σ.</summary>
    public static double Cutoff(double sigma) => sigma > 0 ? sigma * Math.Sqrt(2 * Math.Log(1 / KernelFloor)) : 0;

    // Target block of each tile (rows × halo), or the whole target when dense.
    private readonly List<Tensor> _targets = [];
    // All tiles' row and halo indices concatenated, and the per-tile lengths: one gather per operand and a split, so the
    // backward writes one spots × cells gradient per operand instead of one per tile (25 × 834 MB at 200k cells).
    private readonly Tensor? _allRows, _allHalo;
    private readonly long[] _rowSizes = [], _haloSizes = [];
    private readonly Tensor _entropy; // Σ_j t_ij log t_ij over full rows, summed over spots
    private readonly bool _dense;

    /// <summary>Pairs (spot, spot) evaluated per epoch.</summary>
    public long Pairs { get; }
    /// <summary>Tiles used (1 = the dense reference computation).</summary>
    public int Tiles => _targets.Count;

    /// <param name="coords">Coordinates of the spots (the target's columns).</param>
    /// <param name="target">Rows × spots target: its rows are the first rows of <paramref name="coords"/> (all spots in full
    /// batch; a mini-batch's tile, whose halo spots are columns only).</param>
    /// <param name="sigma">Kernel width.</param>
    /// <param name="medianNearest">Median nearest-spot distance (the smallest tile side is 8 of them).</param>
    public CycleLoss(Tensor coords, Tensor target, double sigma, double medianNearest)
    {
        using var scope = torch.NewDisposeScope();
        int n = (int)coords.shape[0], d = (int)coords.shape[1], rowCount = (int)target.shape[0];
        _entropy = (target * torch.log(target.clamp_min(1e-30f))).sum().DetachFromDisposeScope();
        var xy = coords.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        double cutoff = Cutoff(sigma);
        // Tiles hold a few dozen spots at least so that each product is a reasonable matrix multiply.
        double side = Math.Max(2 * cutoff, 8 * medianNearest);
        var plan = side > 0 && double.IsFinite(side) ? Plan(xy, n, d, side, cutoff, rowCount) : null;
        long pairs = plan?.Sum(t => (long)t.Rows.Length * t.Halo.Length) ?? long.MaxValue;
        if (plan is null || pairs > (long)rowCount * n / 2)
        {
            _targets.Add(target.alias().DetachFromDisposeScope());
            Pairs = (long)rowCount * n;
            _dense = true;
            return;
        }
        foreach (var (rows, halo) in plan)
        {
            var r = torch.tensor(rows.Select(i => (long)i).ToArray());
            var h = torch.tensor(halo.Select(i => (long)i).ToArray());
            _targets.Add(target.index_select(0, r).index_select(1, h).DetachFromDisposeScope());
        }
        _allRows = torch.tensor(plan.SelectMany(t => t.Rows).Select(i => (long)i).ToArray()).DetachFromDisposeScope();
        _allHalo = torch.tensor(plan.SelectMany(t => t.Halo).Select(i => (long)i).ToArray()).DetachFromDisposeScope();
        _rowSizes = plan.Select(t => (long)t.Rows.Length).ToArray();
        _haloSizes = plan.Select(t => (long)t.Halo.Length).ToArray();
        Pairs = pairs;
    }

    private static List<(int[] Rows, int[] Halo)> Plan(double[] xy, int n, int d, double side, double cutoff, int rowCount)
    {
        var lo = new double[d];
        for (int k = 0; k < d; k++) { lo[k] = double.PositiveInfinity; for (int i = 0; i < n; i++) lo[k] = Math.Min(lo[k], xy[i * d + k]); }
        // Tiles on the first two coordinates (the third, if any, is usually a thin stack of sections).
        int dt = Math.Min(d, 2);
        var groups = new SortedDictionary<(long, long), List<int>>();
        for (int i = 0; i < rowCount; i++)
        {
            long gx = (long)Math.Floor((xy[i * d] - lo[0]) / side), gy = dt > 1 ? (long)Math.Floor((xy[i * d + 1] - lo[1]) / side) : 0;
            if (!groups.TryGetValue((gx, gy), out var list)) groups[(gx, gy)] = list = [];
            list.Add(i);
        }
        var result = new List<(int[], int[])>(groups.Count);
        foreach (var rows in groups.Values)
        {
            var min = new double[d]; var max = new double[d];
            for (int k = 0; k < d; k++) { min[k] = double.PositiveInfinity; max[k] = double.NegativeInfinity; }
            foreach (int i in rows) for (int k = 0; k < d; k++) { min[k] = Math.Min(min[k], xy[i * d + k]); max[k] = Math.Max(max[k], xy[i * d + k]); }
            var halo = new List<int>();
            for (int j = 0; j < n; j++)
            {
                // Distance from spot j to the tiles's bounding box ≤ cutoff: a superset of the spots within the cutoff of a row.
                double s = 0;
                for (int k = 0; k < d; k++)
                {
                    double v = xy[j * d + k], e = v < min[k] ? min[k] - v : v > max[k] ? v - max[k] : 0;
                    s += e * e;
                }
                if (s <= cutoff * cutoff) halo.Add(j);
            }
            result.Add((rows.ToArray(), halo.ToArray()));
        }
        return result;
    }

    /// <summary>
    /// mean over the target's rows of KL(t_i ‖ (st2sc·sc2st)_i) with the reference's +1e-7 inside the log; <paramref name="st2sc"/>
    /// is softmax over cells (rows × cells), <paramref name="sc2stT"/> is softmax over spots transposed (spots × cells).
    /// </summary>
    public Tensor Forward(Tensor st2sc, Tensor sc2stT)
    {
        if (_dense)
        {
            var p = st2sc.mm(sc2stT.t());
            return (_entropy - (_targets[0] * torch.log(p + 1e-7f)).sum()) / (double)st2sc.shape[0];
        }
        var rowParts = st2sc.index_select(0, _allRows!).split(_rowSizes, 0);
        var haloParts = sc2stT.index_select(0, _allHalo!).split(_haloSizes, 0);
        Tensor? cross = null;
        for (int k = 0; k < _targets.Count; k++)
        {
            var p = rowParts[k].mm(haloParts[k].t());
            var c = (_targets[k] * torch.log(p + 1e-7f)).sum();
            cross = cross is null ? c : cross + c;
        }
        return (_entropy - cross!) / (double)st2sc.shape[0];
    }

    public void Dispose()
    {
        foreach (var t in _targets) t.Dispose();
        _allRows?.Dispose(); _allHalo?.Dispose();
        _entropy.Dispose();
    }
}
