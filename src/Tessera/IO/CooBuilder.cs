using Tessera.Data;

namespace Tessera.IO;

/// <summary>Growable (row, col, value) triplet store turned into CSR by a counting sort; duplicates are summed as scipy does.</summary>
/// <remarks>With <paramref name="budgetWhat"/>, every growth is first reserved on the current <see cref="ReadBudget"/>
/// (readers whose size is not declared up front, such as delimited tables).</remarks>
internal sealed class CooBuilder(int capacity = 1024, string? budgetWhat = null)
{
    private int[] _r = new int[Math.Max(capacity, 16)];
    private int[] _c = new int[Math.Max(capacity, 16)];
    private float[] _v = new float[Math.Max(capacity, 16)];

    public int Count { get; private set; }

    public void Add(int row, int col, float value)
    {
        if (Count == _r.Length)
        {
            int n = _r.Length >= int.MaxValue / 2 ? throw new TesseraException($"{budgetWhat ?? "the matrix"}: more than 2^30 non-zero values") : _r.Length * 2;
            // the new triplet arrays, plus index + value per entry in the CSR that follows
            if (budgetWhat != null) ReadBudget.Need(20.0 * (n - _r.Length), $"{budgetWhat} ({n} non-zero values so far)");
            Array.Resize(ref _r, n); Array.Resize(ref _c, n); Array.Resize(ref _v, n);
        }
        _r[Count] = row; _c[Count] = col; _v[Count] = value; Count++;
    }

    /// <summary>CSR of the stored entries; with <paramref name="transpose"/> the roles of row and column are swapped.</summary>
    public CsrMatrix ToCsr(int rows, int cols, bool transpose = false)
    {
        var rr = transpose ? _c : _r; var cc = transpose ? _r : _c;
        if (transpose) (rows, cols) = (cols, rows);
        int n = Count;
        var ptr = new int[rows + 1];
        for (int k = 0; k < n; k++) ptr[rr[k] + 1]++;
        for (int i = 0; i < rows; i++) ptr[i + 1] += ptr[i];
        var pos = new int[rows];
        Array.Copy(ptr, pos, rows);
        var idx = new int[n]; var val = new float[n];
        for (int k = 0; k < n; k++) { int p = pos[rr[k]]++; idx[p] = cc[k]; val[p] = _v[k]; }
        // sort rows that are out of order, then merge duplicate columns in place
        bool anyDup = false;
        for (int i = 0; i < rows; i++)
        {
            int s = ptr[i], e = ptr[i + 1];
            bool sorted = true;
            for (int k = s + 1; k < e; k++) if (idx[k] <= idx[k - 1]) { sorted = false; break; }
            if (sorted) continue;
            Array.Sort(idx, val, s, e - s);
            for (int k = s + 1; k < e; k++) if (idx[k] == idx[k - 1]) { anyDup = true; break; }
        }
        if (!anyDup) return new CsrMatrix(rows, cols, ptr, idx, val);
        var optr = new int[rows + 1]; int w = 0;
        for (int i = 0; i < rows; i++)
        {
            int s = ptr[i], e = ptr[i + 1];
            int rowStart = w;
            for (int k = s; k < e; k++)
            {
                if (w > rowStart && idx[w - 1] == idx[k]) val[w - 1] += val[k];
                else { idx[w] = idx[k]; val[w] = val[k]; w++; }
            }
            optr[i + 1] = w;
        }
        return new CsrMatrix(rows, cols, optr, idx[..w], val[..w]);
    }
}
