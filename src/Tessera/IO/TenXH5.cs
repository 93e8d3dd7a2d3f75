namespace Tessera.IO;

/// <summary>10x Genomics HDF5 feature-barcode matrices (compile-only placeholder; the real reader is merged from another branch).</summary>
public static class TenXH5
{
    /// <summary>Reads a filtered_feature_bc_matrix.h5 file as barcodes × features.</summary>
    public static TenXMatrix Read(string path) => throw new NotImplementedException();
}
