using Parquet.Serialization;
using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;
using static Tessera.Tests.IO.IoTestUtil;

namespace Tessera.Tests.IO;

/// <summary>
/// Visium HD bin folders. The expected numbers were read independently of Tessera (hyparquet for the parquet,
/// h5wasm for the h5, in node) from the fixtures in shared/data/platforms/visium_hd.
/// </summary>
public class VisiumHdTests
{
    private const string Colon = "platforms/visium_hd/spacemarkers_human_colon_cancer_p2";
    private const string Colon16 = Colon + "/binned_outputs/square_016um";
    private const string MouseBrain2 = "platforms/visium_hd/visiumio_mouse_brain_10x10/binned_outputs/square_002um";

    private static double RowSum(SpatialData d, int r)
    {
        double s = 0;
        for (int k = d.X.IndPtr[r]; k < d.X.IndPtr[r + 1]; k++) s += d.X.Data[k];
        return s;
    }

    private static double At(SpatialData d, int r, string gene)
    {
        int j = Array.IndexOf(d.VarNames.ToArray(), gene);
        for (int k = d.X.IndPtr[r]; k < d.X.IndPtr[r + 1]; k++) if (d.X.Indices[k] == j) return d.X.Data[k];
        return 0;
    }

    [SkippableFact]
    public void ReadsTheColonCancer16umBins()
    {
        var folder = SharedData.Require(Colon16);
        var (o, log) = Logged();
        var d = DataReader.Read(folder, o);
        Assert.Equal((675, 18085), (d.NObs, d.NVars));
        Assert.Equal(213122, d.X.Nnz);
        Assert.Equal(274112, d.X.Data.Sum(v => (double)v));
        var xy = d.Spatial;
        var xs = Enumerable.Range(0, d.NObs).Select(i => xy.Data[2 * i]).ToArray();
        var ys = Enumerable.Range(0, d.NObs).Select(i => xy.Data[2 * i + 1]).ToArray();
        Assert.Equal(45078.38725567388, xs.Min(), 9); Assert.Equal(46499.64464445478, xs.Max(), 9);
        Assert.Equal(18323.152901236404, ys.Min(), 9); Assert.Equal(19860.40742044127, ys.Max(), 9);
        // spot checks: barcode, (x, y) = (pxl_col, pxl_row), array row/col, counts
        Assert.Equal("s_016um_00044_00076-1", d.ObsNames[0]);
        Assert.Equal(new[] { 45078.38725567388, 19841.976048488294 }, new[] { xs[0], ys[0] });
        Assert.Equal(561, RowSum(d, 0));
        Assert.Equal(1, At(d, 0, "CCNL2"));
        Assert.Equal("s_016um_00048_00076-1", d.ObsNames[100]);
        Assert.Equal(new[] { 45081.402540608586, 19608.309323021705 }, new[] { xs[100], ys[100] });
        Assert.Equal(48, d.Obs.Get<NumericColumn>("array_row").Values[100]);
        Assert.Equal(76, d.Obs.Get<NumericColumn>("array_col").Values[100]);
        Assert.Equal(585, RowSum(d, 100));
        Assert.Equal("s_016um_00070_00100-1", d.ObsNames[674]);
        Assert.Equal(590, RowSum(d, 674));
        Assert.Equal(4, At(d, 674, "MT-CYB"));
        Assert.Equal("visium_hd", d.Uns["platform"]);
        Assert.Equal(16.0, d.Uns["bin_size_um"]);
        Assert.Equal(0.2738262923862567, d.Uns["microns_per_unit"]);
        var sf = (Dictionary<string, object>)((Dictionary<string, object>)((Dictionary<string, object>)d.Uns["spatial"])["square_016um"])["scalefactors"];
        Assert.Equal(58.4312041790003, sf["spot_diameter_fullres"]);
        Assert.Contains(log, l => l.Contains("kept 675 in-tissue spots of 675 matrix barcodes", StringComparison.Ordinal));
        Assert.Contains(("platform", "visium_hd, bin 16 µm, 0.2738262923862567 µm per coordinate unit"), Tessera.Cli.Commands.InfoCommand.Describe(d, folder));
    }

    [SkippableFact]
    public void TheSampleFolderReadsTheDefault16umBinsAndNamesTheOthers()
    {
        var sample = SharedData.Require(Colon);
        var (o, log) = Logged();
        var d = DataReader.Read(sample, o);
        Assert.Equal((675, 18085), (d.NObs, d.NVars));
        Assert.Contains(log, l => l.Contains("(default Bin 16 µm)", StringComparison.Ordinal));
        var e = Assert.Throws<TesseraException>(() => DataReader.Read(sample, new ReadOptions { Bin = 8 }));
        Assert.Equal($"'{Path.Combine(sample, "binned_outputs")}' has no 8 µm bins (square_008um/ with spatial/tissue_positions.parquet); it has square_016um", e.Message);
        var cli = CliRunner.Run("info", sample, "--bin", "8");
        Assert.Equal(2, cli.Code);
        Assert.Contains($"error: {e.Message}", cli.Err);
        var ok = CliRunner.Run("info", sample, "--bin", "16");
        Assert.Equal(0, ok.Code);
        Assert.Contains("visium_hd, bin 16 µm", ok.Out);
    }

    [SkippableFact]
    public void ReadsTheEmptyMouseBrainBinsFromTheH5AndFromTheQuotedMtxFolder()
    {
        var folder = SharedData.Require(MouseBrain2);
        var d = DataReader.Read(folder);
        Assert.Equal((10, 10), (d.NObs, d.NVars));
        Assert.Equal(0, d.X.Nnz);
        Assert.Equal("s_002um_02448_01644-1", d.ObsNames[0]);
        Assert.Equal(new[] { 9295.414883943815, 18095.4075623532 }, d.Spatial.Data.Take(2));
        Assert.Equal(2448, d.Obs.Get<NumericColumn>("array_row").Values[0]);
        Assert.Equal(2.0, d.Uns["bin_size_um"]);
        Assert.Equal("lowres", Assert.Single(d.Images).Name);

        // the same folder without the h5: its *.tsv.gz are plain text with every field quoted (R's write.table)
        using var t = new TempDir();
        var copy = Path.Combine(t.Path, "square_002um");
        CopyTree(folder, copy);
        File.Delete(Path.Combine(copy, "filtered_feature_bc_matrix.h5"));
        var m = DataReader.Read(copy);
        Assert.Equal(d.ObsNames.Order(StringComparer.Ordinal), m.ObsNames.Order(StringComparer.Ordinal));
        Assert.Equal(d.VarNames, m.VarNames);
        Assert.Equal("ENSMUSG00000051951", ((StringColumn)m.Var["gene_ids"]).Values[0]);
        Assert.Equal(0, m.X.Nnz);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var dest = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(f, dest);
        }
    }

    private sealed record Pos(string barcode, int in_tissue, int array_row, int array_col, double pxl_row_in_fullres, double pxl_col_in_fullres);

    /// <summary>A bin folder with the colon h5 (675 bins) and positions written here.</summary>
    private static string BinFolder(TempDir t, IEnumerable<Pos> positions)
    {
        var h5 = SharedData.Require(Colon16 + "/filtered_feature_bc_matrix.h5");
        var folder = Path.Combine(t.Path, "square_016um");
        Directory.CreateDirectory(Path.Combine(folder, "spatial"));
        File.Copy(h5, Path.Combine(folder, "filtered_feature_bc_matrix.h5"));
        using (var s = File.Create(Path.Combine(folder, "spatial", "tissue_positions.parquet")))
            ParquetSerializer.SerializeAsync(positions, s).GetAwaiter().GetResult();
        return folder;
    }

    private static List<Pos> ColonPositions()
    {
        var d = TenXH5.Read(SharedData.Require(Colon16 + "/filtered_feature_bc_matrix.h5"));
        return d.Barcodes.Select((b, i) => new Pos(b, 1, i / 30, i % 30, 1000 + i, 2000 + i)).ToList();
    }

    [SkippableFact]
    public void OutOfTissueBinsAreDroppedAndPositionsFollowTheMatrixOrder()
    {
        using var t = new TempDir();
        var pos = ColonPositions();
        pos[3] = pos[3] with { in_tissue = 0 };
        pos.Reverse();
        var folder = BinFolder(t, pos);
        var (o, log) = Logged();
        var d = VisiumHd.Read(folder, o);
        Assert.Equal(674, d.NObs);
        Assert.Equal(new double[] { 2000, 1000, 2001, 1001, 2002, 1002, 2004, 1004 }, d.Spatial.Data.Take(8));
        Assert.Contains(log, l => l.Contains("1 outside the tissue dropped", StringComparison.Ordinal));
        Assert.Equal(16.0, d.Uns["bin_size_um"]); // from the folder name: this folder has no scalefactors_json.json
        Assert.False(d.Uns.ContainsKey("microns_per_unit"));
    }

    [SkippableFact]
    public void BadPositionsAreNamedErrors()
    {
        using var t = new TempDir();
        var pos = ColonPositions();
        var missing = BinFolder(t, pos.Skip(1));
        Fails(missing, "1 of 675 matrix barcodes are not in tissue_positions.parquet (first: 's_016um_00044_00076-1')", () => VisiumHd.Read(missing));

        using var t2 = new TempDir();
        var dup = BinFolder(t2, pos.Append(pos[5] with { array_row = 9 }));
        Fails(dup, $"tissue_positions.parquet: duplicate barcode '{pos[5].barcode}' (rows 6 and 676)", () => VisiumHd.Read(dup));

        using var t3 = new TempDir();
        var nan = pos.ToList(); nan[2] = nan[2] with { pxl_col_in_fullres = double.NaN };
        var nanFolder = BinFolder(t3, nan);
        Fails(nanFolder, $"tissue_positions.parquet: pxl_col_in_fullres of barcode '{pos[2].barcode}' is NaN, expected a finite number", () => VisiumHd.Read(nanFolder));
    }

    [SkippableFact]
    public void MissingOrBrokenCompanionFilesAreNamedErrors()
    {
        using var t = new TempDir();
        var folder = BinFolder(t, ColonPositions());
        var parquet = Path.Combine(folder, "spatial", "tissue_positions.parquet");
        var bytes = File.ReadAllBytes(parquet);
        File.WriteAllBytes(parquet, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<TesseraException>(() => VisiumHd.Read(folder));
        Assert.StartsWith($"cannot read parquet file '{parquet}': ", e.Message);

        File.Delete(Path.Combine(folder, "filtered_feature_bc_matrix.h5"));
        File.WriteAllBytes(parquet, bytes);
        Fails(folder, $"'{folder}' has no filtered_feature_bc_matrix.h5 nor filtered_feature_bc_matrix/ (matrix.mtx[.gz])", () => VisiumHd.Read(folder));
    }

    private sealed record Partial(string barcode, int in_tissue);

    [SkippableFact]
    public void APositionsTableWithoutPixelColumnsIsRefused()
    {
        using var t = new TempDir();
        var folder = BinFolder(t, []);
        using (var s = File.Create(Path.Combine(folder, "spatial", "tissue_positions.parquet")))
            ParquetSerializer.SerializeAsync(new[] { new Partial("a", 1) }, s).GetAwaiter().GetResult();
        Fails(folder, "tissue_positions.parquet: no column 'array_row', 'array_col', 'pxl_row_in_fullres', 'pxl_col_in_fullres'; it has barcode, in_tissue", () => VisiumHd.Read(folder));
    }
}
