using PureHDF;
using Tessera.Data;
using static Tessera.IO.Hdf5;

namespace Tessera.IO;

/// <summary>
/// Reads Cell Ranger / Space Ranger feature-barcode matrices in HDF5 form (filtered_feature_bc_matrix.h5,
/// raw_feature_bc_matrix.h5, raw_probe_bc_matrix.h5).
/// </summary>
/// <remarks>
/// Supported layouts: format v3 (Cell Ranger ≥ 3, Space Ranger: group "matrix" with barcodes, data, indices,
/// indptr, shape and features/{id, name, feature_type}); Space Ranger 2.1 probe-level files (same layout; the
/// features are probes: <see cref="TenXMatrix.FeatureIds"/> are probe ids, <see cref="TenXMatrix.FeatureNames"/>
/// probe names, the extra gene_id/gene_name columns are not returned); and format v2 (Cell Ranger 2: one group per
/// genome with barcodes, genes, gene_names, data, indices, indptr, shape; a single genome only).
/// The file stores features × barcodes in CSC, which is exactly barcodes × features in CSR, so no transpose is done.
/// All features are kept, whatever their type (Gene Expression, Antibody Capture, CRISPR...); filter on
/// <see cref="TenXMatrix.FeatureTypes"/> (null for v2 files, which have none) to keep only gene expression.
/// </remarks>
public static class TenXH5
{
    /// <summary>Reads a 10x HDF5 matrix. Bad or unreadable files raise a <see cref="TesseraException"/> naming the file.</summary>
    /// <remarks>
    /// Every dataset's declared length is checked against the matrix's shape, and the memory it needs against
    /// <see cref="ReadOptions.MaxMemory"/>, before it is read.
    /// </remarks>
    public static TenXMatrix Read(string path, ReadOptions? options = null) => Read(path, options, null).Matrix;

    /// <summary>
    /// Given the features (ids, names, types or null), the group of each: negative to keep it in the matrix, g ≥ 0 to
    /// sum it per barcode into group g instead (control probes); null keeps every feature.
    /// </summary>
    internal delegate int[]? FeatureSplit(string[] ids, string[] names, string[]? types);

    /// <summary>
    /// Reads a 10x HDF5 matrix, leaving the features that <paramref name="split"/> assigns to a group out of the matrix
    /// while it is read (their per-barcode sums come back in Sums[group]); the matrix holds the kept features only.
    /// Splitting while reading costs a second pass over the indices instead of a second matrix.
    /// </summary>
    internal static (TenXMatrix Matrix, double[][] Sums) Read(string path, ReadOptions? options, FeatureSplit? split)
    {
        ArgumentNullException.ThrowIfNull(path);
        TesseraException Fail(string problem) => new($"cannot read 10x HDF5 file '{path}': {problem}");
        using var budget = ReadBudget.Enter(options);
        using var file = Open(path, Fail);
        try
        {
            return ReadFile(file, split);
        }
        catch (InvalidDataException e) { throw new TesseraException(Fail(e.Message).Message, e); }
        catch (Exception e) when (e is not (OutOfMemoryException or TesseraException))
        {
            throw new TesseraException(Fail($"the file is corrupt or not a 10x matrix ({OneLine(e)})").Message, e);
        }
    }

    private static (TenXMatrix, double[][]) ReadFile(IH5Group root, FeatureSplit? split)
    {
        if (Child(root, "matrix") is IH5Group m)
        {
            var f = Child(m, "features") as IH5Group ?? throw new InvalidDataException("group 'matrix' has no 'features' group");
            long nf = Shape(m, "matrix")[0];
            var ids = ReadStrings(Declared(Need(f, "id", "matrix/features"), nf, "the feature ids", "features"));
            var names = Child(f, "name") is IH5Dataset nd ? ReadStrings(Declared(nd, nf, "the feature names", "features")) : ids;
            var types = Child(f, "feature_type") is IH5Dataset td ? ReadStrings(Declared(td, nf, "the feature types", "features")) : null;
            return Build(m, "matrix", ids, names, types, split);
        }
        // v2: one group per genome
        var genomes = Children(root).OfType<IH5Group>().Where(g => g.LinkExists("barcodes") && g.LinkExists("indptr")).ToList();
        if (genomes.Count == 0) throw new InvalidDataException("it has neither a 'matrix' group (format v3) nor a genome group (format v2)");
        if (genomes.Count > 1)
            throw new InvalidDataException($"it holds {genomes.Count} genomes ({string.Join(", ", genomes.Select(g => g.Name))}); multi-genome v2 files are not supported");
        var gg = genomes[0];
        long ng = Shape(gg, gg.Name)[0];
        var gids = ReadStrings(Declared(Need(gg, "genes", gg.Name), ng, "the feature ids", "features"));
        var gnames = Child(gg, "gene_names") is IH5Dataset gn ? ReadStrings(Declared(gn, ng, "the feature names", "features")) : gids;
        return Build(gg, gg.Name, gids, gnames, null, split);
    }

    private static IH5Dataset Need(IH5Group g, string name, string where) =>
        Child(g, name) as IH5Dataset ?? throw new InvalidDataException($"group '{where}' has no '{name}' dataset");

    /// <summary>The (features, barcodes) shape, checked to be two non-negative numbers.</summary>
    private static long[] Shape(IH5Group g, string where)
    {
        var shape = ReadLongs(Declared(Need(g, "shape", where), 2, $"'{where}/shape'", "numbers"));
        if (shape.Any(v => v < 0)) throw new InvalidDataException($"'{where}/shape' is {shape[0]} x {shape[1]}, which is negative");
        return shape;
    }

    /// <summary>Refuses a one-dimensional dataset whose declared length is not <paramref name="expected"/>, before it is read.</summary>
    private static IH5Dataset Declared(IH5Dataset d, long expected, string what, string unit)
    {
        var dims = Dims(d);
        if (dims.Length != 1) throw new InvalidDataException($"{what} is a {dims.Length}-dimensional array, expected a list");
        if ((long)Math.Min(dims[0], long.MaxValue) != expected) throw new InvalidDataException($"{what}: {dims[0]} entries declared, but the matrix's shape needs {expected} ({unit})");
        return d;
    }

    private static (TenXMatrix, double[][]) Build(IH5Group g, string where, string[] ids, string[] names, string[]? types, FeatureSplit? split)
    {
        var shape = Shape(g, where);
        long nFeatures = shape[0], nBarcodes = shape[1];
        var barcodes = ReadStrings(Declared(Need(g, "barcodes", where), nBarcodes, $"'{where}/barcodes'", "barcodes"));
        if (barcodes.Length != nBarcodes) throw new InvalidDataException($"'{where}/barcodes' has {barcodes.Length} entries but shape says {nBarcodes} barcodes");
        if (ids.Length != nFeatures) throw new InvalidDataException($"the feature ids have {ids.Length} entries but shape says {nFeatures} features");
        if (names.Length != nFeatures) throw new InvalidDataException($"the feature names have {names.Length} entries but shape says {nFeatures} features");
        if (types != null && types.Length != nFeatures) throw new InvalidDataException($"the feature types have {types.Length} entries but shape says {nFeatures} features");
        var dataDs = Need(g, "data", where);
        long nnz = Dims(dataDs) is [var len] ? (long)Math.Min(len, long.MaxValue) : throw new InvalidDataException($"'{where}/data' is not a list");
        var indicesDs = Declared(Need(g, "indices", where), nnz, $"'{where}/indices'", "values (the length of data)");
        var indptrDs = Declared(Need(g, "indptr", where), nBarcodes + 1, $"'{where}/indptr'", "barcodes + 1");
        var group = split?.Invoke(ids, names, types);
        if (group != null && group.Length != nFeatures) throw new InvalidOperationException("the feature split must give one group per feature");
        if (group != null && group.All(v => v < 0)) group = null;
        CsrMatrix x;
        double[][] sums = [];
        try
        {
            if (group == null) x = new CsrMatrix(checked((int)nBarcodes), checked((int)nFeatures), ReadInts(indptrDs), ReadInts(indicesDs), ReadFloats(dataDs));
            else (x, sums) = ReadSplit(checked((int)nBarcodes), checked((int)nFeatures), ReadInts(indptrDs), indicesDs, dataDs, group, nnz);
        }
        catch (ArgumentException e) { throw new InvalidDataException($"the matrix is not valid: {e.Message}"); }
        catch (OverflowException) { throw new InvalidDataException($"the matrix is too large ({nBarcodes} x {nFeatures})"); }
        if (group != null)
        {
            var keep = Enumerable.Range(0, group.Length).Where(j => group[j] < 0).ToArray();
            ids = keep.Select(j => ids[j]).ToArray();
            names = keep.Select(j => names[j]).ToArray();
            types = types == null ? null : keep.Select(j => types[j]).ToArray();
        }
        // a set, not GroupBy: grouping a million barcodes costs ~100 MB of transient objects, the set a quarter of that
        var seen = new HashSet<string>(barcodes.Length, StringComparer.Ordinal);
        foreach (var b in barcodes)
            if (!seen.Add(b))
                throw new InvalidDataException($"barcode '{b}' occurs {barcodes.Count(x => string.Equals(x, b, StringComparison.Ordinal))} times");
        return (new TenXMatrix(x, barcodes, ids, names, types), sums);
    }

    /// <summary>
    /// The CSR of the kept features, read in two streamed passes over the stored indices (count the kept entries of
    /// each row, then fill exactly sized arrays), with the entries of grouped features summed per row instead.
    /// </summary>
    private static (CsrMatrix, double[][]) ReadSplit(int rows, int cols, int[] indptr, IH5Dataset indicesDs, IH5Dataset dataDs, int[] group, long nnz)
    {
        if (indptr[0] != 0 || indptr[rows] != nnz) throw new InvalidDataException($"indptr must start at 0 and end at nnz = {nnz}");
        for (int r = 0; r < rows; r++)
            if (indptr[r + 1] < indptr[r]) throw new InvalidDataException($"the matrix is not valid: indptr decreases at row {r}");
        ReadBudget.Need(8.0 * nnz, $"the kept entries of the matrix ({nnz} stored values)");
        int groups = group.Max() + 1;
        var newIndex = new int[cols];
        int kept = 0;
        for (int c = 0; c < cols; c++) newIndex[c] = group[c] < 0 ? kept++ : -1;

        var ptr = new int[rows + 1];
        int row = 0;
        foreach (var (at, values, count) in ReadSlabs(indicesDs))
            for (int i = 0; i < count; i++)
            {
                long k = at + i;
                while (k >= indptr[row + 1]) row++;
                double c = values[i];
                if (!(c >= 0 && c < cols)) throw new InvalidDataException($"the matrix is not valid: column index {c} in row {row} is outside 0..{cols - 1}");
                if (group[(int)c] < 0) ptr[row + 1]++;
            }
        for (int r = 0; r < rows; r++) ptr[r + 1] += ptr[r];

        var idx = new int[ptr[rows]];
        var val = new float[ptr[rows]];
        var sums = Enumerable.Range(0, groups).Select(_ => new double[rows]).ToArray();
        using var dataSlabs = ReadSlabs(dataDs).GetEnumerator();
        row = 0;
        int w = 0;
        foreach (var (at, values, count) in ReadSlabs(indicesDs))
        {
            // indices and data have the same length and shape, so their slabs line up
            if (!dataSlabs.MoveNext() || dataSlabs.Current.At != at || dataSlabs.Current.Count != count)
                throw new InvalidDataException("the data and indices datasets do not line up");
            var data = dataSlabs.Current.Values;
            for (int i = 0; i < count; i++)
            {
                long k = at + i;
                while (k >= indptr[row + 1]) row++;
                int c = (int)values[i];
                if (group[c] >= 0) sums[group[c]][row] += data[i];
                else { idx[w] = newIndex[c]; val[w] = (float)data[i]; w++; }
            }
        }
        return (new CsrMatrix(rows, kept, ptr, idx, val), sums);
    }
}
