using System.Globalization;
using PureHDF;
using Tessera.Data;
using static Tessera.IO.Hdf5;

namespace Tessera.IO;

/// <summary>
/// Reads and writes AnnData's .h5ad files (the on-disk format of anndata/scanpy/squidpy), including Visium
/// images stored scanpy-style in uns["spatial"][library_id]["images"].
/// </summary>
/// <remarks>
/// <para>Reading accepts X as CSR, CSC or a dense array of any numeric type (converted to float32 CSR);
/// obs/var dataframes of anndata ≥ 0.7 (index named by the "_index" attribute, "_index" or "index" datasets),
/// with categorical (codes + categories group, anndata 0.7's obs/__categories/&lt;col&gt;, or anndata 0.6's
/// uns["&lt;col&gt;_categories"]), integer, float, bool, string and pandas nullable integer/boolean columns;
/// dense obsm and varm arrays (dataframe and sparse entries are skipped); layers; and uns as nested
/// <c>Dictionary&lt;string, object&gt;</c> of string, double, long, bool, string[], double[], long[], bool[].
/// Multi-dimensional uns arrays and uns dataframes are skipped, except images under
/// uns["spatial"][lib]["images"], which become <see cref="SpatialData.Images"/> (RGB; alpha dropped;
/// float images in 0..1 scaled to 0..255) with <see cref="TissueImage.Scale"/> taken from
/// ["scalefactors"]["tissue_&lt;name&gt;_scalef"] (1 when absent). With several libraries, image names are
/// "&lt;library&gt;/&lt;name&gt;". raw, obsp and varp are not read (SpatialData has no place for them).</para>
/// <para>Writing produces what anndata 0.8 writes: CSR X and layers (float32 data, int32 indices), dataframes
/// (encoding 0.2.0), categoricals with int8/int16/int32 codes, bools as the HDF5 enum numpy reads as bool,
/// integer columns (<see cref="NumericColumn.IsInteger"/>) as int64 — or float64 when they hold NaN — and
/// missing strings of a <see cref="StringColumn"/> as "" (anndata 0.8 cannot store missing strings).
/// Images go to uns["spatial"][library]["images"][name] as uint8 H×W×3 with their scale factor, where the
/// library is the prefix of "library/name", else the single key of uns["spatial"], else "tessera".</para>
/// </remarks>
public static class H5ad
{
    private const string DefaultLibrary = "tessera";

    /// <summary>
    /// Reads an .h5ad file. Bad or unreadable files raise a <see cref="TesseraException"/> naming the file, as do declared
    /// shapes that disagree with obs/var or would need more memory than <see cref="ReadOptions.MaxMemory"/> (checked before
    /// anything is allocated). Duplicate gene names are made unique as anndata's var_names_make_unique does, and logged.
    /// </summary>
    public static SpatialData Read(string path, ReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        TesseraException Fail(string problem) => new($"cannot read h5ad file '{path}': {problem}");
        using var budget = ReadBudget.Enter(options);
        using var file = Open(path, Fail);
        try
        {
            return new Reader(file, options).Read();
        }
        catch (InvalidDataException e) { throw new TesseraException(Fail(e.Message).Message, e); }
        catch (TesseraException e) { throw new TesseraException(Fail(e.Message).Message, e); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new TesseraException(Fail($"the file is corrupt or not an h5ad file ({OneLine(e)})").Message, e);
        }
    }

    // ============================== reading ==============================

    private sealed class Reader(IH5Group root, ReadOptions? options)
    {
        private readonly HashSet<string> _consumedUns = new(StringComparer.Ordinal);
        private readonly List<(string Lib, string Name, int W, int H, byte[] Rgb)> _images = [];

        public SpatialData Read()
        {
            var xObj = Child(root, "X") ?? throw new InvalidDataException("it has no X matrix");
            // the names' counts are read from the index datasets' headers, so that X's declared shape is checked before X is read
            var x = ReadMatrix(xObj, "X", IndexLength(Child(root, "obs"), "obs"), IndexLength(Child(root, "var"), "var"));
            var unsGroup = Child(root, "uns") as IH5Group;
            var obs = ReadFrame(Child(root, "obs"), x.Rows, "obs", "observation name", "rows", unsGroup);
            var var = ReadFrame(Child(root, "var"), x.Cols, "var", "gene name", "columns", unsGroup);
            var d = new SpatialData(x, obs, var);
            if (Child(root, "layers") is IH5Group layers)
                foreach (var c in Children(layers))
                    d.Layers[c.Name] = ReadMatrix(c, $"layers['{c.Name}']", x.Rows, x.Cols);
            ReadDense(Child(root, "obsm"), "obsm", x.Rows, d.Obsm);
            ReadDense(Child(root, "varm"), "varm", x.Cols, d.Varm);
            if (unsGroup != null)
            {
                var uns = ReadDict(unsGroup, "");
                foreach (var k in _consumedUns) uns.Remove(k);
                foreach (var (k, v) in uns) d.Uns[k] = v;
                AttachImages(d);
            }
            return d;
        }

        // Dense obsm/varm entries; pandas-dataframe and sparse entries are groups, not representable as DenseMatrix: skipped.
        private static void ReadDense(IH5Object? group, string what, int expectedRows, Dictionary<string, DenseMatrix> into)
        {
            if (group is not IH5Group g) return;
            foreach (var c in Children(g))
            {
                if (c is not IH5Dataset ds || !NumericClass(ds.Type)) continue;
                var dims = Dims(ds);
                if (dims.Length is not (1 or 2)) continue;
                int rows = (int)dims[0], cols = dims.Length == 2 ? (int)dims[1] : 1;
                if (rows != expectedRows) throw new InvalidDataException($"{what}['{c.Name}'] has {rows} rows but X has {expectedRows}");
                if (what == "obsm" && c.Name == SpatialData.SpatialKey && cols is not (2 or 3))
                    throw new InvalidDataException($"obsm['{c.Name}'] has {cols} columns, but coordinates have 2 or 3");
                into[c.Name] = new DenseMatrix(rows, cols, ReadDoubles(ds));
            }
        }


        /// <summary>The number of names in a dataframe's index dataset, from its header (nothing is read), or null without one.</summary>
        private static long? IndexLength(IH5Object? frame, string name)
        {
            if (frame is not IH5Group g) return null;
            var idxKey = AttrString(g, "_index") ?? (g.LinkExists("_index") ? "_index" : g.LinkExists("index") ? "index" : null);
            if (idxKey == null || Child(g, idxKey) is not IH5Dataset ds) return null;
            var dims = Dims(ds);
            if (dims.Length != 1) throw new InvalidDataException($"{name} index '{idxKey}' is a {dims.Length}-dimensional array, not a list of names");
            return (long)dims[0];
        }

        /// <summary>Refuses a declared matrix shape that disagrees with the expected one, before the matrix is read.</summary>
        private static void CheckShape(string what, ulong rows, ulong cols, long? expRows, long? expCols)
        {
            string Names(long? n, string frame) => n == null ? "" : $"{frame} has {n} names";
            if ((expRows != null && (ulong)expRows != rows) || (expCols != null && (ulong)expCols != cols))
            {
                var have = string.Join(" and ", new[] { Names(expRows, "obs"), Names(expCols, "var") }.Where(t => t.Length > 0));
                throw new InvalidDataException(what == "X"
                    ? $"X is declared {rows} x {cols} but {have} (X must be observations x genes)"
                    : $"{what} is declared {rows} x {cols} but X is {expRows} x {expCols}");
            }
        }

        private static CsrMatrix ReadMatrix(IH5Object o, string what, long? expRows, long? expCols)
        {
            try
            {
                if (o is IH5Dataset ds)
                {
                    var dims = Dims(ds);
                    if (dims.Length != 2) throw new InvalidDataException($"{what} is a {dims.Length}-dimensional array, not a matrix");
                    if (!NumericClass(ds.Type)) throw new InvalidDataException($"{what} holds {ds.Type.Class} values, not numbers");
                    CheckShape(what, dims[0], dims[1], expRows, expCols);
                    int rows = checked((int)dims[0]), cols = checked((int)dims[1]);
                    // the dense values plus, at worst, every one of them in the sparse copy (index + value)
                    ReadBudget.Need(8.0 * rows * cols, $"{what} (declared {rows} x {cols} dense) as a sparse matrix");
                    var v = ReadFloats(ds);
                    var ptr = new int[rows + 1];
                    int nnz = 0;
                    foreach (var f in v) if (f != 0) nnz++;
                    var idx = new int[nnz]; var val = new float[nnz];
                    int k = 0;
                    for (int r = 0; r < rows; r++)
                    {
                        long off = (long)r * cols;
                        for (int c = 0; c < cols; c++)
                        {
                            float f = v[off + c];
                            if (f != 0) { idx[k] = c; val[k] = f; k++; }
                        }
                        ptr[r + 1] = k;
                    }
                    return new CsrMatrix(rows, cols, ptr, idx, val);
                }
                var g = (IH5Group)o;
                var enc = AttrString(g, "encoding-type");
                if (enc == null && AttrString(g, "h5sparse_format") is { } fmt) enc = fmt + "_matrix"; // anndata < 0.7
                if (enc is not ("csr_matrix" or "csc_matrix"))
                    throw new InvalidDataException($"{what} has encoding '{enc ?? "(none)"}', expected csr_matrix, csc_matrix or a dense array");
                var shape = AttrLongs(g, "shape") ?? AttrLongs(g, "h5sparse_shape")
                    ?? throw new InvalidDataException($"{what} has no shape attribute");
                if (shape.Length != 2) throw new InvalidDataException($"{what} shape has {shape.Length} entries, expected 2");
                if (shape[0] < 0 || shape[1] < 0) throw new InvalidDataException($"{what} shape {shape[0]} x {shape[1]} is negative");
                CheckShape(what, (ulong)shape[0], (ulong)shape[1], expRows, expCols);
                IH5Dataset Need(string n) => Child(g, n) as IH5Dataset ?? throw new InvalidDataException($"{what} has no '{n}' dataset");
                var (dataDs, indicesDs, indptrDs) = (Need("data"), Need("indices"), Need("indptr"));
                ulong Length(IH5Dataset d, string n) => Dims(d) is [var len] ? len : throw new InvalidDataException($"{what}/{n} is not a one-dimensional array");
                ulong declaredNnz = Length(dataDs, "data"), major = (ulong)(enc == "csr_matrix" ? shape[0] : shape[1]);
                if (Length(indicesDs, "indices") != declaredNnz)
                    throw new InvalidDataException($"{what} declares {declaredNnz} values but {Length(indicesDs, "indices")} indices");
                if (Length(indptrDs, "indptr") != major + 1)
                    throw new InvalidDataException($"{what} is declared {shape[0]} x {shape[1]} ({enc}) but its indptr has {Length(indptrDs, "indptr")} entries, not {major + 1}");
                var data = ReadFloats(dataDs);
                var indices = ReadInts(indicesDs);
                var indptr = ReadInts(indptrDs);
                int nr = checked((int)shape[0]), nc = checked((int)shape[1]);
                return enc == "csr_matrix"
                    ? new CsrMatrix(nr, nc, indptr, indices, data)
                    : new CsrMatrix(nc, nr, indptr, indices, data).Transpose();
            }
            catch (ArgumentException e) { throw new InvalidDataException($"{what} is not a valid sparse matrix: {e.Message}"); }
            catch (OverflowException) { throw new InvalidDataException($"{what} is too large (more than 2^31 rows, columns or values)"); }
        }

        private Table ReadFrame(IH5Object? o, int n, string frame, string what, string axis, IH5Group? uns)
        {
            if (o == null) return new Table(Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray(), what);
            if (o is not IH5Group g)
                throw new InvalidDataException($"{frame} is stored in the anndata < 0.7 layout (one compound dataset), which is not supported; re-save the file with anndata >= 0.7");
            var idxKey = AttrString(g, "_index") ?? (g.LinkExists("_index") ? "_index" : g.LinkExists("index") ? "index" : null);
            string[] index;
            if (idxKey == null) index = Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
            else
            {
                var ds = Child(g, idxKey) as IH5Dataset ?? throw new InvalidDataException($"{frame} index dataset '{idxKey}' is missing");
                index = Labels(ds);
                if (index.Length != n) throw new InvalidDataException($"{frame} has {index.Length} names but X has {n} {axis}");
                // anndata allows repeated gene names (it warns); Tessera renames them as var_names_make_unique does, like its other readers
                if (frame == "var") index = GeneIndex.MakeUnique(index, "gene name", options);
            }
            var t = new Table(index, what);
            var order = AttrStrings(g, "column-order")
                ?? Children(g).Select(c => c.Name).Where(c => c != idxKey && c != "__categories").ToArray();
            foreach (var col in order)
            {
                var co = Child(g, col) ?? throw new InvalidDataException($"{frame} column '{col}' is listed in column-order but missing");
                var column = ReadColumn(g, co, n, $"{frame} column '{col}'", uns);
                if (column != null) t.Set(col, column);
            }
            return t;
        }

        private Column? ReadColumn(IH5Group frame, IH5Object o, int n, string what, IH5Group? uns)
        {
            if (o is IH5Group g)
            {
                var enc = AttrString(g, "encoding-type");
                if (enc == "categorical" || (enc == null && g.LinkExists("codes") && g.LinkExists("categories")))
                {
                    var codes = ReadInts(NeedDataset(g, "codes", what));
                    var cats = Labels(NeedDataset(g, "categories", what));
                    return Categorical(codes, cats, AttrBool(g, "ordered") ?? false, n, what);
                }
                if (enc is "nullable-integer" or "nullable-boolean")
                {
                    var values = ReadDoubles(NeedDataset(g, "values", what));
                    CheckLength(values.Length, n, what);
                    var mask = Child(g, "mask") is IH5Dataset md ? ReadBools(md) : new bool[n];
                    CheckLength(mask.Length, n, what);
                    if (enc == "nullable-integer")
                        return new NumericColumn(values.Select((v, i) => mask[i] ? double.NaN : v).ToArray(), isInteger: true);
                    if (!mask.Any(m => m)) return new BoolColumn(values.Select(v => v != 0).ToArray());
                    // BoolColumn has no missing value: keep the NAs as a False/True categorical
                    return new CategoricalColumn(values.Select((v, i) => mask[i] ? -1 : v != 0 ? 1 : 0).ToArray(), ["False", "True"]);
                }
                return null; // other encodings (e.g. awkward arrays) have no Column counterpart
            }
            var ds = (IH5Dataset)o;
            var dims = Dims(ds);
            if (dims.Length != 1) return null;
            CheckLength((long)dims[0], n, what);
            var type = ds.Type;
            if (IsString(type)) return new StringColumn(ReadStrings(ds));
            if (IsBool(type)) return new BoolColumn(ReadBools(ds));
            if (!NumericClass(type)) return null;
            if (IsInteger(type))
            {
                // anndata 0.7: codes with a "categories" reference to obs/__categories/<col>
                if (frame.LinkExists("__categories/" + ds.Name) && frame.Get("__categories/" + ds.Name) is IH5Dataset cd)
                    return Categorical(ReadInts(ds), Labels(cd), AttrBool(cd, "ordered") ?? false, n, what);
                if (ds.AttributeExists("categories"))
                    throw new InvalidDataException($"{what} refers to categories that are not stored under __categories");
                // anndata 0.6: codes in the column, labels in uns["<col>_categories"]
                var key = ds.Name + "_categories";
                if (uns != null && Child(uns, key) is IH5Dataset ud && IsString(ud.Type))
                {
                    _consumedUns.Add(key);
                    return Categorical(ReadInts(ds), Labels(ud), false, n, what);
                }
                return new NumericColumn(ReadDoubles(ds), isInteger: true);
            }
            return new NumericColumn(ReadDoubles(ds));
        }

        private static IH5Dataset NeedDataset(IH5Group g, string name, string what) =>
            Child(g, name) as IH5Dataset ?? throw new InvalidDataException($"{what} has no '{name}' dataset");

        private static void CheckLength(long len, int n, string what)
        {
            if (len != n) throw new InvalidDataException($"{what} has {len} values but the table has {n} rows");
        }

        private static CategoricalColumn Categorical(int[] codes, string[] cats, bool ordered, int n, string what)
        {
            CheckLength(codes.Length, n, what);
            try { return new CategoricalColumn(codes, cats, ordered); }
            catch (ArgumentException e) { throw new InvalidDataException($"{what}: {e.Message}"); }
        }

        /// <summary>Text of a string dataset, or numbers formatted as pandas prints them (numeric categories or index).</summary>
        private static string[] Labels(IH5Dataset ds)
        {
            if (IsString(ds.Type)) return ReadStrings(ds);
            if (IsBool(ds.Type)) return ReadBools(ds).Select(b => b ? "True" : "False").ToArray();
            if (NumericClass(ds.Type))
            {
                bool integer = IsInteger(ds.Type);
                return ReadDoubles(ds).Select(v => FormatNumber(v, integer)).ToArray();
            }
            throw new InvalidDataException($"'{ds.Name}' holds {ds.Type.Class} values, not labels");
        }

        private Dictionary<string, object> ReadDict(IH5Group g, string path)
        {
            var dict = new Dictionary<string, object>(StringComparer.Ordinal);
            foreach (var c in Children(g))
            {
                var p = path.Length == 0 ? c.Name : path + "/" + c.Name;
                if (c is IH5Group cg)
                {
                    var enc = AttrString(cg, "encoding-type");
                    if (enc is null or "dict") dict[c.Name] = ReadDict(cg, p);
                    continue; // dataframes, sparse matrices, categoricals in uns: no uns value type for them
                }
                var ds = (IH5Dataset)c;
                var parts = p.Split('/');
                if (parts.Length == 4 && parts[0] == "spatial" && parts[2] == "images" && TryImage(ds, out var w, out var h, out var rgb))
                {
                    _images.Add((parts[1], parts[3], w, h, rgb));
                    continue;
                }
                var v = UnsValue(ds);
                if (v != null) dict[c.Name] = v;
            }
            return dict;
        }

        private static object? UnsValue(IH5Dataset ds)
        {
            var dims = Dims(ds);
            if (dims.Length > 1) return null; // matrices in uns have no Uns value type
            bool scalar = dims.Length == 0;
            var t = ds.Type;
            if (IsString(t)) { var s = ReadStrings(ds); return scalar ? s[0] : s; }
            if (IsBool(t)) { var b = ReadBools(ds); return scalar ? b[0] : b; }
            if (IsInteger(t)) { var l = ReadLongs(ds); return scalar ? l[0] : l; }
            if (t.Class == H5DataTypeClass.FloatingPoint) { var d = ReadDoubles(ds); return scalar ? d[0] : d; }
            return null;
        }

        private static bool TryImage(IH5Dataset ds, out int w, out int h, out byte[] rgb)
        {
            w = h = 0; rgb = [];
            var dims = Dims(ds);
            if (dims.Length is not (2 or 3) || !NumericClass(ds.Type)) return false;
            int ch = dims.Length == 3 ? (int)dims[2] : 1;
            if (ch is not (1 or 3 or 4)) return false;
            h = checked((int)dims[0]); w = checked((int)dims[1]);
            ReadBudget.Need(3.0 * w * h, $"image '{ds.Name}' (declared {w} x {h})");
            var t = ds.Type;
            var v = ReadDoubles(ds);
            // float images (matplotlib/scanpy imread of a PNG) are in 0..1; 16-bit integer images span 0..65535
            double scale = t.Class == H5DataTypeClass.FloatingPoint ? 255.0 : (t.Size == 2 ? 255.0 / 65535.0 : 1.0);
            rgb = new byte[(long)w * h * 3];
            for (long p = 0; p < (long)w * h; p++)
                for (int c = 0; c < 3; c++)
                {
                    double x = v[p * ch + (ch == 1 ? 0 : c)] * scale;
                    rgb[p * 3 + c] = (byte)Math.Clamp(Math.Round(x), 0, 255);
                }
            return true;
        }

        private void AttachImages(SpatialData d)
        {
            if (_images.Count == 0) return;
            var spatial = d.Uns.TryGetValue("spatial", out var s) ? s as Dictionary<string, object> : null;
            bool several = _images.Select(i => i.Lib).Distinct().Count() > 1;
            foreach (var (lib, name, w, h, rgb) in _images)
            {
                double scale = 1;
                if (spatial?.GetValueOrDefault(lib) is Dictionary<string, object> libd
                    && libd.GetValueOrDefault("scalefactors") is Dictionary<string, object> sf
                    && sf.GetValueOrDefault($"tissue_{name}_scalef") is { } f)
                    scale = Convert.ToDouble(f, CultureInfo.InvariantCulture);
                if (!(scale > 0)) throw new InvalidDataException($"uns['spatial']['{lib}']['scalefactors']['tissue_{name}_scalef'] is {scale}, not a positive scale factor");
                d.Images.Add(new TissueImage(several ? $"{lib}/{name}" : name, w, h, rgb, scale));
            }
            // drop the now-empty images dictionaries
            if (spatial != null)
                foreach (var lib in spatial.Values.OfType<Dictionary<string, object>>())
                    if (lib.GetValueOrDefault("images") is Dictionary<string, object> im && im.Count == 0) lib.Remove("images");
        }
    }

    // ============================== writing ==============================

    /// <summary>
    /// Writes <paramref name="data"/> as an .h5ad file that anndata 0.8+ and scanpy read (atomically: temporary file, then rename).
    /// </summary>
    public static void Write(SpatialData data, string path)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(path);
        var file = new H5File { Attributes = Enc("anndata", "0.1.0") };
        file["X"] = Sparse(data.X);
        file["obs"] = Frame(data.Obs, "obs");
        file["var"] = Frame(data.Var, "var");
        file["obsm"] = DenseGroup(data.Obsm, "obsm", data.NObs, "observations");
        var layers = DictGroup();
        foreach (var (k, l) in data.Layers)
        {
            CheckKey(k, "layer name");
            if (l.Rows != data.NObs || l.Cols != data.NVars)
                throw new TesseraException($"layer '{k}' is {l.Rows} x {l.Cols} but X is {data.NObs} x {data.NVars}");
            layers[k] = Sparse(l);
        }
        file["layers"] = layers;
        file["varm"] = DenseGroup(data.Varm, "varm", data.NVars, "genes");
        file["obsp"] = DictGroup();
        file["varp"] = DictGroup();
        file["uns"] = UnsGroup(UnsWithImages(data), "");
        AtomicFile.Write(path, tmp => file.Write(tmp));
    }

    // obsm / varm: one 2-d dataset per matrix, each with a row per observation / gene.
    private static H5Group DenseGroup(Dictionary<string, DenseMatrix> matrices, string what, int rows, string rowName)
    {
        var g = DictGroup();
        foreach (var (k, m) in matrices)
        {
            CheckKey(k, $"{what} key");
            if (m.Rows != rows) throw new TesseraException($"{what}['{k}'] has {m.Rows} rows but the data has {rows} {rowName}");
            g[k] = Ds(m.Data, [(ulong)m.Rows, (ulong)m.Cols]);
        }
        return g;
    }

    private static Dictionary<string, object> Enc(string type, string version) => new()
    {
        ["encoding-type"] = type,
        ["encoding-version"] = version,
    };

    private static H5Group DictGroup() => new() { Attributes = Enc("dict", "0.1.0") };

    private static H5Dataset Ds(object values, ulong[]? dims = null, string type = "array") =>
        new(values, fileDims: dims) { Attributes = Enc(type, "0.2.0") };

    private static H5Dataset Strings(IEnumerable<string?> values) => Ds(values.Select(v => v ?? "").ToArray(), type: "string-array");

    private static H5Bool[] Bools(IEnumerable<bool> values) => values.Select(b => b ? H5Bool.TRUE : H5Bool.FALSE).ToArray();

    private static void CheckKey(string key, string what)
    {
        if (string.IsNullOrEmpty(key) || key.Contains('/'))
            throw new TesseraException($"{what} '{key}' cannot be stored in h5ad (empty or contains '/')");
    }

    private static H5Group Sparse(CsrMatrix m)
    {
        var g = new H5Group { Attributes = Enc("csr_matrix", "0.1.0") };
        g.Attributes["shape"] = new long[] { m.Rows, m.Cols };
        // CsrMatrix arrays may be longer than nnz only through IndPtr; write exactly nnz entries
        g["data"] = m.Data.Length == m.Nnz ? m.Data : m.Data[..m.Nnz];
        g["indices"] = m.Indices.Length == m.Nnz ? m.Indices : m.Indices[..m.Nnz];
        g["indptr"] = m.IndPtr;
        return g;
    }

    private static H5Group Frame(Table t, string frame)
    {
        var g = new H5Group { Attributes = Enc("dataframe", "0.2.0") };
        g.Attributes["_index"] = "_index";
        g.Attributes["column-order"] = t.ColumnNames.ToArray();
        g["_index"] = Strings(t.Index);
        foreach (var (name, col) in t.Columns)
        {
            CheckKey(name, $"{frame} column");
            if (name == "_index") throw new TesseraException($"{frame} column name '_index' is reserved by anndata");
            g[name] = col switch
            {
                NumericColumn nc when nc.IsInteger && nc.Values.All(v => double.IsFinite(v) && v == Math.Floor(v) && Math.Abs(v) < 9.2e18)
                    => Ds(nc.Values.Select(v => (long)v).ToArray()),
                NumericColumn nc => Ds(nc.Values),
                BoolColumn bc => Ds(Bools(bc.Values)),
                StringColumn sc => Strings(sc.Values),
                CategoricalColumn cc => Categorical(cc),
                _ => throw new TesseraException($"{frame} column '{name}' has type {col.GetType().Name}, which h5ad writing does not support"),
            };
        }
        return g;
    }

    private static H5Group Categorical(CategoricalColumn c)
    {
        var g = new H5Group { Attributes = Enc("categorical", "0.2.0") };
        g.Attributes["ordered"] = c.Ordered ? H5Bool.TRUE : H5Bool.FALSE;
        // pandas' code width: int8 below 127 categories, then int16, then int32
        int n = c.Categories.Length;
        g["codes"] = n < sbyte.MaxValue ? Ds(c.Codes.Select(x => (sbyte)x).ToArray())
            : n < short.MaxValue ? Ds(c.Codes.Select(x => (short)x).ToArray())
            : Ds(c.Codes.ToArray());
        g["categories"] = Strings(c.Categories);
        return g;
    }

    private sealed record ImageEntry(TissueImage Image);

    /// <summary>Deep copy of uns with the images placed scanpy-style (the input is never modified).</summary>
    private static Dictionary<string, object> UnsWithImages(SpatialData data)
    {
        var uns = CopyDict(data.Uns);
        if (data.Images.Count == 0) return uns;
        var spatial = uns.GetValueOrDefault("spatial") as Dictionary<string, object> ?? new Dictionary<string, object>(StringComparer.Ordinal);
        uns["spatial"] = spatial;
        var libs = spatial.Where(kv => kv.Value is Dictionary<string, object>).Select(kv => kv.Key).ToList();
        string defaultLib = libs.Count == 1 ? libs[0] : DefaultLibrary;
        foreach (var img in data.Images)
        {
            int slash = img.Name.IndexOf('/');
            var (lib, name) = slash > 0 ? (img.Name[..slash], img.Name[(slash + 1)..]) : (defaultLib, img.Name);
            CheckKey(lib, "image library"); CheckKey(name, "image name");
            var libd = Sub(spatial, lib);
            Sub(libd, "images")[name] = new ImageEntry(img);
            Sub(libd, "scalefactors")[$"tissue_{name}_scalef"] = img.Scale;
        }
        return uns;

        static Dictionary<string, object> Sub(Dictionary<string, object> d, string key)
        {
            if (d.GetValueOrDefault(key) is Dictionary<string, object> e) return e;
            var n = new Dictionary<string, object>(StringComparer.Ordinal);
            d[key] = n;
            return n;
        }
    }

    private static Dictionary<string, object> CopyDict(IDictionary<string, object> d)
    {
        var c = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (k, v) in d) c[k] = v is IDictionary<string, object> sub ? CopyDict(sub) : v;
        return c;
    }

    private static H5Group UnsGroup(Dictionary<string, object> d, string path)
    {
        var g = DictGroup();
        foreach (var (k, v) in d)
        {
            var p = path.Length == 0 ? k : path + "/" + k;
            CheckKey(k, "uns key");
            object? node = v switch
            {
                null => null,
                Dictionary<string, object> sub => UnsGroup(sub, p),
                ImageEntry ie => Ds(ie.Image.Rgb, [(ulong)ie.Image.Height, (ulong)ie.Image.Width, 3]),
                string s => Ds(s, type: "string"),
                double or float => Ds(Convert.ToDouble(v, CultureInfo.InvariantCulture), type: "numeric-scalar"),
                long or int or short or sbyte or byte or ushort or uint => Ds(Convert.ToInt64(v, CultureInfo.InvariantCulture), type: "numeric-scalar"),
                bool b => Ds(b ? H5Bool.TRUE : H5Bool.FALSE, type: "numeric-scalar"),
                string?[] sa => Strings(sa),
                double[] da => Ds(da),
                float[] fa => Ds(fa),
                long[] la => Ds(la),
                int[] ia => Ds(ia),
                bool[] ba => Ds(Bools(ba)),
                IDictionary<string, object> sub => UnsGroup(CopyDict(sub), p),
                _ => throw new TesseraException($"uns['{p.Replace("/", "']['")}'] is a {v.GetType().Name}, which h5ad writing does not support"),
            };
            if (node != null) g[k] = node;
        }
        return g;
    }
}
