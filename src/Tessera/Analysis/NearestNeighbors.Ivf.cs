using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Analysis;

public static partial class NearestNeighbors
{
    /// <summary>
    /// Approximate kNN by an inverted file (IVF-flat; Jégou et al. 2011, faiss IndexIVFFlat): k-means on a seeded sample
    /// (one restart, 20 iterations, at most 64 points per cell) gives <see cref="NearestNeighborsOptions.IvfLists"/>
    /// centroids; every point belongs to the cell of its nearest centroid and is searched among the points of the cells
    /// that hold its <see cref="NearestNeighborsOptions.IvfProbes"/> nearest centroids. The points of one cell are searched
    /// together against the union of their cells (so each point sees at least its own probes) with one matrix product of
    /// augmented rows, as <see cref="Exact"/> does, scanned into bounded heaps; the kept candidates are re-ranked in
    /// float64. Cost ≈ probes / lists of the exact search. Determinism: the sample, k-means and the probes follow the seed;
    /// each cell is one task that alone updates its points' heaps in a fixed order, so the result does not depend on the
    /// number of threads.
    /// </summary>
    public static KnnResult Ivf(float[] x, int rows, int cols, NearestNeighborsOptions options)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        int k = options.Neighbors;
        Validate(x, rows, cols, k, options.IncludeSelf);
        int lists = options.IvfLists ?? Math.Max(1, (int)Math.Round(Math.Sqrt(rows)));
        if (lists < 1 || lists > rows) throw new TesseraException($"IVF lists must be between 1 and the number of points ({rows}) but is {lists}");
        if (options.IvfProbes < 1) throw new TesseraException($"IVF probes must be at least 1 but is {options.IvfProbes}");
        int probes = Math.Min(options.IvfProbes, lists);
        float[] data = options.Metric == NeighborMetric.Cosine ? NormalizeRows(x, rows, cols) : x;
        int kOthers = options.IncludeSelf ? k - 1 : k;
        int kc = Math.Min(rows - 1, kOthers + 8);
        var idx = new int[(long)rows * k];
        var dst = new float[(long)rows * k];
        if (kc == 0)
        {
            for (int r = 0; r < rows; r++) { idx[(long)r * k] = r; dst[(long)r * k] = 0; }
            return new KnnResult(rows, k, idx, dst, options.IncludeSelf);
        }

        var centers = Centroids(data, rows, cols, lists, options.Seed);
        int[] near;
        using (var all = tensor(data, [rows, cols])) near = NearestCentroids(all, centers, lists, probes);
        // cells: points grouped by their nearest centroid (counting sort: index order within a cell)
        var start = new int[lists + 1];
        for (int r = 0; r < rows; r++) start[near[(long)r * probes] + 1]++;
        for (int c = 0; c < lists; c++) start[c + 1] += start[c];
        var members = new int[rows];
        var fill = (int[])start.Clone();
        for (int r = 0; r < rows; r++) members[fill[near[(long)r * probes]]++] = r;

        var heaps = new TileHeaps(rows, kc);
        using (var outer = NewDisposeScope())
        {
            // the exact search's augmented rows, permuted so that every cell is a contiguous range
            var (left, right) = AugmentedRows(data, rows, cols, options.Metric);
            using var perm = tensor(members.Select(m => (long)m).ToArray());
            var leftP = left.index_select(0, perm).contiguous();
            var rightP = right.index_select(0, perm).contiguous();
            // only the permuted copies are read from here on
            left.Dispose(); right.Dispose();
            Parallel.For(0, lists, c => SearchCell(c, start, members, near, probes, centers, cols, kc, leftP, rightP, heaps));
        }
        Parallel.For(0, rows, r => RefineRow(data, cols, options.Metric, r, heaps.Idx.AsSpan(r * kc, kc), k, options.IncludeSelf, idx, dst));
        return new KnnResult(rows, k, idx, dst, options.IncludeSelf);
    }

    /// <summary>The points of cell <paramref name="c"/> against every point of the cells they probe (one task).</summary>
    private static void SearchCell(int c, int[] start, int[] members, int[] near, int probes, float[] centers, int cols, int kc,
        Tensor leftP, Tensor rightP, TileHeaps heaps)
    {
        int cs = start[c], ce = start[c + 1];
        if (cs == ce) return;
        int lists = start.Length - 1;
        var probed = new SortedSet<int>();
        for (int p = cs; p < ce; p++)
            for (int t = 0; t < probes; t++) probed.Add(near[(long)members[p] * probes + t]);
        long count = probed.Sum(l => (long)(start[l + 1] - start[l]));
        if (count < kc + 1)
        {
            // tiny cells: add the cells nearest to this centroid until every point has kc candidates besides itself
            foreach (var l in CentroidOrder(centers, cols, lists, c))
            {
                if (count >= kc + 1) break;
                if (probed.Add(l)) count += start[l + 1] - start[l];
            }
        }
        var cand = new int[count];
        int q = 0;
        foreach (var l in probed)
            for (int p = start[l]; p < start[l + 1]; p++) cand[q++] = members[p];
        using var scope = NewDisposeScope();
        var right = cat(probed.Where(l => start[l + 1] > start[l]).Select(l => rightP.narrow(0, start[l], start[l + 1] - start[l])).ToArray(), 0);
        // tiles of at most 1024 query rows × 16M / rows candidates (64 MB of float32 distances), so a cell that holds most
        // of the points (very uneven data) does not need a cell × N product at once
        for (int r0 = cs; r0 < ce; r0 += 1024)
        {
            int nr = Math.Min(1024, ce - r0);
            int colBlock = Math.Max(1, (16 << 20) / nr);
            for (int c0 = 0; c0 < cand.Length; c0 += colBlock)
            {
                int nc = Math.Min(colBlock, cand.Length - c0);
                using var inner = NewDisposeScope();
                var tile = leftP.narrow(0, r0, nr).matmul(right.narrow(0, c0, nc).t()).contiguous();
                heaps.ScanGathered(TilePointer(tile), members.AsSpan(r0, nr), nc == cand.Length ? cand : cand[c0..(c0 + nc)], nc);
            }
        }
    }

    /// <summary>k-means centroids (lists × cols, row-major; 20 Lloyd iterations) of a seeded sample of at most 64 points per list.</summary>
    private static float[] Centroids(float[] data, int rows, int cols, int lists, int seed)
    {
        int n = Math.Min(rows, 64 * lists);
        var rng = Seeding.Rng(seed, "knn.ivf");
        var pick = Enumerable.Range(0, rows).ToArray();
        for (int i = 0; i < n; i++) { int j = i + rng.Next(rows - i); (pick[i], pick[j]) = (pick[j], pick[i]); }
        Array.Sort(pick, 0, n);
        var sample = new float[(long)n * cols];
        for (int i = 0; i < n; i++) Array.Copy(data, (long)pick[i] * cols, sample, (long)i * cols, cols);
        // initial centroids: distinct random sample points, as faiss does; then Lloyd iterations with the assignment as
        // matrix products (NearestCentroids; the sums in managed float64, in index order: deterministic). Measured against
        // KMeans with these initial centres (its managed distance loops) on 100,000 × 64: 3.0–3.1 s vs 3.5–3.7 s, same recall.
        var cen = new float[(long)lists * cols];
        var order = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < lists; i++) { int j = i + rng.Next(n - i); (order[i], order[j]) = (order[j], order[i]); }
        for (int i = 0; i < lists; i++) Array.Copy(sample, (long)order[i] * cols, cen, (long)i * cols, cols);
        using var xs = tensor(sample, [n, cols]);
        var sums = new double[(long)lists * cols];
        var counts = new int[lists];
        for (int it = 0; it < 20; it++)
        {
            var assign = NearestCentroids(xs, cen, lists, 1);
            Array.Clear(sums); Array.Clear(counts);
            for (int i = 0; i < n; i++)
            {
                int l = assign[i]; counts[l]++;
                for (int j = 0; j < cols; j++) sums[(long)l * cols + j] += sample[(long)i * cols + j];
            }
            // an empty cell keeps its centroid
            for (int l = 0; l < lists; l++)
                if (counts[l] > 0)
                    for (int j = 0; j < cols; j++) cen[(long)l * cols + j] = (float)(sums[(long)l * cols + j] / counts[l]);
        }
        return cen;
    }

    /// <summary>
    /// Every row's <paramref name="probes"/> nearest centroids, nearest first (row-major rows × probes), in blocks of rows:
    /// the probes of the search and, with one probe, the assignment step of the centroids' Lloyd iterations.
    /// </summary>
    private static int[] NearestCentroids(Tensor x, float[] centers, int lists, int probes)
    {
        int rows = (int)x.shape[0], cols = (int)x.shape[1];
        var near = new int[(long)rows * probes];
        using var scope = NewDisposeScope();
        var cen = tensor(centers, [lists, cols]);
        var cn = cen.mul(cen).sum(1).unsqueeze(0);
        const int Block = 16384;
        for (int r0 = 0; r0 < rows; r0 += Block)
        {
            using var inner = NewDisposeScope();
            int nr = Math.Min(Block, rows - r0);
            var xb = x.narrow(0, r0, nr);
            // ‖x‖² is the same for every centroid of a row: ranking by ‖c‖² − 2 x·c is ranking by distance
            var d = cn - xb.matmul(cen.t()).mul(2);
            var top = d.topk(probes, 1, largest: false, sorted: true).indexes.to(ScalarType.Int32).contiguous();
            top.data<int>().CopyTo(near.AsSpan((int)((long)r0 * probes), nr * probes));
        }
        return near;
    }

    /// <summary>Centroid indices by increasing distance from centroid <paramref name="c"/> (ties by index).</summary>
    private static IEnumerable<int> CentroidOrder(float[] centers, int cols, int lists, int c)
    {
        var d = new double[lists];
        for (int l = 0; l < lists; l++)
        {
            double s = 0;
            for (int j = 0; j < cols; j++) { double t = centers[(long)l * cols + j] - centers[(long)c * cols + j]; s += t * t; }
            d[l] = s;
        }
        return Enumerable.Range(0, lists).OrderBy(l => d[l]).ThenBy(l => l);
    }
}
