using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// Pieces shared by the csv-based platform readers (MERSCOPE, CosMx, Slide-seq):
/// finding a vendor file whatever prefix the run put before its name, moving QC probes out of X into obs, joining a
/// per-cell metadata table and setting the coordinates and the platform's uns entries.
/// </summary>
internal static class PlatformTables
{
    /// <summary>
    /// The one file of <paramref name="folder"/> whose name ends with <paramref name="suffix"/> (or suffix + ".gz"),
    /// e.g. "HumanUterineCancerPatient2_cell_by_gene.csv" for "cell_by_gene.csv"; null when none, an error when several.
    /// </summary>
    public static string? FindBySuffix(string folder, string suffix)
    {
        if (!Directory.Exists(folder)) return null;
        var hits = Directory.EnumerateFiles(folder)
            .Where(p =>
            {
                var n = Path.GetFileName(p);
                return n.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) || n.EndsWith(suffix + ".gz", StringComparison.OrdinalIgnoreCase);
            })
            .Order(StringComparer.Ordinal).ToArray();
        return hits.Length switch
        {
            0 => null,
            1 => hits[0],
            _ => throw new TesseraException($"'{folder}' holds several files ending with {suffix} ({string.Join(", ", hits.Select(Path.GetFileName))}): keep one run per folder"),
        };
    }

    /// <summary>Like <see cref="FindBySuffix"/>, but a missing file is an error naming the folder and what was expected.</summary>
    public static string RequireBySuffix(string folder, string suffix, string format) =>
        FindBySuffix(folder, suffix) ?? throw new TesseraException($"{format} folder '{folder}' has no file ending with {suffix}[.gz]");

    /// <summary>A small metadata table (all text), with its size reserved on the read budget first.</summary>
    public static ObsJoin.TextTable ReadMetadata(string path)
    {
        long bytes = new FileInfo(path).Length;
        // each field becomes a string (2 bytes a character plus ~30 of object header); gzip text expands about 5-fold
        ReadBudget.Need((TextInput.IsGzip(path) ? 5.0 : 1.0) * bytes * 6, $"{Path.GetFileName(path)} ({MemoryLimit.Format(bytes)})");
        return ObsJoin.ReadTextTable(path);
    }

    /// <summary>
    /// Removes the genes for which <paramref name="isQc"/> holds from X and stores them in obs: one integer column per
    /// probe (named as the probe) and their per-cell sum in <paramref name="totalColumn"/>. Reports the count.
    /// </summary>
    public static SpatialData MoveQcToObs(SpatialData data, Func<string, bool> isQc, string totalColumn, string what, ReadOptions options)
    {
        var qc = Enumerable.Range(0, data.NVars).Where(g => isQc(data.VarNames[g])).ToArray();
        if (qc.Length == 0) return data;
        var keep = Enumerable.Range(0, data.NVars).Where(g => !isQc(data.VarNames[g])).ToArray();
        if (keep.Length == 0) throw new TesseraException($"every target is a {what} probe: no gene is left for X");
        var cols = ColumnsOf(data.X, qc);
        var total = new double[data.NObs];
        var result = data.Subset(null, keep);
        for (int k = 0; k < qc.Length; k++)
        {
            for (int i = 0; i < total.Length; i++) total[i] += cols[k][i];
            result.Obs.Set(data.VarNames[qc[k]], new NumericColumn(cols[k], true));
        }
        result.Obs.Set(totalColumn, new NumericColumn(total, true));
        options.Info($"moved {qc.Length} {what} probes ({TextInput.Num(total.Sum())} counts) from X to obs columns (per probe, and their sum in '{totalColumn}'); {keep.Length} genes remain");
        return result;
    }

    /// <summary>Dense copies of the given columns of a CSR matrix.</summary>
    public static double[][] ColumnsOf(CsrMatrix x, IReadOnlyList<int> columns)
    {
        var slot = new Dictionary<int, int>();
        for (int k = 0; k < columns.Count; k++) slot[columns[k]] = k;
        var cols = columns.Select(_ => new double[x.Rows]).ToArray();
        for (int r = 0; r < x.Rows; r++)
            for (int p = x.IndPtr[r]; p < x.IndPtr[r + 1]; p++)
                if (slot.TryGetValue(x.Indices[p], out var k)) cols[k][r] = x.Data[p];
        return cols;
    }

    /// <summary>
    /// Joins the rows of <paramref name="t"/> keyed by <paramref name="keys"/> into obs in the order of
    /// <paramref name="data"/>'s cells; every cell needs a row (else an error naming the first one missing), rows
    /// without a cell are reported. The columns in <paramref name="skip"/> (ids) are left out.
    /// </summary>
    /// <returns>For each cell, its row of the table.</returns>
    public static int[] JoinRows(SpatialData data, ObsJoin.TextTable t, string[] keys, string countFile, ISet<int> skip, ReadOptions options, string what = "cell")
    {
        var where = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < keys.Length; i++)
            if (!where.TryAdd(keys[i], i))
                throw new TesseraException($"{t.File}: duplicate {what} id '{keys[i]}' (lines {t.Lines[where[keys[i]]]} and {t.Lines[i]})");
        var map = new int[data.NObs];
        for (int i = 0; i < map.Length; i++)
            if (!where.TryGetValue(data.ObsNames[i], out map[i]))
                throw new TesseraException($"{what} '{data.ObsNames[i]}' of {countFile} has no row in {t.File} (its ids look like '{(keys.Length > 0 ? keys[0] : "")}')");
        if (keys.Length > map.Length) options.Info($"{t.File}: {keys.Length - map.Length} row(s) name no {what} of {countFile} and are ignored");
        for (int c = 0; c < t.Header.Length; c++)
        {
            if (skip.Contains(c)) continue;
            var name = t.Header[c].Length == 0 ? $"column{c + 1}" : t.Header[c];
            data.Obs.Set(name, ObsJoin.ToColumn(map.Select(k => (string?)t.Rows[k][c]).ToArray()));
        }
        return map;
    }

    /// <summary>Index of the header column named <paramref name="name"/> (case-insensitive), or -1.</summary>
    public static int Column(ObsJoin.TextTable t, string name) => Array.FindIndex(t.Header, h => h.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Index of a required column; an error naming the file and what it has when absent.</summary>
    public static int RequireColumn(ObsJoin.TextTable t, string name)
    {
        int k = Column(t, name);
        return k >= 0 ? k : throw new TesseraException($"{t.File} has no column '{name}' (its columns: {string.Join(", ", t.Header)})");
    }

    /// <summary>
    /// obsm["spatial"] from two numeric obs columns (every cell must have a finite value), and uns["platform"] and
    /// uns["microns_per_unit"].
    /// </summary>
    public static void SetSpatial(SpatialData data, string xColumn, string yColumn, string file, string platform, double micronsPerUnit, string what = "cell")
    {
        var xy = new double[2 * data.NObs];
        for (int d = 0; d < 2; d++)
        {
            var name = d == 0 ? xColumn : yColumn;
            if (data.Obs[name] is not NumericColumn num) throw new TesseraException($"{file}: coordinate column '{name}' is not numeric");
            for (int i = 0; i < data.NObs; i++)
            {
                if (!double.IsFinite(num.Values[i])) throw new TesseraException($"{file}: {what} '{data.ObsNames[i]}' has no finite '{name}' coordinate");
                xy[2 * i + d] = num.Values[i];
            }
        }
        data.SetObsm(SpatialData.SpatialKey, new DenseMatrix(data.NObs, 2, xy));
        SetPlatform(data, platform, micronsPerUnit);
    }

    /// <summary>uns["platform"] and uns["microns_per_unit"] (the length of one coordinate unit in µm).</summary>
    public static void SetPlatform(SpatialData data, string platform, double micronsPerUnit)
    {
        data.Uns["platform"] = platform;
        data.Uns["microns_per_unit"] = micronsPerUnit;
    }
}
