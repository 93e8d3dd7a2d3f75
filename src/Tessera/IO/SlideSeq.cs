using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// Slide-seq pucks in the Broad layout that spacexr (RCTD) reads: <c>BeadLocationsForR.csv</c> (barcodes, xcoord,
/// ycoord) and <c>MappedDGEForR.csv</c> (genes × beads, R row names), gzipped or not.
/// </summary>
/// <remarks>
/// Every bead of the matrix needs a location (beads located but absent from the matrix are reported and ignored).
/// obsm["spatial"] is (xcoord, ycoord) in puck pixels, 0.65 µm each (Rodriques et al. 2019; uns["microns_per_unit"]),
/// and uns["platform"] = "slideseq".
/// </remarks>
public static class SlideSeq
{
    /// <summary>Length of a Slide-seq puck pixel in µm.</summary>
    public const double MicronsPerPixel = 0.65;

    private const string LocationsName = "BeadLocationsForR.csv";
    private const string CountsName = "MappedDGEForR.csv";

    /// <summary>Whether <paramref name="path"/> is a folder holding BeadLocationsForR.csv[.gz].</summary>
    public static bool IsSlideSeq(string path) => Directory.Exists(path) && PlatformTables.FindBySuffix(path, LocationsName) != null;

    /// <summary>Reads a Slide-seq puck folder (see the class remarks).</summary>
    public static SpatialData Read(string path, ReadOptions? options = null)
    {
        options ??= new ReadOptions();
        using var budget = ReadBudget.Enter(options);
        if (!Directory.Exists(path)) throw new TesseraException($"Slide-seq input '{path}' is not a folder");
        var locPath = PlatformTables.RequireBySuffix(path, LocationsName, "Slide-seq");
        var countsPath = PlatformTables.RequireBySuffix(path, CountsName, "Slide-seq");

        var data = DelimitedReader.Read(countsPath, options with { Coords = null, Transpose = true });
        var t = PlatformTables.ReadMetadata(locPath);
        int id = PlatformTables.Column(t, "barcodes");
        if (id < 0) id = PlatformTables.Column(t, "barcode");
        if (id < 0) id = 0;
        int x = PlatformTables.Column(t, "xcoord"), y = PlatformTables.Column(t, "ycoord");
        if (x < 0 || y < 0) { x = PlatformTables.RequireColumn(t, "x"); y = PlatformTables.RequireColumn(t, "y"); }
        PlatformTables.JoinRows(data, t, t.Rows.Select(r => r[id]).ToArray(), Path.GetFileName(countsPath), new HashSet<int> { id }, options, "bead");
        PlatformTables.SetSpatial(data, t.Header[x], t.Header[y], t.File, "slideseq", MicronsPerPixel, "bead");
        options.Info($"read {data.NObs} beads x {data.NVars} genes from Slide-seq folder '{path}' (coordinates: {t.Header[x]}, {t.Header[y]} in pixels of {TextInput.Num(MicronsPerPixel)} µm)");
        return data;
    }
}
