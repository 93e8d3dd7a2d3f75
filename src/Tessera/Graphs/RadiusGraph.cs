using Tessera.Data;

namespace Tessera.Graphs;

/// <summary>
/// Radius (ε-ball) spatial graphs, the "Radius" mode of STAGATE's Cal_Spatial_Net used by STAGATE and Spotscape.
/// </summary>
public static class RadiusGraph
{
    /// <summary>
    /// Connects every pair of points closer than <paramref name="radius"/> (strictly: distance &lt; radius), weight 1.
    /// </summary>
    /// <remarks>
    /// <para>Neighbours are found with a uniform cell list (cell side ≥ radius, so only the 3^d adjacent cells are
    /// scanned), in O(N + edges) time and memory: no N × N matrix, so a million points is fine.</para>
    /// <para>With <paramref name="maxNeighbors"/>, each point keeps only its maxNeighbors nearest in-radius neighbours
    /// (ties broken by the smaller index). The truncated directed graph is then symmetrised by UNION: (i, j) is kept when
    /// j is among i's kept neighbours OR i among j's, so a node's degree can exceed maxNeighbors. Without truncation the
    /// graph is symmetric by construction.</para>
    /// <para>Self-loops are excluded from the neighbour search; <paramref name="selfLoops"/> then adds (i, i) with
    /// weight 1 to every node (STAGATE adds the identity before normalising).</para>
    /// </remarks>
    /// <param name="coords">N × 2 or N × 3 coordinates (e.g. obsm["spatial"] in full-resolution pixels).</param>
    /// <param name="radius">Cut-off distance in coordinate units (positive).</param>
    /// <param name="maxNeighbors">Optional cap on neighbours per point (≥ 1).</param>
    /// <param name="selfLoops">Add a self-loop on every node.</param>
    public static SpatialGraph Build(DenseMatrix coords, double radius, int? maxNeighbors = null, bool selfLoops = false)
    {
        CheckCoords(coords);
        if (!(radius > 0) || double.IsInfinity(radius)) throw new TesseraException($"radius must be a positive finite number, got {radius}");
        if (maxNeighbors is < 1) throw new TesseraException($"maxNeighbors must be at least 1, got {maxNeighbors}");
        int n = coords.Rows, dim = coords.Cols;
        var pts = coords.Data;

        // Cell list. Cell side = radius unless that would make far more cells than points (sparse data, tiny radius):
        // then the side grows, which keeps memory O(N) and stays correct because cells remain ≥ radius.
        var min = new double[dim]; var max = new double[dim];
        Array.Fill(min, double.PositiveInfinity); Array.Fill(max, double.NegativeInfinity);
        for (int i = 0; i < n; i++)
            for (int d = 0; d < dim; d++) { double v = pts[i * dim + d]; if (v < min[d]) min[d] = v; if (v > max[d]) max[d] = v; }
        double side = radius;
        long maxCells = Math.Max(64, 2L * n);
        long CellCount(double s)
        {
            double c = 1; // in double: a tiny radius over a wide extent would overflow long
            for (int d = 0; d < dim; d++) { c *= Math.Floor((max[d] - min[d]) / s) + 1; if (c > maxCells) return long.MaxValue; }
            return (long)c;
        }
        while (CellCount(side) > maxCells) side *= 1.5;
        var nc = new int[dim];
        for (int d = 0; d < dim; d++) nc[d] = (int)Math.Floor((max[d] - min[d]) / side) + 1;
        int totalCells = 1; foreach (var c in nc) totalCells *= c;

        int CellOf(int i, int d) => Math.Min(nc[d] - 1, (int)((pts[i * dim + d] - min[d]) / side));
        var cell = new int[n];
        var cellStart = new int[totalCells + 1];
        for (int i = 0; i < n; i++)
        {
            int c = 0;
            for (int d = dim - 1; d >= 0; d--) c = c * nc[d] + CellOf(i, d);
            cell[i] = c; cellStart[c + 1]++;
        }
        for (int c = 0; c < totalCells; c++) cellStart[c + 1] += cellStart[c];
        var sorted = new int[n];
        {
            var fill = (int[])cellStart.Clone();
            for (int i = 0; i < n; i++) sorted[fill[cell[i]]++] = i; // ascending index within each cell
        }

        double r2 = radius * radius;
        int cap = maxNeighbors ?? int.MaxValue;
        const int Block = 4096;
        int blocks = (n + Block - 1) / Block;
        var blockDst = new int[blocks][]; var blockCount = new int[blocks][];
        Parallel.For(0, blocks, b =>
        {
            int lo = b * Block, hi = Math.Min(n, lo + Block);
            var dst = new List<int>(); var counts = new int[hi - lo];
            var candIdx = new List<int>(); var candD = new List<double>();
            Span<int> ci = stackalloc int[3];
            for (int i = lo; i < hi; i++)
            {
                candIdx.Clear(); candD.Clear();
                for (int d = 0; d < dim; d++) ci[d] = CellOf(i, d);
                int x0 = Math.Max(0, ci[0] - 1), x1 = Math.Min(nc[0] - 1, ci[0] + 1);
                int y0 = Math.Max(0, ci[1] - 1), y1 = Math.Min(nc[1] - 1, ci[1] + 1);
                int z0 = dim == 3 ? Math.Max(0, ci[2] - 1) : 0, z1 = dim == 3 ? Math.Min(nc[2] - 1, ci[2] + 1) : 0;
                for (int z = z0; z <= z1; z++)
                    for (int y = y0; y <= y1; y++)
                        for (int x = x0; x <= x1; x++)
                        {
                            int c = (z * nc[1] + y) * nc[0] + x;
                            for (int k = cellStart[c]; k < cellStart[c + 1]; k++)
                            {
                                int j = sorted[k];
                                if (j == i) continue;
                                double s = 0;
                                for (int d = 0; d < dim; d++) { double t = pts[j * dim + d] - pts[i * dim + d]; s += t * t; }
                                if (s < r2) { candIdx.Add(j); candD.Add(s); }
                            }
                        }
                int m = candIdx.Count;
                if (m > cap)
                {
                    var order = Enumerable.Range(0, m).ToArray();
                    var ii = candIdx; var dd = candD;
                    Array.Sort(order, (a, c) => dd[a] != dd[c] ? dd[a].CompareTo(dd[c]) : ii[a].CompareTo(ii[c]));
                    var keep = order.Take(cap).Select(o => ii[o]).ToList();
                    candIdx.Clear(); candIdx.AddRange(keep); m = cap;
                }
                candIdx.Sort();
                dst.AddRange(candIdx);
                counts[i - lo] = m;
            }
            blockDst[b] = dst.ToArray(); blockCount[b] = counts;
        });

        long total = blockDst.Sum(a => (long)a.Length);
        if (total > int.MaxValue) throw new TesseraException($"radius {radius} gives {total} edges, more than a graph can hold; use a smaller radius or maxNeighbors");
        var src = new int[total]; var dstAll = new int[total];
        int e = 0;
        for (int b = 0; b < blocks; b++)
        {
            Array.Copy(blockDst[b], 0, dstAll, e, blockDst[b].Length);
            int lo = b * Block;
            for (int t = 0; t < blockCount[b].Length; t++) for (int q = 0; q < blockCount[b][t]; q++) src[e++] = lo + t;
        }
        var g = SpatialGraph.FromSorted(n, src, dstAll);
        if (maxNeighbors.HasValue) g = g.Symmetrize();
        return selfLoops ? g.WithSelfLoops() : g;
    }

    /// <summary>
    /// A radius for <see cref="Build"/> from the data's own spacing: 1.5 × the median nearest-neighbour distance.
    /// </summary>
    /// <remarks>
    /// On a hexagonal lattice (Visium, spacing s) the first ring of 6 neighbours lies at s and the second at √3·s ≈ 1.73·s;
    /// on a square lattice (ST, Slide-seq pucks binned to a grid) the rings lie at s, √2·s ≈ 1.41·s and 2·s. 1.5·s sits
    /// between the rings, so a lattice gets exactly its first ring (6 neighbours, Visium) or first two rings (8, square
    /// grid), far from any boundary where jitter in registered coordinates would flip edges in and out. For irregular
    /// single-cell data (MERFISH, seqFISH, Stereo-seq cells) it gives a mean degree of about 6-10, the neighbourhood size
    /// STAGATE/Spotscape-style GNNs are tuned for. The median, not the mean, ignores isolated outlier cells.
    /// </remarks>
    public static double AutoRadius(DenseMatrix coords)
    {
        CheckCoords(coords);
        if (coords.Rows < 2) throw new TesseraException($"AutoRadius needs at least 2 points, got {coords.Rows}");
        var nn = new KdTree(coords).NearestNeighborDistances();
        Array.Sort(nn);
        int n = nn.Length;
        double median = n % 2 == 1 ? nn[n / 2] : 0.5 * (nn[n / 2 - 1] + nn[n / 2]);
        if (!(median > 0)) throw new TesseraException("the median nearest-neighbour distance is 0: more than half of the points share their coordinates with another point");
        return 1.5 * median;
    }

    internal static void CheckCoords(DenseMatrix coords)
    {
        if (coords.Cols is not (2 or 3)) throw new TesseraException($"spatial coordinates must have 2 or 3 columns, got {coords.Cols}");
        for (int i = 0; i < coords.Data.Length; i++)
            if (!double.IsFinite(coords.Data[i]))
                throw new TesseraException($"spatial coordinate of point {i / coords.Cols} (column {i % coords.Cols}) is {coords.Data[i].ToString(System.Globalization.CultureInfo.InvariantCulture)}; coordinates must be finite");
    }
}
