using Tessera.Data;

namespace Tessera.Methods.Spotscape;

/// <summary>
/// The batches a mini-batch step trains on and the subgraphs around them. Each slice is cut into compact tiles of at most
/// a target size by recursive median bisection of its coordinates along the wider axis (without coordinates: breadth-first
/// regions of the graph); the tiles serve the embedding of all spots and, with <see cref="BatchSampling.Tiles"/>, the
/// training batches (one tile of every slice). With <see cref="BatchSampling.RandomSpots"/> a training batch is instead a
/// uniform random sample of every slice's spots, drawn without replacement round by round. Either way the subgraph adds
/// the spots within a few hops of the batch (the halo) with every edge among them, so the GCN sees whole neighbourhoods.
/// Memory is O(N + edges): only the current batch is materialised.
/// </summary>
internal sealed class SpotBatches
{
    private readonly int[] adjPtr;
    private readonly int[] adjNbr;
    private readonly int[][][] tilesBySlice;
    private readonly int[] mark;
    private readonly int[] local;
    private int stamp;
    private readonly Random rng;
    private int[][]? order;
    private readonly BatchSampling sampling;
    private readonly int[][] spotsBySlice;
    private readonly int perSlice;
    private readonly int[] cursor;

    /// <summary>Tiles per slice (none with random-spot batches).</summary>
    public IReadOnlyList<int> TilesPerSlice => tilesBySlice.Select(t => t.Length).ToArray();

    /// <summary>
    /// Batches per round: after that many steps every tile (tiles) or every spot (random spots) of the largest slice was
    /// trained on once.
    /// </summary>
    public int BatchesPerRound { get; }

    /// <summary>Spots per slice in a random-spot batch (the largest tile size with tiles).</summary>
    public int SpotsPerSlice => perSlice;

    /// <summary>Every tile of every slice, in a fixed order (for embedding all spots).</summary>
    public IEnumerable<int[]> AllTiles => tilesBySlice.SelectMany(t => t);

    public SpotBatches(SpotscapeInput input, int batchSpots, int seed, BatchSampling sampling = BatchSampling.Tiles)
    {
        this.sampling = sampling;
        int n = input.NSpots;
        (adjPtr, adjNbr) = Adjacency(input.EdgeSrc, input.EdgeDst, n);
        mark = new int[n];
        local = new int[n];
        int slices = input.SliceIds.Max() + 1;
        var members = new List<int>[slices];
        for (int b = 0; b < slices; b++) members[b] = [];
        for (int i = 0; i < n; i++) members[input.SliceIds[i]].Add(i);
        // a batch holds one tile per slice, so each slice's tiles get an equal share of the batch
        int target = Math.Max(1, batchSpots / Math.Max(1, members.Count(m => m.Count > 0)));
        spotsBySlice = members.Where(m => m.Count > 0).Select(m => m.ToArray()).ToArray();
        // random-spot batches need no tiles (the embedding cuts its own)
        tilesBySlice = sampling == BatchSampling.RandomSpots ? []
            : spotsBySlice.Select(m => input.Coordinates is { } c ? Bisect(m, c, target) : GraphRegions(m, target)).ToArray();
        perSlice = target;
        cursor = new int[spotsBySlice.Length];
        BatchesPerRound = sampling == BatchSampling.RandomSpots
            ? spotsBySlice.Max(m => (m.Length + target - 1) / target)
            : tilesBySlice.Max(t => t.Length);
        rng = Nn.Seeding.Rng(seed, sampling == BatchSampling.RandomSpots ? "spotscape.spots" : "spotscape.tiles");
    }

    /// <summary>
    /// The batches BatchNorm statistics are re-estimated on after training, matching what training normalised over: the
    /// tiles, one at a time (tiles), or one round of random-spot batches holding every slice (random spots; a seeded
    /// partition of each slice, smaller slices cycled), which visits every spot once.
    /// </summary>
    public IEnumerable<int[]> RecalibrationBatches(int seed)
    {
        if (sampling == BatchSampling.Tiles) return AllTiles;
        var r = Nn.Seeding.Rng(seed, "spotscape.recalibration");
        var shuffled = spotsBySlice.Select(m => { var p = (int[])m.Clone(); r.Shuffle(p); return p; }).ToArray();
        return Enumerable.Range(0, BatchesPerRound).Select(b => shuffled.SelectMany(p =>
        {
            int chunks = (p.Length + perSlice - 1) / perSlice, start = b % chunks * perSlice;
            return p[start..Math.Min(p.Length, start + perSlice)];
        }).ToArray());
    }

    /// <summary>
    /// The core spots of optimiser step <paramref name="step"/> (steps must be asked for in order 0, 1, 2, …): every round of
    /// <see cref="BatchesPerRound"/> steps draws a fresh permutation of each slice's tiles (repeated cyclically for slices
    /// with fewer tiles), so every tile is visited once per round in a seeded random order.
    /// </summary>
    public int[] Core(int step)
    {
        if (sampling == BatchSampling.RandomSpots) return NextSample();
        int pos = step % BatchesPerRound;
        if (pos == 0 || order is null)
            order = tilesBySlice.Select(t =>
            {
                var p = Enumerable.Range(0, t.Length).ToArray();
                rng.Shuffle(p);
                return p;
            }).ToArray();
        if (tilesBySlice.Length == 1) return tilesBySlice[0][order[0][pos % order[0].Length]];
        return tilesBySlice.SelectMany((t, s) => t[order[s][pos % order[s].Length]]).ToArray();
    }

    /// <summary>
    /// The next <see cref="SpotsPerSlice"/> spots of every slice from that slice's current seeded permutation; a permutation
    /// used up is redrawn (a batch straddling two rounds takes the rest of one and the start of the next, never one spot
    /// twice within a round), so every spot is trained on equally often.
    /// </summary>
    private int[] NextSample()
    {
        order ??= spotsBySlice.Select(m => Shuffled(m)).ToArray();
        var batch = new List<int>(perSlice * spotsBySlice.Length);
        for (int s = 0; s < spotsBySlice.Length; s++)
        {
            int need = Math.Min(perSlice, spotsBySlice[s].Length);
            var seen = new HashSet<int>();
            while (need > 0)
            {
                if (cursor[s] == order[s].Length) { order[s] = Shuffled(spotsBySlice[s]); cursor[s] = 0; }
                int v = order[s][cursor[s]++];
                if (seen.Add(v)) { batch.Add(v); need--; }
            }
        }
        return [.. batch];
    }

    private int[] Shuffled(int[] spots)
    {
        var p = (int[])spots.Clone();
        rng.Shuffle(p);
        return p;
    }

    /// <summary>
    /// The subgraph of <paramref name="core"/> plus every spot within <paramref name="hops"/> hops: its spots (the core first,
    /// in the given order) and its edges in local ids as a 2×E edge index (sources then targets, both directions, no self-loops).
    /// </summary>
    public (int[] Nodes, long[] EdgeIndex) Subgraph(int[] core, int hops)
    {
        if (++stamp == int.MaxValue) { Array.Clear(mark); stamp = 1; }
        var nodes = new List<int>(core.Length * 2);
        foreach (var v in core)
            if (mark[v] != stamp) { mark[v] = stamp; local[v] = nodes.Count; nodes.Add(v); }
        int frontier0 = 0;
        for (int h = 0; h < hops; h++)
        {
            int frontier1 = nodes.Count;
            for (int i = frontier0; i < frontier1; i++)
            {
                int u = nodes[i];
                for (int p = adjPtr[u]; p < adjPtr[u + 1]; p++)
                {
                    int v = adjNbr[p];
                    if (mark[v] != stamp) { mark[v] = stamp; local[v] = nodes.Count; nodes.Add(v); }
                }
            }
            frontier0 = frontier1;
        }
        var src = new List<long>(); var dst = new List<long>();
        for (int i = 0; i < nodes.Count; i++)
        {
            int u = nodes[i];
            for (int p = adjPtr[u]; p < adjPtr[u + 1]; p++)
            {
                int v = adjNbr[p];
                if (mark[v] == stamp) { src.Add(i); dst.Add(local[v]); }
            }
        }
        var ei = new long[2 * src.Count];
        src.CopyTo(ei, 0); dst.CopyTo(ei, src.Count);
        return (nodes.ToArray(), ei);
    }

    /// <summary>Recursive median bisection along the wider axis until every tile holds at most <paramref name="target"/> spots.</summary>
    internal static int[][] Bisect(int[] spots, DenseMatrix coords, int target)
    {
        if (coords.Cols < 2) throw new TesseraException($"coordinates must have at least 2 columns but have {coords.Cols}");
        var tiles = new List<int[]>();
        void Split(int[] s)
        {
            int nt = (s.Length + target - 1) / target;
            if (nt <= 1) { tiles.Add(s); return; }
            double x0 = double.PositiveInfinity, x1 = double.NegativeInfinity, y0 = double.PositiveInfinity, y1 = double.NegativeInfinity;
            foreach (var i in s) { double x = coords[i, 0], y = coords[i, 1]; x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); }
            int axis = x1 - x0 >= y1 - y0 ? 0 : 1;
            // sort by the coordinate, ties by spot index, so the cut does not depend on the sort's stability
            var sorted = s.OrderBy(i => coords[i, axis]).ThenBy(i => i).ToArray();
            int cut = (int)((long)sorted.Length * (nt / 2) / nt);
            Split(sorted[..cut]);
            Split(sorted[cut..]);
        }
        Split(spots);
        return [.. tiles];
    }

    /// <summary>Without coordinates: breadth-first regions of the graph of at most <paramref name="target"/> spots, started in index order.</summary>
    private int[][] GraphRegions(int[] spots, int target)
    {
        var tiles = new List<int[]>();
        var taken = new HashSet<int>();
        var queue = new Queue<int>();
        foreach (var start in spots)
        {
            if (!taken.Add(start)) continue;
            var tile = new List<int> { start };
            queue.Clear(); queue.Enqueue(start);
            while (queue.Count > 0 && tile.Count < target)
            {
                int u = queue.Dequeue();
                for (int p = adjPtr[u]; p < adjPtr[u + 1] && tile.Count < target; p++)
                    if (taken.Add(adjNbr[p])) { tile.Add(adjNbr[p]); queue.Enqueue(adjNbr[p]); }
            }
            tiles.Add([.. tile]);
        }
        return [.. tiles];
    }

    private static (int[] Ptr, int[] Nbr) Adjacency(int[] src, int[] dst, int n)
    {
        var ptr = new int[n + 1];
        foreach (var s in src) ptr[s + 1]++;
        for (int i = 0; i < n; i++) ptr[i + 1] += ptr[i];
        var next = (int[])ptr.Clone();
        var nbr = new int[src.Length];
        for (int e = 0; e < src.Length; e++) nbr[next[src[e]]++] = dst[e];
        return (ptr, nbr);
    }
}
