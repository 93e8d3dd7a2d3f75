namespace Tessera.IO;

/// <summary>Reads one label column keyed by spot id from a csv/tsv[.gz] (e.g. clusters.csv, a truth table).</summary>
public static class LabelTable
{
    /// <summary>
    /// Spot ids (first column) and the labels of <paramref name="column"/> (default: the second column); "", NA and NaN become null.
    /// </summary>
    public static (string[] Ids, string?[] Labels, string Column) Read(string path, string? column = null)
    {
        var t = ObsJoin.ReadTextTable(path);
        if (t.Header.Length < 2) throw new TesseraException($"{t.File} needs a spot id column and a label column, but has {t.Header.Length} column");
        int c = column == null ? 1 : Array.IndexOf(t.Header, column);
        if (c < 0) throw new TesseraException($"{t.File} has no column '{column}'; available: {string.Join(", ", t.Header.Skip(1))}");
        var ids = t.Rows.Select(r => r[0]).ToArray();
        var dup = ids.GroupBy(i => i).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw new TesseraException($"{t.File}: spot id '{dup.Key}' appears {dup.Count()} times");
        return (ids, t.Rows.Select(r => ObsJoin.IsMissing(r[c]) ? null : r[c]).ToArray(), t.Header[c]);
    }
}
