using Tessera.IO;
using Tessera.Methods.Costa;

namespace Tessera.Examples;

/// <summary>CoSTA: gene pattern embeddings, gene clusters, spatially expressed genes.</summary>
public static class CostaExample
{
    public static string Run()
    {
        // README:begin
        var data = DataReader.Read("tissue.h5ad");
        using var model = CostaTrainer.Fit(data, new CostaOptions { ImageSize = 24, LogNormalize = true, Standardize = true, Models = 2, Epochs = 2 });
        model.Result!.AddTo(data);   // varm X_costa, var costa_cluster / costa_se / costa_stability, uns costa
        H5ad.Write(data, "tissue_costa.h5ad");
        // README:end
        var back = H5ad.Read("tissue_costa.h5ad");
        var se = back.Var["costa_se"] is Tessera.Data.BoolColumn b ? b.Values.Count(v => v) : -1;
        return $"{back.NVars} genes, embedding {back.Varm["X_costa"].Cols}-d, {se} spatially expressed genes";
    }
}
