namespace Tessera.IO;

/// <summary>
/// The one match of a keyed table's rows to the cells of a matrix, shared by the <c>--obs</c> join
/// (<see cref="ObsJoin"/>), the csv platforms' metadata tables (<see cref="PlatformTables.JoinRows"/>) and Xenium's
/// cell table: the same duplicate-id and missing-id rules and messages everywhere. What a caller does with cells
/// that have no row (error, empty values, drop) stays the caller's choice.
/// </summary>
internal static class KeyedRows
{
    /// <summary>Which row of the table each cell has.</summary>
    /// <param name="Rows">For each cell (in the data's order), its row in the table, or -1.</param>
    /// <param name="Matched">How many cells have a row.</param>
    /// <param name="FirstMissing">The first cell without a row, or null.</param>
    public sealed record Match(int[] Rows, int Matched, string? FirstMissing)
    {
        /// <summary>Cells without a row.</summary>
        public int Missing => Rows.Length - Matched;
    }

    /// <summary>
    /// Matches <paramref name="cells"/> (unique names) to <paramref name="keys"/> (one per table row). A repeated key is
    /// an error naming <paramref name="file"/>, the key and both rows (<paramref name="twoRows"/> says e.g. "lines 2 and
    /// 4"); a missing key (null) is an error naming its row (<paramref name="oneRow"/>, e.g. "row 3"). When the table lists exactly the cells in the same order, as
    /// vendors write them, the match is the identity and no dictionary of a million ids is built.
    /// </summary>
    public static Match Find(IReadOnlyList<string> cells, IReadOnlyList<string?> keys, string file, string what, Func<int, int, string> twoRows, Func<int, string>? oneRow = null)
    {
        int n = cells.Count;
        if (keys.Count == n)
        {
            int i = 0;
            while (i < n && string.Equals(cells[i], keys[i], StringComparison.Ordinal)) i++;
            // the cells' names are unique, so keys equal to them in order are unique too
            if (i == n) return new Match(Enumerable.Range(0, n).ToArray(), n, null);
        }
        var where = new Dictionary<string, int>(keys.Count, StringComparer.Ordinal);
        for (int i = 0; i < keys.Count; i++)
        {
            var key = keys[i] ?? throw new TesseraException($"{file} {oneRow?.Invoke(i) ?? $"row {i + 1}"}: the {what} is missing");
            if (!where.TryAdd(key, i))
                throw new TesseraException($"{file}: duplicate {what} '{key}' ({twoRows(where[key], i)})");
        }
        var rows = new int[n];
        int matched = 0;
        string? firstMissing = null;
        for (int i = 0; i < n; i++)
        {
            rows[i] = where.TryGetValue(cells[i], out var r) ? r : -1;
            if (rows[i] >= 0) matched++;
            else firstMissing ??= cells[i];
        }
        return new Match(rows, matched, firstMissing);
    }
}
