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
    public static TenXMatrix Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        TesseraException Fail(string problem) => new($"cannot read 10x HDF5 file '{path}': {problem}");
        using var file = Open(path, Fail);
        try
        {
            return ReadFile(file);
        }
        catch (InvalidDataException e) { throw new TesseraException(Fail(e.Message).Message, e); }
        catch (Exception e) when (e is not (OutOfMemoryException or TesseraException))
        {
            throw new TesseraException(Fail($"the file is corrupt or not a 10x matrix ({OneLine(e)})").Message, e);
        }
    }

    private static TenXMatrix ReadFile(IH5Group root)
    {
        if (Child(root, "matrix") is IH5Group m)
        {
            var f = Child(m, "features") as IH5Group ?? throw new InvalidDataException("group 'matrix' has no 'features' group");
            var ids = ReadStrings(Need(f, "id", "matrix/features"));
            var names = Child(f, "name") is IH5Dataset nd ? ReadStrings(nd) : ids;
            var types = Child(f, "feature_type") is IH5Dataset td ? ReadStrings(td) : null;
            return Build(m, "matrix", ids, names, types);
        }
        // v2: one group per genome
        var genomes = Children(root).OfType<IH5Group>().Where(g => g.LinkExists("barcodes") && g.LinkExists("indptr")).ToList();
        if (genomes.Count == 0) throw new InvalidDataException("it has neither a 'matrix' group (format v3) nor a genome group (format v2)");
        if (genomes.Count > 1)
            throw new InvalidDataException($"it holds {genomes.Count} genomes ({string.Join(", ", genomes.Select(g => g.Name))}); multi-genome v2 files are not supported");
        var gg = genomes[0];
        var gids = ReadStrings(Need(gg, "genes", gg.Name));
        var gnames = Child(gg, "gene_names") is IH5Dataset gn ? ReadStrings(gn) : gids;
        return Build(gg, gg.Name, gids, gnames, null);
    }

    private static IH5Dataset Need(IH5Group g, string name, string where) =>
        Child(g, name) as IH5Dataset ?? throw new InvalidDataException($"group '{where}' has no '{name}' dataset");

    private static TenXMatrix Build(IH5Group g, string where, string[] ids, string[] names, string[]? types)
    {
        var barcodes = ReadStrings(Need(g, "barcodes", where));
        var shape = ReadLongs(Need(g, "shape", where));
        if (shape.Length != 2) throw new InvalidDataException($"'{where}/shape' has {shape.Length} entries, expected 2");
        long nFeatures = shape[0], nBarcodes = shape[1];
        if (barcodes.Length != nBarcodes) throw new InvalidDataException($"'{where}/barcodes' has {barcodes.Length} entries but shape says {nBarcodes} barcodes");
        if (ids.Length != nFeatures) throw new InvalidDataException($"the feature ids have {ids.Length} entries but shape says {nFeatures} features");
        if (names.Length != nFeatures) throw new InvalidDataException($"the feature names have {names.Length} entries but shape says {nFeatures} features");
        if (types != null && types.Length != nFeatures) throw new InvalidDataException($"the feature types have {types.Length} entries but shape says {nFeatures} features");
        var data = ReadFloats(Need(g, "data", where));
        var indices = ReadInts(Need(g, "indices", where));
        var indptr = ReadInts(Need(g, "indptr", where));
        CsrMatrix x;
        try { x = new CsrMatrix(checked((int)nBarcodes), checked((int)nFeatures), indptr, indices, data); }
        catch (ArgumentException e) { throw new InvalidDataException($"the matrix is not valid: {e.Message}"); }
        catch (OverflowException) { throw new InvalidDataException($"the matrix is too large ({nBarcodes} x {nFeatures})"); }
        var dup = barcodes.GroupBy(b => b, StringComparer.Ordinal).FirstOrDefault(b => b.Count() > 1);
        if (dup != null) throw new InvalidDataException($"barcode '{dup.Key}' occurs {dup.Count()} times");
        return new TenXMatrix(x, barcodes, ids, names, types);
    }
}
