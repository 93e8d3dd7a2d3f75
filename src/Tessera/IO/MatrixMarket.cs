using System.Globalization;
using System.IO.Compression;
using System.Text;
using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// MatrixMarket coordinate files (.mtx or .mtx.gz), the format of 10x Cell Ranger / Space Ranger matrix folders.
/// Reads real, integer and pattern matrices with general or symmetric storage; values must be finite, non-negative
/// counts. Duplicate entries are summed, as scipy.io.mmread(...).tocsr() does.
/// </summary>
public static class MatrixMarket
{
    /// <summary>Reads a coordinate MatrixMarket file into CSR.</summary>
    /// <param name="path">The .mtx or .mtx.gz file (gzip is recognised by content).</param>
    /// <param name="transpose">Return the transpose (10x files store genes × barcodes; pass true for barcodes × genes).</param>
    /// <param name="options">Only <see cref="ReadOptions.MaxMemory"/> is used: the size line's promise is checked against it before anything is allocated.</param>
    public static CsrMatrix Read(string path, bool transpose = false, ReadOptions? options = null)
    {
        using var budget = ReadBudget.Enter(options);
        return ReadChecked(path, transpose, null);
    }

    /// <summary>Reads with the size line checked against the (rows, columns) that the companion files declare.</summary>
    internal static CsrMatrix ReadChecked(string path, bool transpose, (long Rows, long Cols, string Why)? expected)
    {
        using var r = ByteLineReader.Open(path);
        string name = r.Name;
        if (!r.TryReadLine(out var line) || !line.StartsWith("%%MatrixMarket"u8))
            throw new TesseraException($"{name}: not a MatrixMarket file (the first line must start with %%MatrixMarket)");
        var head = Numbers.Text(line).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(t => t.ToLowerInvariant()).ToArray();
        if (head.Length != 5 || head[1] != "matrix" || head[2] != "coordinate"
            || head[3] is not ("real" or "integer" or "pattern" or "double") || head[4] is not ("general" or "symmetric"))
            throw new TesseraException($"{name}: unsupported MatrixMarket header '{Numbers.Text(line).Trim()}': Tessera reads 'matrix coordinate' with real, integer or pattern values and general or symmetric storage");
        bool pattern = head[3] == "pattern", symmetric = head[4] == "symmetric";

        long rows = -1, cols = -1, declared = -1;
        while (r.TryReadLine(out line))
        {
            var t = line.Trim(" \t"u8);
            if (t.Length == 0 || t[0] == (byte)'%') continue;
            Span<Range> f = stackalloc Range[4];
            int nf = Split(t, f);
            if (nf != 3 || !Numbers.TryParseIndex(t[f[0]], out rows) || !Numbers.TryParseIndex(t[f[1]], out cols) || !Numbers.TryParseIndex(t[f[2]], out declared))
                throw new TesseraException($"{name} line {r.LineNumber}: expected the size line 'rows columns entries', got '{Numbers.Text(t)}'");
            break;
        }
        if (declared < 0) throw new TesseraException($"{name}: the file ends before the size line 'rows columns entries'");
        if (expected is { } e && (rows != e.Rows || cols != e.Cols))
            throw new TesseraException($"{name}: the size line declares {rows} x {cols} but {e.Why}");
        if (rows > int.MaxValue || cols > int.MaxValue) throw new TesseraException($"{name}: matrix size {rows} x {cols} is too large");
        if (symmetric && rows != cols) throw new TesseraException($"{name}: a symmetric matrix must be square, but the size line says {rows} x {cols}");
        long cap = symmetric ? 2 * declared : declared;
        if (cap > int.MaxValue) throw new TesseraException($"{name}: {declared} entries is more than Tessera can hold (2^31)");
        // triplets (row, column, value) while reading, then CSR: row pointers (twice, for the counting sort) and index + value per entry
        ReadBudget.Need(20.0 * cap + 8.0 * (Math.Max(rows, cols) + 1), $"{name} (declared {rows} x {cols} with {declared} entries)");
        var coo = new CooBuilder((int)Math.Min(cap, 1 << 20));
        int expectFields = pattern ? 2 : 3;
        long seen = 0;
        Span<Range> fr = stackalloc Range[4];
        while (r.TryReadLine(out line))
        {
            if (!pattern && TryFastEntry(line, out long fi, out long fj, out long fv) && fi >= 1 && fj >= 1 && fi <= rows && fj <= cols && seen < declared)
            {
                seen++;
                coo.Add((int)(fi - 1), (int)(fj - 1), fv);
                if (symmetric && fi != fj) coo.Add((int)(fj - 1), (int)(fi - 1), fv);
                continue;
            }
            var t = line.Trim(" \t"u8);
            if (t.Length == 0 || t[0] == (byte)'%') continue;
            int nf = Split(t, fr);
            if (nf != expectFields)
                throw new TesseraException($"{name} line {r.LineNumber}: expected {(pattern ? "2 fields 'row column'" : "3 fields 'row column value'")}, got '{Numbers.Text(t)}'");
            if (!Numbers.TryParseIndex(t[fr[0]], out long i) || !Numbers.TryParseIndex(t[fr[1]], out long j))
                throw new TesseraException($"{name} line {r.LineNumber}: row and column must be positive integers, got '{Numbers.Text(t)}'");
            if (i < 1 || j < 1 || i > rows || j > cols)
                throw new TesseraException($"{name} line {r.LineNumber}: entry ({i}, {j}) is outside the declared {rows} x {cols} matrix");
            double v = 1;
            if (!pattern)
            {
                var vt = t[fr[2]];
                if (!Numbers.TryParse(vt, out v)) throw new TesseraException($"{name} line {r.LineNumber}: value '{Numbers.Text(vt)}' is not a number");
                if (double.IsNaN(v)) throw new TesseraException($"{name} line {r.LineNumber}: NaN count");
                if (double.IsInfinity(v)) throw new TesseraException($"{name} line {r.LineNumber}: infinite count {Numbers.Text(vt)}");
                if (v < 0) throw new TesseraException($"{name} line {r.LineNumber}: negative count {Numbers.Text(vt)}");
            }
            if (++seen > declared) throw new TesseraException($"{name} line {r.LineNumber}: more entries than the {declared} declared in the size line");
            coo.Add((int)(i - 1), (int)(j - 1), (float)v);
            if (symmetric && i != j) coo.Add((int)(j - 1), (int)(i - 1), (float)v);
        }
        if (seen != declared) throw new TesseraException($"{name}: the size line declares {declared} entries but the file has {seen}");
        return coo.ToCsr((int)rows, (int)cols, transpose);
    }

    /// <summary>
    /// Writes a matrix as a general coordinate MatrixMarket file ("integer" when every value is whole, else "real");
    /// gzip-compressed when the path ends in .gz. Written atomically.
    /// </summary>
    /// <param name="m">The matrix.</param>
    /// <param name="path">Output path (.mtx or .mtx.gz).</param>
    /// <param name="transpose">Write the transpose (10x layout: genes × barcodes from a barcodes × genes matrix).</param>
    public static void Write(CsrMatrix m, string path, bool transpose = false)
    {
        var src = transpose ? m.Transpose() : m;
        bool integer = src.Data.All(v => v == MathF.Floor(v) && Math.Abs(v) < 1e15);
        AtomicFile.WriteStream(path, raw =>
        {
            Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(raw, CompressionLevel.Fastest, leaveOpen: true) : raw;
            using (var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true))
            {
                w.NewLine = "\n";
                w.WriteLine($"%%MatrixMarket matrix coordinate {(integer ? "integer" : "real")} general");
                w.WriteLine("%metadata_json: {\"software\": \"Tessera\"}");
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{src.Rows} {src.Cols} {src.Nnz}"));
                // column-major order like Cell Ranger output (entries grouped by column)
                var t = src.Transpose();
                for (int c = 0; c < t.Rows; c++)
                    for (int k = t.IndPtr[c]; k < t.IndPtr[c + 1]; k++)
                    {
                        float v = t.Data[k];
                        w.Write(t.Indices[k] + 1); w.Write(' '); w.Write(c + 1); w.Write(' ');
                        w.WriteLine(integer ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture));
                    }
            }
            if (s != raw) s.Dispose();
        });
    }

    /// <summary>The common line "i j v" with non-negative integers and single spaces, parsed without any slicing; false for anything else.</summary>
    private static bool TryFastEntry(ReadOnlySpan<byte> s, out long i, out long j, out long v)
    {
        i = j = v = 0;
        int k = 0, n = s.Length;
        if (!Digits(s, ref k, out i) || k >= n || s[k++] != (byte)' ') return false;
        if (!Digits(s, ref k, out j) || k >= n || s[k++] != (byte)' ') return false;
        if (!Digits(s, ref k, out v)) return false;
        return k == n;
    }

    private static bool Digits(ReadOnlySpan<byte> s, ref int k, out long value)
    {
        value = 0;
        int start = k;
        while (k < s.Length)
        {
            uint d = (uint)(s[k] - (byte)'0');
            if (d > 9) break;
            value = value * 10 + d;
            k++;
        }
        return k > start && k - start <= 15;
    }

    /// <summary>Splits on runs of spaces/tabs; returns the number of fields (capped at the span's length + 1 as "too many").</summary>
    internal static int Split(ReadOnlySpan<byte> t, Span<Range> f)
    {
        int n = 0, i = 0;
        while (i < t.Length)
        {
            while (i < t.Length && (t[i] == (byte)' ' || t[i] == (byte)'\t')) i++;
            if (i >= t.Length) break;
            int s = i;
            while (i < t.Length && t[i] != (byte)' ' && t[i] != (byte)'\t') i++;
            if (n == f.Length) return n + 1;
            f[n++] = new Range(s, i);
        }
        return n;
    }
}
