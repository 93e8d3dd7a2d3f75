using System.Globalization;
using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// NanoString CosMx (AtoMx flat-file export) folders: <c>*_exprMat_file.csv</c> (fov, cell_ID, then one column per
/// target), <c>*_metadata_file.csv</c> (per cell: area, centres, stain intensities) and optionally
/// <c>*_fov_positions_file.csv</c>; each may be gzipped.
/// </summary>
/// <remarks>
/// A cell is identified by its fov and cell_ID together (cell_ID restarts in every fov); its name is
/// "{cell_ID}_{fov}" as squidpy.read.nanostring writes it. The rows with cell_ID 0 (transcripts outside every cell,
/// one per fov) are dropped and counted. The negative probes <c>NegPrb*</c> leave X for obs columns (one per probe,
/// their sum in obs["negprobe_counts"]); so do <c>SystemControl*</c> probes of newer panels (sum in
/// obs["systemcontrol_counts"]). obsm["spatial"] holds the global coordinates: CenterX_global_mm/CenterY_global_mm
/// or x_slide_mm/y_slide_mm when the metadata has them (uns["microns_per_unit"] = 1000), else
/// CenterX_global_px/CenterY_global_px (0.12028 µm per pixel, the CosMx SMI camera's). uns["platform"] = "cosmx".
/// Polygons and transcripts are not read.
/// </remarks>
public static class CosMx
{
    /// <summary>Size of a CosMx SMI pixel in µm (NanoString: 0.12028 µm per pixel of the 4256 × 4256 FOV images).</summary>
    public const double MicronsPerPixel = 0.12028;

    private const string CountsSuffix = "_exprMat_file.csv";
    private const string MetadataSuffix = "_metadata_file.csv";
    private const string FovSuffix = "_fov_positions_file.csv";

    /// <summary>Whether <paramref name="path"/> is a folder holding a CosMx *_exprMat_file.csv.</summary>
    public static bool IsCosMx(string path) => Directory.Exists(path) && PlatformTables.FindBySuffix(path, CountsSuffix) != null;

    /// <summary>Reads a CosMx flat-file folder (see the class remarks).</summary>
    public static SpatialData Read(string path, ReadOptions? options = null)
    {
        options ??= new ReadOptions();
        using var budget = ReadBudget.Enter(options);
        if (!Directory.Exists(path)) throw new TesseraException($"CosMx input '{path}' is not a folder");
        var countsPath = PlatformTables.RequireBySuffix(path, CountsSuffix, "CosMx");
        var metaPath = PlatformTables.RequireBySuffix(path, MetadataSuffix, "CosMx");
        var countsFile = Path.GetFileName(countsPath);

        // fov and cell_ID are read as obs columns (double precision), not as genes
        var data = DelimitedReader.Read(countsPath, options with { Coords = ["fov", "cell_ID"], Transpose = false });
        foreach (var c in new[] { "fov", "cell_ID" })
            if (!data.Obs.Contains(c)) throw new TesseraException($"{countsFile} has no column '{c}'");
        var fov = ((NumericColumn)data.Obs["fov"]).Values;
        var cellId = ((NumericColumn)data.Obs["cell_ID"]).Values;
        var names = new string[data.NObs];
        var keep = new List<int>();
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = Key(cellId[i], fov[i], countsFile, "fov/cell_ID", i + 1);
            if (cellId[i] != 0) keep.Add(i);
        }
        int background = data.NObs - keep.Count;
        if (keep.Count == 0) throw new TesseraException($"{countsFile}: every row has cell_ID 0 (background): no cell to read");
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var i in keep)
            if (!seen.TryAdd(names[i], i))
                throw new TesseraException($"{countsFile}: duplicate cell (cell_ID {TextInput.Num(cellId[i])}, fov {TextInput.Num(fov[i])}) in data rows {seen[names[i]] + 1} and {i + 1}");
        var renamed = new SpatialData(data.X, new Table(names, "cell id"), data.Var);
        foreach (var (name, col) in data.Obs.Columns) renamed.Obs.Set(name, col);
        data = renamed.Subset(keep, null);
        options.Info($"{countsFile}: dropped {background} background row{(background == 1 ? "" : "s")} (cell_ID 0, transcripts outside cells); {data.NObs} cells remain");

        data = PlatformTables.MoveQcToObs(data, g => g.StartsWith("NegPrb", StringComparison.OrdinalIgnoreCase), "negprobe_counts", "NegPrb negative", options);
        data = PlatformTables.MoveQcToObs(data, g => g.StartsWith("SystemControl", StringComparison.OrdinalIgnoreCase), "systemcontrol_counts", "SystemControl", options);

        var t = PlatformTables.ReadMetadata(metaPath);
        int fovCol = PlatformTables.RequireColumn(t, "fov"), idCol = PlatformTables.RequireColumn(t, "cell_ID");
        var keys = new string[t.Rows.Count];
        for (int r = 0; r < keys.Length; r++)
        {
            if (!double.TryParse(t.Rows[r][idCol], NumberStyles.Float, CultureInfo.InvariantCulture, out var id)
                || !double.TryParse(t.Rows[r][fovCol], NumberStyles.Float, CultureInfo.InvariantCulture, out var f))
                throw new TesseraException($"{t.File} line {t.Lines[r]}: fov '{t.Rows[r][fovCol]}' and cell_ID '{t.Rows[r][idCol]}' must be integers");
            keys[r] = Key(id, f, t.File, "fov/cell_ID", t.Lines[r]);
        }
        PlatformTables.JoinRows(data, t, keys, countsFile, new HashSet<int> { fovCol, idCol }, options);

        var (xCol, yCol, scale) = new[] { ("CenterX_global_mm", "CenterY_global_mm", 1000.0), ("x_slide_mm", "y_slide_mm", 1000.0), ("CenterX_global_px", "CenterY_global_px", MicronsPerPixel) }
            .Select(c => (X: PlatformTables.Column(t, c.Item1), Y: PlatformTables.Column(t, c.Item2), c.Item3))
            .Where(c => c.X >= 0 && c.Y >= 0)
            .Select(c => (t.Header[c.X], t.Header[c.Y], c.Item3))
            .FirstOrDefault();
        if (xCol == null) throw new TesseraException($"{t.File} has no global coordinates (CenterX_global_px and CenterY_global_px, or CenterX_global_mm/x_slide_mm and their Y columns)");
        PlatformTables.SetSpatial(data, xCol, yCol, t.File, "cosmx", scale);

        var fovPath = PlatformTables.FindBySuffix(path, FovSuffix);
        if (fovPath != null) CheckFovs(data, fovPath, options);
        options.Info($"read {data.NObs} cells x {data.NVars} genes from CosMx folder '{path}' (coordinates: {xCol}, {yCol}; {TextInput.Num(scale)} µm per unit)");
        return data;
    }

    /// <summary>"{cell_ID}_{fov}" from two integer values.</summary>
    private static string Key(double cellId, double fov, string file, string what, long where)
    {
        if (!(cellId == Math.Floor(cellId) && fov == Math.Floor(fov) && cellId >= 0 && fov >= 0 && cellId < 1e15 && fov < 1e15))
            throw new TesseraException($"{file} (row {where}): {what} must be non-negative integers, got fov {TextInput.Num(fov)}, cell_ID {TextInput.Num(cellId)}");
        return string.Create(CultureInfo.InvariantCulture, $"{(long)cellId}_{(long)fov}");
    }

    /// <summary>Every cell's fov must be listed in the fov positions file (the same run); reports how many fovs it lists.</summary>
    private static void CheckFovs(SpatialData data, string fovPath, ReadOptions options)
    {
        var t = PlatformTables.ReadMetadata(fovPath);
        int k = PlatformTables.Column(t, "fov");
        if (k < 0) k = PlatformTables.RequireColumn(t, "FOV");
        var listed = t.Rows.Select(r => r[k]).ToHashSet(StringComparer.Ordinal);
        var fov = ((NumericColumn)data.Obs["fov"]).Values;
        for (int i = 0; i < fov.Length; i++)
            if (!listed.Contains(TextInput.Num(fov[i])))
                throw new TesseraException($"{t.File} does not list fov {TextInput.Num(fov[i])} of cell '{data.ObsNames[i]}': the files are from different runs");
        options.Info($"{t.File}: {listed.Count} fov position{(listed.Count == 1 ? "" : "s")}, every cell's fov among them");
    }
}
