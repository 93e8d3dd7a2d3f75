using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Tessera.Data;
using Tessera.Nn;

namespace Tessera.Analysis;

/// <summary>Options for <see cref="KMeans"/> (names and defaults follow sklearn.cluster.KMeans).</summary>
public sealed record KMeansOptions
{
    /// <summary>Number of clusters (sklearn n_clusters).</summary>
    public int Clusters { get; init; } = 8;
    /// <summary>Number of k-means++ restarts; the run with the lowest inertia is kept.</summary>
    public int Restarts { get; init; } = 10;
    /// <summary>Maximum Lloyd iterations per run.</summary>
    public int MaxIter { get; init; } = 300;
    /// <summary>Convergence tolerance relative to the mean per-feature variance of the data (as sklearn).</summary>
    public double Tol { get; init; } = 1e-4;
    /// <summary>Seed for the k-means++ initialisation; same seed gives identical results.</summary>
    public int Seed { get; init; }
    /// <summary>Optional explicit K × D initial centers (sklearn init=array); then a single run is made and Restarts is ignored.</summary>
    public DenseMatrix? InitialCenters { get; init; }
}

/// <summary>
/// Lloyd k-means with sklearn's greedy k-means++ initialisation (2 + ⌊ln K⌋ local trials), sklearn's relative
/// tolerance, empty-cluster relocation and best-of-Restarts selection. Each Lloyd iteration is one fused pass over the rows
/// (distances, argmin, center sums) split into fixed row chunks run in parallel and reduced in chunk order, so results
/// do not depend on the thread count; this beats torch matmul + separate argmin/scatter by avoiding N × K temporaries.
/// </summary>
public sealed class KMeans
{
    private readonly KMeansOptions _o;

    /// <summary>Creates the estimator.</summary>
    public KMeans(KMeansOptions options) => _o = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>Clusters the rows of a float32 row-major <paramref name="rows"/> × <paramref name="cols"/> array (e.g. an embedding tensor's data).</summary>
    public KMeansModel Fit(ReadOnlySpan<float> data, int rows, int cols) => Fit(KMeansCore.FromFloat(data, rows, cols));

    /// <summary>Clusters the rows of <paramref name="x"/>; <paramref name="progress"/> hears of each restart (stage "k-means").</summary>
    public KMeansModel Fit(DenseMatrix x, IProgress<Progress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = x.Rows, d = x.Cols, k = _o.Clusters;
        if (k < 1) throw new TesseraException($"KMeans Clusters must be at least 1, got {k}");
        if (_o.Restarts < 1) throw new TesseraException($"KMeans Restarts must be at least 1, got {_o.Restarts}");
        if (_o.MaxIter < 1) throw new TesseraException($"KMeans MaxIter must be at least 1, got {_o.MaxIter}");
        if (!(_o.Tol >= 0)) throw new TesseraException($"KMeans Tol must be non-negative, got {_o.Tol}");
        if (n < k) throw new TesseraException($"KMeans needs at least Clusters={k} rows but x has {n}");
        if (d < 1) throw new TesseraException("KMeans input x has no columns");
        KMeansCore.CheckFinite(x, "x");
        if (_o.InitialCenters is { } ic)
        {
            if (ic.Rows != k || ic.Cols != d)
                throw new TesseraException($"InitialCenters has shape ({ic.Rows}, {ic.Cols}) but ({k}, {d}) is needed for Clusters={k} and x with {d} columns");
            KMeansCore.CheckFinite(ic, "InitialCenters");
        }

        // sklearn centers the data before fitting (numerically kinder distance expansion); centers are shifted back.
        var mean = new double[d];
        for (int i = 0; i < n; i++) { var r = x.Row(i); for (int j = 0; j < d; j++) mean[j] += r[j]; }
        for (int j = 0; j < d; j++) mean[j] /= n;
        var xc = new double[(long)n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) xc[(long)i * d + j] = x.Data[(long)i * d + j] - mean[j];
        var X = new KMeansCore.Rows(xc, n, d);

        double tolAbs = _o.Tol * KMeansCore.MeanVariance(x);
        var rng = Seeding.Rng(_o.Seed, "kmeans");
        // ‖x‖² of every (centred) row, for k-means++'s distances: once for all restarts
        double[]? rowNorms = _o.InitialCenters == null ? KMeansCore.RowNorms(X) : null;

        KMeansModel? best = null;
        int runs = _o.InitialCenters == null ? _o.Restarts : 1;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int run = 0; run < runs; run++)
        {
            double[] c0;
            if (_o.InitialCenters is { } init)
            {
                c0 = new double[k * d];
                for (int i = 0; i < k; i++) for (int j = 0; j < d; j++) c0[i * d + j] = init.Data[(long)i * d + j] - mean[j];
            }
            else c0 = KMeansCore.KMeansPlusPlus(X, rowNorms!, k, rng);
            var (labels, cd, inertia, nIter) = KMeansCore.Lloyd(X, c0, k, _o.MaxIter, tolAbs);
            if (best == null || inertia < best.Inertia)
            {
                for (int i = 0; i < k; i++) for (int j = 0; j < d; j++) cd[(long)i * d + j] += mean[j];
                best = new KMeansModel(new DenseMatrix(k, d, cd), labels, inertia, nIter);
            }
            progress?.Report(new Progress("k-means", run + 1, runs, clock.Elapsed));
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

    /// <summary>Creates a model (normally from <see cref="KMeans.Fit(DenseMatrix, IProgress{Progress})"/>).</summary>
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
        var labels = new int[x.Rows];
        KMeansCore.Assign(new KMeansCore.Rows(x.Data, x.Rows, x.Cols), Centers.Data, Centers.Rows, labels, new double[x.Rows], null, null);
        return labels;
    }
}

internal static class KMeansCore
{
    /// <summary>Row-major N × D data.</summary>
    internal readonly record struct Rows(double[] Data, int N, int D)
    {
        public ReadOnlySpan<double> Row(int i) => Data.AsSpan(i * D, D);
    }

    internal static DenseMatrix FromFloat(ReadOnlySpan<float> data, int rows, int cols)
    {
        if (rows < 0 || cols < 0 || (long)rows * cols != data.Length)
            throw new TesseraException($"data has {data.Length} values but rows × cols = {rows} × {cols} = {(long)rows * cols}");
        return DenseMatrix.FromFloat(rows, cols, data);
    }

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
        var m = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) m[j] += x.Data[(long)i * d + j];
        for (int j = 0; j < d; j++) m[j] /= n;
        var v = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) { double t = x.Data[(long)i * d + j] - m[j]; v[j] += t * t; }
        double total = 0;
        for (int j = 0; j < d; j++) total += v[j] / n;
        return total / d;
    }

    /// <summary>Fixed row partition (independent of the machine's core count, so reductions are reproducible).</summary>
    private static int ChunkRows(int n) => Math.Max(2048, (n + 63) / 64);

    internal static double SqDist(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int d = a.Length, j = 0;
        double s = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && d >= System.Numerics.Vector<double>.Count)
        {
            var acc = System.Numerics.Vector<double>.Zero;
            int w = System.Numerics.Vector<double>.Count;
            for (; j <= d - w; j += w)
            {
                var t = new System.Numerics.Vector<double>(a.Slice(j, w)) - new System.Numerics.Vector<double>(b.Slice(j, w));
                acc += t * t;
            }
            s = System.Numerics.Vector.Sum(acc);
        }
        for (; j < d; j++) { double t = a[j] - b[j]; s += t * t; }
        return s;
    }

    /// <summary>
    /// Greedy k-means++ as sklearn's _kmeans_plusplus (unit weights): first center uniform, then 2 + ⌊ln K⌋ candidates
    /// drawn proportionally to D², keeping the one that lowers the potential most. As sklearn, the candidates' squared
    /// distances are taken in the expanded form ‖x‖² + ‖c‖² − 2 x·c (clipped at 0, <paramref name="xn"/> = ‖x_i‖²), all
    /// candidates in one pass.
    /// </summary>
    internal static double[] KMeansPlusPlus(Rows X, double[] xn, int k, Random rng)
    {
        int n = X.N, d = X.D;
        int trials = 2 + (int)Math.Log(k);
        var centers = new double[k * d];
        int first = (int)rng.NextInt64(n);
        X.Row(first).CopyTo(centers.AsSpan(0, d));
        var closest = new double[n];
        double pot = DistToRows(X, xn, [first], null, [closest])[0];
        var cum = new double[n];
        var cand = new double[trials][];
        for (int t = 0; t < trials; t++) cand[t] = new double[n];
        var candIdx = new int[trials];
        for (int c = 1; c < k; c++)
        {
            double acc = 0;
            for (int i = 0; i < n; i++) { acc += closest[i]; cum[i] = acc; }
            for (int t = 0; t < trials; t++)
            {
                double v = rng.NextDouble() * pot;
                int pos = Array.BinarySearch(cum, v);
                if (pos < 0) pos = ~pos;
                else while (pos > 0 && cum[pos - 1] == v) pos--; // leftmost, as numpy searchsorted
                candIdx[t] = Math.Min(pos, n - 1);
            }
            var candPot = DistToRows(X, xn, candIdx, closest, cand);
            int bestT = 0;
            for (int t = 1; t < trials; t++) if (candPot[t] < candPot[bestT]) bestT = t;
            X.Row(candIdx[bestT]).CopyTo(centers.AsSpan(c * d, d));
            pot = candPot[bestT];
            (closest, cand[bestT]) = (cand[bestT], closest);
        }
        return centers;
    }

    /// <summary>‖x_i‖² per row (the <c>xn</c> of <see cref="KMeansPlusPlus"/>).</summary>
    internal static double[] RowNorms(Rows X)
    {
        var xn = new double[X.N];
        for (int i = 0; i < X.N; i++) { var r = X.Row(i); double s2 = 0; for (int j = 0; j < X.D; j++) s2 += r[j] * r[j]; xn[i] = s2; }
        return xn;
    }

    /// <summary>
    /// output[t][i] = min(closest[i], ‖x_i − x_{rows[t]}‖²) for every candidate row t in one pass over the data; returns
    /// Σ_i output[t][i] per candidate (chunk sums added in order).
    /// </summary>
    private static double[] DistToRows(Rows X, double[] xn, int[] rows, double[]? closest, double[][] output)
    {
        int n = X.N, d = X.D, m = rows.Length, chunk = ChunkRows(n), chunks = (n + chunk - 1) / chunk;
        var (ct, cn, kp) = Transposed(X.Data, rows, d);
        for (int t = 0; t < m; t++) cn[t] = 0; // the candidates' own norms are added with ‖x‖² below
        var partial = new double[chunks * m];
        var data = X.Data;
        Parallel.For(0, chunks, ci =>
        {
            int s = ci * chunk, e = Math.Min(n, s + chunk);
            Span<double> scores = kp <= 256 ? stackalloc double[4 * kp] : new double[4 * kp];
            var sums = new double[m];
            for (int i0 = s; i0 < e; i0 += 4)
            {
                int nr = Math.Min(4, e - i0);
                Scores(data, i0, nr, d, ct, cn, kp, scores);
                for (int r = 0; r < nr; r++)
                {
                    int i = i0 + r;
                    for (int t = 0; t < m; t++)
                    {
                        double v = Math.Max(xn[i] + xn[rows[t]] + scores[r * kp + t], 0);
                        if (closest != null && closest[i] < v) v = closest[i];
                        output[t][i] = v; sums[t] += v;
                    }
                }
            }
            sums.CopyTo(partial, ci * m);
        });
        var pots = new double[m];
        for (int ci = 0; ci < chunks; ci++) for (int t = 0; t < m; t++) pots[t] += partial[ci * m + t];
        return pots;
    }

    // The given rows (centers or candidates) transposed and padded to whole vectors of 4: ct[j·kp + c]; cn[c] = ‖c‖²,
    // +∞ for padding so it is never the nearest.
    private static (double[] Ct, double[] Cn, int Kp) Transposed(double[] source, IReadOnlyList<int> rows, int d)
    {
        int k = rows.Count, kp = (k + 3) / 4 * 4;
        var ct = new double[d * kp];
        var cn = new double[kp];
        for (int c = 0; c < kp; c++)
        {
            if (c >= k) { cn[c] = double.PositiveInfinity; continue; }
            double s2 = 0;
            for (int j = 0; j < d; j++) { double v = source[rows[c] * d + j]; ct[j * kp + c] = v; s2 += v * v; }
            cn[c] = s2;
        }
        return (ct, cn, kp);
    }

    /// <summary>
    /// One fused pass: nearest center per row and its exact squared distance, and optionally the per-center sums and
    /// counts of the rows assigned (reduced in chunk order). The nearest center is found as sklearn's Lloyd step finds
    /// it, by the expanded form ‖c‖² − 2 x·c (‖x‖² is the same for every center), computed as a small matrix product:
    /// four rows at a time against four centers at a time, the centers transposed so that one vector load of them
    /// serves four rows. The distance kept for the row (inertia, empty-cluster relocation) is then the exact one.
    /// </summary>
    internal static void Assign(Rows X, double[] centers, int k, int[] labels, double[] sq, double[]? sums, double[]? counts)
    {
        int n = X.N, d = X.D, chunk = ChunkRows(n), chunks = (n + chunk - 1) / chunk;
        var pSums = sums != null ? new double[chunks][] : null;
        var pCounts = counts != null ? new double[chunks][] : null;
        var data = X.Data;
        var (ct, cn, kp) = Transposed(centers, Enumerable.Range(0, k).ToArray(), d);
        Parallel.For(0, chunks, ci =>
        {
            int s = ci * chunk, e = Math.Min(n, s + chunk);
            double[]? ls = sums != null ? new double[k * d] : null;
            double[]? lc = counts != null ? new double[k] : null;
            Span<double> scores = kp <= 256 ? stackalloc double[4 * kp] : new double[4 * kp];
            for (int i0 = s; i0 < e; i0 += 4)
            {
                int rows = Math.Min(4, e - i0);
                Scores(data, i0, rows, d, ct, cn, kp, scores);
                for (int r = 0; r < rows; r++)
                {
                    int i = i0 + r;
                    var sr = scores.Slice(r * kp, k);
                    int best = 0; double bs = sr[0];
                    for (int c = 1; c < k; c++) if (sr[c] < bs) { bs = sr[c]; best = c; }
                    var xi = new ReadOnlySpan<double>(data, i * d, d);
                    labels[i] = best;
                    sq[i] = SqDist(xi, new ReadOnlySpan<double>(centers, best * d, d));
                    if (ls != null)
                    {
                        var dst = ls.AsSpan(best * d, d);
                        int j = 0;
                        for (; j <= d - 4; j += 4) (Vector256.Create(dst.Slice(j, 4)) + Vector256.Create(xi.Slice(j, 4))).CopyTo(dst.Slice(j, 4));
                        for (; j < d; j++) dst[j] += xi[j];
                        lc![best] += 1;
                    }
                }
            }
            if (pSums != null) { pSums[ci] = ls!; pCounts![ci] = lc!; }
        });
        if (sums != null)
        {
            Array.Clear(sums); Array.Clear(counts!);
            for (int ci = 0; ci < chunks; ci++)
            {
                var ls = pSums![ci]; var lc = pCounts![ci];
                for (int t = 0; t < ls.Length; t++) sums[t] += ls[t];
                for (int c = 0; c < k; c++) counts![c] += lc[c];
            }
        }
    }

    // scores[r·kp + c] = ‖c‖² − 2 x_{i0+r}·c for r < rows (≤ 4) and all kp (a multiple of 4) padded centers.
    private static void Scores(double[] data, int i0, int rows, int d, double[] ct, double[] cn, int kp, Span<double> scores)
    {
        ref double x0 = ref data[i0 * d];
        ref double x1 = ref rows > 1 ? ref data[(i0 + 1) * d] : ref x0;
        ref double x2 = ref rows > 2 ? ref data[(i0 + 2) * d] : ref x0;
        ref double x3 = ref rows > 3 ? ref data[(i0 + 3) * d] : ref x0;
        ref double c0 = ref ct[0];
        var two = Vector256.Create(2.0);
        for (int cb = 0; cb < kp; cb += 4)
        {
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int j = 0; j < d; j++)
            {
                var c = Vector256.LoadUnsafe(ref Unsafe.Add(ref c0, j * kp + cb));
                a0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref x0, j)), c, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref x1, j)), c, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref x2, j)), c, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref x3, j)), c, a3);
            }
            var norm = Vector256.Create(cn[cb], cn[cb + 1], cn[cb + 2], cn[cb + 3]);
            (norm - two * a0).CopyTo(scores.Slice(cb));
            if (rows > 1) (norm - two * a1).CopyTo(scores.Slice(kp + cb));
            if (rows > 2) (norm - two * a2).CopyTo(scores.Slice(2 * kp + cb));
            if (rows > 3) (norm - two * a3).CopyTo(scores.Slice(3 * kp + cb));
        }
    }

    /// <summary>Lloyd iterations as sklearn's _kmeans_single_lloyd; returns labels, centers, inertia, iterations.</summary>
    internal static (int[] labels, double[] centers, double inertia, int nIter) Lloyd(Rows X, double[] c0, int k, int maxIter, double tolAbs)
    {
        int n = X.N, d = X.D;
        var centers = (double[])c0.Clone();
        var sums = new double[k * d];
        var counts = new double[k];
        var labels = new int[n];
        var labelsOld = new int[n];
        var sq = new double[n];
        bool strict = false, first = true;
        int it = 0;
        for (; it < maxIter; it++)
        {
            Assign(X, centers, k, labels, sq, sums, counts);
            RelocateEmpty(X, labels, sq, sums, counts);
            double shift = 0;
            for (int c = 0; c < k; c++)
                for (int j = 0; j < d; j++)
                {
                    double nv = counts[c] > 0 ? sums[c * d + j] / counts[c] : centers[c * d + j];
                    double t = nv - centers[c * d + j];
                    shift += t * t;
                    centers[c * d + j] = nv;
                }
            if (!first && labels.AsSpan().SequenceEqual(labelsOld)) { strict = true; it++; break; }
            if (shift <= tolAbs) { it++; break; }
            Array.Copy(labels, labelsOld, n);
            first = false;
        }
        // sklearn: after strict convergence the labels already match the centers; otherwise one more E-step
        if (!strict) Assign(X, centers, k, labels, sq, null, null);
        else for (int i = 0; i < n; i++) sq[i] = SqDist(X.Row(i), centers.AsSpan(labels[i] * d, d));
        double inertia = 0;
        foreach (var v in sq) inertia += v;
        return (labels, centers, inertia, it);
    }

    /// <summary>sklearn's _relocate_empty_clusters_dense: empty clusters take the rows farthest from their centers.</summary>
    private static void RelocateEmpty(Rows X, int[] labels, double[] sq, double[] sums, double[] counts)
    {
        int d = X.D;
        var empty = new List<int>();
        for (int c = 0; c < counts.Length; c++) if (counts[c] == 0) empty.Add(c);
        if (empty.Count == 0) return;
        var order = Enumerable.Range(0, labels.Length).OrderByDescending(i => sq[i]).ThenBy(i => i).Take(empty.Count).ToArray();
        for (int e = 0; e < empty.Count; e++)
        {
            int row = order[e], newC = empty[e], oldC = labels[row];
            var xr = X.Row(row);
            for (int j = 0; j < d; j++) { sums[oldC * d + j] -= xr[j]; sums[newC * d + j] = xr[j]; }
            counts[newC] = 1; counts[oldC] -= 1;
        }
    }
}
