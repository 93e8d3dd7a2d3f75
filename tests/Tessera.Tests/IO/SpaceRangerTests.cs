using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;
using static Tessera.Tests.IO.IoTestUtil;

namespace Tessera.Tests.IO;

public class SpaceRangerTests
{
    // genes x barcodes: GeneA(ENSG1), GeneB(ENSG2), GeneA(ENSG3) x AAAC-1, AAAG-1, AAAT-1, AAAA-1
    private const string Mtx = "%%MatrixMarket matrix coordinate integer general\n3 4 6\n1 1 5\n3 1 1\n2 2 2\n1 3 9\n2 4 4\n3 4 3\n";
    private const string Features = "ENSG1\tGeneA\tGene Expression\nENSG2\tGeneB\tGene Expression\nENSG3\tGeneA\tGene Expression\n";
    private const string Barcodes = "AAAC-1\nAAAG-1\nAAAT-1\nAAAA-1\n";
    private const string PositionsV1 = "CCCC-1,1,0,0,10,20\nAAAA-1,1,3,5,400,300\nAAAT-1,0,2,4,310,320\nAAAG-1,1,1,3,210,220\nAAAC-1,1,0,2,110,120\n";

    private static void WriteMtxFolder(string dir, string mtx = Mtx, string features = Features, string barcodes = Barcodes)
    {
        Directory.CreateDirectory(dir);
        Write(Path.Combine(dir, "matrix.mtx.gz"), mtx);
        Write(Path.Combine(dir, "features.tsv.gz"), features);
        Write(Path.Combine(dir, "barcodes.tsv.gz"), barcodes);
    }

    private static string MakeVisium(TempDir t, bool outsLayout = false)
    {
        var root = outsLayout ? Path.Combine(t.Path, "sampleA", "outs") : Path.Combine(t.Path, "sampleB");
        WriteMtxFolder(outsLayout ? Path.Combine(root, "filtered_feature_bc_matrix") : root);
        var spatial = Path.Combine(root, "spatial");
        Directory.CreateDirectory(spatial);
        if (outsLayout)
            Write(Path.Combine(spatial, "tissue_positions.csv"), "barcode,in_tissue,array_row,array_col,pxl_row_in_fullres,pxl_col_in_fullres\n" + PositionsV1);
        else Write(Path.Combine(spatial, "tissue_positions_list.csv.gz"), PositionsV1);
        File.WriteAllText(Path.Combine(spatial, "scalefactors_json.json"),
            "{\"spot_diameter_fullres\": 89.5, \"tissue_hires_scalef\": 0.5, \"fiducial_diameter_fullres\": 144.6, \"tissue_lowres_scalef\": 0.1}");
        WritePng(Path.Combine(spatial, "tissue_lowres_image.png"), 4, 3, (x, y) => ((byte)(10 * x), (byte)(100 + y), 7));
        WritePng(Path.Combine(spatial, "tissue_hires_image.png"), 2, 2, (x, y) => (255, 0, (byte)(x + y)));
        return outsLayout ? Path.GetDirectoryName(root)! : root;
    }

    [Fact]
    public void ReadsVisiumFolderKeepingInTissueSpotsInMatrixOrder()
    {
        using var t = new TempDir();
        var folder = MakeVisium(t);
        var before = Hash(folder);
        var (o, log) = Logged();
        var d = SpaceRanger.Read(folder, o);
        Assert.Equal(before, Hash(folder));
        Assert.Equal(new[] { "AAAC-1", "AAAG-1", "AAAA-1" }, d.ObsNames);
        Assert.Equal(new[] { "GeneA", "GeneB", "GeneA-1" }, d.VarNames);
        Assert.Equal(new float[] { 5, 0, 1, 0, 2, 0, 0, 4, 3 }, d.X.ToDenseArray());
        Assert.Equal(new[] { "ENSG1", "ENSG2", "ENSG3" }, ((StringColumn)d.Var["gene_ids"]).Values);
        Assert.Equal(new[] { "GeneA", "GeneB", "GeneA" }, ((StringColumn)d.Var["gene_symbols"]).Values);
        Assert.Equal(new double[] { 1, 1, 1 }, d.Obs.Get<NumericColumn>("in_tissue").Values);
        Assert.Equal(new double[] { 0, 1, 3 }, d.Obs.Get<NumericColumn>("array_row").Values);
        Assert.Equal(new double[] { 2, 3, 5 }, d.Obs.Get<NumericColumn>("array_col").Values);
        Assert.True(d.Obs.Get<NumericColumn>("array_col").IsInteger);
        // obsm spatial = (pxl_col_in_fullres, pxl_row_in_fullres)
        Assert.Equal(new double[] { 120, 110, 220, 210, 300, 400 }, d.Spatial.Data);
        var lib = (Dictionary<string, object>)((Dictionary<string, object>)d.Uns["spatial"])["sampleB"];
        var sf = (Dictionary<string, object>)lib["scalefactors"];
        Assert.Equal(89.5, sf["spot_diameter_fullres"]);
        Assert.Equal(0.1, sf["tissue_lowres_scalef"]);
        Assert.Equal(new[] { "hires", "lowres" }, d.Images.Select(i => i.Name));
        var lo = d.Images[1];
        Assert.Equal((4, 3, 0.1), (lo.Width, lo.Height, lo.Scale));
        // pixel (x=2, y=1) = (20, 101, 7)
        int off = (1 * 4 + 2) * 3;
        Assert.Equal(new byte[] { 20, 101, 7 }, lo.Rgb[off..(off + 3)]);
        Assert.Equal((2, 2, 0.5), (d.Images[0].Width, d.Images[0].Height, d.Images[0].Scale));
        Assert.Contains("made 1 duplicated gene symbol unique (e.g. 'GeneA' -> 'GeneA-1')", log);
        Assert.Contains("kept 3 in-tissue spots of 4 matrix barcodes (5 positions in tissue_positions_list.csv.gz; 1 outside the tissue dropped)", log);
    }

    [Fact]
    public void ReadsOutsLayoutWithV2PositionsAndGeneIds()
    {
        using var t = new TempDir();
        var folder = MakeVisium(t, outsLayout: true);
        var d = DataReader.Read(folder, new ReadOptions { GeneNames = GeneNames.Ids });
        Assert.Equal(new[] { "ENSG1", "ENSG2", "ENSG3" }, d.VarNames);
        Assert.Equal(new[] { "AAAC-1", "AAAG-1", "AAAA-1" }, d.ObsNames);
        Assert.True(((Dictionary<string, object>)d.Uns["spatial"]).ContainsKey("sampleA"));
        Assert.Equal(new[] { "Gene Expression" }, d.Var.Get<CategoricalColumn>("feature_types").Categories);
        // the same folder given as outs/ itself
        var d2 = DataReader.Read(Path.Combine(folder, "outs"));
        Assert.Equal(d.X.ToDenseArray(), d2.X.ToDenseArray());
    }

    [Fact]
    public void MtxFolderWithoutSpatialReadsAsTenXWithOneAndTwoColumnFeatures()
    {
        using var t = new TempDir();
        var dir = t.File("m1");
        WriteMtxFolder(dir, features: "ENSG1\nENSG2\nENSG3\n");
        var d = DataReader.Read(dir);
        Assert.Equal(new[] { "ENSG1", "ENSG2", "ENSG3" }, d.VarNames);
        Assert.False(d.HasSpatial);
        Assert.Equal(4, d.NObs);
        var dir2 = t.File("m2");
        Directory.CreateDirectory(dir2);
        Write(Path.Combine(dir2, "matrix.mtx"), Mtx);
        Write(Path.Combine(dir2, "genes.tsv"), "ENSG1\tA\nENSG2\tB\nENSG3\tC\n");
        Write(Path.Combine(dir2, "barcodes.tsv"), Barcodes);
        var m = TenXMtx.Read(dir2);
        Assert.Equal(new[] { "A", "B", "C" }, m.FeatureNames);
        Assert.Null(m.FeatureTypes);
        Assert.Equal(new float[] { 5, 0, 1, 0, 2, 0, 9, 0, 0, 0, 4, 3 }, m.X.ToDenseArray());
    }

    [Fact]
    public void TenXWriteRoundTrips()
    {
        using var t = new TempDir();
        WriteMtxFolder(t.File("a"));
        var m = TenXMtx.Read(t.File("a"));
        TenXMtx.Write(m, t.File("b"));
        var back = TenXMtx.Read(t.File("b"));
        Assert.Equal(m.X.ToDenseArray(), back.X.ToDenseArray());
        Assert.Equal(m.Barcodes, back.Barcodes);
        Assert.Equal(m.FeatureIds, back.FeatureIds);
        Assert.Equal(m.FeatureNames, back.FeatureNames);
        Assert.Equal(m.FeatureTypes, back.FeatureTypes);
    }

    [Fact]
    public void MtxDimsMustAgreeWithFeaturesAndBarcodes()
    {
        using var t = new TempDir();
        var dir = t.File("m");
        WriteMtxFolder(dir, features: "ENSG1\tA\nENSG2\tB\n");
        Fails(dir, "matrix.mtx.gz: the size line declares 3 x 4 but features.tsv.gz lists 2 features and barcodes.tsv.gz 4 barcodes (features x barcodes)", () => TenXMtx.Read(dir));
        var dir2 = t.File("m2");
        WriteMtxFolder(dir2, barcodes: "AAAC-1\nAAAG-1\nAAAT-1\nAAAA-1\nAAGG-1\n");
        Fails(dir2, "matrix.mtx.gz: the size line declares 3 x 4 but features.tsv.gz lists 3 features and barcodes.tsv.gz 5 barcodes (features x barcodes)", () => DataReader.Read(dir2));
    }

    [Fact]
    public void DuplicateBarcodesFail()
    {
        using var t = new TempDir();
        var dir = t.File("m");
        WriteMtxFolder(dir, barcodes: "AAAC-1\nAAAG-1\nAAAC-1\nAAAA-1\n");
        Fails(dir, "barcodes.tsv.gz: duplicate barcode 'AAAC-1' (lines 1 and 3)", () => TenXMtx.Read(dir));
    }

    [Fact]
    public void MissingFilesAndPositionsProblemsFail()
    {
        using var t = new TempDir();
        var dir = t.File("m");
        Directory.CreateDirectory(dir);
        Write(Path.Combine(dir, "matrix.mtx.gz"), Mtx);
        Fails(dir, $"folder '{dir}' has no features.tsv[.gz] or genes.tsv[.gz]", () => TenXMtx.Read(dir));

        var folder = MakeVisium(t);
        var pos = Path.Combine(folder, "spatial", "tissue_positions_list.csv.gz");
        Write(pos, "AAAC-1,1,0,2,110,120\nAAAG-1,1,1,3,210,220\nAAAT-1,0,2,4,310,320\n");
        Fails(folder, "1 of 4 matrix barcodes are not in tissue_positions_list.csv.gz (first: 'AAAA-1')", () => SpaceRanger.Read(folder, new ReadOptions()));
        var d = SpaceRanger.Read(folder, new ReadOptions { AllowMissing = true });
        Assert.Equal(new[] { "AAAC-1", "AAAG-1" }, d.ObsNames);
        Write(pos, "AAAC-1,1,0,2,110,120\nAAAG-1,1,x,3,210,220\n");
        Fails(folder, "tissue_positions_list.csv.gz line 2, column 3: 'x' is not an integer", () => SpaceRanger.Read(folder, new ReadOptions()));
        Write(pos, "AAAC-1,1,0,2,110,120\nAAAG-1,1,1,3,210\n");
        Fails(folder, "tissue_positions_list.csv.gz line 2: expected 6 fields (barcode, in_tissue, array_row, array_col, pxl_row_in_fullres, pxl_col_in_fullres), got 5", () => SpaceRanger.Read(folder, new ReadOptions()));
        Write(pos, "AAAC-1,1,0,2,110,120\nAAAC-1,1,1,3,210,220\n");
        Fails(folder, "tissue_positions_list.csv.gz: duplicate barcode 'AAAC-1' (lines 1 and 2)", () => SpaceRanger.Read(folder, new ReadOptions()));
    }

    [SkippableFact]
    public void ReadsDlpfc151673WithSpotsCsv()
    {
        var folder = SharedData.Require("dlpfc/151673");
        var (o, log) = Logged(new ReadOptions { ObsFile = Path.Combine(folder, "spots.csv.gz") });
        var d = DataReader.Read(folder, o);
        Assert.Equal((3639, 5000), (d.NObs, d.NVars));
        Assert.Equal(2396621, d.X.Nnz);
        Assert.Equal(4919405.0, d.X.Data.Sum(v => (double)v));
        // features.tsv.gz has only Ensembl ids, so symbols = ids
        Assert.Equal("ENSG00000122585", d.VarNames[0]);
        Assert.Equal("AAACAAGTATCTCCCA-1", d.ObsNames[0]);
        Assert.Equal("TTGTTTGTGTAAATTC-1", d.ObsNames[^1]);
        // pandas: spot 0 column gene index 1 = 7 (matrix.mtx line "2 1 7"); last spot total 2022
        Assert.Equal(7f, d.X[0, 1]);
        Assert.Equal(2022.0, d.X.RowSums()[^1]);
        // tissue_positions_list: AAACAAGTATCTCCCA-1,1,50,102,8468,9791 -> (x, y) = (9791, 8468)
        Assert.Equal(new double[] { 9791, 8468 }, d.Spatial.Row(0).ToArray());
        Assert.Equal(new double[] { 6317, 3291 }, d.Spatial.Row(3638).ToArray());
        Assert.Equal(50, d.Obs.Get<NumericColumn>("array_row").Values[0]);
        var layer = d.Obs.Get<CategoricalColumn>("layer_guess_reordered");
        Assert.Equal(new[] { "Layer1", "Layer2", "Layer3", "Layer4", "Layer5", "Layer6", "WM" }, layer.Categories);
        Assert.Equal(28, layer.Codes.Count(c => c < 0));
        Assert.Equal(989, layer.Codes.Count(c => c == 2));
        Assert.Equal("Layer3", layer.Label(0));
        var umi = d.Obs.Get<NumericColumn>("sum_umi");
        Assert.True(umi.IsInteger);
        Assert.Equal(8458, umi.Values[0]);
        Assert.False(d.Obs.Get<NumericColumn>("sdimx").IsInteger);
        Assert.Equal(440.639079082, d.Obs.Get<NumericColumn>("sdimx").Values[0]);
        Assert.Equal(new[] { "Br8100" }, d.Obs.Get<CategoricalColumn>("subject").Categories);
        Assert.Contains("joined 3639 of 3639 spots with spots.csv.gz", log);
        var lo = Assert.Single(d.Images);
        Assert.Equal(("lowres", 600, 600, 0.045004502), (lo.Name, lo.Width, lo.Height, lo.Scale));
        var sf = (Dictionary<string, object>)((Dictionary<string, object>)((Dictionary<string, object>)d.Uns["spatial"])["151673"])["scalefactors"];
        Assert.Equal(96.40082438014726, sf["spot_diameter_fullres"]);
    }
}
