namespace Tessera.Data;

/// <summary>Dense row-major float64 matrix, used for obsm entries (coordinates, PCA, embeddings).</summary>
public sealed class DenseMatrix
{
    /// <summary>Number of rows.</summary>
    public int Rows { get; }
    /// <summary>Number of columns.</summary>
    public int Cols { get; }
    /// <summary>Row-major values, length Rows × Cols.</summary>
    public double[] Data { get; }

    /// <summary>Wraps row-major data (not copied).</summary>
    public DenseMatrix(int rows, int cols, double[] data)
    {
        if ((long)rows * cols != data.Length) throw new ArgumentException($"data has {data.Length} values but the shape is ({rows}, {cols})");
        Rows = rows; Cols = cols; Data = data;
    }

    /// <summary>A zero matrix.</summary>
    public DenseMatrix(int rows, int cols) : this(rows, cols, new double[(long)rows * cols]) { }

    /// <summary>From a float32 row-major array (e.g. a torch tensor's data).</summary>
    public static DenseMatrix FromFloat(int rows, int cols, ReadOnlySpan<float> data)
    {
        var d = new double[data.Length];
        for (int i = 0; i < d.Length; i++) d[i] = data[i];
        return new DenseMatrix(rows, cols, d);
    }

    /// <summary>Element access.</summary>
    public double this[int row, int col]
    {
        get => Data[(long)row * Cols + col];
        set => Data[(long)row * Cols + col] = value;
    }

    /// <summary>One row as a span.</summary>
    public Span<double> Row(int row) => Data.AsSpan(row * Cols, Cols);

    /// <summary>One column copied out.</summary>
    public double[] Column(int col)
    {
        var c = new double[Rows];
        for (int r = 0; r < Rows; r++) c[r] = Data[(long)r * Cols + col];
        return c;
    }

    /// <summary>Values as float32 (row-major), e.g. for torch.tensor.</summary>
    public float[] ToFloatArray()
    {
        var f = new float[Data.Length];
        for (int i = 0; i < f.Length; i++) f[i] = (float)Data[i];
        return f;
    }

    /// <summary>Selected rows, copied.</summary>
    public DenseMatrix SubsetRows(IReadOnlyList<int> rows)
    {
        var d = new double[(long)rows.Count * Cols];
        for (int i = 0; i < rows.Count; i++) Array.Copy(Data, (long)rows[i] * Cols, d, (long)i * Cols, Cols);
        return new DenseMatrix(rows.Count, Cols, d);
    }

    /// <summary>Selected columns, copied.</summary>
    public DenseMatrix SubsetCols(IReadOnlyList<int> cols)
    {
        var d = new double[(long)Rows * cols.Count];
        for (int r = 0; r < Rows; r++) for (int j = 0; j < cols.Count; j++) d[(long)r * cols.Count + j] = Data[(long)r * Cols + cols[j]];
        return new DenseMatrix(Rows, cols.Count, d);
    }

    /// <summary>Deep copy.</summary>
    public DenseMatrix Clone() => new(Rows, Cols, (double[])Data.Clone());

    /// <summary>Stacks matrices with equal column counts.</summary>
    public static DenseMatrix VStack(IReadOnlyList<DenseMatrix> parts)
    {
        int cols = parts[0].Cols;
        if (parts.Any(p => p.Cols != cols)) throw new ArgumentException("cannot stack matrices with different column counts");
        return new DenseMatrix(parts.Sum(p => p.Rows), cols, parts.SelectMany(p => p.Data).ToArray());
    }
}
