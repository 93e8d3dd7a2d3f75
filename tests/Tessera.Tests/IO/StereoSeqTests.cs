using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;
using static Tessera.Tests.IO.IoTestUtil;

namespace Tessera.Tests.IO;

/// <summary>
/// Stereo-seq GEM files. Expected values come from an independent binning of the raw records in Python
/// (gzip + floor(x / bin) * bin, summed per bin and gene).
/// </summary>
public class StereoSeqTests
{
    private const string Crop = "platforms/stereoseq/spateo_SS200000135TL_D1_bin1_small/SS200000135TL_D1_bin1_small.gem.gz";

    [SkippableFact]
    public void ReadsOldFourColumnGemIntoDefaultBins()
    {
        var path = SharedData.Require(Crop);
        var (o, log) = Logged();
        var d = DataReader.Read(path, o);
        Assert.Equal(36, d.NObs);
        Assert.Equal(10631, d.NVars);
        Assert.Equal(51483, d.X.Data.Length);
        Assert.Equal(131002, d.X.Data.Sum(v => (double)v));
        Assert.Contains(log, l => l.Contains("read 77634 records (131002 MIDs) of 10631 genes") && l.Contains("36 bins of 50 x 50 DNBs (25 µm, the default"));
        Assert.Equal("9600_12600", d.ObsNames[0]);
        Assert.Equal("9850_12850", d.ObsNames[^1]);
        Assert.Equal(9866, Enumerable.Range(d.X.IndPtr[0], d.X.IndPtr[1] - d.X.IndPtr[0]).Sum(p => (double)d.X.Data[p]));
        Assert.Equal(699, XValue(d, "9650_12600", "Gm42418"));
        Assert.Equal(676, XValue(d, "9600_12650", "Gm42418"));
        Assert.Equal(630, XValue(d, "9600_12600", "Gm42418"));
        Assert.Equal((9600.0, 9850.0), SpatialRange(d, 0));
        Assert.Equal((12600.0, 12850.0), SpatialRange(d, 1));
        Assert.Equal("stereoseq", d.Uns["platform"]);
        Assert.Equal(0.5, d.Uns["microns_per_unit"]);
        Assert.Equal(50.0, d.Uns["bin_size_dnb"]);
        Assert.Equal(25.0, d.Uns["bin_size_um"]);
    }

    [SkippableFact]
    public void BinTen()
    {
        var d = StereoSeq.Read(SharedData.Require(Crop), new ReadOptions { Bin = 10 });
        Assert.Equal(900, d.NObs);
        Assert.Equal(71463, d.X.Data.Length);
        Assert.Equal(54, XValue(d, "9680_12620", "Gm42418"));
        Assert.Equal(53, XValue(d, "9660_12680", "Gm42418"));
        Assert.Equal((12600.0, 12890.0), SpatialRange(d, 1));
    }

    private const string NewGem = "#FileFormat=GEMv0.1\n#SortedBy=None\n#BinSize=1\n#Stereo-seqChip=X\n#OffsetX=100\n#OffsetY=200\n"
        + "geneID\tgeneName\tx\ty\tMIDCount\tExonCount\n"
        + "ENSG1\tActb\t0\t0\t2\t1\nENSG1\tActb\t3\t4\t1\t1\nENSG2\tGapdh\t5\t1\t4\t4\nENSG1\tActb\t12\t0\t7\t0\nENSG2\tGapdh\t1\t11\t0\t0\n";

    [Fact]
    public void NewerHeaderedGemGzWithGeneNames()
    {
        using var t = new TempDir();
        var p = Write(t.File("chip.gem.gz"), NewGem);
        var d = DataReader.Read(p, new ReadOptions { Bin = 10 });
        Assert.Equal(["0_0", "10_0"], d.ObsNames);
        Assert.Equal(["ENSG1", "ENSG2"], d.VarNames);
        Assert.Equal(new string?[] { "Actb", "Gapdh" }, ((StringColumn)d.Var["gene_name"]).Values);
        Assert.Equal(3, XValue(d, "0_0", "ENSG1"));
        Assert.Equal(4, XValue(d, "0_0", "ENSG2"));
        Assert.Equal(7, XValue(d, "10_0", "ENSG1"));
        Assert.Equal(10, d.Spatial[1, 0]);
        Assert.Equal(10.0, d.Uns["bin_size_dnb"]);
    }

    [Fact]
    public void BadInputs()
    {
        using var t = new TempDir();
        var p = Write(t.File("a.gem"), "geneID\tx\ty\tMIDCounts\nG1\t1\t2\t3\nG1\t1\t2\n");
        Fails(p, "a.gem line 3 has 3 fields but the header (line 1) has 4", () => DataReader.Read(p));
        p = Write(t.File("b.gem"), "geneID\tx\ty\tMIDCounts\nG1\t1.5\t2\t3\n");
        Fails(p, "b.gem line 2: the coordinates x '1.5', y '2' are not non-negative integers", () => DataReader.Read(p));
        p = Write(t.File("c.gem"), "gene\tx\ty\tcount\nG1\t1\t2\t3\n");
        Fails(p, "c.gem line 1: the header 'gene\tx\ty\tcount' lacks geneID, x, y or MIDCount (a GEM file starts with 'geneID  x  y  MIDCount')".Replace("\t", "\\x09"), () => DataReader.Read(p));
        p = Write(t.File("d.gem"), "geneID\tx\ty\tMIDCounts\nG1\t1\t2\tNaN\n");
        Fails(p, "d.gem line 2: MIDCounts 'NaN' is not a non-negative count", () => DataReader.Read(p));
        p = Write(t.File("e.gem"), "geneID\tx\ty\tMIDCounts\n");
        Fails(p, "e.gem: the file has a header but no records", () => DataReader.Read(p));
        p = Write(t.File("f.gem"), "geneID\tx\ty\tMIDCounts\nG1\t1\t2\t1\n");
        Fails(p, "Bin must be at least 1 DNB for a GEM file, got 0", () => DataReader.Read(p, new ReadOptions { Bin = 0 }));
    }
}
