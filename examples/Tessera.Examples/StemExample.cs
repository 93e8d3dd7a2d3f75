using Tessera.IO;
using Tessera.Methods.Stem;

namespace Tessera.Examples;

/// <summary>STEM: cells mapped onto spots, predicted cell coordinates.</summary>
public static class StemExample
{
    public static string Run()
    {
        // README:begin
        var data = new StemData(DataReader.Read("sc.h5ad"), DataReader.Read("st.h5ad")) { CellTypeColumn = "layer" };
        using var model = StemTrainer.Fit(data, new StemOptions { Epochs = 100 });
        model.Result!.AddTo(data);   // cells: obsm X_stem, spatial_pred, obs stem_best_spot; spots: obsm X_stem, stem_proportions
        H5ad.Write(data.Sc, "sc_stem.h5ad");
        // README:end
        var back = H5ad.Read("sc_stem.h5ad");
        var truth = back.Obsm[Tessera.Simulate.PseudoSpots.TrueCoordsKey]; var pred = back.Obsm["spatial_pred"];
        double err = Enumerable.Range(0, back.NObs).Average(i => Math.Sqrt(Math.Pow(truth[i, 0] - pred[i, 0], 2) + Math.Pow(truth[i, 1] - pred[i, 1], 2)));
        return $"{back.NObs} cells on {data.St.NObs} spots, mean distance of predicted to true cell position {err:F0}";
    }
}
