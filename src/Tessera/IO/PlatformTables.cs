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
        if (qc.Length == data.NVars) throw new TesseraException($"every target is a {what} probe: no gene is left for X");
        var group = Enumerable.Repeat(-1, data.NVars).ToArray();
        for (int k = 0; k < qc.Length; k++) group[qc[k]] = k;
        var names = qc.Select(g => data.VarNames[g]).ToArray();
        var (result, cols) = SplitQc(data, group, qc.Length);
        var total = new double[data.NObs];
        for (int k = 0; k < qc.Length; k++)
        {
            for (int i = 0; i < total.Length; i++) total[i] += cols[k][i];
            result.Obs.Set(names[k], new NumericColumn(cols[k], true));
        }
        result.Obs.Set(totalColumn, new NumericColumn(total, true));
        options.Info($"moved {qc.Length} {what} probes ({TextInput.Num(total.Sum())} counts) from X to obs columns (per probe, and their sum in '{totalColumn}'); {result.NVars} genes remain");
        return result;
    }

    /// <summary>
    /// The one split of QC features out of a reader's fresh data: the columns with <paramref name="group"/> &lt; 0 stay
    /// in X, the others are summed per cell into one array per group. X is split in place (<see cref="CsrMatrix.SplitColumnsInPlace"/>),
    /// so <paramref name="data"/> must not be used afterwards; obs, obsm and uns carry over, var keeps the kept genes.
    /// </summary>
    public static (SpatialData Data, double[][] Sums) SplitQc(SpatialData data, int[] group, int groups)
    {
        if (data.Layers.Count > 0 || data.Varm.Count > 0) throw new InvalidOperationException("SplitQc is for a reader's fresh data (no layers or varm)");
        var sums = Enumerable.Range(0, groups).Select(_ => new double[data.NObs]).ToArray();
        var keep = Enumerable.Range(0, group.Length).Where(c => group[c] < 0).ToArray();
        var x = data.X.SplitColumnsInPlace(group, sums);
        var result = new SpatialData(x, data.Obs, data.Var.Take(keep));
        foreach (var (k, m) in data.Obsm) result.Obsm[k] = m;
        foreach (var (k, v) in data.Uns) result.Uns[k] = v;
        result.Images.AddRange(data.Images);
        return (result, sums);
    }

    /// <summary>
    /// Joins the rows of <paramref name="t"/> keyed by <paramref name="keys"/> into obs in the order of
    /// <paramref name="data"/>'s cells; every cell needs a row (else an error naming the first one missing), rows
    /// without a cell are reported. The columns in <paramref name="skip"/> (ids) are left out.
    /// </summary>
    /// <returns>For each cell, its row of the table.</returns>
    public static int[] JoinRows(SpatialData data, ObsJoin.TextTable t, string[] keys, string countFile, ISet<int> skip, ReadOptions options, string what = "cell")
    {
        var match = KeyedRows.Find(data.ObsNames, keys, t.File, $"{what} id", (a, b) => $"lines {t.Lines[a]} and {t.Lines[b]}");
        if (match.FirstMissing is { } first)
            throw new TesseraException($"{what} '{first}' of {countFile} has no row in {t.File} (its ids look like '{(keys.Length > 0 ? keys[0] : "")}')");
        var map = match.Rows;
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
