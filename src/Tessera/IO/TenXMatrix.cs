using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// A count matrix as Cell Ranger / Space Ranger ship it, already turned to barcodes × features:
/// the common result of the 10x HDF5 reader and the MatrixMarket folder reader.
/// </summary>
/// <param name="X">Counts, barcodes × features.</param>
/// <param name="Barcodes">Barcode per row.</param>
/// <param name="FeatureIds">Feature (gene) id per column, e.g. Ensembl ids.</param>
/// <param name="FeatureNames">Feature symbol per column (equal to the ids when the file has only one column).</param>
/// <param name="FeatureTypes">Feature type per column ("Gene Expression"), when present.</param>
public sealed record TenXMatrix(CsrMatrix X, string[] Barcodes, string[] FeatureIds, string[] FeatureNames, string[]? FeatureTypes);
