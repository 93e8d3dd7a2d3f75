using Tessera.Data;
using Tessera.IO;

namespace Tessera.Tests.IO;

/// <summary>
/// Reads h5ad files written by Debian's python3-anndata 0.8.0 (Fixtures/make_fixtures.py); every value asserted here
/// is the literal that script put in.
/// </summary>
public class H5adReadTests
{
    /// <summary>Path of a committed fixture copied next to the test binary.</summary>
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "IO", "Fixtures", name);

    private static void AssertDense(float[,] expected, CsrMatrix m)
    {
        Assert.Equal(expected.GetLength(0), m.Rows);
        Assert.Equal(expected.GetLength(1), m.Cols);
        Assert.Equal(expected.Cast<float>().ToArray(), m.ToDenseArray());
        Assert.Equal(expected.Cast<float>().Count(v => v != 0), m.Nnz);
    }

    [Fact]
    public void ReadsSmallAnnDataWithEveryColumnKind()
    {
        var path = Fixture("anndata_small.h5ad");
        var before = File.ReadAllBytes(path);
        var d = H5ad.Read(path);
        Assert.Equal(before, File.ReadAllBytes(path)); // read-only
        var x = new float[,]
        {
            { 1, 0, 0, 2.5f, 0 }, { 0, 0, 3, 0, 0 }, { 0, 0, 0, 0, 0 }, { 4, 5, 0, 0, 6 },
            { 0, 0.5f, 0, 0, 0 }, { 7, 0, 8, 0, 9 }, { 0, 0, 0, 10, 0.25f },
        };
        AssertDense(x, d.X);
        Assert.Equal(["cell0", "cell1", "cell2", "cell3", "cell4", "cell5", "cell6"], d.ObsNames);
        Assert.Equal(["GeneA", "GeneB", "GeneC", "GeneD", "GeneE"], d.VarNames);

        Assert.Equal(["cluster", "grade", "n_counts", "score", "in_tissue", "note"], d.Obs.ColumnNames);
        var cluster = d.Obs.Get<CategoricalColumn>("cluster");
        Assert.Equal(["a", "b", "c"], cluster.Categories);
        Assert.Equal([0, 1, -1, 0, 2, 1, 0], cluster.Codes);
        Assert.False(cluster.Ordered);
        var grade = d.Obs.Get<CategoricalColumn>("grade");
        Assert.Equal(["low", "mid", "high"], grade.Categories);
        Assert.Equal([0, 2, 1, 0, 1, 2, 0], grade.Codes);
        Assert.True(grade.Ordered);
        var n = d.Obs.Get<NumericColumn>("n_counts");
        Assert.True(n.IsInteger);
        Assert.Equal([3.0, 1, 0, 15, 1, 24, 10], n.Values);
        var score = d.Obs.Get<NumericColumn>("score");
        Assert.False(score.IsInteger);
        Assert.Equal([0.5, -1.25, double.NaN, 3.0, 1e-3, 2.0, 100.0], score.Values);
        Assert.Equal([true, false, true, true, false, true, false], d.Obs.Get<BoolColumn>("in_tissue").Values);
        Assert.Equal(new string?[] { "x", "hello world", "", "ß", "a,b", "z", "q" }, d.Obs.Get<StringColumn>("note").Values);

        Assert.Equal(["gene_ids", "highly_variable"], d.Var.ColumnNames);
        Assert.Equal(new string?[] { "ENSG1", "ENSG2", "ENSG3", "ENSG4", "ENSG5" }, d.Var.Get<StringColumn>("gene_ids").Values);
        Assert.Equal([true, false, false, true, true], d.Var.Get<BoolColumn>("highly_variable").Values);

        // obsm["meta"] is a pandas DataFrame: skipped
        Assert.Equal(["X_pca", "spatial"], d.Obsm.Keys.Order(StringComparer.Ordinal));
        var sp = d.Obsm["spatial"];
        Assert.Equal((7, 2), (sp.Rows, sp.Cols));
        Assert.Equal([10.0, 20, 11, 21, 12, 22, 13, 23, 14, 24, 15, 25, 16.5, 26.5], sp.Data);
        var pca = d.Obsm["X_pca"];
        Assert.Equal((7, 3), (pca.Rows, pca.Cols));
        Assert.Equal(Enumerable.Range(0, 21).Select(i => i / 4.0).ToArray(), pca.Data);

        Assert.Equal(["counts"], d.Layers.Keys);
        var counts = new float[7, 5];
        for (int i = 0; i < 7; i++) for (int j = 0; j < 5; j++) counts[i, j] = (float)Math.Truncate(x[i, j] * 2);
        AssertDense(counts, d.Layers["counts"]);

        Assert.Equal(["arr", "flag", "ints", "n", "names", "nested", "ratio", "spatial", "title"], d.Uns.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("hello", d.Uns["title"]);
        Assert.Equal(42L, d.Uns["n"]);
        Assert.Equal(0.125, d.Uns["ratio"]);
        Assert.Equal(true, d.Uns["flag"]);
        Assert.Equal([0.1, 0.2, 0.3], (double[])d.Uns["arr"]);
        Assert.Equal([3L, 1, 2], (long[])d.Uns["ints"]);
        Assert.Equal(["x", "y"], (string[])d.Uns["names"]);
        var nested = (Dictionary<string, object>)d.Uns["nested"];
        Assert.Equal(3, nested.Count);
        Assert.Equal(1L, nested["a"]);
        Assert.Equal("text", nested["b"]);
        var c = (Dictionary<string, object>)nested["c"];
        Assert.Equal([1.5, 2.5], (double[])c["d"]);
        var lib = (Dictionary<string, object>)((Dictionary<string, object>)d.Uns["spatial"])["lib1"];
        Assert.Equal(["metadata", "scalefactors"], lib.Keys.Order(StringComparer.Ordinal)); // images moved to d.Images
        var sf = (Dictionary<string, object>)lib["scalefactors"];
        Assert.Equal(0.5, sf["tissue_hires_scalef"]);
        Assert.Equal(0.125, sf["tissue_lowres_scalef"]);
        Assert.Equal(89.4, sf["spot_diameter_fullres"]);
        var meta = (Dictionary<string, object>)lib["metadata"];
        Assert.Equal("Visium", meta["chemistry_description"]);
        Assert.Equal("spaceranger-1.0.0", meta["software_version"]);

        Assert.Equal(2, d.Images.Count);
        var hires = d.Images.Single(i => i.Name == "hires");
        Assert.Equal((6, 4, 0.5), (hires.Width, hires.Height, hires.Scale));
        var expectHires = new byte[4 * 6 * 3];
        for (int p = 0; p < 24; p++) { expectHires[p * 3] = (byte)(p * 10); expectHires[p * 3 + 1] = 7; expectHires[p * 3 + 2] = 255; }
        Assert.Equal(expectHires, hires.Rgb);
        // float RGBA in 0..1: alpha dropped, 0.5 -> 128 (round half to even of 127.5), 0.25 -> 64
        var lowres = d.Images.Single(i => i.Name == "lowres");
        Assert.Equal((3, 2, 0.125), (lowres.Width, lowres.Height, lowres.Scale));
        var expectLow = Enumerable.Repeat((byte)128, 18).ToArray();
        expectLow[0] = 255; expectLow[1] = 0; expectLow[2] = 64;
        Assert.Equal(expectLow, lowres.Rgb);
    }

    [Fact]
    public void ReadsDenseIntegerXAndNamedIndex()
    {
        var d = H5ad.Read(Fixture("anndata_dense.h5ad"));
        AssertDense(new float[,] { { 1, 0, 2, 0 }, { 0, 0, 0, 3 }, { 4, 5, 0, 6 } }, d.X);
        Assert.Equal(["s1", "s2", "s3"], d.ObsNames); // stored under obs/barcode, named by the _index attribute
        Assert.Equal(["total", "nint", "nbool", "nbool_full"], d.Obs.ColumnNames);
        Assert.Equal([1.5, 2.5, 3.5], d.Obs.Get<NumericColumn>("total").Values);
        var nint = d.Obs.Get<NumericColumn>("nint"); // pandas Int64 with <NA>
        Assert.True(nint.IsInteger);
        Assert.Equal([4, double.NaN, -2], nint.Values);
        var nbool = d.Obs.Get<CategoricalColumn>("nbool"); // pandas boolean with <NA>: BoolColumn cannot hold NA
        Assert.Equal(["False", "True"], nbool.Categories);
        Assert.Equal([1, -1, 0], nbool.Codes);
        Assert.Equal([false, true, true], d.Obs.Get<BoolColumn>("nbool_full").Values);
        Assert.Equal(["g1", "g2", "g3", "g4"], d.VarNames);
        Assert.Empty(d.Var.ColumnNames); // column-order is an empty float64 array
        Assert.Empty(d.Layers);
        Assert.Empty(d.Obsm);
        Assert.Empty(d.Uns);
        Assert.Empty(d.Images);
    }

    [Fact]
    public void ReadsCscXAndLegacyCategoricals()
    {
        var d = H5ad.Read(Fixture("anndata_csc.h5ad"));
        AssertDense(new float[,] { { 0, 1.5f, 0 }, { 2, 0, 0 }, { 0, 0, 3 }, { 4, 0, 5.5f } }, d.X);
        Assert.Equal(["c0", "c1", "c2", "c3"], d.ObsNames); // anndata 0.7 "index" dataset
        Assert.Equal(["region", "depth", "batch"], d.Obs.ColumnNames);
        var region = d.Obs.Get<CategoricalColumn>("region"); // obs/__categories/region
        Assert.Equal(["r1", "r2"], region.Categories);
        Assert.Equal([1, 0, 1, 0], region.Codes);
        var depth = d.Obs.Get<NumericColumn>("depth");
        Assert.True(depth.IsInteger);
        Assert.Equal([7.0, 8, 9, 10], depth.Values);
        var batch = d.Obs.Get<CategoricalColumn>("batch"); // anndata 0.6: uns["batch_categories"]
        Assert.Equal(["b0", "b1"], batch.Categories);
        Assert.Equal([0, 1, 1, 0], batch.Codes);
        Assert.False(d.Uns.ContainsKey("batch_categories"));
        Assert.Equal(["h1", "h2", "h3"], d.VarNames);
    }
}
