using Tessera.Data;

namespace Tessera.Preprocess;

/// <summary>
/// A dense float32 matrix (row-major, spots × genes) produced by <see cref="Scale.Apply"/>, with the per-gene
/// mean and standard deviation used. Memory: Rows × Cols × 4 bytes (3639 spots × 3000 HVGs ≈ 44 MB; all 33538 genes ≈ 490 MB).
/// </summary>
public sealed class ScaledMatrix
{
    /// <summary>Number of rows (spots).</summary>
    public int Rows { get; }
    /// <summary>Number of columns (genes).</summary>
    public int Cols { get; }
    /// <summary>Row-major values.</summary>
    public float[] Data { get; }
    /// <summary>Per-gene mean (scanpy var "mean"); subtracted only when zero-centred.</summary>
    public double[] Means { get; }
    /// <summary>Per-gene standard deviation (ddof = 1) divided by; 1 for constant genes (scanpy var "std").</summary>
    public double[] Stds { get; }

    /// <summary>Wraps row-major data (not copied).</summary>
    public ScaledMatrix(int rows, int cols, float[] data, double[] means, double[] stds)
    {
        if ((long)rows * cols != data.Length) throw new ArgumentException($"data has {data.Length} values but the shape is ({rows}, {cols})");
        if (means.Length != cols || stds.Length != cols) throw new ArgumentException($"means/stds need {cols} values");
        Rows = rows; Cols = cols; Data = data; Means = means; Stds = stds;
    }

    /// <summary>Value at (row, col).</summary>
    public float this[int row, int col] => Data[(long)row * Cols + col];

    /// <summary>Float64 copy as a <see cref="DenseMatrix"/> (twice the memory).</summary>
    public DenseMatrix ToDenseMatrix()
    {
        var d = new double[Data.Length];
        for (long i = 0; i < d.Length; i++) d[i] = Data[i];
        return new DenseMatrix(Rows, Cols, d);
    }
}

/// <summary>Per-gene standardisation (scanpy pp.scale).</summary>
public static class Scale
{
    /// <summary>
    /// (x − mean) / std per gene with std of ddof = 1 (constant genes divide by 1), then clipped to ±<paramref name="maxValue"/>
    /// (scanpy ≥ 1.10 clips both sides when zero-centring; only the upper side otherwise). The result is dense: see
    /// <see cref="ScaledMatrix"/> for its memory; select HVGs first on large data. The input is not modified.
    /// </summary>
    public static ScaledMatrix Apply(CsrMatrix x, double? maxValue = null, bool zeroCenter = true)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (maxValue is { } mv && !(mv > 0)) throw new TesseraException($"scale max value must be positive, got {mv}");
        if (x.Rows < 2) throw new TesseraException($"scaling needs at least 2 spots, the data has {x.Rows}");
        if ((long)x.Rows * x.Cols > int.MaxValue) throw new TesseraException($"a dense {x.Rows} x {x.Cols} matrix is too large to scale; select highly variable genes first");
        var (mean, var) = GeneStats.MeanVar(x);
        // v <= 0 also catches the tiny negative rounding of E[x²] − mean² on constant genes
        var std = var.Select(v => v <= 0 ? 1.0 : Math.Sqrt(v)).ToArray();
        var center = zeroCenter ? mean : new double[x.Cols];
        var data = new float[(long)x.Rows * x.Cols];
        var baseRow = new float[x.Cols];
        for (int j = 0; j < x.Cols; j++) baseRow[j] = (float)((0 - center[j]) / std[j]);
        float hi = maxValue is { } m1 ? (float)m1 : float.PositiveInfinity;
        float lo = maxValue is { } m2 && zeroCenter ? -(float)m2 : float.NegativeInfinity;
        for (int r = 0; r < x.Rows; r++)
        {
            var row = data.AsSpan(r * x.Cols, x.Cols);
            baseRow.CopyTo(row);
            for (int k = x.IndPtr[r]; k < x.IndPtr[r + 1]; k++)
            {
                int j = x.Indices[k];
                row[j] = (float)((x.Data[k] - center[j]) / std[j]);
            }
            for (int j = 0; j < row.Length; j++) row[j] = Math.Clamp(row[j], lo, hi);
        }
        return new ScaledMatrix(x.Rows, x.Cols, data, mean, std);
    }
}
