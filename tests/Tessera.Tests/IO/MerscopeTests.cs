using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;
using static Tessera.Tests.IO.IoTestUtil;

namespace Tessera.Tests.IO;

/// <summary>
/// MERSCOPE folders. Expected values were read independently from the raw csv files with Python's csv module.
/// </summary>
public class MerscopeTests
{

    [SkippableFact]
    public void ReadsVizgenCellboundWithBlanksInObs()
    {
        var path = SharedData.Require("platforms/merscope/sfe_vizgen_cellbound_1058cells");
        var (o, log) = Logged();
        var d = DataReader.Read(path, o);
        Assert.Equal(1058, d.NObs);
        Assert.Equal(49, d.NVars);
        Assert.DoesNotContain(d.VarNames, g => g.StartsWith("Blank-"));
        Assert.Equal(73142, d.X.Data.Sum(v => (double)v));
        Assert.Equal(1327, ObsValues(d, "blank_counts").Sum());
        Assert.Equal(9, ObsValues(d, "blank_counts").Max());
        Assert.Equal(19, ObsValues(d, "Blank-1").Sum());
        Assert.Contains(log, l => l.Contains("moved 39 Blank-* codeword probes (1327 counts)"));
        Assert.Equal(10, XValue(d, "112824700230101249", "NCAM1"));
        Assert.Equal(16, XValue(d, "112824700230101252", "NCAM1"));
        Assert.Equal(4, XValue(d, "112824700330100974", "CDKN1A"));
        int last = Array.IndexOf(d.ObsNames, "112824700330100974");
        Assert.Equal(4, ObsValues(d, "blank_counts")[last]);
        var s = d.Spatial;
        Assert.Equal(6765.2489937702, s[0, 0], 9);
        Assert.Equal(1195.8734859086, s[0, 1], 9);
        Assert.Equal(6494.85385307609, Enumerable.Range(0, d.NObs).Min(i => s[i, 0]), 9);
        Assert.Equal(6804.15922223694, Enumerable.Range(0, d.NObs).Max(i => s[i, 0]), 9);
        Assert.Equal(1506.42132207173, Enumerable.Range(0, d.NObs).Max(i => s[i, 1]), 9);
        Assert.Equal(767.593540850526, ObsValues(d, "volume")[last], 9);
        Assert.Equal("merscope", d.Uns["platform"]);
        Assert.Equal(1.0, d.Uns["microns_per_unit"]);
    }

    [SkippableFact]
    public void ReadsPrefixedQuotedRWriteCsv()
    {
        var path = SharedData.Require("platforms/merscope/spacetrooper_uterine_tiny_50cells");
        var d = DataReader.Read(path);
        Assert.Equal(50, d.NObs);
        Assert.Equal(10, d.NVars);
        Assert.False(d.Obs.Contains("blank_counts"));
        Assert.Equal(14, d.X.Data.Sum(v => (double)v));
        Assert.Equal(2, XValue(d, "26985800002100130", "PDK4"));
        Assert.Equal(1, XValue(d, "26985800002100108", "TNFRSF17"));
        Assert.Equal(1, XValue(d, "26985800003100008", "TBX21"));
        int i = Array.IndexOf(d.ObsNames, "26985800003100010");
        Assert.Equal(1525.52588045142, d.Spatial[i, 0], 9);
        Assert.Equal(82.8666180578572, d.Spatial[i, 1], 9);
        Assert.Equal(264, ObsValues(d, "fov")[i]);
        Assert.Equal(1286.64244182421, Enumerable.Range(0, d.NObs).Min(k => d.Spatial[k, 0]), 9);
        Assert.Equal(472.753783391543, Enumerable.Range(0, d.NObs).Max(k => d.Spatial[k, 1]), 9);
        Assert.True(d.Obs.Contains("DAPI_raw"));
    }

    private const string Counts = "cell,GeneA,Blank-1,GeneB\n11,1,0,2\n12,0,3,4\n";
    private const string Meta = "EntityID,fov,volume,center_x,center_y\n11,0,5.5,10.5,20\n12,0,6,30,40.25\n";

    private static string Folder(TempDir t, string counts = Counts, string meta = Meta)
    {
        Write(t.File("run_cell_by_gene.csv"), counts);
        if (meta.Length > 0) Write(t.File("run_cell_metadata.csv.gz"), meta);
        return t.Path;
    }

    [Fact]
    public void SmallFolderGzippedMetadata()
    {
        using var t = new TempDir();
        var d = Merscope.Read(Folder(t));
        Assert.Equal(["11", "12"], d.ObsNames);
        Assert.Equal(["GeneA", "GeneB"], d.VarNames);
        Assert.Equal([0.0, 3.0], ObsValues(d, "blank_counts"));
        Assert.Equal(30, d.Spatial[1, 0]);
        Assert.Equal(40.25, d.Spatial[1, 1]);
    }

    [Fact]
    public void BadInputs()
    {
        using (var t = new TempDir())
        {
            Write(t.File("cell_by_gene.csv"), Counts);
            Fails(t.Path, $"MERSCOPE folder '{t.Path}' has no file ending with cell_metadata.csv[.gz]", () => Merscope.Read(t.Path));
        }
        using (var t = new TempDir())
        {
            var p = Folder(t, meta: "EntityID,fov,volume,center_x,center_y\n11,0,5.5,10.5,20\n13,0,6,30,40.25\n");
            Fails(p, "cell '12' of run_cell_by_gene.csv has no row in run_cell_metadata.csv.gz (its ids look like '11')", () => Merscope.Read(p));
        }
        using (var t = new TempDir())
        {
            var p = Folder(t, meta: "EntityID,fov,volume,center_x,center_y\n11,0,5.5,10.5,20\n12,0,6,NaN,40.25\n");
            Fails(p, "run_cell_metadata.csv.gz: cell '12' has no finite 'center_x' coordinate", () => Merscope.Read(p));
        }
        using (var t = new TempDir())
        {
            var p = Folder(t, meta: "EntityID,fov,volume,center_x,center_y\n11,0,5.5,10.5,20\n11,0,6,3,4\n12,0,6,30,40.25\n");
            Fails(p, "run_cell_metadata.csv.gz: duplicate cell id '11' (lines 2 and 3)", () => Merscope.Read(p));
        }
        using (var t = new TempDir())
        {
            var p = Folder(t, counts: "cell,GeneA,Blank-1,GeneB\n11,1,0,2\n11,0,3,4\n");
            Fails(p, "run_cell_by_gene.csv: duplicate spot id '11' (data rows 1 and 2)", () => Merscope.Read(p));
        }
        using (var t = new TempDir())
        {
            var p = Folder(t, meta: "EntityID,fov,volume,center_y\n11,0,5.5,20\n12,0,6,40.25\n");
            Fails(p, "run_cell_metadata.csv.gz has no column 'center_x' (its columns: EntityID, fov, volume, center_y)", () => Merscope.Read(p));
        }
    }
}
