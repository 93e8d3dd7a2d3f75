using Parquet;
using Parquet.Schema;

namespace Tessera.IO;

/// <summary>
/// Reads whole named columns of a flat parquet table through Parquet.Net (every row group, in order): numbers (any integer
/// or floating type, nullable or not; a null becomes NaN) as <c>double[]</c>, text as <c>string?[]</c>.
/// </summary>
internal static class ParquetColumns
{
    /// <summary>
    /// The <paramref name="required"/> columns (missing → <see cref="TesseraException"/> naming the file and its columns)
    /// and those of <paramref name="optional"/> present in the file. Memory for the rows is reserved before reading.
    /// </summary>
    /// <param name="path">The parquet file.</param>
    /// <param name="required">Columns that must be there.</param>
    /// <param name="optional">Columns read when present.</param>
    /// <param name="key">
    /// A text key column and the ids it is expected to hold in order (the matrix's cells). When it holds exactly those,
    /// the returned column is <c>Expected</c> itself: the ids are compared a row group at a time and never all held as
    /// new strings (a million-cell table's ids would cost ~50 MB for nothing). Otherwise the column is read in full.
    /// </param>
    public static Dictionary<string, Array> Read(string path, IReadOnlyList<string> required, IReadOnlyList<string>? optional = null, (string Column, string[] Expected)? key = null)
    {
        var name = Path.GetFileName(path);
        try
        {
            using var stream = File.OpenRead(path);
            var reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
            try { return ReadAll(reader, name, required, optional, key); }
            finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        }
        catch (TesseraException) { throw; }
        catch (OutOfMemoryException) { throw; }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new TesseraException($"cannot read parquet file '{path}': {e.Message.Split('\n')[0].Trim()}", e);
        }
    }

    private static Dictionary<string, Array> ReadAll(ParquetReader reader, string name, IReadOnlyList<string> required, IReadOnlyList<string>? optional, (string Column, string[] Expected)? key)
    {
        var fields = reader.Schema.GetDataFields();
        var byName = new Dictionary<string, DataField>(StringComparer.Ordinal);
        foreach (var f in fields) byName.TryAdd(f.Path.ToString(), f);
        var missing = required.Where(c => !byName.ContainsKey(c)).ToList();
        if (missing.Count > 0)
            throw new TesseraException($"{name}: no column {string.Join(", ", missing.Select(m => $"'{m}'"))}; it has {string.Join(", ", byName.Keys)}");
        var wanted = required.Concat((optional ?? []).Where(byName.ContainsKey)).Distinct().ToList();
        long rows = 0;
        for (int g = 0; g < reader.RowGroupCount; g++) { using var rg = reader.OpenRowGroupReader(g); rows += rg.RowCount; }
        if (rows > int.MaxValue) throw new TesseraException($"{name}: {rows} rows, more than one table can hold");
        // 8 bytes per number; strings are counted at 64 bytes (object, header and about 20 UTF-16 characters)
        ReadBudget.Need(wanted.Sum(c => IsText(byName[c].ClrType) ? 64.0 : 8.0) * rows, $"{name} ({rows} rows)");
        // the key column is compared with the expected ids while it is read, unless it cannot match them
        string? inOrder = key is { } k && byName.TryGetValue(k.Column, out var kf) && IsText(kf.ClrType) && !kf.IsArray
            && k.Expected.Length == rows ? k.Column : null;
        var result = new Dictionary<string, Array>(StringComparer.Ordinal);
        foreach (var c in wanted)
        {
            var f = byName[c];
            if (f.IsArray) throw new TesseraException($"{name}: column '{c}' holds lists, expected one value per row");
            if (c == inOrder) continue;
            result[c] = IsText(f.ClrType) ? new string?[rows] : IsNumber(f.ClrType) ? new double[rows]
                : throw new TesseraException($"{name}: column '{c}' has type {f.ClrType.Name}, expected numbers or text");
        }
        int offset = 0;
        string?[]? group = null;
        var scratch = new Dictionary<Type, Array>(); // one buffer per stored type, reused across columns and row groups
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            int n = checked((int)rg.RowCount);
            foreach (var c in wanted)
            {
                var f = byName[c];
                if (c == inOrder)
                {
                    if (group == null || group.Length != n) group = new string?[n];
                    rg.ReadAsync(f, group.AsMemory()).GetAwaiter().GetResult();
                    var expected = key!.Value.Expected;
                    for (int i = 0; i < n && inOrder != null; i++)
                        if (!string.Equals(group[i], expected[offset + i], StringComparison.Ordinal)) inOrder = null;
                }
                else if (result[c] is string?[] s) rg.ReadAsync(f, s.AsMemory(offset, n)).GetAwaiter().GetResult();
                else ReadNumbers(rg, f, (double[])result[c], offset, scratch);
            }
            offset += n;
        }
        if (key is { } kk && wanted.Contains(kk.Column) && !result.ContainsKey(kk.Column))
        {
            if (inOrder != null) result[kk.Column] = kk.Expected;
            else
            {
                // not in the expected order after all: read the whole column (rare: vendors write the matrix's order)
                var all = new string?[rows];
                offset = 0;
                for (int g = 0; g < reader.RowGroupCount; g++)
                {
                    using var rg = reader.OpenRowGroupReader(g);
                    int n = checked((int)rg.RowCount);
                    rg.ReadAsync(byName[kk.Column], all.AsMemory(offset, n)).GetAwaiter().GetResult();
                    offset += n;
                }
                result[kk.Column] = all;
            }
        }
        return result;
    }

    // Parquet.Net 6 reports UTF-8 columns as ReadOnlyMemory<char>; they are read as strings all the same
    private static bool IsText(Type t) => t == typeof(string) || t == typeof(ReadOnlyMemory<char>);

    private static bool IsNumber(Type t) =>
        t == typeof(double) || t == typeof(float) || t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(sbyte)
        || t == typeof(uint) || t == typeof(ulong) || t == typeof(ushort) || t == typeof(byte);

    private static void ReadNumbers(ParquetRowGroupReader rg, DataField f, double[] target, int offset, Dictionary<Type, Array> scratch)
    {
        var t = f.ClrType;
        if (t == typeof(double)) Copy<double>(rg, f, target, offset, scratch, v => v);
        else if (t == typeof(float)) Copy<float>(rg, f, target, offset, scratch, v => v);
        else if (t == typeof(int)) Copy<int>(rg, f, target, offset, scratch, v => v);
        else if (t == typeof(long)) Copy<long>(rg, f, target, offset, scratch, v => v);
        else if (t == typeof(short)) Copy<short>(rg, f, target, offset, scratch, v => v);
        else if (t == typeof(sbyte)) Copy<sbyte>(rg, f, target, offset, scratch, v => v);
        else if (t == typeof(uint)) Copy<uint>(rg, f, target, offset, scratch, v => v);
        else if (t == typeof(ulong)) Copy<ulong>(rg, f, target, offset, scratch, v => v);
        else if (t == typeof(ushort)) Copy<ushort>(rg, f, target, offset, scratch, v => v);
        else Copy<byte>(rg, f, target, offset, scratch, v => v);
    }

    private static void Copy<T>(ParquetRowGroupReader rg, DataField f, double[] target, int offset, Dictionary<Type, Array> scratch, Func<T, double> convert) where T : struct
    {
        int n = checked((int)rg.RowCount);
        TBuf[] Buffer<TBuf>()
        {
            if (scratch.TryGetValue(typeof(TBuf), out var a) && a.Length == n) return (TBuf[])a;
            var b = new TBuf[n];
            scratch[typeof(TBuf)] = b;
            return b;
        }
        if (f.IsNullable)
        {
            var buf = Buffer<T?>();
            rg.ReadAsync(f, buf.AsMemory()).GetAwaiter().GetResult();
            for (int i = 0; i < n; i++) target[offset + i] = buf[i] is T v ? convert(v) : double.NaN;
        }
        else
        {
            var buf = Buffer<T>();
            rg.ReadAsync(f, buf.AsMemory()).GetAwaiter().GetResult();
            for (int i = 0; i < n; i++) target[offset + i] = convert(buf[i]);
        }
    }
}
