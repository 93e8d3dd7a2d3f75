using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;
using static Tessera.Tests.IO.IoTestUtil;

namespace Tessera.Tests.IO;

public class DelimitedTests
{
    [Fact]
    public void SpatialDeLayoutParsesCoordinatesFromSpotIds()
    {
        using var t = new TempDir();
        var p = Write(t.File("mob.csv.gz"), "\"spot\",\"G1\",\"G2\",\"G3\"\n\"1.5x2\",1,0,3\n\"2x3.25\",0,0,2\n");
        var (o, log) = Logged();
        var d = DataReader.Read(p, o);
        Assert.Equal(new[] { "1.5x2", "2x3.25" }, d.ObsNames);
        Assert.Equal(new[] { "G1", "G2", "G3" }, d.VarNames);
        Assert.Equal(new float[] { 1, 0, 3, 0, 0, 2 }, d.X.ToDenseArray());
        Assert.Equal(3, d.X.Nnz);
        Assert.Equal(new double[] { 1.5, 2, 2, 3.25 }, d.Spatial.Data);
        Assert.Contains("mob.csv.gz: coordinates parsed from the spot ids ('1.5x2' -> 1.5, 2)", log);
        Assert.Contains("read 2 spots x 3 genes from mob.csv.gz (comma-separated)", log);
    }

    [Fact]
    public void XAndYColumnsAreCoordinatesNotGenes()
    {
        using var t = new TempDir();
        var p = Write(t.File("bc.csv"), "spot,x,y,GAPDH,ACTB\n17.9x4.9,17.9,4.9,1,2\n18.9x5,18.9,5,0,7\n");
        var d = DataReader.Read(p);
        Assert.Equal(new[] { "GAPDH", "ACTB" }, d.VarNames);
        Assert.Equal(new double[] { 17.9, 4.9, 18.9, 5 }, d.Spatial.Data);
        Assert.Equal(new double[] { 17.9, 18.9 }, d.Obs.Get<NumericColumn>("x").Values);
    }

    [Fact]
    public void TabSeparatedWithEmptyFirstHeader()
    {
        using var t = new TempDir();
        var p = Write(t.File("A1.tsv.gz"), "\tFO538757.1\tSAMD11\n10x13\t0\t6\n11x13\t1\t0\n");
        var d = DataReader.Read(p);
        Assert.Equal(new[] { "10x13", "11x13" }, d.ObsNames);
        Assert.Equal(new[] { "FO538757.1", "SAMD11" }, d.VarNames);
        Assert.Equal(new float[] { 0, 6, 1, 0 }, d.X.ToDenseArray());
        Assert.Equal(new double[] { 10, 13, 11, 13 }, d.Spatial.Data);
    }

    [Fact]
    public void GenesBySpotsIsDetectedOrForced()
    {
        using var t = new TempDir();
        var p = Write(t.File("rawcount.csv"), "gene,1x2,3x4,5x6\nG1,1,0,4\nG2,5,2,0\n");
        var (o, log) = Logged();
        var d = DataReader.Read(p, o);
        Assert.Equal(new[] { "1x2", "3x4", "5x6" }, d.ObsNames);
        Assert.Equal(new[] { "G1", "G2" }, d.VarNames);
        Assert.Equal(new float[] { 1, 5, 0, 2, 4, 0 }, d.X.ToDenseArray());
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6 }, d.Spatial.Data);
        Assert.Contains("rawcount.csv: the column names are spot ids, so the table is read as genes x spots", log);

        var q = Write(t.File("cells.tsv"), "\tcellA\tcellB\nG1\t1\t0\nG2\t5\t2\n");
        var plain = DataReader.Read(q);
        Assert.Equal(new[] { "G1", "G2" }, plain.ObsNames);
        var forced = DataReader.Read(q, new ReadOptions { Transpose = true });
        Assert.Equal(new[] { "cellA", "cellB" }, forced.ObsNames);
        Assert.Equal(new[] { "G1", "G2" }, forced.VarNames);
        Assert.Equal(new float[] { 1, 5, 0, 2 }, forced.X.ToDenseArray());
        Assert.False(forced.HasSpatial);
    }

    [Fact]
    public void TableWithoutIdsJoinsGeometryByRowNumber()
    {
        using var t = new TempDir();
        var p = Write(t.File("dge.txt"), "aay\tAma\n0.5\t0.25\n1\t0\n");
        var g = Write(t.File("geometry.txt"), "xcoord ycoord zcoord\n-1.5 2 3\n4 5 6\n7 8 9\n");
        var (o, log) = Logged(new ReadOptions { ObsFile = g, Coords = ["xcoord", "zcoord"] });
        var d = DataReader.Read(p, o);
        Assert.Equal(new[] { "0", "1" }, d.ObsNames);
        Assert.Equal(new float[] { 0.5f, 0.25f, 1, 0 }, d.X.ToDenseArray());
        Assert.Equal(new double[] { -1.5, 3, 4, 6 }, d.Spatial.Data);
        Assert.Contains("joined 2 of 2 spots with geometry.txt (1 rows of the file match no spot)", log);
    }

    [Fact]
    public void RRowNamesQuotedNamesAndDuplicateGenes()
    {
        using var t = new TempDir();
        var d = DataReader.Read(Write(t.File("r.csv"), "\uFEFFG1,G2\nc1,1,2\nc2,3,4\n"));
        Assert.Equal(new[] { "c1", "c2" }, d.ObsNames);
        Assert.Equal(new[] { "G1", "G2" }, d.VarNames);
        var (o, log) = Logged();
        var q = DataReader.Read(Write(t.File("q.csv"), "\"\",\"'Tal1'\",\"'Emx2'\"\n\"C1\",3,11\n"), o);
        Assert.Equal(new[] { "Tal1", "Emx2" }, q.VarNames);
        Assert.Contains("q.csv: removed the single quotes around column names ('Tal1')", log);
        var (o2, log2) = Logged();
        var dup = DataReader.Read(Write(t.File("dup.csv"), "spot,G,G,H,G\na,1,2,3,4\n"), o2);
        Assert.Equal(new[] { "G", "G-1", "H", "G-2" }, dup.VarNames);
        Assert.Equal(new float[] { 1, 2, 3, 4 }, dup.X.ToDenseArray());
        Assert.Contains("made 2 duplicated gene names unique (e.g. 'G' -> 'G-1')", log2);
    }

    [Fact]
    public void CoordinateColumnsOfTheTableNamedByCoords()
    {
        using var t = new TempDir();
        var p = Write(t.File("cells.csv"), "cell,sdimx,G1,sdimy\nc1,1.5,3,-2\nc2,2.5,0,-4\n");
        var d = DataReader.Read(p, new ReadOptions { Coords = ["sdimx", "sdimy"] });
        Assert.Equal(new[] { "G1" }, d.VarNames);
        Assert.Equal(new double[] { 1.5, -2, 2.5, -4 }, d.Spatial.Data);
        var bad = Write(t.File("bad.csv"), "cell,sdimx,G1,sdimy\nc1,1.5,3,-2\nc2,abc,0,-4\n");
        Fails(bad, "bad.csv line 3, column 2 ('sdimx'): 'abc' is not a number", () => DataReader.Read(bad, new ReadOptions { Coords = ["sdimx", "sdimy"] }));
        var inf = Write(t.File("inf.csv"), "cell,sdimx,G1,sdimy\nc1,1.5,3,-2\nc2,Inf,0,-4\n");
        Fails(inf, "inf.csv line 3, column 2 ('sdimx'): coordinate 'Inf' is not a finite number", () => DataReader.Read(inf, new ReadOptions { Coords = ["sdimx", "sdimy"] }));
    }

    [Fact]
    public void NegativeValuesNeedAllowNegative()
    {
        using var t = new TempDir();
        var p = Write(t.File("z.csv"), "cell,A,B\nc1,0.5,-1.25\nc2,0,2\n");
        Fails(p, "z.csv line 2, column 3 ('B'): negative value -1.25", () => DataReader.Read(p));
        var d = DataReader.Read(p, new ReadOptions { AllowNegative = true });
        Assert.Equal(new float[] { 0.5f, -1.25f, 0, 2 }, d.X.ToDenseArray());
    }

    [Theory]
    [InlineData("spot,A,B\ns1,1,2\ns2,NaN,2\n", "x.csv line 3, column 2 ('A'): NaN value")]
    [InlineData("spot,A,B\ns1,1,2\ns2,1,inf\n", "x.csv line 3, column 3 ('B'): infinite value Inf")]
    [InlineData("spot,A,B\ns1,1,-Infinity\n", "x.csv line 2, column 3 ('B'): infinite value -Inf")]
    [InlineData("spot,A,B\ns1,1,2\ns2,-3,2\n", "x.csv line 3, column 2 ('A'): negative value -3")]
    [InlineData("spot,A,B\ns1,1,2\ns2,1,abc\n", "x.csv line 3, column 3 ('B'): 'abc' is not a number")]
    [InlineData("spot,A,B\ns1,NA,2\n", "x.csv line 2, column 2 ('A'): 'NA' is not a number")]
    [InlineData("spot,A,B\ns1,,2\n", "x.csv line 2, column 2 ('A'): '' is not a number")]
    [InlineData("spot,A,B\ns1,1,2\ns2,1\n", "x.csv line 3 has 2 fields but line 2 has 3")]
    [InlineData("spot,A,B\ns1,1,2,3,4\n", "x.csv line 2 has 5 fields but the header (line 1) has 3")]
    [InlineData("spot,A,B\ns1,1,2\ns2,1,2\ns1,0,0\n", "x.csv: duplicate spot id 's1' (data rows 1 and 3)")]
    [InlineData("", "x.csv: the file is empty")]
    [InlineData("spot,A,B\n", "x.csv: the file has a header but no data rows")]
    public void BadTablesFailWithFileLineAndColumn(string text, string message)
    {
        using var t = new TempDir();
        var p = Write(t.File("x.csv"), text);
        Fails(p, message, () => DataReader.Read(p));
    }

    [SkippableFact]
    public void ReadsMobRep11()
    {
        var p = Path.Combine(SharedData.Require("mob_rep11"), "Rep11_MOB_counts.csv.gz");
        var d = DataReader.Read(p);
        // pandas: shape (262, 16218), sum 7822908, nnz 1701556, first row sum 18799, column Nrf1 sum 152
        Assert.Equal((262, 16218, 1701556), (d.NObs, d.NVars, d.X.Nnz));
        Assert.Equal(7822908.0, d.X.Data.Sum(v => (double)v));
        Assert.Equal(18799.0, d.X.RowSums()[0]);
        Assert.Equal("Nrf1", d.VarNames[0]);
        Assert.Equal(152.0, d.X.ColSums()[0]);
        Assert.Equal(new double[] { 16.92, 9.015 }, d.Spatial.Row(0).ToArray());
        Assert.Equal("17.964x10.137", d.ObsNames[^1]);

        var info = Path.Combine(SharedData.Require("mob_rep11"), "MOB_sample_info.csv.gz");
        Fails(info, "2 of 262 spots are not in MOB_sample_info.csv.gz (first: '10.922x17.038'); set AllowMissing to keep them with empty values",
            () => DataReader.Read(p, new ReadOptions { ObsFile = info }));
        var (o, log) = Logged(new ReadOptions { ObsFile = info, AllowMissing = true });
        var j = DataReader.Read(p, o);
        var tc = j.Obs.Get<NumericColumn>("total_counts");
        Assert.Equal(2, tc.Values.Count(double.IsNaN));
        Assert.Equal(18790, tc.Values[0]);
        Assert.Contains("joined 260 of 262 spots with MOB_sample_info.csv.gz", log);
    }

    [SkippableFact]
    public void ReadsBreastCancerLayer2()
    {
        var p = Path.Combine(SharedData.Require("bc_layer2"), "Layer2_BC_counts.csv.gz");
        var d = DataReader.Read(p);
        Assert.Equal((251, 14789, 398328), (d.NObs, d.NVars, d.X.Nnz));
        Assert.Equal(786900.0, d.X.Data.Sum(v => (double)v));
        Assert.Equal("GAPDH", d.VarNames[0]);
        Assert.Equal(new double[] { 17.907, 4.967 }, d.Spatial.Row(0).ToArray());
    }

    [SkippableFact]
    public void ReadsMerfishWithCellsCoords()
    {
        var dir = SharedData.Require("merfish_hypothalamus_animal1");
        var (o, log) = Logged(new ReadOptions { ObsFile = Path.Combine(dir, "cells.csv.gz"), Coords = ["sdimx", "sdimy"] });
        var d = DataReader.Read(Path.Combine(dir, "expression.csv.gz"), o);
        Assert.Equal((11162, 161, 624022), (d.NObs, d.NVars, d.X.Nnz));
        Assert.Equal((11162, 2), (d.Spatial.Rows, d.Spatial.Cols));
        Assert.Equal(new[] { -893.69528646096, -906.710783014148 }, d.Spatial.Row(0).ToArray());
        Assert.Equal(2703671.222372711, d.X.Data.Sum(v => (double)v), 0.5);
        Assert.Equal(21.2998f, d.X[0, d.GeneIndex("Aldh1l1")]);
        Assert.Equal(16, d.Obs.Get<CategoricalColumn>("Cell_class").Categories.Length);
        var neuron = d.Obs.Get<CategoricalColumn>("Neuron_cluster_ID");
        Assert.Equal((6945, 61), (neuron.Codes.Count(c => c < 0), neuron.Categories.Length));
        Assert.True(d.Obs.Get<NumericColumn>("Animal_ID").IsInteger);
        Assert.IsType<StringColumn>(d.Obs["Cell_ID"]);
        Assert.Contains("joined 11162 of 11162 spots with cells.csv.gz", log);
    }

    [SkippableFact]
    public void ReadsHer2stSectionWithSpotFile()
    {
        var root = SharedData.Require("her2st");
        var (o, log) = Logged(new ReadOptions { ObsFile = Path.Combine(root, "spotfiles", "A1_selection.tsv.gz"), Coords = ["pixel_x", "pixel_y"] });
        var d = DataReader.Read(Path.Combine(root, "counts", "A1.tsv.gz"), o);
        Assert.Equal((346, 15045, 799594), (d.NObs, d.NVars, d.X.Nnz));
        Assert.Equal(1553744.0, d.X.Data.Sum(v => (double)v));
        Assert.Equal("10x13", d.ObsNames[0]);
        Assert.Equal(12275.0, d.X.RowSums()[0]);
        Assert.Equal(new[] { 1923.65, 2622.15 }, d.Spatial.Row(0).ToArray());
        Assert.Equal(9.852, d.Obs.Get<NumericColumn>("new_x").Values[0]);
        Assert.Contains("joined 346 of 346 spots with A1_selection.tsv.gz (2 rows of the file match no spot)", log);
    }

    [SkippableFact]
    public void ReadsSeqfishZScoresOnlyWithAllowNegative()
    {
        var dir = SharedData.Require("seqfish_visualcortex");
        var p = Path.Combine(dir, "expression_zscored.csv.gz");
        Fails(p, "expression_zscored.csv.gz line 2, column 5 ('Abca9'): negative value -0.02", () => DataReader.Read(p));
        var d = DataReader.Read(p, new ReadOptions { AllowNegative = true, ObsFile = Path.Combine(dir, "cells.csv.gz"), Coords = ["sdimx", "sdimy"] });
        Assert.Equal((1597, 125), (d.NObs, d.NVars));
        Assert.Equal(new[] { 675.08, -37.33 }, d.Spatial.Row(0).ToArray());
        Assert.Equal(9, d.Obs.Get<CategoricalColumn>("domain").Categories.Length);
    }

    [SkippableFact]
    public void ReadsDrosophilaWithGeometryByRowOrder()
    {
        var dir = SharedData.Require("drosophila_bdtnp_novosparc");
        var (o, log) = Logged(new ReadOptions { ObsFile = Path.Combine(dir, "geometry.txt.gz"), Coords = ["xcoord", "ycoord", "zcoord"] });
        var d = DataReader.Read(Path.Combine(dir, "dge.txt.gz"), o);
        Assert.Equal((3039, 84), (d.NObs, d.NVars));
        Assert.Equal("aay", d.VarNames[0]);
        Assert.Equal(0.116516f, d.X[0, 0]);
        Assert.Equal(65269.185132999984, d.X.Data.Sum(v => (double)v), 0.05);
        Assert.Equal((3039, 3), (d.Spatial.Rows, d.Spatial.Cols));
        Assert.Equal(new[] { -194.04, 0.22, 30.2 }, d.Spatial.Row(0).ToArray());
        // geometry.txt holds 6078 rows; novoSpaRc uses the first 3039 (locations[:num_locations])
        Assert.Contains("joined 3039 of 3039 spots with geometry.txt.gz (3039 rows of the file match no spot)", log);
    }

    [SkippableFact]
    public void ReadsSparkSeqfishField43()
    {
        var dir = SharedData.Require("spark_analysis_processed");
        var d = DataReader.Read(Path.Combine(dir, "seqFISH_field43_countdata.csv.gz"),
            new ReadOptions { ObsFile = Path.Combine(dir, "seqFISH_field43_info.csv.gz"), Coords = ["x", "y"] });
        Assert.Equal((131, 249), (d.NObs, d.NVars));
        Assert.Equal(new[] { "Tal1", "Dmbx1" }, d.VarNames[..2]);
        Assert.Equal(488890.0, d.X.Data.Sum(v => (double)v));
        Assert.Equal(new double[] { 686, 352 }, d.Spatial.Row(0).ToArray());
    }
}
