using Tessera.Analysis;
using Tessera.IO;
using Tessera.Methods.Spotscape;

namespace Tessera.Examples;

/// <summary>Spotscape: spatial domains of one slice.</summary>
public static class SpotscapeExample
{
    public static string Run()
    {
        // README:begin
        var data = DataReader.Read("tissue.h5ad");
        using var model = SpotscapeTrainer.Fit(data, new SpotscapeOptions { Clusters = 6, Epochs = 100 });
        model.Result!.AddTo(data);   // obsm X_spotscape, obs domain
        H5ad.Write(data, "tissue_spotscape.h5ad");
        // README:end
        var back = H5ad.Read("tissue_spotscape.h5ad");
        var ari = Metrics.AdjustedRandIndex(back.Obs.Labels("layer"), back.Obs.Labels("domain"));
        return $"{back.NObs} spots, embedding {back.Obsm["X_spotscape"].Cols}-d, ARI of the domains vs the true layers {ari:F3}";
    }
}
