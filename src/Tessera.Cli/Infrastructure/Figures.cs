using Tessera.Data;

namespace Tessera.Cli.Infrastructure;

/// <summary>The standard figures a computing command writes.</summary>
public static class Figures
{
    /// <summary>Spatial map of a label column (over the tissue image when present) and, when obsm has X_umap, the embedding.</summary>
    public static void SpatialAndEmbedding(SpatialData data, CategoricalColumn labels, string name, RunOutput run, Reporter r)
    {
    }
}
