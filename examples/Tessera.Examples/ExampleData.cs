using Tessera.IO;
using Tessera.Simulate;

namespace Tessera.Examples;

/// <summary>The examples' inputs, written into the working folder.</summary>
public static class ExampleData
{
    /// <summary>
    /// tissue.h5ad: a layered Visium-like tissue (the demo's, truth in obs "layer"); sc.h5ad and st.h5ad: its spots taken
    /// as cells and summed into a coarse grid of pseudo-spots; her2st.csv: two HER2ST sections when they are present.
    /// </summary>
    public static void Write(string? her2st)
    {
        var tissue = SyntheticTissue.Generate(new SyntheticTissueOptions { Seed = 0 });
        H5ad.Write(tissue, "tissue.h5ad");
        var pseudo = PseudoSpots.Simulate(tissue, new PseudoSpotOptions { GridX = 12, GridY = 10, CellTypeColumn = "layer", Seed = 0 });
        H5ad.Write(pseudo.Sc, "sc.h5ad");
        H5ad.Write(pseudo.St, "st.h5ad");
        if (her2st is not null)
            File.WriteAllLines("her2st.csv",
            [
                "section,counts,spots,image",
                .. new[] { ("C2", "C2_5714_HE_BT_C2"), ("C3", "C3_5714_HE_BT_D1") }.Select(s =>
                    $"{s.Item1},{her2st}/counts/{s.Item1}.tsv.gz,{her2st}/spotfiles/{s.Item1}_selection.tsv.gz,{her2st}/images/{s.Item2}.jpg"),
            ]);
    }

    /// <summary>The HER2ST folder of the shared data beside the repository, or null.</summary>
    public static string? FindHer2st()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "her2st");
            if (Directory.Exists(Path.Combine(candidate, "counts"))) return candidate;
        }
        return null;
    }
}
