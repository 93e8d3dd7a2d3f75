using Tessera.Data;

namespace Tessera.Graphs;

/// <summary>
/// A KD-tree over the rows of a coordinate matrix (any dimension, intended for 2-3D spatial coordinates)
/// with exact k-nearest-neighbour and radius queries. Ties in distance are broken by the smaller point index,
/// so results are deterministic. Queries are thread-safe (the tree is read-only after construction).
/// </summary>
public sealed class KdTree
{
    private readonly double[] _pts;      // copy of the coordinates, row-major
    private readonly int[] _perm;        // point indices, leaves own contiguous ranges
    private readonly int _dim;
    private readonly int _leafSize;
    // node arrays
    private readonly List<int> _startL = [], _endL = [], _leftL = [], _rightL = [];
    private readonly List<double> _boxLoL = [], _boxHiL = [];
    private readonly int[] _start, _end, _left, _right;
    private readonly double[] _boxLo, _boxHi;

    /// <summary>Number of indexed points.</summary>
    public int Count { get; }
    /// <summary>Number of coordinates per point.</summary>
    public int Dimensions => _dim;

    /// <summary>Builds the tree over the rows of <paramref name="points"/> (copied; the input is not modified).</summary>
    /// <param name="points">N × d coordinates; must be finite.</param>
    /// <param name="leafSize">Points per leaf (16 is a good default for 2-3D).</param>
    public KdTree(DenseMatrix points, int leafSize = 16)
    {
        if (points.Cols < 1) throw new TesseraException("coordinates have no columns");
        if (leafSize < 1) throw new ArgumentException($"leafSize must be at least 1, got {leafSize}");
        for (int i = 0; i < points.Data.Length; i++)
            if (!double.IsFinite(points.Data[i]))
                throw new TesseraException($"coordinate ({i / points.Cols}, {i % points.Cols}) is {points.Data[i]}; coordinates must be finite");
        _dim = points.Cols; _leafSize = leafSize; Count = points.Rows;
        _pts = (double[])points.Data.Clone();
        _perm = new int[Count];
        for (int i = 0; i < Count; i++) _perm[i] = i;
        if (Count > 0) Build(0, Count);
        _start = [.. _startL]; _end = [.. _endL]; _left = [.. _leftL]; _right = [.. _rightL];
        _boxLo = [.. _boxLoL]; _boxHi = [.. _boxHiL];
        _startL.Clear(); _endL.Clear(); _leftL.Clear(); _rightL.Clear(); _boxLoL.Clear(); _boxHiL.Clear();
    }

    private int Build(int start, int end)
    {
        int node = _startL.Count;
        _startL.Add(start); _endL.Add(end); _leftL.Add(-1); _rightL.Add(-1);
        var lo = new double[_dim]; var hi = new double[_dim];
        Array.Fill(lo, double.PositiveInfinity); Array.Fill(hi, double.NegativeInfinity);
        for (int k = start; k < end; k++)
        {
            int p = _perm[k] * _dim;
            for (int d = 0; d < _dim; d++) { double v = _pts[p + d]; if (v < lo[d]) lo[d] = v; if (v > hi[d]) hi[d] = v; }
        }
        _boxLoL.AddRange(lo); _boxHiL.AddRange(hi);
        if (end - start <= _leafSize) return node;
        int split = 0; double spread = -1;
        for (int d = 0; d < _dim; d++) if (hi[d] - lo[d] > spread) { spread = hi[d] - lo[d]; split = d; }
        if (spread <= 0) return node; // all points identical: keep as one leaf
        int mid = (start + end) >>> 1;
        Select(start, end - 1, mid, split);
        int l = Build(start, mid);
        int r = Build(mid, end);
        _leftL[node] = l; _rightL[node] = r;
        return node;
    }

    // Quickselect on _perm[lo..hi] so position k holds the k-th smallest coordinate along dim.
    private void Select(int lo, int hi, int k, int dim)
    {
        while (hi > lo)
        {
            double pivot = _pts[_perm[(lo + hi) >>> 1] * _dim + dim];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (_pts[_perm[i] * _dim + dim] < pivot) i++;
                while (_pts[_perm[j] * _dim + dim] > pivot) j--;
                if (i <= j) { (_perm[i], _perm[j]) = (_perm[j], _perm[i]); i++; j--; }
            }
            if (k <= j) hi = j; else if (k >= i) lo = i; else return;
        }
    }

    private double BoxDist2(int node, ReadOnlySpan<double> q)
    {
        double s = 0; int b = node * _dim;
        for (int d = 0; d < _dim; d++)
        {
            double v = q[d], lo = _boxLo[b + d], hi = _boxHi[b + d];
            double t = v < lo ? lo - v : v > hi ? v - hi : 0;
            s += t * t;
        }
        return s;
    }

    private double Dist2(int point, ReadOnlySpan<double> q)
    {
        double s = 0; int p = point * _dim;
        for (int d = 0; d < _dim; d++) { double t = _pts[p + d] - q[d]; s += t * t; }
        return s;
    }

    private void CheckQuery(ReadOnlySpan<double> q)
    {
        if (q.Length != _dim) throw new ArgumentException($"query has {q.Length} coordinates but the tree has {_dim} dimensions");
    }

    /// <summary>
    /// The <paramref name="k"/> points nearest to <paramref name="query"/>, ordered by (distance, index);
    /// <paramref name="exclude"/> (e.g. the query's own index) is skipped. Fewer than k are returned when the tree is smaller.
    /// </summary>
    public (int[] Indices, double[] Distances) Nearest(ReadOnlySpan<double> query, int k, int exclude = -1)
    {
        CheckQuery(query);
        if (k < 0) throw new ArgumentException($"k must be non-negative, got {k}");
        int cap = Math.Min(k, Count - (exclude >= 0 && exclude < Count ? 1 : 0));
        if (cap <= 0 || Count == 0) return ([], []);
        var heapD = new double[cap]; var heapI = new int[cap]; int size = 0;
        SearchKnn(0, query, exclude, heapD, heapI, ref size);
        // heap → sorted by (d2, idx); insertion sort: k is small
        var idx = new int[size]; var d2 = new double[size];
        for (int a = 0; a < size; a++)
        {
            double d = heapD[a]; int p = heapI[a]; int b = a - 1;
            while (b >= 0 && Worse(d2[b], idx[b], d, p)) { d2[b + 1] = d2[b]; idx[b + 1] = idx[b]; b--; }
            d2[b + 1] = d; idx[b + 1] = p;
        }
        for (int a = 0; a < size; a++) d2[a] = Math.Sqrt(d2[a]);
        return (idx, d2);
    }

    // (d, i) lexicographic "greater than"
    private static bool Worse(double da, int ia, double db, int ib) => da > db || (da == db && ia > ib);

    private void SearchKnn(int node, ReadOnlySpan<double> q, int exclude, double[] hd, int[] hi, ref int size)
    {
        int left = _left[node];
        if (left < 0)
        {
            for (int k = _start[node]; k < _end[node]; k++)
            {
                int p = _perm[k];
                if (p == exclude) continue;
                double d = Dist2(p, q);
                if (size < hd.Length) { hd[size] = d; hi[size] = p; SiftUp(hd, hi, size++); }
                else if (Worse(hd[0], hi[0], d, p)) { hd[0] = d; hi[0] = p; SiftDown(hd, hi, size); }
            }
            return;
        }
        int right = _right[node];
        double dl = BoxDist2(left, q), dr = BoxDist2(right, q);
        int first = dl <= dr ? left : right, second = dl <= dr ? right : left;
        double df = Math.Min(dl, dr), ds = Math.Max(dl, dr);
        // ">" (not ">="): a box at exactly the current worst distance may hold a smaller index that wins the tie
        if (size < hd.Length || df <= hd[0]) SearchKnn(first, q, exclude, hd, hi, ref size);
        if (size < hd.Length || ds <= hd[0]) SearchKnn(second, q, exclude, hd, hi, ref size);
    }

    private static void SiftUp(double[] hd, int[] hi, int i)
    {
        while (i > 0)
        {
            int p = (i - 1) >> 1;
            if (!Worse(hd[i], hi[i], hd[p], hi[p])) break;
            (hd[i], hd[p]) = (hd[p], hd[i]); (hi[i], hi[p]) = (hi[p], hi[i]); i = p;
        }
    }

    private static void SiftDown(double[] hd, int[] hi, int size)
    {
        int i = 0;
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < size && Worse(hd[l], hi[l], hd[m], hi[m])) m = l;
            if (r < size && Worse(hd[r], hi[r], hd[m], hi[m])) m = r;
            if (m == i) return;
            (hd[i], hd[m]) = (hd[m], hd[i]); (hi[i], hi[m]) = (hi[m], hi[i]); i = m;
        }
    }

    /// <summary>
    /// Indices (ascending) of the points within <paramref name="radius"/> of <paramref name="query"/>:
    /// distance &lt; radius when <paramref name="strict"/> (the STAGATE/Spotscape rule), ≤ radius otherwise
    /// (sklearn's radius_neighbors rule). <paramref name="exclude"/> is skipped.
    /// </summary>
    public int[] WithinRadius(ReadOnlySpan<double> query, double radius, bool strict = true, int exclude = -1)
    {
        CheckQuery(query);
        if (!(radius >= 0)) throw new ArgumentException($"radius must be non-negative, got {radius}");
        var found = new List<int>();
        if (Count > 0) SearchRadius(0, query, radius * radius, strict, exclude, found);
        found.Sort();
        return found.ToArray();
    }

    private void SearchRadius(int node, ReadOnlySpan<double> q, double r2, bool strict, int exclude, List<int> found)
    {
        double b = BoxDist2(node, q);
        if (strict ? b >= r2 : b > r2) return;
        int left = _left[node];
        if (left < 0)
        {
            for (int k = _start[node]; k < _end[node]; k++)
            {
                int p = _perm[k];
                if (p == exclude) continue;
                double d = Dist2(p, q);
                if (strict ? d < r2 : d <= r2) found.Add(p);
            }
            return;
        }
        SearchRadius(left, q, r2, strict, exclude, found);
        SearchRadius(_right[node], q, r2, strict, exclude, found);
    }

    /// <summary>Distance from every indexed point to its nearest other point (0 for duplicated coordinates), computed in parallel.</summary>
    public double[] NearestNeighborDistances()
    {
        var d = new double[Count];
        Parallel.For(0, Count, i =>
        {
            var (_, dist) = Nearest(_pts.AsSpan(i * _dim, _dim), 1, i);
            d[i] = dist.Length > 0 ? dist[0] : double.NaN;
        });
        return d;
    }
}
