using System.Globalization;
using System.Text.Json;
using StbImageSharp;
using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// Space Ranger (10x Visium) output folders, read the way scanpy.read_visium does: the filtered matrix
/// (filtered_feature_bc_matrix.h5, filtered_feature_bc_matrix/ or matrix.mtx[.gz] beside spatial/), the spot
/// positions (spatial/tissue_positions.csv with header, Space Ranger ≥ 2, or tissue_positions_list.csv[.gz] without),
/// scale factors and the hires/lowres images.
/// </summary>
/// <remarks>
/// Only in-tissue spots present in the matrix are kept, in the matrix's order. obsm["spatial"] holds
/// (pxl_col_in_fullres, pxl_row_in_fullres), i.e. x, y in full-resolution pixels (scanpy's convention); obs gets
/// in_tissue, array_row, array_col; uns["spatial"][library_id]["scalefactors"] holds scalefactors_json.json.
/// </remarks>
public static class SpaceRanger
{
    /// <summary>The folder holding spatial/ and the matrix: <paramref name="folder"/>/outs when present, else the folder; null when neither has spatial/.</summary>
    public static string? FindRoot(string folder)
    {
        var outs = Path.Combine(folder, "outs");
        if (Directory.Exists(Path.Combine(outs, "spatial"))) return outs;
        if (Directory.Exists(Path.Combine(folder, "spatial"))) return folder;
        return null;
    }

    /// <summary>Reads a Space Ranger output folder (<c>outs/</c> or the folder holding it).</summary>
    public static SpatialData Read(string folder, ReadOptions options)
    {
        using var budget = ReadBudget.Enter(options);
        if (!Directory.Exists(folder)) throw new TesseraException($"input '{folder}' does not exist");
        var root = FindRoot(folder) ?? throw new TesseraException($"'{folder}' is not a Space Ranger folder: it has no spatial/ (nor outs/spatial/)");
        var full = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
        var libraryId = Path.GetFileName(full) == "outs" ? Path.GetFileName(Path.GetDirectoryName(full)!) : Path.GetFileName(full);

        TenXMatrix m;
        var h5 = Path.Combine(root, "filtered_feature_bc_matrix.h5");
        var mtxDir = Path.Combine(root, "filtered_feature_bc_matrix");
        if (File.Exists(h5)) m = TenXH5.Read(h5, options);
        else if (TenXMtx.IsMtxFolder(mtxDir)) m = TenXMtx.Read(mtxDir, options);
        else if (TenXMtx.IsMtxFolder(root)) m = TenXMtx.Read(root, options);
        else throw new TesseraException($"'{root}' has no filtered_feature_bc_matrix.h5, filtered_feature_bc_matrix/ or matrix.mtx[.gz]");
        var data = TenXMtx.ToSpatialData(m, options);

        var spatial = Path.Combine(root, "spatial");
        var posPath = TextInput.FirstExisting(spatial, "tissue_positions.csv", "tissue_positions.csv.gz", "tissue_positions_list.csv", "tissue_positions_list.csv.gz")
            ?? throw new TesseraException($"'{spatial}' has no tissue_positions.csv or tissue_positions_list.csv[.gz]"
                + (File.Exists(Path.Combine(spatial, "tissue_positions.parquet")) ? " (for its tissue_positions.parquet give the Visium HD bin folder, binned_outputs/square_NNNum/)" : ""));
        var pos = ReadPositions(posPath);
        data = KeepInTissue(data, pos, Path.GetFileName(posPath), options);
        var sf = LoadScaleFactorsAndImages(data, spatial, libraryId, options);
        // Visium spots are 55 µm across (10x's specification), so spot_diameter_fullres gives the µm per full-resolution
        // pixel that lets graph radii be given in µm
        if (sf != null && sf.TryGetValue("spot_diameter_fullres", out var dv) && dv is double diameter && diameter > 0)
            PlatformTables.SetPlatform(data, "visium", VisiumSpotMicrons / diameter);
        options.Info($"read {data.NObs} spots x {data.NVars} genes from Space Ranger folder '{folder}' (library '{libraryId}', images: {(data.Images.Count == 0 ? "none" : string.Join(", ", data.Images.Select(i => $"{i.Name} {i.Width}x{i.Height}")))})");
        return data;
    }

    /// <summary>Diameter of a Visium spot in µm (10x Genomics' specification; spots are 100 µm apart centre to centre).</summary>
    public const double VisiumSpotMicrons = 55.0;

    /// <summary>
    /// Keeps the matrix barcodes that are in-tissue positions of <paramref name="pos"/> (in the matrix's order) and sets
    /// obs in_tissue, array_row, array_col and obsm["spatial"] = (pxl_col, pxl_row) in full-resolution pixels.
    /// A barcode without a position fails unless <see cref="ReadOptions.AllowMissing"/>.
    /// </summary>
    internal static SpatialData KeepInTissue(SpatialData data, IReadOnlyDictionary<string, SpotPosition> pos, string posName, ReadOptions options)
    {
        var keep = new List<int>(); int notInTissue = 0; var missing = new List<string>();
        for (int i = 0; i < data.NObs; i++)
        {
            if (!pos.TryGetValue(data.ObsNames[i], out var p)) { missing.Add(data.ObsNames[i]); continue; }
            if (p.InTissue != 1) { notInTissue++; continue; }
            keep.Add(i);
        }
        if (missing.Count > 0 && !options.AllowMissing)
            throw new TesseraException($"{missing.Count} of {data.NObs} matrix barcodes are not in {posName} (first: '{missing[0]}')");
        if (keep.Count == 0) throw new TesseraException($"no barcode of the matrix is an in-tissue spot of {posName}");
        options.Info($"kept {keep.Count} in-tissue spots of {data.NObs} matrix barcodes ({pos.Count} positions in {posName}"
            + (notInTissue > 0 ? $"; {notInTissue} outside the tissue dropped" : "") + (missing.Count > 0 ? $"; {missing.Count} without a position dropped" : "") + ")");
        if (keep.Count != data.NObs) data = data.Subset(keep, null);

        int n = data.NObs;
        var inTissue = new double[n]; var arow = new double[n]; var acol = new double[n]; var xy = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            var p = pos[data.ObsNames[i]];
            inTissue[i] = p.InTissue; arow[i] = p.Row; acol[i] = p.Col;
            xy[2 * i] = p.PxlCol; xy[2 * i + 1] = p.PxlRow;
        }
        data.Obs.Set("in_tissue", new NumericColumn(inTissue, true));
        data.Obs.Set("array_row", new NumericColumn(arow, true));
        data.Obs.Set("array_col", new NumericColumn(acol, true));
        data.SetObsm(SpatialData.SpatialKey, new DenseMatrix(n, 2, xy));
        return data;
    }

    /// <summary>
    /// Sets uns["spatial"][<paramref name="libraryId"/>]["scalefactors"] from spatial/scalefactors_json.json and loads
    /// the hires/lowres images it scales; returns the scale factors (null when the file is absent).
    /// </summary>
    internal static Dictionary<string, object>? LoadScaleFactorsAndImages(SpatialData data, string spatial, string libraryId, ReadOptions options)
    {
        var lib = new Dictionary<string, object>(StringComparer.Ordinal);
        var sfPath = Path.Combine(spatial, "scalefactors_json.json");
        Dictionary<string, object>? sf = null;
        if (File.Exists(sfPath))
        {
            sf = ReadScaleFactors(sfPath);
            lib["scalefactors"] = sf;
        }
        else options.Info($"no scalefactors_json.json in {spatial}: images are not loaded");
        data.Uns["spatial"] = new Dictionary<string, object>(StringComparer.Ordinal) { [libraryId] = lib };
        if (sf != null)
        {
            foreach (var (name, file, key) in new[] { ("hires", "tissue_hires_image.png", "tissue_hires_scalef"), ("lowres", "tissue_lowres_image.png", "tissue_lowres_scalef") })
            {
                var ip = Path.Combine(spatial, file);
                if (!File.Exists(ip)) continue;
                if (!sf.TryGetValue(key, out var s) || s is not double scale || !(scale > 0))
                    throw new TesseraException($"{Path.GetFileName(sfPath)}: '{key}' is missing or not a positive number, needed for {file}");
                data.Images.Add(LoadImage(ip, name, scale));
            }
        }
        return sf;
    }

    /// <summary>
    /// Decodes a PNG/JPEG into an RGB <see cref="TissueImage"/>; the size its header declares is checked against the
    /// memory limit (<see cref="MemoryLimit"/>) before the pixels are decoded.
    /// </summary>
    public static TissueImage LoadImage(string path, string name, double scale)
    {
        ImageResult img;
        try
        {
            using var s = File.OpenRead(path);
            var info = ImageInfo.FromStream(s) ?? throw new TesseraException($"{Path.GetFileName(path)}: cannot decode the image (not a PNG, JPEG, BMP, TGA, GIF or PSD file, or larger than 1 GB)");
            // the decoder's buffer with its components, then the RGB copy
            ReadBudget.Need((double)info.Width * info.Height * (Math.Max(3, (int)info.ColorComponents) + 3), $"{Path.GetFileName(path)} (declared {info.Width} x {info.Height} pixels)");
            s.Position = 0;
            img = ImageResult.FromStream(s, ColorComponents.RedGreenBlue);
        }
        catch (Exception e) when (e is not TesseraException)
        {
            throw new TesseraException($"{Path.GetFileName(path)}: cannot decode the image ({e.Message})", e);
        }
        return new TissueImage(name, img.Width, img.Height, img.Data, scale);
    }

    /// <summary>scalefactors_json.json as a dictionary (numbers as double, strings as string).</summary>
    public static Dictionary<string, object> ReadScaleFactors(string path)
    {
        var d = new Dictionary<string, object>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(TextInput.ReadAllText(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new TesseraException($"{Path.GetFileName(path)}: expected a JSON object");
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                d[p.Name] = p.Value.ValueKind switch
                {
                    JsonValueKind.Number => p.Value.GetDouble(),
                    JsonValueKind.String => p.Value.GetString()!,
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => p.Value.GetRawText(),
                };
            }
        }
        catch (JsonException e) { throw new TesseraException($"{Path.GetFileName(path)}: invalid JSON ({e.Message})", e); }
        return d;
    }

    internal readonly record struct SpotPosition(int InTissue, int Row, int Col, double PxlRow, double PxlCol);

    internal static Dictionary<string, SpotPosition> ReadPositions(string path)
    {
        var name = Path.GetFileName(path);
        var d = new Dictionary<string, SpotPosition>(StringComparer.Ordinal);
        var firstLine = new Dictionary<string, long>(StringComparer.Ordinal);
        using var r = ByteLineReader.Open(path);
        while (r.TryReadLine(out var line))
        {
            var text = Numbers.Text(line).Trim();
            if (text.Length == 0) continue;
            var f = text.Split(',');
            for (int k = 0; k < f.Length; k++) f[k] = f[k].Trim().Trim('"');
            if (r.LineNumber == 1 && f.Length >= 2 && !int.TryParse(f[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out _)) continue; // v2 header
            if (f.Length != 6)
                throw new TesseraException($"{name} line {r.LineNumber}: expected 6 fields (barcode, in_tissue, array_row, array_col, pxl_row_in_fullres, pxl_col_in_fullres), got {f.Length}");
            var ints = new int[3]; var px = new double[2];
            for (int k = 0; k < 3; k++)
                if (!int.TryParse(f[k + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out ints[k]))
                    throw new TesseraException($"{name} line {r.LineNumber}, column {k + 2}: '{f[k + 1]}' is not an integer");
            for (int k = 0; k < 2; k++)
                if (!double.TryParse(f[k + 4], NumberStyles.Float, CultureInfo.InvariantCulture, out px[k]) || !double.IsFinite(px[k]))
                    throw new TesseraException($"{name} line {r.LineNumber}, column {k + 5}: pixel coordinate '{f[k + 4]}' is not a finite number");
            if (!firstLine.TryAdd(f[0], r.LineNumber))
                throw new TesseraException($"{name}: duplicate barcode '{f[0]}' (lines {firstLine[f[0]]} and {r.LineNumber})");
            d[f[0]] = new SpotPosition(ints[0], ints[1], ints[2], px[0], px[1]);
        }
        return d;
    }
}
