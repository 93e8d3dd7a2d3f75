namespace Tessera.Data;

/// <summary>
/// Compressed sparse row matrix of float32 values (rows = spots/cells, columns = genes), the layout of
/// scipy.sparse.csr_matrix and of anndata's X. Column indices within a row are sorted and unique.
/// </summary>
public sealed class CsrMatrix
{
    /// <summary>Number of rows.</summary>
    public int Rows { get; }
    /// <summary>Number of columns.</summary>
    public int Cols { get; }
    /// <summary>Row pointers, length Rows + 1.</summary>
    public int[] IndPtr { get; }
    /// <summary>Column index of each stored value.</summary>
    public int[] Indices { get; }
    /// <summary>Stored values.</summary>
    public float[] Data { get; }
    /// <summary>Number of stored values.</summary>
    public int Nnz => IndPtr[Rows];

    /// <summary>Wraps CSR arrays (not copied). Validates the structure and sorts each row's column indices.</summary>
    public CsrMatrix(int rows, int cols, int[] indPtr, int[] indices, float[] data)
    {
        if (rows < 0 || cols < 0) throw new ArgumentException($"matrix shape ({rows}, {cols}) is negative");
        if (indPtr.Length != rows + 1) throw new ArgumentException($"indptr has {indPtr.Length} entries but the matrix has {rows} rows (expected {rows + 1})");
        if (indices.Length != data.Length) throw new ArgumentException($"indices has {indices.Length} entries but data has {data.Length}");
        if (indPtr[0] != 0 || indPtr[rows] != data.Length) throw new ArgumentException($"indptr must start at 0 and end at nnz = {data.Length}");
        Rows = rows; Cols = cols; IndPtr = indPtr; Indices = indices; Data = data;
        for (int r = 0; r < rows; r++)
        {
            int s = indPtr[r], e = indPtr[r + 1];
            if (e < s) throw new ArgumentException($"indptr decreases at row {r}");
            bool sorted = true;
            for (int k = s; k < e; k++)
            {
                if ((uint)indices[k] >= (uint)cols) throw new ArgumentException($"column index {indices[k]} in row {r} is outside 0..{cols - 1}");
                if (k > s && indices[k] <= indices[k - 1]) sorted = false;
            }
            if (!sorted)
            {
                Array.Sort(indices, data, s, e - s);
                for (int k = s + 1; k < e; k++)
                    if (indices[k] == indices[k - 1]) throw new ArgumentException($"row {r} stores column {indices[k]} twice");
            }
        }
    }

    /// <summary>An empty (all-zero) matrix.</summary>
    public static CsrMatrix Zeros(int rows, int cols) => new(rows, cols, new int[rows + 1], [], []);

    /// <summary>Builds a CSR matrix from a dense row-major array, keeping non-zeros.</summary>
    public static CsrMatrix FromDense(float[,] dense)
    {
        int rows = dense.GetLength(0), cols = dense.GetLength(1);
        var ptr = new int[rows + 1]; var idx = new List<int>(); var val = new List<float>();
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) if (dense[r, c] != 0) { idx.Add(c); val.Add(dense[r, c]); }
            ptr[r + 1] = idx.Count;
        }
        return new CsrMatrix(rows, cols, ptr, idx.ToArray(), val.ToArray());
    }

    /// <summary>Builds a CSR matrix from (row, col, value) triplets; duplicates are summed.</summary>
    public static CsrMatrix FromTriplets(int rows, int cols, IReadOnlyList<int> r, IReadOnlyList<int> c, IReadOnlyList<float> v)
    {
        if (r.Count != c.Count || r.Count != v.Count) throw new ArgumentException("row, col and value lists differ in length");
        var counts = new int[rows + 1];
        for (int k = 0; k < r.Count; k++)
        {
            if ((uint)r[k] >= (uint)rows || (uint)c[k] >= (uint)cols) throw new ArgumentException($"entry ({r[k]}, {c[k]}) is outside the {rows} x {cols} matrix");
            counts[r[k] + 1]++;
        }
        for (int i = 0; i < rows; i++) counts[i + 1] += counts[i];
        var pos = (int[])counts.Clone();
        var idx = new int[r.Count]; var val = new float[r.Count];
        for (int k = 0; k < r.Count; k++) { int p = pos[r[k]]++; idx[p] = c[k]; val[p] = v[k]; }
        // sort rows and merge duplicates
        var outPtr = new int[rows + 1]; var outIdx = new List<int>(r.Count); var outVal = new List<float>(r.Count);
        for (int i = 0; i < rows; i++)
        {
            int s = counts[i], e = counts[i + 1];
            Array.Sort(idx, val, s, e - s);
            for (int k = s; k < e; k++)
            {
                if (outIdx.Count > outPtr[i] && outIdx[^1] == idx[k]) outVal[^1] += val[k];
                else { outIdx.Add(idx[k]); outVal.Add(val[k]); }
            }
            outPtr[i + 1] = outIdx.Count;
        }
        return new CsrMatrix(rows, cols, outPtr, outIdx.ToArray(), outVal.ToArray());
    }

    /// <summary>Value at (row, col) by binary search within the row.</summary>
    public float this[int row, int col]
    {
        get
        {
            int k = Array.BinarySearch(Indices, IndPtr[row], IndPtr[row + 1] - IndPtr[row], col);
            return k >= 0 ? Data[k] : 0f;
        }
    }

    /// <summary>Deep copy.</summary>
    public CsrMatrix Clone() => new(Rows, Cols, (int[])IndPtr.Clone(), (int[])Indices.Clone(), (float[])Data.Clone());

    /// <summary>Copy with the same sparsity pattern and new values.</summary>
    public CsrMatrix WithData(float[] data) => new(Rows, Cols, IndPtr, Indices, data);

    /// <summary>Dense row-major copy (Rows × Cols). Only for small matrices or row blocks.</summary>
    public float[] ToDenseArray()
    {
        var d = new float[(long)Rows * Cols];
        for (int r = 0; r < Rows; r++)
            for (int k = IndPtr[r]; k < IndPtr[r + 1]; k++) d[(long)r * Cols + Indices[k]] = Data[k];
        return d;
    }

    /// <summary>
    /// Splits off columns in place: returns the matrix of the columns whose <paramref name="group"/> is negative (in
    /// their order) and adds every entry of a column with group g ≥ 0 to <paramref name="sums"/>[g][row]. The result is
    /// built in this matrix's own arrays, compacted and then trimmed, so the split costs one array of the kept size at a
    /// time, not a second matrix. This matrix must not be used afterwards: the caller owns it (a reader's fresh matrix).
    /// </summary>
    internal CsrMatrix SplitColumnsInPlace(int[] group, double[][] sums)
    {
        if (group.Length != Cols) throw new ArgumentException($"group has {group.Length} entries but the matrix has {Cols} columns");
        var newIndex = new int[Cols];
        int kept = 0;
        for (int c = 0; c < Cols; c++) newIndex[c] = group[c] < 0 ? kept++ : -1;
        var ptr = IndPtr; var idx = Indices; var val = Data;
        int w = 0, start = 0;
        for (int r = 0; r < Rows; r++)
        {
            int end = ptr[r + 1];
            for (int k = start; k < end; k++)
            {
                int c = idx[k];
                if (group[c] >= 0) { sums[group[c]][r] += val[k]; continue; }
                idx[w] = newIndex[c]; val[w] = val[k]; w++;
            }
            start = end;
            ptr[r + 1] = w;
        }
        if (w < idx.Length)
        {
            // one array at a time, so at most one extra array of the kept size is alive
            Array.Resize(ref idx, w);
            Array.Resize(ref val, w);
        }
        return new CsrMatrix(Rows, kept, ptr, idx, val); // still sorted: the kept columns keep their order
    }

    /// <summary>Rows selected (in the given order, repeats allowed) and columns selected (in the given order); returns a copy.</summary>
    public CsrMatrix Subset(IReadOnlyList<int>? rows, IReadOnlyList<int>? cols)
    {
        rows ??= Enumerable.Range(0, Rows).ToArray();
        int[]? map = null; int newCols = Cols;
        if (cols != null)
        {
            map = new int[Cols]; Array.Fill(map, -1);
            for (int j = 0; j < cols.Count; j++)
            {
                if ((uint)cols[j] >= (uint)Cols) throw new ArgumentException($"column {cols[j]} is outside 0..{Cols - 1}");
                if (map[cols[j]] >= 0) throw new ArgumentException($"column {cols[j]} selected twice");
                map[cols[j]] = j;
            }
            newCols = cols.Count;
        }
        var ptr = new int[rows.Count + 1]; var idx = new List<int>(); var val = new List<float>();
        for (int i = 0; i < rows.Count; i++)
        {
            int r = rows[i];
            if ((uint)r >= (uint)Rows) throw new ArgumentException($"row {r} is outside 0..{Rows - 1}");
            for (int k = IndPtr[r]; k < IndPtr[r + 1]; k++)
            {
                int c = map == null ? Indices[k] : map[Indices[k]];
                if (c >= 0) { idx.Add(c); val.Add(Data[k]); }
            }
            ptr[i + 1] = idx.Count;
        }
        // column selection may permute: the constructor re-sorts rows
        return new CsrMatrix(rows.Count, newCols, ptr, idx.ToArray(), val.ToArray());
    }

    /// <summary>Transposed copy (CSR of the transpose, i.e. CSC of this matrix).</summary>
    public CsrMatrix Transpose()
    {
        var ptr = new int[Cols + 1];
        for (int k = 0; k < Nnz; k++) ptr[Indices[k] + 1]++;
        for (int c = 0; c < Cols; c++) ptr[c + 1] += ptr[c];
        var pos = (int[])ptr.Clone();
        var idx = new int[Nnz]; var val = new float[Nnz];
        for (int r = 0; r < Rows; r++)
            for (int k = IndPtr[r]; k < IndPtr[r + 1]; k++) { int p = pos[Indices[k]]++; idx[p] = r; val[p] = Data[k]; }
        return new CsrMatrix(Cols, Rows, ptr, idx, val);
    }

    /// <summary>Sum of each row.</summary>
    public double[] RowSums()
    {
        var s = new double[Rows];
        for (int r = 0; r < Rows; r++) { double a = 0; for (int k = IndPtr[r]; k < IndPtr[r + 1]; k++) a += Data[k]; s[r] = a; }
        return s;
    }

    /// <summary>Sum of each column.</summary>
    public double[] ColSums()
    {
        var s = new double[Cols];
        for (int k = 0; k < Nnz; k++) s[Indices[k]] += Data[k];
        return s;
    }

    /// <summary>Number of stored non-zero values in each row.</summary>
    public int[] RowNnz()
    {
        var n = new int[Rows];
        for (int r = 0; r < Rows; r++) for (int k = IndPtr[r]; k < IndPtr[r + 1]; k++) if (Data[k] != 0) n[r]++;
        return n;
    }

    /// <summary>Number of rows in which each column is non-zero.</summary>
    public int[] ColNnz()
    {
        var n = new int[Cols];
        for (int k = 0; k < Nnz; k++) if (Data[k] != 0) n[Indices[k]]++;
        return n;
    }

    /// <summary>Stacks matrices with equal column counts on top of each other.</summary>
    public static CsrMatrix VStack(IReadOnlyList<CsrMatrix> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to stack");
        int cols = parts[0].Cols; int rows = 0; long nnz = 0;
        foreach (var p in parts)
        {
            if (p.Cols != cols) throw new ArgumentException($"cannot stack matrices with {cols} and {p.Cols} columns");
            rows += p.Rows; nnz += p.Nnz;
        }
        if (nnz > int.MaxValue) throw new ArgumentException("stacked matrix has more than 2^31 non-zeros");
        var ptr = new int[rows + 1]; var idx = new int[nnz]; var val = new float[nnz];
        int ro = 0, no = 0;
        foreach (var p in parts)
        {
            for (int r = 0; r < p.Rows; r++) ptr[ro + r + 1] = no + p.IndPtr[r + 1];
            Array.Copy(p.Indices, 0, idx, no, p.Nnz); Array.Copy(p.Data, 0, val, no, p.Nnz);
            ro += p.Rows; no += p.Nnz;
        }
        return new CsrMatrix(rows, cols, ptr, idx, val);
    }
}
