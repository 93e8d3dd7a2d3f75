using System.CommandLine;
using Tessera.Cli.Infrastructure;
using Tessera.IO;
using Tessera.Simulate;

namespace Tessera.Cli.Commands;

/// <summary>`tessera simulate patterns --base INPUT -o OUT.h5ad`: SPARK-style patterned genes on the spots of real data.</summary>
public static class SimulatePatternsCommand
{
    private static readonly PatternSimulatorOptions Defaults = new();

    private static readonly Dictionary<string, string> Flags = new()
    {
        ["Patterns"] = "--patterns", ["GenesPerPattern"] = "--genes-per-pattern", ["Noise"] = "--noise", ["NonSeRatio"] = "--non-se-ratio",
        ["FoldChange"] = "--fold-change", ["Seed"] = "--seed",
    };

    public static Command Create()
    {
        var baseOpt = new Option<string>("--base") { Description = "Real spatial data whose spots and regions are used (e.g. MOB Rep11_MOB_counts.csv.gz)", Required = true };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output .h5ad (spots x simulated genes; var['pattern'] = truth)", Required = true };
        var patterns = new Option<int>("--patterns") { Description = "Number of spatial patterns", DefaultValueFactory = _ => Defaults.Patterns };
        var gpp = new Option<int>("--genes-per-pattern") { Description = "Simulated genes per pattern", DefaultValueFactory = _ => Defaults.GenesPerPattern };
        var noise = new Option<double>("--noise") { Description = "Variance sigma^2 of the per-spot log-rate noise (0.2-0.6 in the paper)", DefaultValueFactory = _ => Defaults.Noise };
        var nonSe = new Option<double>("--non-se-ratio") { Description = "Non-SE genes per patterned gene", DefaultValueFactory = _ => Defaults.NonSeRatio };
        var fold = new Option<double>("--fold-change") { Description = "Rate fold change inside a gene's pattern region", DefaultValueFactory = _ => Defaults.FoldChange };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => Defaults.Seed };
        var inputs = new InputOptions();
        var cmd = new Command("patterns", "Simulate spatially patterned genes (CoSTA/SPARK-style) on the spots of real data")
            { baseOpt, outOpt, patterns, gpp, noise, nonSe, fold, seed };
        inputs.AddTo(cmd);
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var outPath = p.GetValue(outOpt)!;
            if (!outPath.EndsWith(".h5ad", StringComparison.OrdinalIgnoreCase)) throw new TesseraException($"--out must end in .h5ad but is '{outPath}'");
            var o = new PatternSimulatorOptions
            {
                Patterns = p.GetValue(patterns), GenesPerPattern = p.GetValue(gpp), Noise = p.GetValue(noise),
                NonSeRatio = p.GetValue(nonSe), FoldChange = p.GetValue(fold), Seed = p.GetValue(seed),
            };
            o.Validate();
            var data = inputs.Load(p, r, p.GetValue(baseOpt)!);
            Tessera.Data.SpatialData sim;
            using (r.Stage($"simulate {o.Patterns} x {o.GenesPerPattern} genes (sigma^2 {o.Noise}) on {data.NObs} spots")) sim = PatternSimulator.Simulate(data, o);
            var dir = Path.GetDirectoryName(Path.GetFullPath(outPath))!;
            Directory.CreateDirectory(dir);
            H5ad.Write(sim, outPath);
            r.Info($"wrote {outPath}: {sim.NObs} spots x {sim.NVars} genes; truth in var['pattern'], regions in obs['pattern_region']");
            return 0;
        }, Flags);
        return cmd;
    }
}
