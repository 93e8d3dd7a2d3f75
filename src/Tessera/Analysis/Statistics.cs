using Tessera.Data;
using Tessera.Nn;

namespace Tessera.Analysis;

/// <summary>Result of a two-sided Wilcoxon rank-sum (Mann–Whitney U) test.</summary>
/// <param name="U">U statistic of the first sample (scipy's statistic: R₁ − n₁(n₁+1)/2).</param>
/// <param name="Z">Signed continuity-corrected normal score; positive when the first sample tends to be larger.</param>
/// <param name="P">Two-sided p-value from the tie-corrected normal approximation.</param>
public readonly record struct RankSumResult(double U, double Z, double P);

/// <summary>One group's result of a one-vs-rest rank-sum test.</summary>
/// <param name="Group">The group label.</param>
/// <param name="Count">Number of observations in the group.</param>
/// <param name="Result">Group versus all other observations.</param>
public readonly record struct GroupRankSumResult<TLabel>(TLabel Group, int Count, RankSumResult Result);

/// <summary>Result of <see cref="Statistics.PermutationNull"/>.</summary>
/// <param name="Observed">The statistic on the unpermuted data (identity permutation).</param>
/// <param name="Null">The statistic under each random permutation.</param>
/// <param name="P">Empirical upper-tail p-value (1 + #{null ≥ observed}) / (1 + nPermutations).</param>
public sealed record PermutationResult(double Observed, double[] Null, double P);

/// <summary>Statistical tests and multiple-testing corrections (scipy.stats / R p.adjust conventions).</summary>
public static class Statistics
{
    /// <summary>
    /// Quantile <paramref name="q"/> ∈ [0, 1] of <paramref name="values"/> by linear interpolation between order statistics
    /// (numpy's default "linear" method); NaN for no values.
    /// </summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!(q >= 0 && q <= 1)) throw new TesseraException($"quantile must lie in [0, 1], got {q}");
        if (values.Count == 0) return double.NaN;
        var sorted = values.ToArray();
        Array.Sort(sorted);
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>Median (mean of the two middle values for an even count); NaN for no values.</summary>
    public static double Median(IReadOnlyList<double> values) => Quantile(values, 0.5);

    /// <summary>Standard scores (x − mean) / sd with sd using <paramref name="ddof"/> (scipy.stats.zscore; NaN everywhere when sd is 0).</summary>
    public static double[] ZScores(IReadOnlyList<double> values, int ddof = 0)
    {
        ArgumentNullException.ThrowIfNull(values);
        int n = values.Count;
        if (ddof < 0) throw new TesseraException($"ddof must be non-negative, got {ddof}");
        if (n <= ddof) throw new TesseraException($"z-scores need more than ddof={ddof} values but got {n}");
        CheckFinite(values, "values");
        double m = 0; for (int i = 0; i < n; i++) m += values[i];
        m /= n;
        double v = 0; for (int i = 0; i < n; i++) { double t = values[i] - m; v += t * t; }
        double sd = Math.Sqrt(v / (n - ddof));
        var z = new double[n];
        for (int i = 0; i < n; i++) z[i] = sd > 0 ? (values[i] - m) / sd : double.NaN;
        return z;
    }

    /// <summary>Column-wise standard scores of a matrix (scipy.stats.zscore(x, axis=0)).</summary>
    public static DenseMatrix ZScores(DenseMatrix x, int ddof = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        var r = new DenseMatrix(x.Rows, x.Cols);
        for (int j = 0; j < x.Cols; j++)
        {
            var z = ZScores(x.Column(j), ddof);
            for (int i = 0; i < x.Rows; i++) r[i, j] = z[i];
        }
        return r;
    }

    /// <summary>Exact upper binomial tail P(X ≥ k) for X ~ Binomial(n, p), summed in log space (scipy binom.sf(k − 1, n, p)).</summary>
    public static double BinomialTailTest(int k, int n, double p) => Math.Exp(LogBinomialTail(k, n, p));

    /// <summary>Natural log of P(X ≥ k) for X ~ Binomial(n, p); stays finite where the tail underflows double.</summary>
    public static double LogBinomialTail(int k, int n, double p)
    {
        if (n < 0) throw new TesseraException($"binomial n must be non-negative, got {n}");
        if (!(p >= 0 && p <= 1)) throw new TesseraException($"binomial p must lie in [0, 1], got {p}");
        if (k <= 0) return 0;
        if (k > n) return double.NegativeInfinity;
        if (p == 0) return double.NegativeInfinity;
        if (p == 1) return 0;
        double lp = Math.Log(p), lq = double.LogP1(-p);
        double lnf = SpecialFunctions.LogGamma(n + 1.0);
        double LogPmf(int i) => lnf - SpecialFunctions.LogGamma(i + 1.0) - SpecialFunctions.LogGamma(n - i + 1.0) + i * lp + (n - i) * lq;
        // Terms rise to the mode then fall; sum from the largest term outwards with a running max (log-sum-exp).
        int mode = Math.Max(k, Math.Min(n, (int)Math.Floor((n + 1) * p)));
        double max = LogPmf(mode);
        double sum = 0;
        for (int i = mode; i <= n; i++)
        {
            double t = Math.Exp(LogPmf(i) - max);
            sum += t;
            if (t < 1e-18 * sum) break;
        }
        for (int i = mode - 1; i >= k; i--)
        {
            double t = Math.Exp(LogPmf(i) - max);
            sum += t;
            if (t < 1e-18 * sum) break;
        }
        return Math.Min(0, max + Math.Log(sum));
    }

    /// <summary>Holm–Bonferroni step-down adjusted p-values (R p.adjust(p, "holm")); NaN entries stay NaN and are not counted.</summary>
    public static double[] HolmBonferroni(IReadOnlyList<double> pValues)
    {
        var (idx, n) = SortedValid(pValues, descending: false);
        var adj = Filled(pValues.Count);
        double run = 0;
        for (int r = 0; r < idx.Length; r++)
        {
            run = Math.Max(run, (n - r) * pValues[idx[r]]);
            adj[idx[r]] = Math.Min(1, run);
        }
        return adj;
    }

    /// <summary>Benjamini–Hochberg false-discovery-rate adjusted p-values (R p.adjust(p, "BH")); NaN entries stay NaN and are not counted.</summary>
    public static double[] BenjaminiHochberg(IReadOnlyList<double> pValues)
    {
        var (idx, n) = SortedValid(pValues, descending: true);
        var adj = Filled(pValues.Count);
        double run = double.PositiveInfinity;
        for (int r = 0; r < idx.Length; r++)
        {
            int i = n - r; // rank in ascending order
            run = Math.Min(run, (double)n / i * pValues[idx[r]]);
            adj[idx[r]] = Math.Min(1, run);
        }
        return adj;
    }

    private static double[] Filled(int n) { var a = new double[n]; Array.Fill(a, double.NaN); return a; }

    private static (int[] idx, int n) SortedValid(IReadOnlyList<double> p, bool descending)
    {
        ArgumentNullException.ThrowIfNull(p);
        var valid = new List<int>(p.Count);
        for (int i = 0; i < p.Count; i++)
        {
            if (double.IsNaN(p[i])) continue;
            if (p[i] < 0 || p[i] > 1) throw new TesseraException($"p-value at index {i} is {p[i]}; p-values must lie in [0, 1]");
            valid.Add(i);
        }
        var idx = valid.ToArray();
        var keys = idx.Select(i => p[i]).ToArray();
        // Stable order so ties keep input order, as R's order().
        var order = Enumerable.Range(0, idx.Length).OrderBy(r => descending ? -keys[r] : keys[r]).ToArray();
        return (order.Select(r => idx[r]).ToArray(), idx.Length);
    }

    /// <summary>
    /// Two-sided Wilcoxon rank-sum / Mann–Whitney U test with tie correction and continuity correction, as
    /// scipy.stats.mannwhitneyu(x, y, use_continuity=True, alternative="two-sided", method="asymptotic").
    /// </summary>
    public static RankSumResult WilcoxonRankSum(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(y);
        if (x.Count == 0) throw new TesseraException("rank-sum test: x is empty");
        if (y.Count == 0) throw new TesseraException("rank-sum test: y is empty");
        CheckFinite(x, "x"); CheckFinite(y, "y");
        var all = new double[x.Count + y.Count];
        for (int i = 0; i < x.Count; i++) all[i] = x[i];
        for (int i = 0; i < y.Count; i++) all[x.Count + i] = y[i];
        var ranks = SpecialFunctions.AverageRanks(all, out double tie);
        double r1 = 0; for (int i = 0; i < x.Count; i++) r1 += ranks[i];
        return RankSumFromR1(r1, x.Count, y.Count, tie);
    }

    private static RankSumResult RankSumFromR1(double r1, int n1, int n2, double tieTerm)
    {
        double u1 = r1 - n1 * (n1 + 1.0) / 2;
        double mu = (double)n1 * n2 / 2;
        double n = (double)n1 + n2;
        double s = Math.Sqrt((double)n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1))));
        double dev = Math.Abs(u1 - mu) - 0.5;
        if (!(s > 0) || dev <= 0) return new RankSumResult(u1, 0, 1);
        double z = dev / s;
        double pval = Math.Min(1, 2 * SpecialFunctions.NormalSf(z));
        return new RankSumResult(u1, u1 > mu ? z : -z, pval);
    }

    /// <summary>Rank-sum test of each group against all other observations (groups in sorted order); ranks are computed once.</summary>
    public static GroupRankSumResult<string>[] WilcoxonOneVsRest(IReadOnlyList<double> values, IReadOnlyList<string> groups)
        => OneVsRest(values, groups, StringComparer.Ordinal);

    /// <summary>Rank-sum test of each integer group against all other observations (groups in ascending order).</summary>
    public static GroupRankSumResult<int>[] WilcoxonOneVsRest(IReadOnlyList<double> values, IReadOnlyList<int> groups)
        => OneVsRest(values, groups, Comparer<int>.Default);

    private static GroupRankSumResult<T>[] OneVsRest<T>(IReadOnlyList<double> values, IReadOnlyList<T> groups, IComparer<T> cmp) where T : notnull
    {
        ArgumentNullException.ThrowIfNull(values); ArgumentNullException.ThrowIfNull(groups);
        if (values.Count != groups.Count) throw new TesseraException($"values has {values.Count} entries but groups has {groups.Count}");
        CheckFinite(values, "values");
        for (int i = 0; i < groups.Count; i++) if (groups[i] is null) throw new TesseraException($"groups has a missing label at index {i}");
        var all = values.ToArray();
        var ranks = SpecialFunctions.AverageRanks(all, out double tie);
        var r1 = new Dictionary<T, (double sum, int count)>();
        for (int i = 0; i < all.Length; i++)
        {
            r1.TryGetValue(groups[i], out var acc);
            r1[groups[i]] = (acc.sum + ranks[i], acc.count + 1);
        }
        if (r1.Count < 2) throw new TesseraException($"one-vs-rest test needs at least 2 groups but found {r1.Count}");
        return r1.Keys.OrderBy(g => g, cmp)
            .Select(g => new GroupRankSumResult<T>(g, r1[g].count, RankSumFromR1(r1[g].sum, r1[g].count, all.Length - r1[g].count, tie)))
            .ToArray();
    }

    /// <summary>
    /// Permutation null: <paramref name="statistic"/> is called with the identity permutation of 0..n−1 (observed value)
    /// and then with <paramref name="nPermutations"/> seeded random permutations (Fisher–Yates). The p-value is
    /// (1 + #{null ≥ observed}) / (1 + nPermutations).
    /// </summary>
    public static PermutationResult PermutationNull(int n, Func<int[], double> statistic, int nPermutations, int seed)
    {
        ArgumentNullException.ThrowIfNull(statistic);
        if (n < 1) throw new TesseraException($"permutation size n must be at least 1, got {n}");
        if (nPermutations < 1) throw new TesseraException($"nPermutations must be at least 1, got {nPermutations}");
        var perm = Enumerable.Range(0, n).ToArray();
        double observed = statistic((int[])perm.Clone());
        if (double.IsNaN(observed)) throw new TesseraException("the observed statistic is NaN");
        var rng = Seeding.Rng(seed, "permutation-null");
        var nul = new double[nPermutations];
        int ge = 0;
        for (int b = 0; b < nPermutations; b++)
        {
            for (int i = n - 1; i > 0; i--) { int j = rng.Next(i + 1); (perm[i], perm[j]) = (perm[j], perm[i]); }
            nul[b] = statistic((int[])perm.Clone());
            if (nul[b] >= observed) ge++;
        }
        return new PermutationResult(observed, nul, (1.0 + ge) / (1.0 + nPermutations));
    }

    private static void CheckFinite(IReadOnlyList<double> v, string name)
    {
        for (int i = 0; i < v.Count; i++)
            if (!double.IsFinite(v[i])) throw new TesseraException($"{name} contains {(double.IsNaN(v[i]) ? "NaN" : "an infinite value")} at index {i}");
    }
}
