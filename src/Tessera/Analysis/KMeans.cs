using Tessera.Data;
using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Analysis;

/// <summary>Options for <see cref="KMeans"/> (names and defaults follow sklearn.cluster.KMeans).</summary>
public sealed class KMeansOptions
{
    /// <summary>Number of clusters (sklearn n_clusters).</summary>
    public int K { get; set; } = 8;
    /// <summary>Number of k-means++ restarts; the run with the lowest inertia is kept.</summary>
    public int NInit { get; set; } = 10;
    /// <summary>Maximum Lloyd iterations per run.</summary>
    public int MaxIter { get; set; } = 300;
    /// <summary>Convergence tolerance relative to the mean per-feature variance of the data (as sklearn).</summary>
    public double Tol { get; set; } = 1e-4;
    /// <summary>Seed for the k-means++ initialisation; same seed gives identical results.</summary>
    public int Seed { get; set; }
    /// <summary>Optional explicit K × D initial centers (sklearn init=array); then a single run is made and NInit is ignored.</summary>
    public DenseMatrix? InitialCenters { get; set; }
}

/// <summary>
/// Lloyd k-means with sklearn's greedy k-means++ initialisation (2 + ⌊ln K⌋ local trials), sklearn's relative
/// tolerance, empty-cluster relocation and best-of-NInit selection. Distances are computed with torch in row blocks.
/// </summary>
public sealed class KMeans
{
    private readonly KMeansOptions _o;

    /// <summary>Creates the estimator.</summary>
    public KMeans(KMeansOptions options) => _o = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>Clusters the rows of <paramref name="x"/>.</summary>
    public KMeansModel Fit(DenseMatrix x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = x.Rows, d = x.Cols, k = _o.K;
        if (k < 1) throw new TesseraException($"KMeans K must be at least 1, got {k}");
        if (_o.NInit < 1) throw new TesseraException($"KMeans NInit must be at least 1, got {_o.NInit}");
        if (_o.MaxIter < 1) throw new TesseraException($"KMeans MaxIter must be at least 1, got {_o.MaxIter}");
        if (!(_o.Tol >= 0)) throw new TesseraException($"KMeans Tol must be non-negative, got {_o.Tol}");
        if (n < k) throw new TesseraException($"KMeans needs at least K={k} rows but x has {n}");
        if (d < 1) throw new TesseraException("KMeans input x has no columns");
        KMeansCore.CheckFinite(x, "x");
        if (_o.InitialCenters is { } ic)
        {
            if (ic.Rows != k || ic.Cols != d)
                throw new TesseraException($"InitialCenters has shape ({ic.Rows}, {ic.Cols}) but ({k}, {d}) is needed for K={k} and x with {d} columns");
            KMeansCore.CheckFinite(ic, "InitialCenters");
        }

        using var scope = NewDisposeScope();
        // sklearn centers the data before fitting (numerically kinder distance expansion); centers are shifted back.
        var mean = new double[d];
        for (int i = 0; i < n; i++) { var r = x.Row(i); for (int j = 0; j < d; j++) mean[j] += r[j]; }
        for (int j = 0; j < d; j++) mean[j] /= n;
        var xc = new double[(long)n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) xc[(long)i * d + j] = x.Data[(long)i * d + j] - mean[j];
        var X = torch.tensor(xc, new long[] { n, d }, dtype: ScalarType.Float64);
        var xsq = X.square().sum(1);

        double tolAbs = _o.Tol * KMeansCore.MeanVariance(x);
        var rng = Seeding.Rng(_o.Seed, "kmeans");

        KMeansModel? best = null;
        int runs = _o.InitialCenters == null ? _o.NInit : 1;
        for (int run = 0; run < runs; run++)
        {
            Tensor c0;
            if (_o.InitialCenters is { } init)
            {
                var ci = new double[(long)k * d];
                for (int i = 0; i < k; i++) for (int j = 0; j < d; j++) ci[(long)i * d + j] = init.Data[(long)i * d + j] - mean[j];
                c0 = torch.tensor(ci, new long[] { k, d }, dtype: ScalarType.Float64);
            }
            else c0 = KMeansCore.KMeansPlusPlus(X, xsq, k, rng);
            var (labels, centers, inertia, nIter) = KMeansCore.Lloyd(X, xsq, c0, _o.MaxIter, tolAbs);
            if (best == null || inertia < best.Inertia)
            {
                var cd = centers.data<double>().ToArray();
                for (int i = 0; i < k; i++) for (int j = 0; j < d; j++) cd[(long)i * d + j] += mean[j];
                best = new KMeansModel(new DenseMatrix(k, d, cd), labels, inertia, nIter);
            }
        }
        return best!;
    }
}

/// <summary>A fitted k-means clustering.</summary>
public sealed class KMeansModel
{
    /// <summary>K × D cluster centers.</summary>
    public DenseMatrix Centers { get; }
    /// <summary>Cluster index (0..K-1) of each training row.</summary>
    public int[] Labels { get; }
    /// <summary>Sum of squared distances of training rows to their centers.</summary>
    public double Inertia { get; }
    /// <summary>Lloyd iterations run by the kept restart.</summary>
    public int NIter { get; }

    /// <summary>Creates a model (normally from <see cref="KMeans.Fit"/>).</summary>
    public KMeansModel(DenseMatrix centers, int[] labels, double inertia, int nIter)
    {
        Centers = centers; Labels = labels; Inertia = inertia; NIter = nIter;
    }

    /// <summary>Index of the nearest center for each row of <paramref name="x"/>.</summary>
    public int[] Predict(DenseMatrix x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Cols != Centers.Cols) throw new TesseraException($"x has {x.Cols} columns but the model was fitted on {Centers.Cols}");
        KMeansCore.CheckFinite(x, "x");
        using var scope = NewDisposeScope();
        var X = torch.tensor(x.Data, new long[] { x.Rows, x.Cols }, dtype: ScalarType.Float64);
        var C = torch.tensor(Centers.Data, new long[] { Centers.Rows, Centers.Cols }, dtype: ScalarType.Float64);
        return KMeansCore.Assign(X, C).labels;
    }
}

internal static class KMeansCore
{
    internal static void CheckFinite(DenseMatrix m, string name)
    {
        var a = m.Data;
        for (long i = 0; i < a.LongLength; i++)
            if (!double.IsFinite(a[i])) throw new TesseraException($"{name} contains {(double.IsNaN(a[i]) ? "NaN" : "an infinite value")} at row {i / m.Cols}, column {i % m.Cols}");
    }

    /// <summary>Mean over features of the population variance (sklearn's _tolerance).</summary>
    internal static double MeanVariance(DenseMatrix x)
    {
        int n = x.Rows, d = x.Cols;
        double total = 0;
        for (int j = 0; j < d; j++)
        {
            double m = 0; for (int i = 0; i < n; i++) m += x.Data[(long)i * d + j];
            m /= n;
            double v = 0; for (int i = 0; i < n; i++) { double t = x.Data[(long)i * d + j] - m; v += t * t; }
            total += v / n;
        }
        return total / d;
    }

    private static long BlockRows(long k) => Math.Max(1024, (1L << 22) / Math.Max(1, k));

    /// <summary>Greedy k-means++ as sklearn's _kmeans_plusplus (unit sample weights).</summary>
    internal static Tensor KMeansPlusPlus(Tensor X, Tensor xsq, int k, Random rng)
    {
        long n = X.shape[0];
        int trials = 2 + (int)Math.Log(k);
        var idx = new long[k];
        idx[0] = rng.NextInt64(n);
        var closest = SqDistToRows(X, xsq, new[] { idx[0] })[0];
        double pot = closest.Sum();
        for (int c = 1; c < k; c++)
        {
            var cum = new double[n];
            double acc = 0;
            for (long i = 0; i < n; i++) { acc += closest[i]; cum[i] = acc; }
            var cand = new long[trials];
            for (int t = 0; t < trials; t++)
            {
                double v = rng.NextDouble() * pot;
                long pos = LowerBound(cum, v);
                cand[t] = Math.Min(pos, n - 1);
            }
            var dc = SqDistToRows(X, xsq, cand);
            int bestT = 0; double bestPot = double.PositiveInfinity; double[]? bestD = null;
            for (int t = 0; t < trials; t++)
            {
                var row = dc[t];
                double p = 0;
                for (long i = 0; i < n; i++) { if (closest[i] < row[i]) row[i] = closest[i]; p += row[i]; }
                if (p < bestPot) { bestPot = p; bestT = t; bestD = row; }
            }
            idx[c] = cand[bestT]; pot = bestPot; closest = bestD!;
        }
        return X.index_select(0, torch.tensor(idx)).clone();
    }

    private static long LowerBound(double[] a, double v)
    {
        long lo = 0, hi = a.LongLength;
        while (lo < hi) { long mid = (lo + hi) >> 1; if (a[mid] < v) lo = mid + 1; else hi = mid; }
        return lo;
    }

    /// <summary>Squared euclidean distances (expansion, clamped at 0) from the given rows to every row.</summary>
    private static double[][] SqDistToRows(Tensor X, Tensor xsq, long[] rows)
    {
        using var scope = NewDisposeScope();
        var ri = torch.tensor(rows);
        var Y = X.index_select(0, ri);
        var ysq = xsq.index_select(0, ri);
        var D = (ysq.unsqueeze(1) - 2 * Y.mm(X.t()) + xsq.unsqueeze(0)).clamp_min(0.0);
        var flat = D.data<double>().ToArray();
        long n = X.shape[0];
        var res = new double[rows.Length][];
        for (int t = 0; t < rows.Length; t++) { res[t] = new double[n]; Array.Copy(flat, t * n, res[t], 0, n); }
        return res;
    }

    /// <summary>Nearest center per row (sklearn drops ‖x‖², argmin of ‖c‖² − 2x·c) and each row's squared distance.</summary>
    internal static (int[] labels, double[] sq) Assign(Tensor X, Tensor C)
    {
        using var scope = NewDisposeScope();
        long n = X.shape[0];
        var csq = C.square().sum(1);
        var labels = new int[n];
        var sq = new double[n];
        long block = BlockRows(C.shape[0]);
        for (long s = 0; s < n; s += block)
        {
            long e = Math.Min(n, s + block);
            var xb = X.narrow(0, s, e - s);
            var dist = csq.unsqueeze(0) - 2 * xb.mm(C.t());
            var lab = dist.argmin(1);
            var diff = xb - C.index_select(0, lab);
            var l = lab.data<long>().ToArray();
            var q = diff.square().sum(1).data<double>().ToArray();
            for (long i = 0; i < l.Length; i++) { labels[s + i] = (int)l[i]; sq[s + i] = q[i]; }
        }
        return (labels, sq);
    }

    /// <summary>Lloyd iterations as sklearn's _kmeans_single_lloyd; returns labels, centers, inertia, iterations.</summary>
    internal static (int[] labels, Tensor centers, double inertia, int nIter) Lloyd(Tensor X, Tensor xsq, Tensor c0, int maxIter, double tolAbs)
    {
        long n = X.shape[0], d = X.shape[1];
        int k = (int)c0.shape[0];
        var centers = c0.clone();
        int[]? labelsOld = null;
        int[] labels = Array.Empty<int>();
        bool strict = false;
        int it = 0;
        for (; it < maxIter; it++)
        {
            using var scope = NewDisposeScope();
            double[] sq;
            (labels, sq) = Assign(X, centers);
            var lab = torch.tensor(labels.Select(v => (long)v).ToArray());
            var sums = torch.zeros(k, d, dtype: ScalarType.Float64).index_add_(0, lab, X, 1.0);
            var counts = new double[k];
            foreach (var l in labels) counts[l] += 1;
            var sumsArr = sums.data<double>().ToArray();
            RelocateEmpty(X, labels, sq, sumsArr, counts, (int)d);
            for (int c = 0; c < k; c++)
                if (counts[c] > 0) for (int j = 0; j < d; j++) sumsArr[c * d + j] /= counts[c];
                else
                {
                    var old = centers[c].data<double>().ToArray();
                    for (int j = 0; j < d; j++) sumsArr[c * d + j] = old[j];
                }
            var newCenters = torch.tensor(sumsArr, new long[] { k, d }, dtype: ScalarType.Float64);
            double shift = (newCenters - centers).square().sum().item<double>();
            centers.Dispose();
            centers = newCenters.MoveToOuterDisposeScope();
            if (labelsOld != null && labels.AsSpan().SequenceEqual(labelsOld)) { strict = true; it++; break; }
            if (shift <= tolAbs) { it++; break; }
            labelsOld = labels;
        }
        double[] finalSq;
        if (!strict) (labels, finalSq) = Assign(X, centers);
        else (_, finalSq) = AssignFixed(X, centers, labels);
        double inertia = 0;
        foreach (var v in finalSq) inertia += v;
        return (labels, centers, inertia, it);
    }

    private static (int[] labels, double[] sq) AssignFixed(Tensor X, Tensor C, int[] labels)
    {
        using var scope = NewDisposeScope();
        var lab = torch.tensor(labels.Select(v => (long)v).ToArray());
        var q = (X - C.index_select(0, lab)).square().sum(1).data<double>().ToArray();
        return (labels, q);
    }

    /// <summary>sklearn's _relocate_empty_clusters_dense: empty clusters take the rows farthest from their centers.</summary>
    private static void RelocateEmpty(Tensor X, int[] labels, double[] sq, double[] sums, double[] counts, int d)
    {
        var empty = new List<int>();
        for (int c = 0; c < counts.Length; c++) if (counts[c] == 0) empty.Add(c);
        if (empty.Count == 0) return;
        var order = Enumerable.Range(0, labels.Length).OrderByDescending(i => sq[i]).ThenBy(i => i).Take(empty.Count).ToArray();
        for (int e = 0; e < empty.Count; e++)
        {
            int row = order[e], newC = empty[e], oldC = labels[row];
            var xr = X[row].data<double>().ToArray();
            for (int j = 0; j < d; j++) { sums[oldC * d + j] -= xr[j]; sums[newC * d + j] = xr[j]; }
            counts[newC] = 1; counts[oldC] -= 1;
        }
    }
}
