using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;
using static Tessera.Tests.IO.IoTestUtil;

namespace Tessera.Tests.IO;

/// <summary>CosMx folders. Expected values were read independently from the raw csv files with Python's csv module.</summary>
public class CosMxTests
{


    [SkippableFact]
    public void ReadsMouseBrainQuarter()
    {
        var path = SharedData.Require("platforms/cosmx/sfe_run5642_s3_quarter_27cells");
        var (o, log) = Logged();
        var d = DataReader.Read(path, o);
        Assert.Equal(27, d.NObs);
        Assert.Equal(950, d.NVars);
        Assert.Contains(log, l => l.Contains("dropped 1 background row (cell_ID 0"));
        Assert.Equal(58588, d.X.Data.Sum(v => (double)v));
        Assert.Equal(45, ObsValues(d, "negprobe_counts").Sum());
        Assert.Equal(7, ObsValues(d, "negprobe_counts").Max());
        Assert.Equal(5, ObsValues(d, "NegPrb1").Sum());
        Assert.Equal(2, XValue(d, "367_1", "Cd109"));
        Assert.Equal(20, XValue(d, "367_1", "Cck"));
        Assert.Equal(3, XValue(d, "393_1", "Aldoc"));
        int i = Array.IndexOf(d.ObsNames, "583_1");
        Assert.Equal(2, ObsValues(d, "negprobe_counts")[i]);
        Assert.Equal(171580, d.Spatial[i, 0]);
        Assert.Equal(11374.6666666667, d.Spatial[i, 1], 9);
        Assert.Equal(3241, ObsValues(d, "Area")[i]);
        Assert.Equal((171418.0, 172171.0), SpatialRange(d, 0));
        Assert.Equal(12121.6666666667, SpatialRange(d, 1).Max, 9);
        Assert.Equal("cosmx", d.Uns["platform"]);
        Assert.Equal(CosMx.MicronsPerPixel, d.Uns["microns_per_unit"]);
    }

    [SkippableFact]
    public void ReadsDbkeroQuotedWithFovPositions()
    {
        var path = SharedData.Require("platforms/cosmx/spacetrooper_dbkero_tiny_1fov");
        var (o, log) = Logged();
        var d = DataReader.Read(path, o);
        Assert.Equal(905, d.NObs);
        Assert.Equal(1000, d.NVars);
        Assert.Equal(726309, d.X.Data.Sum(v => (double)v));
        Assert.Equal(585, ObsValues(d, "negprobe_counts").Sum());
        Assert.Equal(56, ObsValues(d, "NegPrb01").Sum());
        Assert.Contains(log, l => l.Contains("DBKero_fov_positions_file.csv: 1 fov position"));
        Assert.Equal(1, XValue(d, "1_16", "H2AZ1"));
        Assert.Equal(3, XValue(d, "8_16", "LYVE1"));
        Assert.Equal(1, XValue(d, "905_16", "PGK1"));
        int i = Array.IndexOf(d.ObsNames, "8_16");
        Assert.Equal(155156.637690226, d.Spatial[i, 0], 9);
        Assert.Equal(21938.6200853984, d.Spatial[i, 1], 9);
        Assert.Equal(16, ObsValues(d, "fov")[i]);
        Assert.Equal(151641.637690226, SpatialRange(d, 0).Min, 9);
        Assert.Equal(155865.637690226, SpatialRange(d, 0).Max, 9);
        Assert.Equal(18106.6200853984, SpatialRange(d, 1).Min, 9);
    }

    private const string Expr = "fov,cell_ID,GeneA,NegPrb1,GeneB\n1,0,9,9,9\n1,1,1,0,2\n2,1,0,3,4\n";
    private const string Meta = "fov,cell_ID,Area,CenterX_global_px,CenterY_global_px,x_slide_mm,y_slide_mm\n1,1,50,100,200,1.5,2.5\n2,1,60,300,400,3.5,4.25\n";

    private static string Folder(TempDir t, string expr = Expr, string meta = Meta, string? fovs = null)
    {
        Write(t.File("S1_exprMat_file.csv.gz"), expr);
        if (meta.Length > 0) Write(t.File("S1_metadata_file.csv"), meta);
        if (fovs != null) Write(t.File("S1_fov_positions_file.csv"), fovs);
        return t.Path;
    }

    [Fact]
    public void SmallFolderPrefersMillimetres()
    {
        using var t = new TempDir();
        var d = CosMx.Read(Folder(t, fovs: "fov,x_global_px,y_global_px\n1,0,0\n2,5,5\n"));
        Assert.Equal(["1_1", "1_2"], d.ObsNames);
        Assert.Equal(["GeneA", "GeneB"], d.VarNames);
        Assert.Equal([0.0, 3.0], ObsValues(d, "negprobe_counts"));
        Assert.Equal(3.5, d.Spatial[1, 0]);
        Assert.Equal(4.25, d.Spatial[1, 1]);
        Assert.Equal(1000.0, d.Uns["microns_per_unit"]);
        Assert.Equal([1.0, 2.0], ObsValues(d, "fov"));
    }

    [Fact]
    public void BadInputs()
    {
        using (var t = new TempDir())
        {
            Write(t.File("S1_exprMat_file.csv"), Expr);
            Fails(t.Path, $"CosMx folder '{t.Path}' has no file ending with _metadata_file.csv[.gz]", () => CosMx.Read(t.Path));
        }
        using (var t = new TempDir())
        {
            var p = Folder(t, meta: "fov,cell_ID,CenterX_global_px,CenterY_global_px\n1,1,100,200\n3,1,300,400\n");
            Fails(p, "cell '1_2' of S1_exprMat_file.csv.gz has no row in S1_metadata_file.csv (its ids look like '1_1')", () => CosMx.Read(p));
        }
        using (var t = new TempDir())
        {
            var p = Folder(t, meta: "fov,cell_ID,CenterX_global_px,CenterY_global_px\n1,1,100,200\n2,1,NA,400\n");
            Fails(p, "S1_metadata_file.csv: cell '1_2' has no finite 'CenterX_global_px' coordinate", () => CosMx.Read(p));
        }
        using (var t = new TempDir())
        {
            var p = Folder(t, expr: "fov,cell_ID,GeneA,NegPrb1,GeneB\n1,1,1,0,2\n1,1,0,3,4\n");
            Fails(p, "S1_exprMat_file.csv.gz: duplicate cell (cell_ID 1, fov 1) in data rows 1 and 2", () => CosMx.Read(p));
        }
        using (var t = new TempDir())
        {
            var p = Folder(t, fovs: "fov,x_global_px,y_global_px\n1,0,0\n");
            Fails(p, "S1_fov_positions_file.csv does not list fov 2 of cell '1_2': the files are from different runs", () => CosMx.Read(p));
        }
        using (var t = new TempDir())
        {
            var p = Folder(t, meta: "fov,cell_ID,Area\n1,1,5\n2,1,6\n");
            Fails(p, "S1_metadata_file.csv has no global coordinates (CenterX_global_px and CenterY_global_px, or CenterX_global_mm/x_slide_mm and their Y columns)", () => CosMx.Read(p));
        }
    }
}
