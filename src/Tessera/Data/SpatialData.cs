namespace Tessera.Data;

/// <summary>
/// AnnData-shaped container for one spatial transcriptomics slice (or several concatenated):
/// counts X (CSR float32, observations × genes), optional layers, obs/var tables, obsm matrices
/// (obsm["spatial"] holds coordinates), uns (nested dictionary) and tissue images.
/// </summary>
/// <remarks>
/// Subsetting (<see cref="Subset"/>) always returns a copy: the matrices are not shared with the source,
/// so modifying the result never changes the input.
/// </remarks>
public sealed class SpatialData
{
    /// <summary>The obsm key holding spatial coordinates.</summary>
    public const string SpatialKey = "spatial";

    /// <summary>Expression matrix (observations × genes).</summary>
    public CsrMatrix X { get; set; }
    /// <summary>Additional matrices with the shape of X (e.g. "counts").</summary>
    public Dictionary<string, CsrMatrix> Layers { get; } = new(StringComparer.Ordinal);
    /// <summary>Per-observation table; its index holds barcodes / cell ids.</summary>
    public Table Obs { get; private set; }
    /// <summary>Per-gene table; its index holds gene names.</summary>
    public Table Var { get; private set; }
    /// <summary>Per-observation matrices (coordinates, PCA, embeddings).</summary>
    public Dictionary<string, DenseMatrix> Obsm { get; } = new(StringComparer.Ordinal);
    /// <summary>Per-gene matrices (gene embeddings, loadings), one row per gene.</summary>
    public Dictionary<string, DenseMatrix> Varm { get; } = new(StringComparer.Ordinal);
    /// <summary>Unstructured metadata: values are string, double, long, bool, arrays of those, or nested dictionaries.</summary>
    public Dictionary<string, object> Uns { get; } = new(StringComparer.Ordinal);
    /// <summary>Tissue images (hires, lowres...).</summary>
    public List<TissueImage> Images { get; } = [];

    /// <summary>Number of observations (spots or cells).</summary>
    public int NObs => X.Rows;
    /// <summary>Number of genes.</summary>
    public int NVars => X.Cols;
    /// <summary>Observation names.</summary>
    public string[] ObsNames => Obs.Index;
    /// <summary>Gene names.</summary>
    public string[] VarNames => Var.Index;

    /// <summary>Creates a dataset; obs and var row counts must match X.</summary>
    public SpatialData(CsrMatrix x, Table obs, Table var)
    {
        if (obs.Count != x.Rows) throw new TesseraException($"X has {x.Rows} rows but obs has {obs.Count} names");
        if (var.Count != x.Cols) throw new TesseraException($"X has {x.Cols} columns but var has {var.Count} names");
        X = x; Obs = obs; Var = var;
    }

    /// <summary>Coordinates (obsm["spatial"]), or a clear error when the data has none.</summary>
    public DenseMatrix Spatial => Obsm.TryGetValue(SpatialKey, out var s) ? s
        : throw new TesseraException("the data has no spatial coordinates (obsm['spatial']); give the columns that hold them (Coords)");

    /// <summary>An obsm entry; a clear error listing the available keys (and how to make X_pca) when absent.</summary>
    public DenseMatrix GetObsm(string key) => Obsm.TryGetValue(key, out var m) ? m
        : throw new TesseraException($"obsm '{key}' not found; available: {(Obsm.Count == 0 ? "(none)" : string.Join(", ", Obsm.Keys))} (PreprocessPipeline.Run writes X_pca)");

    /// <summary>Whether coordinates are present.</summary>
    public bool HasSpatial => Obsm.ContainsKey(SpatialKey);

    /// <summary>Sets an obsm entry, checking its row count.</summary>
    public void SetObsm(string key, DenseMatrix m)
    {
        if (m.Rows != NObs) throw new ArgumentException($"obsm['{key}'] has {m.Rows} rows but the data has {NObs} observations");
        Obsm[key] = m;
    }

    /// <summary>Sets a varm entry, checking its row count.</summary>
    public void SetVarm(string key, DenseMatrix m)
    {
        if (m.Rows != NVars) throw new ArgumentException($"varm['{key}'] has {m.Rows} rows but the data has {NVars} genes");
        Varm[key] = m;
    }

    /// <summary>
    /// The length of one coordinate unit of obsm["spatial"] in µm (uns["microns_per_unit"], which the platform readers
    /// set), or null when the data do not record it.
    /// </summary>
    public double? MicronsPerUnit => Uns.TryGetValue("microns_per_unit", out var v) && v is double d && d > 0 && double.IsFinite(d) ? d : null;

    /// <summary>Index of a gene by name; a clear error when unknown.</summary>
    public int GeneIndex(string gene)
    {
        int i = Var.IndexOf(gene);
        return i >= 0 ? i : throw new TesseraException($"unknown gene '{gene}'");
    }

    /// <summary>
    /// Copy restricted to the given observations and genes (null = all), in the given order.
    /// X, layers, obs, var, obsm and varm are subset; uns and images are carried over (shared references).
    /// </summary>
    public SpatialData Subset(IReadOnlyList<int>? obs = null, IReadOnlyList<int>? vars = null)
    {
        var x = X.Subset(obs, vars);
        var d = new SpatialData(x, obs == null ? Obs.Clone() : Obs.Take(obs), vars == null ? Var.Clone() : Var.Take(vars));
        foreach (var (k, l) in Layers) d.Layers[k] = l.Subset(obs, vars);
        foreach (var (k, m) in Obsm) d.Obsm[k] = obs == null ? m.Clone() : m.SubsetRows(obs);
        foreach (var (k, m) in Varm) d.Varm[k] = vars == null ? m.Clone() : m.SubsetRows(vars);
        foreach (var (k, v) in Uns) d.Uns[k] = v;
        d.Images.AddRange(Images);
        return d;
    }

    /// <summary>Copy restricted to observations where the mask is true.</summary>
    public SpatialData SubsetObs(bool[] mask)
    {
        if (mask.Length != NObs) throw new ArgumentException($"mask has {mask.Length} entries but the data has {NObs} observations");
        var idx = Enumerable.Range(0, NObs).Where(i => mask[i]).ToArray();
        if (idx.Length == 0) throw new TesseraException("the selection is empty: no observations remain");
        return Subset(idx, null);
    }

    /// <summary>Copy restricted to genes where the mask is true.</summary>
    public SpatialData SubsetVars(bool[] mask)
    {
        if (mask.Length != NVars) throw new ArgumentException($"mask has {mask.Length} entries but the data has {NVars} genes");
        var idx = Enumerable.Range(0, NVars).Where(i => mask[i]).ToArray();
        if (idx.Length == 0) throw new TesseraException("the selection is empty: no genes remain");
        return Subset(null, idx);
    }

    /// <summary>
    /// Concatenates slices on their shared genes (inner join, in the first slice's order). Adds an obs column
    /// <paramref name="batchKey"/> (categorical of <paramref name="batchNames"/>); observation names are made unique
    /// by suffixing "-batchname" when they collide. obs columns and obsm keys present in every slice are kept.
    /// </summary>
    public static SpatialData Concat(IReadOnlyList<SpatialData> slices, IReadOnlyList<string>? batchNames = null, string batchKey = "batch")
    {
        if (slices.Count == 0) throw new TesseraException("nothing to concatenate");
        batchNames ??= Enumerable.Range(0, slices.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (batchNames.Count != slices.Count) throw new ArgumentException($"{slices.Count} slices but {batchNames.Count} batch names");
        if (batchNames.Distinct().Count() != batchNames.Count) throw new TesseraException("batch names must be unique");
        var shared = slices[0].VarNames.Where(g => slices.All(s => s.Var.IndexOf(g) >= 0)).ToArray();
        if (shared.Length == 0) throw new TesseraException("the slices share no genes");
        var parts = slices.Select(s => s.Subset(null, shared.Select(g => s.Var.IndexOf(g)).ToArray())).ToList();
        var allNames = parts.SelectMany(p => p.ObsNames).ToList();
        bool collide = allNames.Distinct().Count() != allNames.Count;
        var names = parts.SelectMany((p, b) => p.ObsNames.Select(n => collide ? $"{n}-{batchNames[b]}" : n)).ToArray();
        var obs = new Table(names, "observation name");
        var batchCodes = parts.SelectMany((p, b) => Enumerable.Repeat(b, p.NObs)).ToArray();
        foreach (var col in parts[0].Obs.ColumnNames.Where(c => parts.All(p => p.Obs.Contains(c))))
        {
            var cols = parts.Select(p => p.Obs[col]).ToList();
            if (cols.All(c => c is NumericColumn))
                obs.Set(col, new NumericColumn(cols.SelectMany(c => ((NumericColumn)c).Values).ToArray(), cols.All(c => ((NumericColumn)c).IsInteger)));
            else if (cols.All(c => c is BoolColumn))
                obs.Set(col, new BoolColumn(cols.SelectMany(c => ((BoolColumn)c).Values).ToArray()));
            else
            {
                var labels = parts.SelectMany(p => p.Obs.Labels(col)).ToList();
                obs.Set(col, cols.All(c => c is CategoricalColumn) ? CategoricalColumn.FromLabels(labels) : new StringColumn(labels.ToArray()));
            }
        }
        obs.Set(batchKey, new CategoricalColumn(batchCodes, batchNames.ToArray()));
        var d = new SpatialData(CsrMatrix.VStack(parts.Select(p => p.X).ToList()), obs, parts[0].Var.Clone());
        foreach (var key in parts[0].Layers.Keys.Where(k => parts.All(p => p.Layers.ContainsKey(k))))
            d.Layers[key] = CsrMatrix.VStack(parts.Select(p => p.Layers[key]).ToList());
        foreach (var key in parts[0].Obsm.Keys.Where(k => parts.All(p => p.Obsm.TryGetValue(k, out var m) && m.Cols == parts[0].Obsm[k].Cols)))
            d.Obsm[key] = DenseMatrix.VStack(parts.Select(p => p.Obsm[key]).ToList());
        return d;
    }
}
