using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// Vizgen MERSCOPE output folders: <c>cell_by_gene.csv</c> (cells × targets) and <c>cell_metadata.csv</c> (per cell:
/// center_x, center_y in µm, volume, fov, ...), each possibly behind a run prefix
/// (<c>HumanUterineCancerPatient2_cell_by_gene.csv</c>) and gzipped.
/// </summary>
/// <remarks>
/// Cells are keyed by the metadata's EntityID column (MERSCOPE ≥ 2.0), else by its cell/cell_id column or its first
/// column (older outputs write the id as an unnamed pandas index). The <c>Blank-*</c> codewords (misidentification
/// controls) leave X: each becomes an obs column, and their per-cell sum is obs["blank_counts"]. obsm["spatial"] is
/// (center_x, center_y) in µm; uns["platform"] = "merscope", uns["microns_per_unit"] = 1. Boundaries, transcripts
/// and images are not read.
/// </remarks>
public static class Merscope
{
    private const string CountsSuffix = "cell_by_gene.csv";
    private const string MetadataSuffix = "cell_metadata.csv";

    /// <summary>Whether <paramref name="path"/> is a folder holding a MERSCOPE cell_by_gene.csv and cell_metadata.csv.</summary>
    public static bool IsMerscope(string path) =>
        Directory.Exists(path) && PlatformTables.FindBySuffix(path, CountsSuffix) != null && PlatformTables.FindBySuffix(path, MetadataSuffix) != null;

    /// <summary>Reads a MERSCOPE output folder (see the class remarks).</summary>
    public static SpatialData Read(string path, ReadOptions? options = null)
    {
        options ??= new ReadOptions();
        using var budget = ReadBudget.Enter(options);
        if (!Directory.Exists(path)) throw new TesseraException($"MERSCOPE input '{path}' is not a folder");
        var countsPath = PlatformTables.RequireBySuffix(path, CountsSuffix, "MERSCOPE");
        var metaPath = PlatformTables.RequireBySuffix(path, MetadataSuffix, "MERSCOPE");
        var countsFile = Path.GetFileName(countsPath);

        var data = DelimitedReader.Read(countsPath, options with { Coords = null, Transpose = false });
        data = PlatformTables.MoveQcToObs(data, g => g.StartsWith("Blank-", StringComparison.OrdinalIgnoreCase), "blank_counts", "Blank-* codeword", options);

        var t = PlatformTables.ReadMetadata(metaPath);
        int id = PlatformTables.Column(t, "EntityID");
        if (id < 0) id = PlatformTables.Column(t, "cell");
        if (id < 0) id = PlatformTables.Column(t, "cell_id");
        if (id < 0) id = 0;
        PlatformTables.RequireColumn(t, "center_x");
        PlatformTables.RequireColumn(t, "center_y");
        PlatformTables.JoinRows(data, t, t.Rows.Select(r => r[id]).ToArray(), countsFile, new HashSet<int> { id }, options);
        PlatformTables.SetSpatial(data, t.Header[PlatformTables.Column(t, "center_x")], t.Header[PlatformTables.Column(t, "center_y")], t.File, "merscope", 1.0);
        options.Info($"read {data.NObs} cells x {data.NVars} genes from MERSCOPE folder '{path}' (coordinates: center_x, center_y in µm)");
        return data;
    }
}
