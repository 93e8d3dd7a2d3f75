using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;
using static Tessera.Tests.IO.IoTestUtil;

namespace Tessera.Tests.IO;

public class DataReaderTests
{
    private const string Counts = "spot,A,B\ns1,1,2\ns2,0,3\ns3,4,0\n";

    [Fact]
    public void MissingPathAndUnknownFormat()
    {
        using var t = new TempDir();
        var missing = t.File("nope.csv");
        var e = Assert.Throws<TesseraException>(() => DataReader.Read(missing));
        Assert.Equal($"input '{missing}' does not exist", e.Message);
        var foo = Write(t.File("x.foo"), "a,b\n1,2\n");
        Fails(foo, $"unknown format for '{foo}': expected .h5ad, .h5, .gem[.gz] (Stereo-seq), a Space Ranger or 10x mtx folder, or .csv/.tsv[.gz]", () => DataReader.Read(foo));
        var empty = t.File("emptydir");
        Directory.CreateDirectory(empty);
        Fails(empty, $"folder '{empty}' is neither a Visium HD, Xenium, MERSCOPE, CosMx, Slide-seq or Space Ranger output (spatial/ plus a matrix) nor a 10x mtx folder (matrix.mtx[.gz], features.tsv[.gz], barcodes.tsv[.gz])", () => DataReader.Read(empty));
    }

    [Fact]
    public void ObsJoinTypesColumnsAndLogsMatches()
    {
        using var t = new TempDir();
        var p = Write(t.File("c.csv"), Counts);
        var obs = Write(t.File("meta.tsv.gz"), "cell\tn\tscore\tlayer\tnote\tflag\n"
            + "s3\t7\t0.5\tL1\tfoo\tNA\ns1\t5\tNA\tL1\tbar\t\ns2\t6\t1e3\t\tbaz\tNA\nzz\t1\t2\tL1\tqux\t\nyy\t1\t2\tL1\tquux\t\nww\t1\t2\tL2\tcorge\t\n");
        var (o, log) = Logged(new ReadOptions { ObsFile = obs });
        var d = DataReader.Read(p, o);
        Assert.Equal(new double[] { 5, 6, 7 }, d.Obs.Get<NumericColumn>("n").Values);
        Assert.True(d.Obs.Get<NumericColumn>("n").IsInteger);
        var score = d.Obs.Get<NumericColumn>("score");
        Assert.False(score.IsInteger);
        Assert.True(double.IsNaN(score.Values[0]));
        Assert.Equal(new[] { 1000.0, 0.5 }, score.Values[1..]);
        // typed over the whole file: 2 distinct labels among 5 present (< 50 %) -> categorical; 6 distinct of 6 -> string
        var layer = d.Obs.Get<CategoricalColumn>("layer");
        Assert.Equal(new[] { "L1", "L2" }, layer.Categories);
        Assert.Equal(new[] { 0, -1, 0 }, layer.Codes);
        Assert.Equal(new[] { "bar", "baz", "foo" }, d.Obs.Get<StringColumn>("note").Values);
        Assert.Equal(new string?[] { null, null, null }, d.Obs.Get<StringColumn>("flag").Values);
        Assert.Equal(new[] { "n", "score", "layer", "note", "flag" }, d.Obs.ColumnNames);
        Assert.Contains("joined 3 of 3 spots with meta.tsv.gz (3 rows of the file match no spot)", log);
    }

    [Fact]
    public void ObsJoinErrors()
    {
        using var t = new TempDir();
        var p = Write(t.File("c.csv"), Counts);
        var none = Write(t.File("none.csv"), "barcode,v\nAAAC-1,1\nAAAG-1,2\n");
        Fails(none, "no spot of the data matches none.csv: data ids look like 's1', the file's ids (column 'barcode') look like 'AAAC-1'",
            () => DataReader.Read(p, new ReadOptions { ObsFile = none }));
        Fails(none, "no spot of the data matches none.csv: data ids look like 's1', the file's ids (column 'barcode') look like 'AAAC-1'",
            () => DataReader.Read(p, new ReadOptions { ObsFile = none, AllowMissing = true }));
        var part = Write(t.File("part.csv"), "barcode,v\ns1,1\ns3,2\n");
        Fails(part, "1 of 3 spots are not in part.csv (first: 's2'); set AllowMissing to keep them with empty values",
            () => DataReader.Read(p, new ReadOptions { ObsFile = part }));
        var d = DataReader.Read(p, new ReadOptions { ObsFile = part, AllowMissing = true });
        Assert.Equal(new[] { 1, double.NaN, 2 }, d.Obs.Get<NumericColumn>("v").Values);
        var dup = Write(t.File("dup.csv"), "spot,v\ns1,1\ns2,2\ns1,3\n");
        Fails(dup, "dup.csv: duplicate id 's1' (column 'spot', lines 2 and 4)", () => DataReader.Read(p, new ReadOptions { ObsFile = dup }));
        var ragged = Write(t.File("ragged.csv"), "spot,v\ns1,1\ns2,2,3\n");
        Fails(ragged, "ragged.csv line 3 has 3 fields but the first data line has 2", () => DataReader.Read(p, new ReadOptions { ObsFile = ragged }));
        var missing = t.File("absent.csv");
        var e = Assert.Throws<TesseraException>(() => DataReader.Read(p, new ReadOptions { ObsFile = missing }));
        Assert.Equal($"obs file '{missing}' does not exist", e.Message);
    }

    [Fact]
    public void SpotFileWithoutIdsIsKeyedByXAndY()
    {
        using var t = new TempDir();
        var p = Write(t.File("A1.tsv"), "\tG1\tG2\n10x13\t1\t0\n11x13\t2\t5\n");
        var spots = Write(t.File("A1_selection.tsv"), "x\ty\tpixel_x\tpixel_y\n11\t13\t200.5\t300\n10\t13\t100.25\t310\n9\t9\t1\t1\n");
        var d = DataReader.Read(p, new ReadOptions { ObsFile = spots, Coords = ["pixel_x", "pixel_y"] });
        Assert.Equal(new[] { 100.25, 310, 200.5, 300 }, d.Spatial.Data);
    }

    [Fact]
    public void CoordsErrors()
    {
        using var t = new TempDir();
        var p = Write(t.File("c.csv"), Counts);
        var obs = Write(t.File("m.csv"), "spot,cx,cy,label\ns1,1,2,a\ns2,3,,b\ns3,5,6,c\n");
        Fails(obs, "coordinate column 'cy' has no value for spot 's2'", () => DataReader.Read(p, new ReadOptions { ObsFile = obs, Coords = ["cx", "cy"] }));
        Fails(obs, "coordinate column 'label' is not numeric: spot 's1' has 'a'", () => DataReader.Read(p, new ReadOptions { ObsFile = obs, Coords = ["cx", "label"] }));
        Fails(obs, "coordinate column 'zz' not found; available: cx, cy, label", () => DataReader.Read(p, new ReadOptions { ObsFile = obs, Coords = ["cx", "zz"] }));
        Fails(obs, "coordinates need 2 or 3 column names, got 1", () => DataReader.Read(p, new ReadOptions { ObsFile = obs, Coords = ["cx"] }));
        var part = Write(t.File("part.csv"), "spot,cx,cy\ns1,1,2\ns3,5,6\n");
        Fails(part, "coordinate column 'cx' has no value for spot 's2'", () => DataReader.Read(p, new ReadOptions { ObsFile = part, AllowMissing = true, Coords = ["cx", "cy"] }));
        var e = Assert.Throws<TesseraException>(() => DataReader.Read(p, new ReadOptions { Coords = ["cx", "cy"] }));
        Assert.Equal("coordinate column 'cx' not found; available: (none)", e.Message);
    }

    [Fact]
    public void ValidateNamesFirstBadSpotAndGene()
    {
        var obs = new Table(["s1", "s2"]);
        var var = new Table(["A", "B"]);
        var nan = new SpatialData(CsrMatrix.FromDense(new float[,] { { 1, 0 }, { 0, float.NaN } }), obs, var);
        Assert.Equal("X: NaN value at spot 's2', gene 'B'", Assert.Throws<TesseraException>(() => DataReader.Validate(nan)).Message);
        var inf = new SpatialData(CsrMatrix.FromDense(new float[,] { { 1, float.NegativeInfinity }, { 0, 1 } }), obs, var);
        Assert.Equal("X: infinite value -Inf at spot 's1', gene 'B'", Assert.Throws<TesseraException>(() => DataReader.Validate(inf)).Message);
        var neg = new SpatialData(CsrMatrix.FromDense(new float[,] { { 1, 0 }, { -2.5f, 1 } }), obs, var);
        Assert.Equal("X: negative value -2.5 at spot 's2', gene 'A'", Assert.Throws<TesseraException>(() => DataReader.Validate(neg)).Message);
        DataReader.Validate(neg, allowNegative: true);
    }

    [Fact]
    public void MakeUniqueFollowsAnndata()
    {
        // anndata.utils.make_index_unique(pd.Index(["a","a","b","a-1","a"])) -> a, a-2, b, a-1, a-3
        Assert.Equal(new[] { "a", "a-2", "b", "a-1", "a-3" }, GeneIndex.MakeUnique(["a", "a", "b", "a-1", "a"], "gene name"));
    }
}
