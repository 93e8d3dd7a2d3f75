using Tessera.IO;
using Tessera.Methods.StNet;

namespace Tessera.Examples;

/// <summary>ST-Net: spot expression from H&amp;E patches, leave-one-section-out.</summary>
public static class StNetExample
{
    public static string Run()
    {
        // README:begin
        var sections = HistologyManifest.Read("her2st.csv").Select(s => HistologySection.Load(s)).ToList();
        using var model = StNetTrainer.Fit(sections, new StNetOptions { Genes = 20, TestTimeAugmentation = false });
        model.Result!.AddTo(sections[1].Counts, "stnet", "C3");   // obsm stnet: C3's expression predicted with C3 held out
        H5ad.Write(sections[1].Counts, "c3_stnet.h5ad");
        // README:end
        var back = H5ad.Read("c3_stnet.h5ad");
        var best = model.Result.Summary.OrderByDescending(g => g.MeanPearson).First();
        return $"{back.NObs} C3 spots, {back.Obsm["stnet"].Cols} genes predicted; best held-out gene {best.Gene} (mean Pearson r {best.MeanPearson:F2})";
    }
}
