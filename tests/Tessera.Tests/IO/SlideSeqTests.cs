using Tessera.IO;
using Tessera.Tests.Support;
using static Tessera.Tests.IO.IoTestUtil;

namespace Tessera.Tests.IO;

/// <summary>Slide-seq pucks. Expected values were read independently from the raw csv files with Python's csv module.</summary>
public class SlideSeqTests
{
    [SkippableFact]
    public void ReadsSpacexrVignettePuck()
    {
        var path = SharedData.Require("platforms/slideseq/spacexr_vignette_puck_subset");
        var d = DataReader.Read(path);
        Assert.Equal(100, d.NObs);
        Assert.Equal(378, d.NVars);
        Assert.Equal(7226, d.X.Data.Length);
        Assert.Equal(15246, d.X.Data.Sum(v => (double)v));
        Assert.Equal(77, XValue(d, "TGACATATTCATCT", "Anks1b"));
        Assert.Equal(69, XValue(d, "ATTCAGTCGCATTA", "Malat1"));
        Assert.Equal(4, XValue(d, "TATGCCCAGGACAG", "Xkr4"));
        Assert.Equal("TTGGACGTTTCAAT", d.ObsNames[0]);
        Assert.Equal(3411.272727, d.Spatial[0, 0], 9);
        Assert.Equal(2254.628099, d.Spatial[0, 1], 9);
        Assert.Equal((1275.543689, 5354.777778), SpatialRange(d, 0));
        Assert.Equal((1122.021053, 4818.597938), SpatialRange(d, 1));
        Assert.Equal("slideseq", d.Uns["platform"]);
        Assert.Equal(0.65, d.Uns["microns_per_unit"]);
    }

    private const string Dge = "\"\",\"AAAAAAAAAAAAAA\",\"CCCCCCCCCCCCCC\"\n\"GeneA\",1,0\n\"GeneB\",2,5\n";

    [Fact]
    public void SmallPuckAndBadInputs()
    {
        using (var t = new TempDir())
        {
            Write(t.File("MappedDGEForR.csv.gz"), Dge);
            Write(t.File("BeadLocationsForR.csv"), "barcodes,xcoord,ycoord\nCCCCCCCCCCCCCC,3,4\nAAAAAAAAAAAAAA,1,2\nGGGGGGGGGGGGGG,0,0\n");
            var (o, log) = Logged();
            var d = DataReader.Read(t.Path, o);
            Assert.Equal(["AAAAAAAAAAAAAA", "CCCCCCCCCCCCCC"], d.ObsNames);
            Assert.Equal(5, XValue(d, "CCCCCCCCCCCCCC", "GeneB"));
            Assert.Equal(3, d.Spatial[1, 0]);
            Assert.Contains(log, l => l.Contains("BeadLocationsForR.csv: 1 row(s) name no bead of MappedDGEForR.csv.gz"));
        }
        using (var t = new TempDir())
        {
            Write(t.File("BeadLocationsForR.csv"), "barcodes,xcoord,ycoord\nAAAAAAAAAAAAAA,1,2\n");
            Fails(t.Path, $"Slide-seq folder '{t.Path}' has no file ending with MappedDGEForR.csv[.gz]", () => SlideSeq.Read(t.Path));
        }
        using (var t = new TempDir())
        {
            Write(t.File("MappedDGEForR.csv"), Dge);
            Write(t.File("BeadLocationsForR.csv"), "barcodes,xcoord,ycoord\nCCCCCCCCCCCCCC,3,4\nAAAAAAAAAAAAAT,1,2\n");
            Fails(t.Path, "bead 'AAAAAAAAAAAAAA' of MappedDGEForR.csv has no row in BeadLocationsForR.csv (its ids look like 'CCCCCCCCCCCCCC')", () => SlideSeq.Read(t.Path));
        }
        using (var t = new TempDir())
        {
            Write(t.File("MappedDGEForR.csv"), Dge);
            Write(t.File("BeadLocationsForR.csv"), "barcodes,xcoord,ycoord\nCCCCCCCCCCCCCC,3,4\nAAAAAAAAAAAAAA,NaN,2\n");
            Fails(t.Path, "BeadLocationsForR.csv: bead 'AAAAAAAAAAAAAA' has no finite 'xcoord' coordinate", () => SlideSeq.Read(t.Path));
        }
        using (var t = new TempDir())
        {
            Write(t.File("MappedDGEForR.csv"), Dge);
            Write(t.File("BeadLocationsForR.csv"), "barcodes,xcoord,ycoord\nCCCCCCCCCCCCCC,3,4\nAAAAAAAAAAAAAA,1,2\nCCCCCCCCCCCCCC,3,4\n");
            Fails(t.Path, "BeadLocationsForR.csv: duplicate bead id 'CCCCCCCCCCCCCC' (lines 2 and 4)", () => SlideSeq.Read(t.Path));
        }
    }
}
