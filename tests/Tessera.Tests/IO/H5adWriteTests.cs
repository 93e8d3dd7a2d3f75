using System.Text.Json;
using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;

namespace Tessera.Tests.IO;

/// <summary>h5ad writing: exact round trip through our reader, and what python3-anndata 0.8 makes of the file.</summary>
public class H5adWriteTests
{
    /// <summary>6 spots x 4 genes with every column type, obsm, a layer, nested uns and an image.</summary>
    internal static SpatialData Sample()
    {
        var x = CsrMatrix.FromDense(new float[,]
        {
            { 1, 0, 0, 2 }, { 0, 0.5f, 0, 0 }, { 0, 0, 0, 0 }, { 3, 0, 1e-7f, 0 }, { 0, 0, 0, 123456.75f }, { 8, 9, 10, 11 },
        });
        var obs = new Table(["AAAC-1", "AAAG-1", "AACT-1", "ACGT-1", "AGGT-1", "TTTT-1"], "barcode");
        obs.Set("domain", new CategoricalColumn([2, 0, -1, 1, 0, 2], ["L1", "L2", "WM"]));
        obs.Set("grade", new CategoricalColumn([0, 1, 2, 0, 1, 2], ["low", "mid", "high"], ordered: true));
        obs.Set("many", new CategoricalColumn([0, 129, 5, 0, 64, 1], Enumerable.Range(0, 130).Select(i => "c" + i).ToArray()));
        obs.Set("n_genes", new NumericColumn([2, 1, 0, 2, 1, 4], isInteger: true));
        obs.Set("score", new NumericColumn([0.5, double.NaN, -3.25, 1e300, 0, 7]));
        obs.Set("in_tissue", new BoolColumn([true, false, true, true, false, true]));
        obs.Set("note", new StringColumn(["a", "ß", "", "x y", "comma,sep", "end"]));
        var var = new Table(["Gfap", "Mbp", "Snap25", "Pcp4"], "gene name");
        var.Set("gene_ids", new StringColumn(["ENSG1", "ENSG2", "ENSG3", "ENSG4"]));
        var.Set("highly_variable", new BoolColumn([true, false, true, false]));
        var d = new SpatialData(x, obs, var);
        d.Obsm["spatial"] = new DenseMatrix(6, 2, [100, 200, 101.5, 201, 102, 202, 103, 203, 104, 204, 105, 205.25]);
        d.Obsm["X_pca"] = new DenseMatrix(6, 3, Enumerable.Range(0, 18).Select(i => i * 0.1 - 0.5).ToArray());
        d.Layers["counts"] = x.WithData(x.Data.Select(v => MathF.Round(v * 3)).ToArray());
        d.Uns["title"] = "slice 151673";
        d.Uns["seed"] = 42L;
        d.Uns["lr"] = 1e-3;
        d.Uns["flag"] = false;
        d.Uns["weights"] = new[] { 0.25, -1.5 };
        d.Uns["sizes"] = new long[] { 7, 8, 9 };
        d.Uns["labels"] = new[] { "L1", "L2" };
        d.Uns["mask"] = new[] { true, false };
        d.Uns["params"] = new Dictionary<string, object> { ["k"] = 6L, ["method"] = "spotscape", ["inner"] = new Dictionary<string, object> { ["tau"] = 0.5 } };
        var rgb = new byte[5 * 4 * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 7 % 256);
        d.Images.Add(new TissueImage("hires", 5, 4, rgb, 0.25));
        return d;
    }

    private static void AssertSameTable(Table a, Table b)
    {
        Assert.Equal(a.Index, b.Index);
        Assert.Equal(a.ColumnNames, b.ColumnNames);
        foreach (var (name, ca) in a.Columns)
        {
            var cb = b[name];
            Assert.Equal(ca.GetType(), cb.GetType());
            switch (ca)
            {
                case NumericColumn n: Assert.Equal(n.Values, ((NumericColumn)cb).Values); Assert.Equal(n.IsInteger, ((NumericColumn)cb).IsInteger); break;
                case BoolColumn bc: Assert.Equal(bc.Values, ((BoolColumn)cb).Values); break;
                case StringColumn s: Assert.Equal(s.Values, ((StringColumn)cb).Values); break;
                case CategoricalColumn c:
                    var cc = (CategoricalColumn)cb;
                    Assert.Equal(c.Codes, cc.Codes); Assert.Equal(c.Categories, cc.Categories); Assert.Equal(c.Ordered, cc.Ordered);
                    break;
            }
        }
    }

    private static void AssertSameCsr(CsrMatrix a, CsrMatrix b)
    {
        Assert.Equal((a.Rows, a.Cols), (b.Rows, b.Cols));
        Assert.Equal(a.IndPtr, b.IndPtr);
        Assert.Equal(a.Indices, b.Indices);
        Assert.Equal(a.Data, b.Data);
    }

    [Fact]
    public void RoundTripIsExact()
    {
        using var dir = new TempDir();
        var p = dir.File("out/sample.h5ad");
        var d = Sample();
        H5ad.Write(d, p);
        Assert.False(d.Uns.ContainsKey("spatial")); // images are merged into a copy of uns, never into the input
        Assert.Equal(["sample.h5ad"], Directory.GetFiles(dir.File("out")).Select(Path.GetFileName)); // no temp file left

        var r = H5ad.Read(p);
        AssertSameCsr(d.X, r.X);
        AssertSameTable(d.Obs, r.Obs);
        AssertSameTable(d.Var, r.Var);
        Assert.Equal(d.Obsm.Keys.Order(), r.Obsm.Keys.Order());
        foreach (var (k, m) in d.Obsm) { Assert.Equal((m.Rows, m.Cols), (r.Obsm[k].Rows, r.Obsm[k].Cols)); Assert.Equal(m.Data, r.Obsm[k].Data); }
        Assert.Equal(["counts"], r.Layers.Keys);
        AssertSameCsr(d.Layers["counts"], r.Layers["counts"]);

        var expectedUns = new Dictionary<string, object>(d.Uns)
        {
            ["spatial"] = new Dictionary<string, object> { ["tessera"] = new Dictionary<string, object> { ["scalefactors"] = new Dictionary<string, object> { ["tissue_hires_scalef"] = 0.25 } } },
        };
        AssertSameUns(expectedUns, r.Uns);

        var img = Assert.Single(r.Images);
        Assert.Equal(("hires", 5, 4, 0.25), (img.Name, img.Width, img.Height, img.Scale));
        Assert.Equal(d.Images[0].Rgb, img.Rgb);

        // writing what was read reproduces the same content (library id kept, no second library)
        var p2 = dir.File("again.h5ad");
        H5ad.Write(r, p2);
        var r2 = H5ad.Read(p2);
        AssertSameUns(expectedUns, r2.Uns);
        Assert.Equal(img.Rgb, Assert.Single(r2.Images).Rgb);
    }

    private static void AssertSameUns(IDictionary<string, object> a, IDictionary<string, object> b)
    {
        Assert.Equal(a.Keys.Order(StringComparer.Ordinal), b.Keys.Order(StringComparer.Ordinal));
        foreach (var (k, va) in a)
        {
            var vb = b[k];
            if (va is IDictionary<string, object> da) AssertSameUns(da, Assert.IsAssignableFrom<IDictionary<string, object>>(vb));
            else
            {
                Assert.Equal(va.GetType(), vb.GetType());
                Assert.Equal(va, vb);
            }
        }
    }

    [SkippableFact]
    public void PythonAnnDataReadsWhatWeWrite()
    {
        Python.RequireModules("anndata");
        using var dir = new TempDir();
        var p = dir.File("sample.h5ad");
        H5ad.Write(Sample(), p);
        var script = $$"""
            import json, anndata, numpy as np
            a = anndata.read_h5ad({{JsonSerializer.Serialize(p)}})
            o = a.obs
            lib = a.uns["spatial"]["tessera"]
            out = {
                "shape": list(a.shape),
                "X": a.X.toarray().astype(float).tolist(),
                "x_format": a.X.format, "x_dtype": str(a.X.dtype),
                "obs_names": list(a.obs_names), "var_names": list(a.var_names),
                "dtypes": {c: str(o[c].dtype) for c in o.columns},
                "domain_categories": list(o["domain"].cat.categories),
                "domain_codes": o["domain"].cat.codes.tolist(),
                "domain_codes_dtype": str(o["domain"].cat.codes.dtype),
                "many_codes_dtype": str(o["many"].cat.codes.dtype),
                "grade_ordered": bool(o["grade"].cat.ordered),
                "in_tissue": o["in_tissue"].tolist(),
                "n_genes": o["n_genes"].tolist(),
                "note": o["note"].tolist(),
                "hv_dtype": str(a.var["highly_variable"].dtype),
                "gene_ids": a.var["gene_ids"].tolist(),
                "obsm": {k: list(v.shape) for k, v in a.obsm.items()},
                "spatial": a.obsm["spatial"].tolist(),
                "counts": a.layers["counts"].toarray().tolist(),
                "title": a.uns["title"], "seed": int(a.uns["seed"]), "lr": float(a.uns["lr"]),
                "flag": bool(a.uns["flag"]), "flag_type": type(a.uns["flag"]).__name__,
                "weights": a.uns["weights"].tolist(), "sizes": a.uns["sizes"].tolist(),
                "labels": list(a.uns["labels"]), "mask": a.uns["mask"].tolist(), "mask_dtype": str(a.uns["mask"].dtype),
                "params_k": int(a.uns["params"]["k"]), "params_method": a.uns["params"]["method"],
                "tau": float(a.uns["params"]["inner"]["tau"]),
                "hires_shape": list(lib["images"]["hires"].shape), "hires_dtype": str(lib["images"]["hires"].dtype),
                "hires_px": lib["images"]["hires"][1, 2].tolist(),
                "scalef": float(lib["scalefactors"]["tissue_hires_scalef"]),
            }
            print(json.dumps(out))
            """;
        var (code, stdout, stderr) = Python.Run(script);
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var j = doc.RootElement;
        double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        string[] Strs(JsonElement e) => e.EnumerateArray().Select(v => v.GetString()!).ToArray();

        var s = Sample();
        Assert.Equal([6.0, 4], Doubles(j.GetProperty("shape")));
        Assert.Equal(s.X.ToDenseArray().Select(v => (double)v).ToArray(), j.GetProperty("X").EnumerateArray().SelectMany(Doubles).ToArray());
        Assert.Equal("csr", j.GetProperty("x_format").GetString());
        Assert.Equal("float32", j.GetProperty("x_dtype").GetString());
        Assert.Equal(s.ObsNames, Strs(j.GetProperty("obs_names")));
        Assert.Equal(s.VarNames, Strs(j.GetProperty("var_names")));
        var dt = j.GetProperty("dtypes");
        Assert.Equal("category", dt.GetProperty("domain").GetString());
        Assert.Equal("category", dt.GetProperty("grade").GetString());
        Assert.Equal("int64", dt.GetProperty("n_genes").GetString());
        Assert.Equal("float64", dt.GetProperty("score").GetString());
        Assert.Equal("bool", dt.GetProperty("in_tissue").GetString());
        Assert.Equal("object", dt.GetProperty("note").GetString());
        Assert.Equal(["L1", "L2", "WM"], Strs(j.GetProperty("domain_categories")));
        Assert.Equal([2.0, 0, -1, 1, 0, 2], Doubles(j.GetProperty("domain_codes")));
        Assert.Equal("int8", j.GetProperty("domain_codes_dtype").GetString());
        Assert.Equal("int16", j.GetProperty("many_codes_dtype").GetString());
        Assert.True(j.GetProperty("grade_ordered").GetBoolean());
        Assert.Equal([true, false, true, true, false, true], j.GetProperty("in_tissue").EnumerateArray().Select(v => v.GetBoolean()).ToArray());
        Assert.Equal([2.0, 1, 0, 2, 1, 4], Doubles(j.GetProperty("n_genes")));
        Assert.Equal(["a", "ß", "", "x y", "comma,sep", "end"], Strs(j.GetProperty("note")));
        Assert.Equal("bool", j.GetProperty("hv_dtype").GetString());
        Assert.Equal(["ENSG1", "ENSG2", "ENSG3", "ENSG4"], Strs(j.GetProperty("gene_ids")));
        var obsm = j.GetProperty("obsm");
        Assert.Equal([6.0, 2], Doubles(obsm.GetProperty("spatial")));
        Assert.Equal([6.0, 3], Doubles(obsm.GetProperty("X_pca")));
        Assert.Equal(s.Obsm["spatial"].Data, j.GetProperty("spatial").EnumerateArray().SelectMany(Doubles).ToArray());
        Assert.Equal(s.Layers["counts"].ToDenseArray().Select(v => (double)v).ToArray(), j.GetProperty("counts").EnumerateArray().SelectMany(Doubles).ToArray());
        Assert.Equal("slice 151673", j.GetProperty("title").GetString());
        Assert.Equal(42, j.GetProperty("seed").GetInt64());
        Assert.Equal(1e-3, j.GetProperty("lr").GetDouble());
        Assert.False(j.GetProperty("flag").GetBoolean());
        Assert.Equal("bool_", j.GetProperty("flag_type").GetString());
        Assert.Equal([0.25, -1.5], Doubles(j.GetProperty("weights")));
        Assert.Equal([7.0, 8, 9], Doubles(j.GetProperty("sizes")));
        Assert.Equal(["L1", "L2"], Strs(j.GetProperty("labels")));
        Assert.Equal([true, false], j.GetProperty("mask").EnumerateArray().Select(v => v.GetBoolean()).ToArray());
        Assert.Equal("bool", j.GetProperty("mask_dtype").GetString());
        Assert.Equal(6, j.GetProperty("params_k").GetInt64());
        Assert.Equal("spotscape", j.GetProperty("params_method").GetString());
        Assert.Equal(0.5, j.GetProperty("tau").GetDouble());
        Assert.Equal([4.0, 5, 3], Doubles(j.GetProperty("hires_shape")));
        Assert.Equal("uint8", j.GetProperty("hires_dtype").GetString());
        int px = (1 * 5 + 2) * 3; // row 1, column 2
        Assert.Equal(s.Images[0].Rgb.Skip(px).Take(3).Select(b => (double)b).ToArray(), Doubles(j.GetProperty("hires_px")));
        Assert.Equal(0.25, j.GetProperty("scalef").GetDouble());
    }

    [Fact]
    public void UnsupportedUnsValueIsAClearError()
    {
        using var dir = new TempDir();
        var d = Sample();
        d.Uns["params"] = new Dictionary<string, object> { ["when"] = new DateTime(2020, 1, 1) };
        var p = dir.File("bad.h5ad");
        var ex = Assert.Throws<TesseraException>(() => H5ad.Write(d, p));
        Assert.Equal("uns['params']['when'] is a DateTime, which h5ad writing does not support", ex.Message);
        Assert.False(File.Exists(p));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void SlashInColumnNameIsAClearError()
    {
        using var dir = new TempDir();
        var d = Sample();
        d.Obs.Set("a/b", new NumericColumn(new double[6]));
        var ex = Assert.Throws<TesseraException>(() => H5ad.Write(d, dir.File("bad.h5ad")));
        Assert.Equal("obs column 'a/b' cannot be stored in h5ad (empty or contains '/')", ex.Message);
    }

    [Fact]
    public void IntegerColumnWithNaNIsWrittenAsFloat()
    {
        using var dir = new TempDir();
        var d = Sample();
        d.Obs.Set("n_genes", new NumericColumn([2, double.NaN, 0, 2, 1, 4], isInteger: true));
        var p = dir.File("nan.h5ad");
        H5ad.Write(d, p);
        var c = H5ad.Read(p).Obs.Get<NumericColumn>("n_genes");
        Assert.False(c.IsInteger);
        Assert.Equal([2, double.NaN, 0, 2, 1, 4], c.Values);
    }

    [Fact]
    public void MissingStringsAreWrittenEmpty()
    {
        using var dir = new TempDir();
        var d = Sample();
        d.Obs.Set("note", new StringColumn(["a", null, "c", null, "e", "f"]));
        var p = dir.File("null.h5ad");
        H5ad.Write(d, p);
        Assert.Equal(new string?[] { "a", "", "c", "", "e", "f" }, H5ad.Read(p).Obs.Get<StringColumn>("note").Values);
    }

    [Fact]
    public void EmptyMatrixAndNoColumnsRoundTrip()
    {
        using var dir = new TempDir();
        var d = new SpatialData(CsrMatrix.Zeros(2, 3), new Table(["s0", "s1"]), new Table(["g0", "g1", "g2"]));
        var p = dir.File("empty.h5ad");
        H5ad.Write(d, p);
        var r = H5ad.Read(p);
        Assert.Equal((2, 3, 0), (r.X.Rows, r.X.Cols, r.X.Nnz));
        Assert.Equal(["s0", "s1"], r.ObsNames);
        Assert.Empty(r.Obs.ColumnNames);
        Assert.Empty(r.Uns);
        Assert.Empty(r.Images);
    }
}
