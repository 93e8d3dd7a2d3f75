using System.Globalization;
using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// Joins a per-spot metadata table (csv/tsv/txt, gzipped or not) into obs by spot id.
/// </summary>
/// <remarks>
/// The id column is the first column named barcode/spot/cell/cell_id/index/id (or with an empty name, R's row names;
/// also when the header is one field shorter than the rows), else the first column when it holds text. Without one,
/// a table with x and y columns is keyed "{x}x{y}" (ST spot files: HER2ST's *_selection.tsv), and any other table by
/// its 0-based row number (novoSpaRc's geometry.txt against a table without spot ids).
/// Column types: all numbers → <see cref="NumericColumn"/> (IsInteger when all are integers); text →
/// <see cref="CategoricalColumn"/> when fewer than half of the non-missing values are distinct, else
/// <see cref="StringColumn"/>. "", "NA" and "NaN" are missing. Existing obs columns of the same name are replaced.
/// </remarks>
public static class ObsJoin
{
    /// <summary>A parsed text table: header and rows of fields (all text).</summary>
    internal sealed record TextTable(string File, string[] Header, List<string[]> Rows, List<long> Lines, bool RowNames);

    internal static TextTable ReadTextTable(string path)
    {
        if (!File.Exists(path)) throw new TesseraException($"obs file '{path}' does not exist");
        using var r = ByteLineReader.Open(path);
        var file = r.Name;
        var headerBytes = r.ReadHeaderLine();
        ReadOnlySpan<byte> line;
        var rows = new List<string[]>(); var lines = new List<long>();
        DelimitedSplitter? sp = null;
        string[]? header = null;
        int width = -1;
        while (r.TryReadLine(out line))
        {
            if (line.Trim(" \t"u8).Length == 0) continue;
            if (sp == null)
            {
                sp = DelimitedSplitter.Sniff(headerBytes, line);
                sp.Split(headerBytes);
                header = sp.Fields.Select(f => DelimitedSplitter.Text(headerBytes.AsSpan()[f]).Trim()).ToArray();
            }
            int m = sp.Split(line);
            if (width < 0)
            {
                width = m;
                if (m != header!.Length && m != header.Length + 1)
                    throw new TesseraException($"{file} line {r.LineNumber} has {m} fields but the header has {header.Length}");
            }
            else if (m != width) throw new TesseraException($"{file} line {r.LineNumber} has {m} fields but the first data line has {width}");
            var fields = new string[m];
            for (int k = 0; k < m; k++) fields[k] = DelimitedSplitter.Text(line[sp.Fields[k]]).Trim();
            rows.Add(fields); lines.Add(r.LineNumber);
        }
        if (sp == null) throw new TesseraException($"{file}: the file has a header but no data rows");
        bool rowNames = width == header!.Length + 1;
        if (rowNames) header = ["", .. header];
        return new TextTable(file, header, rows, lines, rowNames);
    }

    internal static bool IsMissing(string s) => s.Length == 0 || s == "NA" || s == "NaN" || s == "nan";

    /// <summary>Joins <paramref name="path"/> into <paramref name="data"/>.Obs (in place) and logs how many spots matched.</summary>
    public static void Join(SpatialData data, string path, ReadOptions options)
    {
        var t = ReadTextTable(path);
        string file = t.File;
        int idCol = -1;
        if (t.RowNames) idCol = 0;
        else
        {
            for (int k = 0; k < t.Header.Length && idCol < 0; k++) if (DelimitedReader.IsIdName(t.Header[k])) idCol = k;
            if (idCol < 0 && t.Rows.Any(rw => !IsMissing(rw[0]) && !double.TryParse(rw[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _))) idCol = 0;
        }
        string keyDesc;
        string[] keys;
        int ix = Array.FindIndex(t.Header, h => h.Equals("x", StringComparison.OrdinalIgnoreCase));
        int iy = Array.FindIndex(t.Header, h => h.Equals("y", StringComparison.OrdinalIgnoreCase));
        if (idCol >= 0) { keys = t.Rows.Select(rw => rw[idCol]).ToArray(); keyDesc = $"column '{t.Header[idCol]}'"; }
        else if (ix >= 0 && iy >= 0) { keys = t.Rows.Select(rw => $"{rw[ix]}x{rw[iy]}").ToArray(); keyDesc = $"\"{t.Header[ix]}x{t.Header[iy]}\""; }
        else { keys = Enumerable.Range(0, t.Rows.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray(); keyDesc = "row number"; }

        var match = KeyedRows.Find(data.ObsNames, keys, file, "id", (a, b) => $"{keyDesc}, lines {t.Lines[a]} and {t.Lines[b]}");
        int n = data.NObs, matched = match.Matched;
        var map = match.Rows;
        string? firstMissing = match.FirstMissing;
        if (matched == 0)
            throw new TesseraException($"no spot of the data matches {file}: data ids look like '{(n > 0 ? data.ObsNames[0] : "")}', the file's ids ({keyDesc}) look like '{(keys.Length > 0 ? keys[0] : "")}'");
        if (matched < n && !options.AllowMissing)
            throw new TesseraException($"{n - matched} of {n} spots are not in {file} (first: '{firstMissing}'); set AllowMissing to keep them with empty values");
        int extra = keys.Length - matched;
        options.Info($"joined {matched} of {n} spots with {file}" + (extra > 0 ? $" ({extra} rows of the file match no spot)" : ""));

        for (int c = 0; c < t.Header.Length; c++)
        {
            if (c == idCol) continue;
            var name = t.Header[c].Length == 0 ? $"column{c + 1}" : t.Header[c];
            // typed over the whole file so a column's type and categories do not depend on which rows matched
            var col = ToColumn(t.Rows.Select(rw => (string?)rw[c]).ToArray());
            data.Obs.Set(name, TakeOrMissing(col, map));
        }
    }

    private static Column TakeOrMissing(Column col, int[] map) => col switch
    {
        NumericColumn nc => new NumericColumn(map.Select(k => k < 0 ? double.NaN : nc.Values[k]).ToArray(), nc.IsInteger),
        CategoricalColumn cc => new CategoricalColumn(map.Select(k => k < 0 ? -1 : cc.Codes[k]).ToArray(), cc.Categories, cc.Ordered),
        StringColumn sc => new StringColumn(map.Select(k => k < 0 ? null : sc.Values[k]).ToArray()),
        _ => throw new InvalidOperationException($"unexpected column type {col.GetType().Name}"),
    };

    /// <summary>Types a text column: numeric, categorical or string (see the class remarks).</summary>
    public static Column ToColumn(IReadOnlyList<string?> values)
    {
        int n = values.Count;
        var nums = new double[n]; bool numeric = true, integer = true; int present = 0;
        for (int i = 0; i < n; i++)
        {
            var s = values[i];
            if (s == null || IsMissing(s)) { nums[i] = double.NaN; continue; }
            present++;
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out nums[i])) { numeric = false; break; }
            if (integer && !long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)) integer = false;
        }
        if (numeric && present > 0) return new NumericColumn(nums, integer);
        if (present == 0) return new StringColumn(new string?[n]);
        var labels = values.Select(s => s == null || IsMissing(s) ? null : s).ToArray();
        int nonMissing = labels.Count(l => l != null);
        int distinct = labels.Where(l => l != null).Distinct().Count();
        return distinct < 0.5 * nonMissing ? CategoricalColumn.FromLabels(labels) : new StringColumn(labels);
    }
}
