using System.CommandLine;
using Tessera.Cli.Infrastructure;
using Tessera.IO;
using Tessera.Simulate;

namespace Tessera.Cli.Commands;

/// <summary>`tessera simulate tissue --spots N --genes G --platform visium-hd|xenium -o OUT.h5ad`: the layered tissue at any size.</summary>
public static class SimulateTissueCommand
{
    private static readonly PlatformTissueOptions Defaults = new();

    private static readonly Dictionary<string, string> Flags = new()
    {
        ["Spots"] = "--spots", ["Genes"] = "--genes", ["MedianUmis"] = "--median-umis", ["Domains"] = "--domains",
        ["MarkersPerDomain"] = "--markers", ["Seed"] = "--seed", ["Platform"] = "--platform",
        ["Section"] = "--section", ["BatchEffect"] = "--batch-effect",
    };

    public static Command Create()
    {
        var outOpt = new Option<string>("--out", "-o") { Description = "Output .h5ad (raw counts in X as CSR; truth in obs['layer']; µm coordinates in obsm['spatial'])", Required = true };
        var spots = new Option<int>("--spots") { Description = "Bins (visium-hd) or cells (xenium)", DefaultValueFactory = _ => Defaults.Spots };
        var genes = new Option<int?>("--genes") { Description = "Genes (default 18000 for visium-hd, 400 for xenium)" };
        var platform = new Option<string>("--platform") { Description = "visium-hd (16 µm bins, whole transcriptome) or xenium (cells, gene panel)", DefaultValueFactory = _ => "visium-hd" };
        platform.AcceptOnlyFromAmong("visium-hd", "xenium");
        var umis = new Option<double?>("--median-umis") { Description = "Median UMIs per bin/cell (default 300 visium-hd, 180 xenium)" };
        var domains = new Option<int>("--domains") { Description = "Layer-shaped domains", DefaultValueFactory = _ => Defaults.Domains };
        var markers = new Option<int?>("--markers") { Description = "Marker genes per domain (default 20 visium-hd, 10 xenium)" };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => Defaults.Seed };
        var section = new Option<int>("--section") { Description = "Serial section of the tissue of --seed: same layout and gene programmes, its own reads (0 = the tissue itself)", DefaultValueFactory = _ => Defaults.Section };
        var batch = new Option<double>("--batch-effect") { Description = "Gene-wise batch effect of this section: levels times exp(σ·N(0,1)), e.g. 0.5 (0 = none)", DefaultValueFactory = _ => Defaults.BatchEffect };
        var cmd = new Command("tissue", "Simulate a layered tissue at any size with Visium HD (16 µm bins) or Xenium-like sparsity")
            { outOpt, spots, genes, platform, umis, domains, markers, seed, section, batch };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var outPath = p.GetValue(outOpt)!;
            if (!outPath.EndsWith(".h5ad", StringComparison.OrdinalIgnoreCase)) throw new TesseraException($"--out must end in .h5ad but is '{outPath}'");
            var o = new PlatformTissueOptions
            {
                Spots = p.GetValue(spots), Genes = p.GetValue(genes), MedianUmis = p.GetValue(umis), Domains = p.GetValue(domains),
                MarkersPerDomain = p.GetValue(markers), Seed = p.GetValue(seed), Section = p.GetValue(section), BatchEffect = p.GetValue(batch),
                Platform = p.GetValue(platform) == "xenium" ? TissuePlatform.Xenium : TissuePlatform.VisiumHd,
            };
            o.Validate();
            Tessera.Data.SpatialData sim;
            using (r.Stage($"simulate {o.Spots} {(o.Platform == TissuePlatform.Xenium ? "cells" : "bins")} x {o.ResolvedGenes} genes")) sim = PlatformTissue.Generate(o, r.Library());
            var dir = Path.GetDirectoryName(Path.GetFullPath(outPath))!;
            Directory.CreateDirectory(dir);
            using (r.Stage("write h5ad")) H5ad.Write(sim, outPath);
            r.Info($"wrote {outPath}: {sim.NObs} x {sim.NVars}, {sim.X.Nnz} non-zeros ({sim.X.Nnz / (double)sim.NObs:F0} per spot); truth in obs['layer']");
            return 0;
        }, Flags);
        return cmd;
    }
}
