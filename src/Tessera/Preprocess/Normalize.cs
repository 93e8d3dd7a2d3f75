using Tessera.Data;

namespace Tessera.Preprocess;

/// <summary>Library-size normalisation and log transform (scanpy normalize_total / log1p).</summary>
public static class Normalize
{
    /// <summary>
    /// Scales every row to sum to <paramref name="targetSum"/> (scanpy normalize_total with target_sum given and
    /// exclude_highly_expressed = false). Rows whose total is zero stay zero. Returns a new matrix (float32, factors in float64).
    /// </summary>
    public static CsrMatrix Total(CsrMatrix x, double targetSum = 1e4)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!(targetSum > 0) || double.IsInfinity(targetSum)) throw new TesseraException($"normalisation target sum must be positive, got {targetSum}");
        var totals = x.RowSums();
        var data = new float[x.Nnz];
        for (int r = 0; r < x.Rows; r++)
        {
            if (totals[r] == 0) continue;
            double f = targetSum / totals[r];
            for (int k = x.IndPtr[r]; k < x.IndPtr[r + 1]; k++) data[k] = (float)(x.Data[k] * f);
        }
        return new CsrMatrix(x.Rows, x.Cols, (int[])x.IndPtr.Clone(), (int[])x.Indices.Clone(), data);
    }

    /// <summary>
    /// scanpy normalize_total's default target when none is given: the median of the <b>positive</b> row totals
    /// (<c>np.median(counts[counts &gt; 0])</c>), so empty rows do not pull the target down.
    /// </summary>
    /// <exception cref="TesseraException">When every row total is zero.</exception>
    public static double MedianTarget(CsrMatrix x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var totals = x.RowSums().Where(t => t > 0).ToArray();
        if (totals.Length == 0) throw new TesseraException("every row has a zero total count: nothing to normalise");
        return Analysis.Statistics.Median(totals);
    }

    /// <summary>Copy of <paramref name="data"/> whose X is <see cref="Total(CsrMatrix, double)"/> of its X (layers untouched).</summary>
    public static SpatialData Total(SpatialData data, double targetSum = 1e4)
    {
        ArgumentNullException.ThrowIfNull(data);
        var x = Total(data.X, targetSum);
        var d = data.Subset();
        d.X = x;
        return d;
    }

    /// <summary>Natural log(1 + x) of every stored value (scanpy log1p); returns a new matrix.</summary>
    public static CsrMatrix Log1p(CsrMatrix x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var data = new float[x.Nnz];
        for (int k = 0; k < data.Length; k++)
        {
            if (x.Data[k] <= -1) throw new TesseraException($"log1p is undefined for value {x.Data[k]} (row {RowOf(x, k)}, column {x.Indices[k]})");
            data[k] = (float)Math.Log(1 + (double)x.Data[k]);
        }
        return new CsrMatrix(x.Rows, x.Cols, (int[])x.IndPtr.Clone(), (int[])x.Indices.Clone(), data);
    }

    /// <summary>Copy of <paramref name="data"/> whose X is log1p of its X; records uns["log1p"] = {} as scanpy does (natural log).</summary>
    public static SpatialData Log1p(SpatialData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var x = Log1p(data.X);
        var d = data.Subset();
        d.X = x;
        d.Uns["log1p"] = new Dictionary<string, object>(StringComparer.Ordinal);
        return d;
    }

    internal static int RowOf(CsrMatrix x, int k)
    {
        int r = Array.BinarySearch(x.IndPtr, k);
        if (r < 0) return ~r - 1;
        while (r + 1 < x.IndPtr.Length && x.IndPtr[r + 1] == k) r++;
        return r;
    }
}

/// <summary>Per-gene statistics shared by the preprocessing steps.</summary>
internal static class GeneStats
{
    /// <summary>
    /// Column means and ddof=1 variances in float64 from one pass of sums and sums of squares, exactly as scanpy's
    /// _get_mean_var (sparse_mean_variance_axis): on integer counts the sums are exact, so genes with the same count
    /// multiset get bit-identical statistics and tie exactly, as in scanpy.
    /// </summary>
    public static (double[] Mean, double[] Var) MeanVar(CsrMatrix x, IReadOnlyList<int>? rows = null, Func<float, double>? transform = null)
    {
        int n = rows?.Count ?? x.Rows;
        var sum = new double[x.Cols];
        var sq = new double[x.Cols];
        for (int i = 0; i < n; i++)
        {
            int r = rows == null ? i : rows[i];
            for (int k = x.IndPtr[r]; k < x.IndPtr[r + 1]; k++)
            {
                double v = transform == null ? x.Data[k] : transform(x.Data[k]);
                sum[x.Indices[k]] += v;
                sq[x.Indices[k]] += v * v;
            }
        }
        var mean = new double[x.Cols];
        var variance = new double[x.Cols];
        for (int j = 0; j < mean.Length; j++)
        {
            mean[j] = n == 0 ? double.NaN : sum[j] / n;
            variance[j] = n < 2 ? double.NaN : (sq[j] / n - mean[j] * mean[j]) * ((double)n / (n - 1));
        }
        return (mean, variance);
    }
}
