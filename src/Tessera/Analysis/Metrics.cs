using Tessera.Data;
using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Analysis;

/// <summary>
/// Clustering, correlation and embedding quality metrics, numerically equal to sklearn / scipy.
/// Label overloads take <c>int[]</c> or <c>string?[]</c>; with string labels, pairs whose truth is missing
/// (null, "", "NA", "nan", "NaN") are dropped before scoring (unannotated spots), while a missing pred label is an error.
/// </summary>
public static class Metrics
{
    private const double Eps = 2.220446049250313e-16;

    // ---------------------------------------------------------------- pair counting and information theory

    /// <summary>Adjusted Rand index (sklearn adjusted_rand_score).</summary>
    public static double AdjustedRandIndex(int[] truth, int[] pred) => Ari(Contingency.FromInts(truth, pred));
    /// <summary>Adjusted Rand index; pairs with missing truth are dropped.</summary>
    public static double AdjustedRandIndex(string?[] truth, string?[] pred) => Ari(Contingency.FromStrings(truth, pred));

    /// <summary>Normalized mutual information with arithmetic-mean normalisation (sklearn default).</summary>
    public static double NormalizedMutualInfo(int[] truth, int[] pred) => Nmi(Contingency.FromInts(truth, pred));
    /// <summary>Normalized mutual information (arithmetic); pairs with missing truth are dropped.</summary>
    public static double NormalizedMutualInfo(string?[] truth, string?[] pred) => Nmi(Contingency.FromStrings(truth, pred));

    /// <summary>Adjusted mutual information, arithmetic normalisation, exact expected MI (sklearn adjusted_mutual_info_score).</summary>
    public static double AdjustedMutualInfo(int[] truth, int[] pred) => Ami(Contingency.FromInts(truth, pred));
    /// <summary>Adjusted mutual information; pairs with missing truth are dropped.</summary>
    public static double AdjustedMutualInfo(string?[] truth, string?[] pred) => Ami(Contingency.FromStrings(truth, pred));

    /// <summary>Homogeneity: each cluster contains members of a single class (sklearn homogeneity_score).</summary>
    public static double Homogeneity(int[] truth, int[] pred) => Hcv(Contingency.FromInts(truth, pred), 1).h;
    /// <summary>Homogeneity; pairs with missing truth are dropped.</summary>
    public static double Homogeneity(string?[] truth, string?[] pred) => Hcv(Contingency.FromStrings(truth, pred), 1).h;

    /// <summary>Completeness: all members of a class are in one cluster (sklearn completeness_score).</summary>
    public static double Completeness(int[] truth, int[] pred) => Hcv(Contingency.FromInts(truth, pred), 1).c;
    /// <summary>Completeness; pairs with missing truth are dropped.</summary>
    public static double Completeness(string?[] truth, string?[] pred) => Hcv(Contingency.FromStrings(truth, pred), 1).c;

    /// <summary>V-measure, the β-weighted harmonic mean of homogeneity and completeness (sklearn v_measure_score).</summary>
    public static double VMeasure(int[] truth, int[] pred, double beta = 1.0) => Hcv(Contingency.FromInts(truth, pred), beta).v;
    /// <summary>V-measure; pairs with missing truth are dropped.</summary>
    public static double VMeasure(string?[] truth, string?[] pred, double beta = 1.0) => Hcv(Contingency.FromStrings(truth, pred), beta).v;

    // ---------------------------------------------------------------- matching based

    /// <summary>Accuracy after the best one-to-one matching of clusters to classes (Hungarian on the contingency table).</summary>
    public static double ClusteringAccuracy(int[] truth, int[] pred) => Accuracy(Contingency.FromInts(truth, pred));
    /// <summary>Clustering accuracy; pairs with missing truth are dropped.</summary>
    public static double ClusteringAccuracy(string?[] truth, string?[] pred) => Accuracy(Contingency.FromStrings(truth, pred));

    /// <summary>Purity: fraction of points in the majority class of their cluster.</summary>
    public static double Purity(int[] truth, int[] pred) => PurityCore(Contingency.FromInts(truth, pred));
    /// <summary>Purity; pairs with missing truth are dropped.</summary>
    public static double Purity(string?[] truth, string?[] pred) => PurityCore(Contingency.FromStrings(truth, pred));

    /// <summary>
    /// Macro F1 after Hungarian matching of predicted clusters to classes (as Spotscape's evaluation): each matched
    /// cluster takes its class label, unmatched clusters (more clusters than classes) take a label outside the classes,
    /// then sklearn f1_score(average="macro") over the union of labels — so an unmatched cluster counts as a class with F1 0.
    /// </summary>
    public static double MacroF1(int[] truth, int[] pred) => F1(Contingency.FromInts(truth, pred)).macro;
    /// <summary>Macro F1 after Hungarian matching; pairs with missing truth are dropped.</summary>
    public static double MacroF1(string?[] truth, string?[] pred) => F1(Contingency.FromStrings(truth, pred)).macro;

    /// <summary>Micro F1 after Hungarian matching (equals matched accuracy for single-label data).</summary>
    public static double MicroF1(int[] truth, int[] pred) => F1(Contingency.FromInts(truth, pred)).micro;
    /// <summary>Micro F1 after Hungarian matching; pairs with missing truth are dropped.</summary>
    public static double MicroF1(string?[] truth, string?[] pred) => F1(Contingency.FromStrings(truth, pred)).micro;

    /// <summary>
    /// Cluster index mapped onto the truth class matched to it by the Hungarian method (class codes in sorted label order);
    /// unmatched clusters map to −1. Used by <see cref="MacroF1(int[], int[])"/> and <see cref="ClusteringAccuracy(int[], int[])"/>.
    /// </summary>
    public static int[] HungarianRelabel(int[] truth, int[] pred)
    {
        var c = Contingency.FromInts(truth, pred);
        var classes = truth.Distinct().OrderBy(v => v).ToArray();
        var map = MatchClusters(c);
        return c.Pred.Select(j => map[j] < 0 ? -1 : classes[map[j]]).ToArray();
    }

    // ---------------------------------------------------------------- geometry

    /// <summary>
    /// Mean silhouette coefficient with euclidean distance (sklearn silhouette_score). Distances are computed in row
    /// blocks with torch, never as an N × N matrix. With <paramref name="sampleSize"/>, a seeded random subset of rows is
    /// scored against itself (as sklearn's sample_size).
    /// </summary>
    public static double Silhouette(DenseMatrix x, int[] labels, int? sampleSize = null, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(labels);
        if (x.Rows != labels.Length) throw new TesseraException($"x has {x.Rows} rows but labels has {labels.Length}");
        KMeansCore.CheckFinite(x, "x");
        if (sampleSize is { } ss)
        {
            if (ss < 2 || ss > x.Rows) throw new TesseraException($"sampleSize must be between 2 and the number of rows ({x.Rows}), got {ss}");
            var rng = Seeding.Rng(seed, "silhouette-sample");
            var perm = Enumerable.Range(0, x.Rows).ToArray();
            for (int i = perm.Length - 1; i > 0; i--) { int j = rng.Next(i + 1); (perm[i], perm[j]) = (perm[j], perm[i]); }
            var rows = perm.Take(ss).ToArray();
            x = x.SubsetRows(rows);
            labels = rows.Select(r => labels[r]).ToArray();
        }
        return SilhouetteCore(x, labels).Average();
    }

    /// <summary>Per-row silhouette values s_i (sklearn silhouette_samples, euclidean); rows alone in their label get 0.</summary>
    public static double[] SilhouetteSamples(DenseMatrix x, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(labels);
        if (x.Rows != labels.Length) throw new TesseraException($"x has {x.Rows} rows but labels has {labels.Length}");
        KMeansCore.CheckFinite(x, "x");
        return SilhouetteCore(x, labels);
    }

    // Inputs already checked by the public callers.
    private static double[] SilhouetteCore(DenseMatrix x, int[] labels)
    {
        var (codes, k) = Contingency.Encode(labels, Comparer<int>.Default, out _);
        int n = x.Rows, d = x.Cols;
        if (k < 2 || k > n - 1) throw new TesseraException($"Number of labels is {k}. Valid values are 2 to n_samples - 1 (inclusive)");
        var counts = new double[k];
        foreach (var c in codes) counts[c]++;

        using var scope = NewDisposeScope();
        var X = torch.tensor(x.Data, new long[] { n, d }, dtype: ScalarType.Float64);
        var xsq = X.square().sum(1);
        var onehot = torch.zeros(n, k, dtype: ScalarType.Float64);
        onehot.index_put_(torch.tensor(1.0, dtype: ScalarType.Float64), torch.arange(n, dtype: ScalarType.Int64), torch.tensor(codes.Select(v => (long)v).ToArray()));
        long block = Math.Max(1, (1L << 22) / n);
        var values = new double[n];
        for (long s = 0; s < n; s += block)
        {
            using var bs = NewDisposeScope();
            long e = Math.Min(n, s + block);
            var xb = X.narrow(0, s, e - s);
            var d2 = (xsq.narrow(0, s, e - s).unsqueeze(1) - 2 * xb.mm(X.t()) + xsq.unsqueeze(0)).clamp_min(0.0);
            var dist = d2.sqrt();
            // a point's distance to itself is exactly 0 (the expansion leaves rounding noise)
            var diagIdx = torch.arange(s, e, dtype: ScalarType.Int64);
            dist.index_put_(torch.tensor(0.0, dtype: ScalarType.Float64), torch.arange(e - s, dtype: ScalarType.Int64), diagIdx);
            var sums = dist.mm(onehot).data<double>().ToArray();
            for (long i = 0; i < e - s; i++)
            {
                int own = codes[s + i];
                if (counts[own] <= 1) continue;
                double a = sums[i * k + own] / (counts[own] - 1);
                double b = double.PositiveInfinity;
                for (int c = 0; c < k; c++) if (c != own) b = Math.Min(b, sums[i * k + c] / counts[c]);
                double m = Math.Max(a, b);
                if (m > 0) values[s + i] = (b - a) / m;
            }
        }
        return values;
    }

    /// <summary>
    /// Batch mixing within groups (scIB's batch ASW): for each group (e.g. a domain), the silhouette s_i of the batch
    /// (e.g. slice) labels among that group's rows, reported as the mean s_i and as mixing = mean(1 − |s_i|): 1 when the
    /// batches overlap completely, 0 when they are separated. Groups with fewer than two batches (or under 3 rows) get NaN.
    /// At most <paramref name="maxPerGroup"/> seeded random rows of a group are scored.
    /// </summary>
    public static IReadOnlyList<GroupMixing> BatchMixing(DenseMatrix x, int[] batch, int[] group, int maxPerGroup = 3000, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(batch); ArgumentNullException.ThrowIfNull(group);
        if (batch.Length != x.Rows || group.Length != x.Rows) throw new TesseraException($"x has {x.Rows} rows but batch has {batch.Length} and group {group.Length} labels");
        KMeansCore.CheckFinite(x, "x");
        var result = new List<GroupMixing>();
        foreach (var g in group.Distinct().Order())
        {
            var rows = Enumerable.Range(0, x.Rows).Where(i => group[i] == g).ToArray();
            int batches = rows.Select(i => batch[i]).Distinct().Count();
            if (rows.Length > maxPerGroup)
            {
                var rng = Seeding.Rng(seed, $"batch-mixing-{g}");
                for (int i = rows.Length - 1; i > 0; i--) { int j = rng.Next(i + 1); (rows[i], rows[j]) = (rows[j], rows[i]); }
                rows = rows.Take(maxPerGroup).Order().ToArray();
            }
            var b = rows.Select(i => batch[i]).ToArray();
            int nb = b.Distinct().Count();
            if (nb < 2 || rows.Length < 3 || nb > rows.Length - 1) { result.Add(new GroupMixing(g, rows.Length, batches, double.NaN, double.NaN)); continue; }
            var s = SilhouetteCore(x.SubsetRows(rows), b);
            result.Add(new GroupMixing(g, rows.Length, batches, s.Average(), s.Average(v => 1 - Math.Abs(v))));
        }
        return result;
    }

    /// <summary>
    /// Trustworthiness of a low-dimensional embedding (sklearn.manifold.trustworthiness, euclidean): penalises points
    /// among the k embedding neighbours that are not among the k original neighbours, by their original rank.
    /// Both neighbour searches run in row blocks with torch.
    /// </summary>
    public static double Trustworthiness(DenseMatrix highDim, DenseMatrix lowDim, int k = 5)
    {
        ArgumentNullException.ThrowIfNull(highDim); ArgumentNullException.ThrowIfNull(lowDim);
        int n = highDim.Rows;
        if (lowDim.Rows != n) throw new TesseraException($"highDim has {n} rows but lowDim has {lowDim.Rows}");
        if (k < 1) throw new TesseraException($"k must be at least 1, got {k}");
        if (k >= n / 2.0) throw new TesseraException($"n_neighbors ({k}) should be less than n_samples / 2 ({n / 2.0})");
        KMeansCore.CheckFinite(highDim, "highDim"); KMeansCore.CheckFinite(lowDim, "lowDim");

        using var scope = NewDisposeScope();
        var H = torch.tensor(highDim.Data, new long[] { n, highDim.Cols }, dtype: ScalarType.Float64);
        var L = torch.tensor(lowDim.Data, new long[] { n, lowDim.Cols }, dtype: ScalarType.Float64);
        var hsq = H.square().sum(1);
        var lsq = L.square().sum(1);
        long block = Math.Max(1, (1L << 23) / ((long)n * (k + 1)));
        double t = 0;
        for (long s = 0; s < n; s += block)
        {
            using var bs = NewDisposeScope();
            long e = Math.Min(n, s + block), b = e - s;
            var rowsIdx = torch.arange(b, dtype: ScalarType.Int64);
            var selfIdx = torch.arange(s, e, dtype: ScalarType.Int64);
            var inf = torch.tensor(double.PositiveInfinity, dtype: ScalarType.Float64);
            var dl = lsq.narrow(0, s, b).unsqueeze(1) - 2 * L.narrow(0, s, b).mm(L.t()) + lsq.unsqueeze(0);
            dl.index_put_(inf, rowsIdx, selfIdx);
            var nb = dl.topk(k, 1, largest: false, sorted: true).indexes;
            var dh = hsq.narrow(0, s, b).unsqueeze(1) - 2 * H.narrow(0, s, b).mm(H.t()) + hsq.unsqueeze(0);
            dh.index_put_(inf, rowsIdx, selfIdx);
            var thr = dh.gather(1, nb);
            // rank (1-based) of each embedding neighbour in the original-space ordering of the row
            var ranks = (dh.unsqueeze(1) < thr.unsqueeze(2)).sum(2, type: ScalarType.Int64) + 1;
            t += (ranks - k).clamp_min(0).sum().item<long>();
        }
        return 1.0 - t * (2.0 / (n * (double)k * (2.0 * n - 3.0 * k - 1.0)));
    }

    // ---------------------------------------------------------------- correlation and errors

    /// <summary>Pearson correlation (scipy.stats.pearsonr statistic); NaN when either input is constant.</summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        CheckPaired(x, y, "x", "y", 2);
        int n = x.Count;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
        mx /= n; my /= n;
        double sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < n; i++) { double a = x[i] - mx, b = y[i] - my; sxx += a * a; syy += b * b; sxy += a * b; }
        if (sxx == 0 || syy == 0) return double.NaN;
        return Math.Clamp(sxy / (Math.Sqrt(sxx) * Math.Sqrt(syy)), -1, 1);
    }

    /// <summary>Spearman rank correlation with average ranks for ties (scipy.stats.spearmanr); NaN when either input is constant.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        CheckPaired(x, y, "x", "y", 2);
        return Pearson(SpecialFunctions.AverageRanks(x.ToArray(), out _), SpecialFunctions.AverageRanks(y.ToArray(), out _));
    }

    /// <summary>Root mean squared error.</summary>
    public static double Rmse(IReadOnlyList<double> truth, IReadOnlyList<double> pred)
    {
        CheckPaired(truth, pred, "truth", "pred", 1);
        double s = 0;
        for (int i = 0; i < truth.Count; i++) { double t = truth[i] - pred[i]; s += t * t; }
        return Math.Sqrt(s / truth.Count);
    }

    /// <summary>Area under the ROC curve (sklearn roc_auc_score): tied scores count one half, via average ranks.</summary>
    public static double Auroc(IReadOnlyList<bool> truth, IReadOnlyList<double> score)
    {
        ArgumentNullException.ThrowIfNull(truth); ArgumentNullException.ThrowIfNull(score);
        if (truth.Count != score.Count) throw new TesseraException($"truth has {truth.Count} labels but score has {score.Count}");
        for (int i = 0; i < score.Count; i++)
            if (!double.IsFinite(score[i])) throw new TesseraException($"score contains {(double.IsNaN(score[i]) ? "NaN" : "an infinite value")} at index {i}");
        long pos = truth.Count(b => b), neg = truth.Count - pos;
        if (pos == 0 || neg == 0) throw new TesseraException("Only one class present in truth. ROC AUC score is not defined in that case.");
        var ranks = SpecialFunctions.AverageRanks(score.ToArray(), out _);
        double r = 0;
        for (int i = 0; i < ranks.Length; i++) if (truth[i]) r += ranks[i];
        return (r - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }

    /// <summary>Area under the ROC curve with 0/1 truth labels.</summary>
    public static double Auroc(IReadOnlyList<int> truth, IReadOnlyList<double> score)
    {
        ArgumentNullException.ThrowIfNull(truth);
        for (int i = 0; i < truth.Count; i++)
            if (truth[i] != 0 && truth[i] != 1) throw new TesseraException($"truth must be 0 or 1 but is {truth[i]} at index {i}");
        return Auroc(truth.Select(v => v == 1).ToArray(), score);
    }

    /// <summary>Jaccard index |A ∩ B| / |A ∪ B| of two sets (duplicates ignored); 0 when both are empty (sklearn's zero_division).</summary>
    public static double Jaccard<T>(IEnumerable<T> a, IEnumerable<T> b)
    {
        ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b);
        var sa = new HashSet<T>(a);
        var sb = new HashSet<T>(b);
        int inter = sa.Count(sb.Contains);
        int union = sa.Count + sb.Count - inter;
        return union == 0 ? 0 : (double)inter / union;
    }

    /// <summary>Jaccard index of two binary vectors, tp / (tp + fp + fn) (sklearn jaccard_score, binary); 0 when both are all false.</summary>
    public static double Jaccard(IReadOnlyList<bool> truth, IReadOnlyList<bool> pred)
    {
        ArgumentNullException.ThrowIfNull(truth); ArgumentNullException.ThrowIfNull(pred);
        if (truth.Count != pred.Count) throw new TesseraException($"truth has {truth.Count} labels but pred has {pred.Count}");
        long tp = 0, any = 0;
        for (int i = 0; i < truth.Count; i++) { if (truth[i] && pred[i]) tp++; if (truth[i] || pred[i]) any++; }
        return any == 0 ? 0 : (double)tp / any;
    }

    // ---------------------------------------------------------------- cores

    private static void CheckPaired(IReadOnlyList<double> x, IReadOnlyList<double> y, string nx, string ny, int min)
    {
        ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new TesseraException($"{nx} has {x.Count} values but {ny} has {y.Count}");
        if (x.Count < min) throw new TesseraException($"{nx} and {ny} need at least {min} values but have {x.Count}");
        for (int i = 0; i < x.Count; i++)
        {
            if (!double.IsFinite(x[i])) throw new TesseraException($"{nx} contains {(double.IsNaN(x[i]) ? "NaN" : "an infinite value")} at index {i}");
            if (!double.IsFinite(y[i])) throw new TesseraException($"{ny} contains {(double.IsNaN(y[i]) ? "NaN" : "an infinite value")} at index {i}");
        }
    }

    private static double Ari(Contingency c)
    {
        Int128 n = c.N;
        Int128 sumSq = 0, rowDot = 0, colDot = 0;
        foreach (var (i, j, v) in c.Cells)
        {
            sumSq += (Int128)v * v;
            colDot += (Int128)v * c.ColSums[j];
            rowDot += (Int128)v * c.RowSums[i];
        }
        Int128 tp = sumSq - n, fp = colDot - sumSq, fn = rowDot - sumSq;
        Int128 tn = n * n - fp - fn - sumSq;
        if (fn == 0 && fp == 0) return 1.0;
        Int128 num = tp * tn - fn * fp;
        Int128 den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
        return 2.0 * (double)num / (double)den;
    }

    private static double Entropy(long[] counts, long total)
    {
        int nonZero = counts.Count(v => v > 0);
        if (nonZero == 1) return 0;
        double logSum = Math.Log(total), h = 0;
        foreach (var v in counts) if (v > 0) h += v / (double)total * (Math.Log(v) - logSum);
        return -h;
    }

    private static double MutualInfo(Contingency c)
    {
        if (c.NTruth == 1 || c.NPred == 1) return 0;
        double n = c.N, logN = Math.Log(n);
        double mi = 0;
        foreach (var (i, j, v) in c.Cells)
        {
            double cnm = v / n;
            double logOuter = -Math.Log((double)c.RowSums[i] * c.ColSums[j]) + logN + logN;
            double term = cnm * (Math.Log(v) - logN) + cnm * logOuter;
            if (Math.Abs(term) >= Eps) mi += term;
        }
        return Math.Max(0, mi);
    }

    private static double Nmi(Contingency c)
    {
        if (c.NTruth == 1 && c.NPred == 1) return 1.0;
        double mi = MutualInfo(c);
        if (mi == 0) return 0;
        double ht = Entropy(c.RowSums, c.N), hp = Entropy(c.ColSums, c.N);
        return mi / ((ht + hp) / 2);
    }

    private static double Ami(Contingency c)
    {
        if (c.NTruth == 1 && c.NPred == 1) return 1.0;
        double mi = MutualInfo(c);
        double emi = ExpectedMutualInfo(c);
        double ht = Entropy(c.RowSums, c.N), hp = Entropy(c.ColSums, c.N);
        double denom = (ht + hp) / 2 - emi;
        denom = denom < 0 ? Math.Min(denom, -Eps) : Math.Max(denom, Eps);
        return (mi - emi) / denom;
    }

    /// <summary>Exact expected mutual information under the hypergeometric model (sklearn expected_mutual_information).</summary>
    private static double ExpectedMutualInfo(Contingency c)
    {
        if (c.NTruth == 1 || c.NPred == 1) return 0;
        long n = c.N;
        var a = c.RowSums; var b = c.ColSums;
        var lf = new double[n + 1]; // ln m!
        for (long m = 0; m <= n; m++) lf[m] = SpecialFunctions.LogGamma(m + 1.0);
        double logN = Math.Log(n);
        double emi = 0;
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < b.Length; j++)
            {
                long start = Math.Max(1, a[i] - n + b[j]);
                long end = Math.Min(a[i], b[j]);
                double glnFixed = lf[a[i]] + lf[b[j]] + lf[n - a[i]] + lf[n - b[j]] - lf[n];
                double logAB = Math.Log(a[i]) + Math.Log(b[j]);
                for (long nij = start; nij <= end; nij++)
                {
                    double term2 = logN + Math.Log(nij) - logAB;
                    double gln = glnFixed - lf[nij] - lf[a[i] - nij] - lf[b[j] - nij] - lf[n - a[i] - b[j] + nij];
                    emi += nij / (double)n * term2 * Math.Exp(gln);
                }
            }
        return emi;
    }

    private static (double h, double c, double v) Hcv(Contingency ct, double beta)
    {
        if (!(beta > 0)) throw new TesseraException($"beta must be positive, got {beta}");
        double ht = Entropy(ct.RowSums, ct.N), hp = Entropy(ct.ColSums, ct.N);
        double mi = MutualInfo(ct);
        double h = ht != 0 ? mi / ht : 1.0;
        double c = hp != 0 ? mi / hp : 1.0;
        double v = h + c == 0 ? 0 : (1 + beta) * h * c / (beta * h + c);
        return (h, c, v);
    }

    /// <summary>For each predicted cluster, the matched class code or −1.</summary>
    private static int[] MatchClusters(Contingency c)
    {
        var (rows, cols) = Hungarian.LinearSumAssignment(c.Dense(), maximize: true);
        var map = new int[c.NPred];
        Array.Fill(map, -1);
        for (int t = 0; t < rows.Length; t++) map[cols[t]] = rows[t];
        return map;
    }

    private static double Accuracy(Contingency c)
    {
        var dense = c.Dense();
        var (rows, cols) = Hungarian.LinearSumAssignment(dense, maximize: true);
        double s = 0;
        for (int t = 0; t < rows.Length; t++) s += dense[rows[t], cols[t]];
        return s / c.N;
    }

    private static double PurityCore(Contingency c)
    {
        var best = new long[c.NPred];
        foreach (var (_, j, v) in c.Cells) best[j] = Math.Max(best[j], v);
        return best.Sum() / (double)c.N;
    }

    private static (double macro, double micro) F1(Contingency c)
    {
        var map = MatchClusters(c);
        // label space: classes 0..NTruth-1 plus one "unmatched" label when some cluster is unmatched
        int labels = c.NTruth + (map.Any(m => m < 0) ? 1 : 0);
        var tp = new long[labels]; var predCount = new long[labels]; var trueCount = new long[labels];
        for (int k = 0; k < c.N; k++)
        {
            int t = c.Truth[k], p = map[c.Pred[k]];
            if (p < 0) p = c.NTruth;
            trueCount[t]++; predCount[p]++;
            if (t == p) tp[t]++;
        }
        double macro = 0;
        for (int l = 0; l < labels; l++)
        {
            double prec = predCount[l] > 0 ? tp[l] / (double)predCount[l] : 0;
            double rec = trueCount[l] > 0 ? tp[l] / (double)trueCount[l] : 0;
            macro += prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
        }
        return (macro / labels, tp.Sum() / (double)c.N);
    }
}

/// <summary>Batch mixing of one group: rows scored, batches present in the group, mean silhouette of the batch labels, and mean(1 − |s_i|).</summary>
public readonly record struct GroupMixing(int Group, int N, int Batches, double Silhouette, double Mixing);
