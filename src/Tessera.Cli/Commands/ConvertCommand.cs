using System.CommandLine;
using Tessera.Cli.Infrastructure;
using Tessera.IO;

namespace Tessera.Cli.Commands;

/// <summary>`tessera convert INPUT -o OUT.h5ad`.</summary>
public static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "h5ad, 10x h5, Space Ranger / mtx folder, or csv/tsv[.gz] table" };
        var output = new Option<string>("--output", "-o") { Description = "Output .h5ad file", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing output file" };
        var inputs = new InputOptions();
        var cmd = new Command("convert", "Read any supported format and write an h5ad (AnnData)") { input, output, overwrite };
        inputs.AddTo(cmd);
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var src = p.GetValue(input)!; var dst = p.GetValue(output)!;
            OutputGuard.CheckH5adTarget(dst, src, p.GetValue(overwrite));
            var d = inputs.Load(p, r, src);
            using (r.Stage("write h5ad")) H5ad.Write(d, dst);
            r.Info($"wrote {dst}");
            return 0;
        });
        return cmd;
    }
}
