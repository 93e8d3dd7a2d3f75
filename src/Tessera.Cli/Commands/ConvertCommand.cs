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
            CheckH5adTarget(dst, src, p.GetValue(overwrite));
            var d = inputs.Load(p, r, src);
            using (r.Stage("write h5ad")) H5ad.Write(d, dst);
            r.Info($"wrote {dst}");
            return 0;
        });
        return cmd;
    }

    /// <summary>Refuses a non-.h5ad target, an existing file without --overwrite, and writing over the input.</summary>
    public static void CheckH5adTarget(string dst, string src, bool overwrite)
    {
        if (!dst.EndsWith(".h5ad", StringComparison.OrdinalIgnoreCase)) throw new TesseraException($"output '{dst}' must end with .h5ad");
        if (Path.GetFullPath(dst) == Path.GetFullPath(src)) throw new TesseraException($"output '{dst}' is the input; choose another name (inputs are never overwritten)");
        if (File.Exists(dst) && !overwrite) throw new TesseraException($"output '{dst}' exists; use --overwrite to replace it");
    }
}
