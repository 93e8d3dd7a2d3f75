using Tessera.Data;

namespace Tessera.IO;

/// <summary>AnnData .h5ad files (compile-only placeholder; the real reader/writer is merged from another branch).</summary>
public static class H5ad
{
    /// <summary>Reads an .h5ad file.</summary>
    public static SpatialData Read(string path) => throw new NotImplementedException();

    /// <summary>Writes an .h5ad file.</summary>
    public static void Write(SpatialData data, string path) => throw new NotImplementedException();
}
