using System.Globalization;
using Tessera.Data;
using Tessera.Graphs;
using Tessera.IO;

namespace Tessera.Methods.StNet;

/// <summary>One line of a histology manifest: a section's counts, spot file, H&amp;E image and optional patient.</summary>
/// <param name="Section">Section name (unique).</param>
/// <param name="Counts">Counts input (any reader's input: spots × genes table, h5ad, 10x, ...).</param>
/// <param name="Spots">Spot file with <c>pixel_x</c>, <c>pixel_y</c> (and <c>x</c>, <c>y</c> array coordinates, as HER2ST).</param>
/// <param name="Image">Full-resolution H&amp;E image (JPEG/PNG) that <c>pixel_x</c>/<c>pixel_y</c> index.</param>
/// <param name="Patient">Patient, for leave-one-patient-out cross-validation (null: leave one section out).</param>
public sealed record HistologySectionSpec(string Section, string Counts, string Spots, string Image, string? Patient);

/// <summary>Reads a histology manifest CSV: columns <c>section,counts,spots,image</c> and optional <c>patient</c>.</summary>
public static class HistologyManifest
{
    /// <summary>Reads a manifest; relative paths are resolved against the manifest's folder.</summary>
    public static IReadOnlyList<HistologySectionSpec> Read(string path)
    {
        if (!File.Exists(path)) throw new TesseraException($"manifest '{path}' does not exist");
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
        if (lines.Length < 2) throw new TesseraException($"manifest '{path}' has no sections (needs a header line and one line per section)");
        char sep = lines[0].Contains('\t') ? '\t' : ',';
        var header = lines[0].Split(sep).Select(h => h.Trim()).ToArray();
        int Col(string name, bool required)
        {
            int i = Array.FindIndex(header, h => h.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (i < 0 && required) throw new TesseraException($"manifest '{path}' has no column '{name}' (columns: {string.Join(", ", header)}; need section, counts, spots, image and optionally patient)");
            return i;
        }
        int cs = Col("section", true), cc = Col("counts", true), cp = Col("spots", true), ci = Col("image", true), cpat = Col("patient", false);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var specs = new List<HistologySectionSpec>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int l = 1; l < lines.Length; l++)
        {
            var f = lines[l].Split(sep).Select(v => v.Trim()).ToArray();
            if (f.Length != header.Length) throw new TesseraException($"manifest '{path}' line {l + 1} has {f.Length} fields but the header has {header.Length}");
            var name = f[cs];
            if (name.Length == 0) throw new TesseraException($"manifest '{path}' line {l + 1} has an empty section name");
            if (!seen.Add(name)) throw new TesseraException($"manifest '{path}' names section '{name}' twice");
            string Resolve(string p) => Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(dir, p));
            var spec = new HistologySectionSpec(name, Resolve(f[cc]), Resolve(f[cp]), Resolve(f[ci]), cpat >= 0 && f[cpat].Length > 0 ? f[cpat] : null);
            foreach (var (what, p) in new[] { ("counts", spec.Counts), ("spots", spec.Spots), ("image", spec.Image) })
                if (!File.Exists(p) && !Directory.Exists(p)) throw new TesseraException($"manifest '{path}' section '{name}': {what} file '{p}' does not exist");
            specs.Add(spec);
        }
        return specs;
    }
}

/// <summary>Pixel (and array) positions of spots, read from a spot file.</summary>
/// <param name="Ids">Spot ids: <c>{x}x{y}</c> from the array coordinates when present (as HER2ST counts use), else the file's first column.</param>
/// <param name="PixelX">Spot centre column in full-resolution image pixels.</param>
/// <param name="PixelY">Spot centre row in full-resolution image pixels.</param>
/// <param name="ArrayX">Array column (null when the file has none).</param>
/// <param name="ArrayY">Array row (null when the file has none).</param>
public sealed record SpotPositions(string[] Ids, double[] PixelX, double[] PixelY, double[]? ArrayX, double[]? ArrayY)
{
    /// <summary>Image pixels per array step (see <see cref="HistologySection.PixelsPerArrayStep"/>).</summary>
    public double PixelsPerArrayStep() => PixelsPerArrayStep(PixelX, PixelY, ArrayX, ArrayY);

    internal static double PixelsPerArrayStep(double[] px, double[] py, double[]? ax, double[]? ay)
    {
        if (ax is not null && ay is not null && px.Length >= 3)
        {
            static double Slope(double[] a, double[] p)
            {
                double ma = a.Average(), mp = p.Average(), sap = 0, saa = 0;
                for (int i = 0; i < a.Length; i++) { sap += (a[i] - ma) * (p[i] - mp); saa += (a[i] - ma) * (a[i] - ma); }
                return saa > 0 ? Math.Abs(sap / saa) : double.NaN;
            }
            var vals = new[] { Slope(ax, px), Slope(ay, py) }.Where(double.IsFinite).ToArray();
            if (vals.Length > 0) return vals.Average();
        }
        if (px.Length < 2) return double.NaN;
        var xy = new DenseMatrix(px.Length, 2);
        for (int i = 0; i < px.Length; i++) { xy[i, 0] = px[i]; xy[i, 1] = py[i]; }
        var nn = new KdTree(xy).NearestNeighborDistances();
        Array.Sort(nn);
        return nn[nn.Length / 2];
    }

    /// <summary>Reads a tab- or comma-separated spot file (optionally gzipped) with <c>pixel_x</c>, <c>pixel_y</c>, and <c>x</c>, <c>y</c> or an id column; rows with <c>selected</c> = 0 are skipped.</summary>
    public static SpotPositions Read(string path)
    {
        if (!File.Exists(path)) throw new TesseraException($"spot file '{path}' does not exist");
        var text = TextInput.ReadAllText(path).Replace("\r", "");
        var lines = text.Split('\n').Where(l => l.Length > 0).ToArray();
        if (lines.Length < 2) throw new TesseraException($"spot file '{path}' has no spots");
        char sep = lines[0].Contains('\t') ? '\t' : ',';
        var header = lines[0].Split(sep).Select(h => h.Trim().Trim('"')).ToArray();
        int Find(string n) => Array.FindIndex(header, h => h.Equals(n, StringComparison.OrdinalIgnoreCase));
        int px = Find("pixel_x"), py = Find("pixel_y"), ax = Find("x"), ay = Find("y"), sel = Find("selected");
        if (px < 0 || py < 0) throw new TesseraException($"spot file '{path}' has no pixel_x/pixel_y columns (columns: {string.Join(", ", header)})");
        bool hasArray = ax >= 0 && ay >= 0;
        var ids = new List<string>(); var xs = new List<double>(); var ys = new List<double>(); var axs = new List<double>(); var ays = new List<double>();
        for (int l = 1; l < lines.Length; l++)
        {
            var f = lines[l].Split(sep).Select(v => v.Trim().Trim('"')).ToArray();
            if (f.Length < header.Length) throw new TesseraException($"spot file '{path}' line {l + 1} has {f.Length} fields but the header has {header.Length}");
            double Num(int c, string name) => double.TryParse(f[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
                : throw new TesseraException($"spot file '{path}' line {l + 1}: {name} '{f[c]}' is not a finite number");
            if (sel >= 0 && Num(sel, "selected") == 0) continue;
            double x = Num(px, "pixel_x"), y = Num(py, "pixel_y");
            string id;
            if (hasArray)
            {
                double a = Num(ax, "x"), b = Num(ay, "y");
                axs.Add(a); ays.Add(b);
                id = $"{a.ToString(CultureInfo.InvariantCulture)}x{b.ToString(CultureInfo.InvariantCulture)}";
            }
            else id = f[0];
            ids.Add(id); xs.Add(x); ys.Add(y);
        }
        if (ids.Count == 0) throw new TesseraException($"spot file '{path}' has no selected spots");
        var dup = ids.GroupBy(i => i).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw new TesseraException($"spot file '{path}' lists spot '{dup.Key}' twice");
        return new SpotPositions([.. ids], [.. xs], [.. ys], hasArray ? [.. axs] : null, hasArray ? [.. ays] : null);
    }
}

/// <summary>A section ready for ST-Net: counts of the spots that have a position, in the same order as their pixels.</summary>
public sealed class HistologySection
{
    /// <summary>Section name.</summary>
    public required string Name { get; init; }
    /// <summary>Patient (null when the manifest has none).</summary>
    public string? Patient { get; init; }
    /// <summary>Raw counts, spots × genes (spots in the order of the position arrays).</summary>
    public required SpatialData Counts { get; init; }
    /// <summary>Spot centre columns in image pixels.</summary>
    public required double[] PixelX { get; init; }
    /// <summary>Spot centre rows in image pixels.</summary>
    public required double[] PixelY { get; init; }
    /// <summary>Array columns (null when unknown).</summary>
    public double[]? ArrayX { get; init; }
    /// <summary>Array rows (null when unknown).</summary>
    public double[]? ArrayY { get; init; }
    /// <summary>H&amp;E image path.</summary>
    public required string ImagePath { get; init; }

    /// <summary>Spots.</summary>
    public int NSpots => Counts.NObs;

    /// <summary>Loads counts and spot positions and keeps the spots present in both (counts ids = spot-file ids).</summary>
    public static HistologySection Load(HistologySectionSpec spec, IProgress<Progress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var counts = DataReader.Read(spec.Counts);
        var pos = SpotPositions.Read(spec.Spots);
        var where = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < pos.Ids.Length; i++) where[pos.Ids[i]] = i;
        var keep = new List<int>(); var rows = new List<int>();
        for (int s = 0; s < counts.NObs; s++)
            if (where.TryGetValue(counts.ObsNames[s], out var r)) { keep.Add(s); rows.Add(r); }
        if (keep.Count == 0)
            throw new TesseraException($"section '{spec.Section}': no spot of the counts ('{counts.ObsNames[0]}', ...) is in the spot file ('{pos.Ids[0]}', ...); ids must match ({{x}}x{{y}} from the array coordinates, or the spot file's first column)");
        if (keep.Count < counts.NObs) progress.Note("read sections", $"section {spec.Section}: {counts.NObs - keep.Count} of {counts.NObs} spots have no position and are left out");
        var sub = keep.Count == counts.NObs ? counts : counts.Subset(keep);
        return new HistologySection
        {
            Name = spec.Section, Patient = spec.Patient, Counts = sub, ImagePath = spec.Image,
            PixelX = [.. rows.Select(r => pos.PixelX[r])], PixelY = [.. rows.Select(r => pos.PixelY[r])],
            ArrayX = pos.ArrayX is null ? null : [.. rows.Select(r => pos.ArrayX[r])],
            ArrayY = pos.ArrayY is null ? null : [.. rows.Select(r => pos.ArrayY[r])],
        };
    }

    /// <summary>
    /// Image pixels per array step, from a least-squares fit of pixel on array coordinates (both axes pooled); when the
    /// spot file has no array coordinates, the median nearest-neighbour pixel distance.
    /// </summary>
    public double PixelsPerArrayStep() => SpotPositions.PixelsPerArrayStep(PixelX, PixelY, ArrayX, ArrayY);
}

/// <summary>A slide to predict with a trained ST-Net model: an H&amp;E image, and spot positions unless the whole slide is tiled.</summary>
/// <param name="ImagePath">H&amp;E image (JPEG/PNG) that the spot pixels index.</param>
/// <param name="Spots">Spots to predict; null tiles the tissue of the whole slide with patch-sized tiles.</param>
/// <param name="UmPerPixel">Image resolution; null: from the spot pitch when spots are given, else the training slides' median.</param>
public sealed record HistologySlide(string ImagePath, SpotPositions? Spots = null, double? UmPerPixel = null)
{
    /// <summary>Name in outputs and messages (default: the image's file name without extension).</summary>
    public string Name { get; init; } = Path.GetFileNameWithoutExtension(ImagePath);
}
