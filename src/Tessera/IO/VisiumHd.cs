using System.Globalization;
using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// Visium HD output of Space Ranger 3+: one bin folder <c>binned_outputs/square_NNNum/</c> (the matrix,
/// filtered_feature_bc_matrix.h5 or filtered_feature_bc_matrix/, and spatial/tissue_positions.parquet), or the
/// <c>outs/</c> folder (or the folder holding it, or <c>binned_outputs/</c>) where <see cref="ReadOptions.Bin"/> picks
/// the bin size in µm (default <see cref="DefaultBin"/>).
/// </summary>
/// <remarks>
/// As for Visium (<see cref="SpaceRanger"/>): only in-tissue bins present in the matrix are kept, in the matrix's order;
/// obsm["spatial"] holds (pxl_col_in_fullres, pxl_row_in_fullres), x and y in full-resolution pixels; obs gets
/// in_tissue, array_row, array_col; uns["spatial"][library]["scalefactors"] the scale factors. uns["platform"] is
/// "visium_hd", uns["bin_size_um"] the bin size and uns["microns_per_unit"] scalefactors' microns_per_pixel, so graph
/// radii and patch sizes can be given in µm.
/// </remarks>
public static class VisiumHd
{
    /// <summary>The bin size (µm) read from an <c>outs/</c> folder when <see cref="ReadOptions.Bin"/> is not set.</summary>
    public const int DefaultBin = 16;

    private const string Positions = "tissue_positions.parquet";
    private static readonly string[] Columns = ["barcode", "in_tissue", "array_row", "array_col", "pxl_row_in_fullres", "pxl_col_in_fullres"];

    /// <summary>Whether <paramref name="path"/> is a Visium HD bin folder or a folder holding <c>binned_outputs/</c>.</summary>
    public static bool IsVisiumHd(string path) =>
        Directory.Exists(path) && (IsBinFolder(path) || BinnedOutputs(path) != null);

    private static bool IsBinFolder(string folder) => File.Exists(Path.Combine(folder, "spatial", Positions));

    /// <summary>The binned_outputs folder reached from <paramref name="path"/> (itself, path/binned_outputs, path/outs/binned_outputs), or null.</summary>
    private static string? BinnedOutputs(string path)
    {
        foreach (var dir in new[] { path, Path.Combine(path, "binned_outputs"), Path.Combine(path, "outs", "binned_outputs") })
            if (Directory.Exists(dir) && Directory.EnumerateDirectories(dir, "square_*um").Any(IsBinFolder)) return dir;
        return null;
    }

    /// <summary>The bin folder <see cref="Read"/> takes for <paramref name="path"/> and <paramref name="bin"/> (µm).</summary>
    public static string FindBinFolder(string path, int? bin)
    {
        if (bin is <= 0) throw new TesseraException($"Bin must be a positive number of µm (2, 8 or 16), got {bin}");
        if (IsBinFolder(path)) return path;
        var binned = BinnedOutputs(path) ?? throw new TesseraException($"'{path}' is not a Visium HD folder: it has no spatial/{Positions} and no binned_outputs/square_NNNum/");
        int size = bin ?? DefaultBin;
        var folder = Path.Combine(binned, $"square_{size:000}um");
        if (IsBinFolder(folder)) return folder;
        var have = Directory.EnumerateDirectories(binned, "square_*um").Where(IsBinFolder).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        throw new TesseraException($"'{binned}' has no {size} µm bins (square_{size:000}um/ with spatial/{Positions}); it has {string.Join(", ", have)}"
            + (bin == null ? $" (the default Bin is {DefaultBin}: set Bin to one of these)" : ""));
    }

    /// <summary>Reads a Visium HD bin folder, or the bins of size <see cref="ReadOptions.Bin"/> under an outs/ folder.</summary>
    public static SpatialData Read(string path, ReadOptions? options = null)
    {
        options ??= new ReadOptions();
        using var budget = ReadBudget.Enter(options);
        if (!Directory.Exists(path)) throw new TesseraException($"input '{path}' does not exist");
        var folder = FindBinFolder(path, options.Bin);
        if (folder != path) options.Info($"reading {Path.GetFileName(folder)}/ of '{path}'" + (options.Bin == null ? $" (default Bin {DefaultBin} µm)" : ""));

        var h5 = Path.Combine(folder, "filtered_feature_bc_matrix.h5");
        var mtxDir = Path.Combine(folder, "filtered_feature_bc_matrix");
        TenXMatrix m = File.Exists(h5) ? TenXH5.Read(h5, options)
            : TenXMtx.IsMtxFolder(mtxDir) ? TenXMtx.Read(mtxDir, options)
            : throw new TesseraException($"'{folder}' has no filtered_feature_bc_matrix.h5 nor filtered_feature_bc_matrix/ (matrix.mtx[.gz])");
        var data = TenXMtx.ToSpatialData(m, options);

        var spatial = Path.Combine(folder, "spatial");
        var posPath = Path.Combine(spatial, Positions);
        data = SpaceRanger.KeepInTissue(data, ReadPositions(posPath), Positions, options);

        var libraryId = Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar));
        var sf = SpaceRanger.LoadScaleFactorsAndImages(data, spatial, libraryId, options);
        data.Uns["platform"] = "visium_hd";
        double? binUm = sf != null && sf.TryGetValue("bin_size_um", out var b) && b is double bd && bd > 0 ? bd : BinFromName(libraryId);
        if (binUm is double bu) data.Uns["bin_size_um"] = bu;
        if (sf != null && sf.TryGetValue("microns_per_pixel", out var mpp))
        {
            if (mpp is not double um || !(um > 0) || !double.IsFinite(um))
                throw new TesseraException($"{Path.Combine(spatial, "scalefactors_json.json")}: 'microns_per_pixel' is not a positive number");
            data.Uns["microns_per_unit"] = um;
        }
        else options.Info($"no microns_per_pixel in {spatial}/scalefactors_json.json: coordinates stay in pixels without a µm scale");
        options.Info($"read {data.NObs} bins x {data.NVars} genes from Visium HD folder '{folder}' (bin {(binUm is double x ? x.ToString(CultureInfo.InvariantCulture) + " µm" : "size unknown")}; "
            + $"obsm['spatial'] in full-resolution pixels{(data.Uns.TryGetValue("microns_per_unit", out var u) ? $", {Convert.ToString(u, CultureInfo.InvariantCulture)} µm per pixel" : "")})");
        return data;
    }

    private static double? BinFromName(string name) =>
        name.StartsWith("square_", StringComparison.Ordinal) && name.EndsWith("um", StringComparison.Ordinal)
        && int.TryParse(name.AsSpan(7, name.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : null;

    /// <summary>tissue_positions.parquet as barcode → position; duplicate barcodes and non-finite values are errors.</summary>
    internal static Dictionary<string, SpaceRanger.SpotPosition> ReadPositions(string path)
    {
        var name = Path.GetFileName(path);
        var t = ParquetColumns.Read(path, Columns);
        var barcodes = (string?[])t["barcode"];
        var values = Columns.Skip(1).Select(c => t[c] as double[] ?? throw new TesseraException($"{name}: column '{c}' is not numeric")).ToArray();
        var d = new Dictionary<string, SpaceRanger.SpotPosition>(barcodes.Length, StringComparer.Ordinal);
        var firstRow = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < barcodes.Length; i++)
        {
            var bc = barcodes[i] ?? throw new TesseraException($"{name} row {i + 1}: the barcode is missing");
            for (int k = 0; k < values.Length; k++)
                if (!double.IsFinite(values[k][i]) || (k < 3 && values[k][i] != Math.Floor(values[k][i])))
                    throw new TesseraException($"{name}: {Columns[k + 1]} of barcode '{bc}' is {values[k][i].ToString(CultureInfo.InvariantCulture)}, expected {(k < 3 ? "an integer" : "a finite number")}");
            if (!firstRow.TryAdd(bc, i)) throw new TesseraException($"{name}: duplicate barcode '{bc}' (rows {firstRow[bc] + 1} and {i + 1})");
            d[bc] = new SpaceRanger.SpotPosition((int)values[0][i], (int)values[1][i], (int)values[2][i], values[3][i], values[4][i]);
        }
        return d;
    }
}
