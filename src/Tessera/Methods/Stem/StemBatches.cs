using Tessera.Data;
using Tessera.Graphs;
using Tessera.Methods.Spotscape;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Stem;

/// <summary>
/// STEM's mini-batch plan (<see cref="StemOptions.BatchSpots"/>): the sparse spatial target, the spatial tiles (Spotscape's
/// median bisection) and the losses of one optimiser step on a tile, its halo, a uniform spot sample and a cell sample.
/// Memory is O(spots × pairs per spot + batch²): nothing spots × spots or cells × spots is formed.
/// </summary>
internal sealed class StemBatches
{
    private readonly CsrMatrix _target;
    private readonly int[][] _tiles;
    private readonly Random _rng;
    private int[]? _order;
    private readonly int[] _mark, _local;
    private int _stamp;

    /// <summary>Spots.</summary>
    public int Spots { get; }
    /// <summary>Tiles (steps per round: after that many steps every spot was a tile spot once).</summary>
    public int Tiles => _tiles.Length;
    /// <summary>Largest tile.</summary>
    public int MaxTile => _tiles.Max(t => t.Length);
    /// <summary>Non-zero pairs of the sparse target.</summary>
    public long Pairs => _target.Nnz;

    public StemBatches(DenseMatrix coords, double sigma, int batchSpots, int seed)
    {
        Spots = coords.Rows;
        _target = StemTrainer.SparseSpatialTarget(coords, sigma);
        _tiles = coords.Cols >= 2 ? SpotBatches.Bisect(Enumerable.Range(0, Spots).ToArray(), coords, Math.Max(1, batchSpots))
            : Enumerable.Range(0, (Spots + batchSpots - 1) / batchSpots).Select(t => Enumerable.Range(t * batchSpots, Math.Min(batchSpots, Spots - t * batchSpots)).ToArray()).ToArray();
        _rng = Nn.Seeding.Rng(seed, "stem.tiles");
        _mark = new int[Spots];
        _local = new int[Spots];
    }

    /// <summary>
    /// The tile of optimiser step <paramref name="step"/> (asked for in order 0, 1, 2, …; every round of <see cref="Tiles"/>
    /// steps visits each tile once in a fresh seeded order) and its local spots: the tile first, then the halo (spots
    /// with a target pair to a tile spot); with the tile × local block of the target.
    /// </summary>
    public (int Core, int[] Local, Tensor Target) Batch(int step)
    {
        int pos = step % _tiles.Length;
        if (pos == 0 || _order is null)
        {
            _order = Enumerable.Range(0, _tiles.Length).ToArray();
            _rng.Shuffle(_order);
        }
        var core = _tiles[_order[pos]];
        if (++_stamp == int.MaxValue) { Array.Clear(_mark); _stamp = 1; }
        var local = new List<int>(core.Length * 2);
        foreach (var i in core) { _mark[i] = _stamp; _local[i] = local.Count; local.Add(i); }
        foreach (var i in core)
            for (int p = _target.IndPtr[i]; p < _target.IndPtr[i + 1]; p++)
            {
                int j = _target.Indices[p];
                if (_mark[j] != _stamp) { _mark[j] = _stamp; _local[j] = local.Count; local.Add(j); }
            }
        var t = new float[(long)core.Length * local.Count];
        for (int r = 0; r < core.Length; r++)
        {
            int i = core[r];
            for (int p = _target.IndPtr[i]; p < _target.IndPtr[i + 1]; p++) t[(long)r * local.Count + _local[_target.Indices[p]]] = _target.Data[p];
        }
        return (core.Length, local.ToArray(), torch.tensor(t, [core.Length, local.Count]));
    }

    /// <summary>
    /// Log of each row's softmax normaliser over all spots: the exact sum over the local spots plus the uniform sample's sum
    /// scaled by spots / sample size (sample members that are local are masked, so the estimate covers the other spots only).
    /// </summary>
    public static Tensor LogNormaliser(Tensor localLogits, Tensor sampleLogits, Tensor sampleIsLocal, int spots)
    {
        long m = sampleLogits.shape[1];
        var scaled = sampleLogits.masked_fill(sampleIsLocal.unsqueeze(0), float.NegativeInfinity) + Math.Log((double)spots / m);
        return torch.logsumexp(torch.cat([localLogits, scaled], 1), 1, keepdim: true);
    }

    /// <summary>Boolean mask of which <paramref name="sample"/> spots are local spots of the current batch (valid until the next <see cref="Batch"/>).</summary>
    public Tensor SampleIsLocal(long[] sample)
    {
        var m = new bool[sample.Length];
        for (int r = 0; r < sample.Length; r++) m[r] = _mark[sample[r]] == _stamp;
        return torch.tensor(m);
    }
}
