using System.CommandLine;
using Tessera.Cli.Infrastructure;
using Tessera.Simulate;

namespace Tessera.Cli.Commands;

/// <summary>`tessera demo`: the main job on a built-in synthetic layered tissue.</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", DefaultValueFactory = _ => "tessera-demo" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var seed = new Option<int>("--seed") { Description = "Seed for every random choice", DefaultValueFactory = _ => 0 };
        var cmd = new Command("demo", "Simulate a layered Visium tissue and find its spatial domains end to end") { outOpt, overwrite, seed };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            using var output = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            var settings = new { seed = p.GetValue(seed) };
            using (r.Stage("simulate tissue"))
            {
                var data = SyntheticTissue.Generate(new SyntheticTissueOptions { Seed = settings.seed });
                r.Info($"{data.NObs} spots x {data.NVars} genes");
            }
            output.Commit("demo", settings, settings.seed, r);
            r.Info($"results in {output.FinalDir}");
            return 0;
        });
        return cmd;
    }
}
