namespace Tessera.Graphs;

/// <summary>The Visium hexagonal spot lattice as a graph, from array (row, col) indices rather than pixel distances.</summary>
public static class VisiumGrid
{
    /// <summary>
    /// Connects each spot to the spots present among its 6 lattice neighbours (r, c ± 2), (r ± 1, c ± 1), weight 1.
    /// Visium numbers columns so that a row uses only even or only odd columns, hence the ±2 within a row.
    /// The graph is symmetric; border spots and spots next to removed (out-of-tissue) spots have fewer than 6 neighbours.
    /// </summary>
    /// <param name="arrayRow">array_row per spot (tissue_positions_list column 3).</param>
    /// <param name="arrayCol">array_col per spot (column 4).</param>
    /// <param name="selfLoops">Add a self-loop on every spot.</param>
    public static SpatialGraph Build(int[] arrayRow, int[] arrayCol, bool selfLoops = false)
    {
        if (arrayRow.Length != arrayCol.Length) throw new TesseraException($"arrayRow has {arrayRow.Length} entries but arrayCol has {arrayCol.Length}");
        int n = arrayRow.Length;
        var at = new Dictionary<long, int>(n);
        static long Key(int r, int c) => ((long)r << 32) ^ (uint)c;
        for (int i = 0; i < n; i++)
            if (!at.TryAdd(Key(arrayRow[i], arrayCol[i]), i))
                throw new TesseraException($"spots {at[Key(arrayRow[i], arrayCol[i])]} and {i} share array position (row {arrayRow[i]}, col {arrayCol[i]})");
        ReadOnlySpan<(int dr, int dc)> offsets = [(0, 2), (0, -2), (1, 1), (1, -1), (-1, 1), (-1, -1)];
        var src = new List<int>(6 * n); var dst = new List<int>(6 * n);
        var row = new List<int>(7);
        for (int i = 0; i < n; i++)
        {
            row.Clear();
            if (selfLoops) row.Add(i);
            foreach (var (dr, dc) in offsets)
                if (at.TryGetValue(Key(arrayRow[i] + dr, arrayCol[i] + dc), out var j)) row.Add(j);
            row.Sort();
            foreach (var j in row) { src.Add(i); dst.Add(j); }
        }
        return SpatialGraph.FromSorted(n, src.ToArray(), dst.ToArray());
    }
}
