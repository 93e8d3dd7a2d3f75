using System.CommandLine;
using Tessera.Data;
using Tessera.IO;

namespace Tessera.Cli.Infrastructure;

/// <summary>The input options shared by every command that reads data.</summary>
public sealed class InputOptions
{
    public readonly Option<string?> Obs = new("--obs") { Description = "CSV/TSV[.gz] of per-spot columns joined by barcode (e.g. spots.csv.gz)" };
    public readonly Option<string?> Coords = new("--coords") { Description = "Coordinate columns COLX,COLY[,COLZ] of the table or the --obs file" };
    public readonly Option<bool> Transpose = new("--transpose") { Description = "Delimited tables: the file is genes x spots" };
    public readonly Option<string> GeneNames = new("--gene-names") { Description = "Gene index for 10x data: symbols or ids", DefaultValueFactory = _ => "symbols" };
    public readonly Option<bool> AllowMissing = new("--allow-missing") { Description = "Keep spots that are absent from the --obs file" };
    public readonly Option<bool> AllowNegative = new("--allow-negative") { Description = "Accept negative values (z-scored data, e.g. seqFISH); never for counts" };

    public readonly Option<int?> Bin = new("--bin") { Description = "Visium HD outs/ folder: the bin size in µm, 2, 8 or 16 [default: 16]; Stereo-seq GEM: the bin side in DNBs (0.5 µm) [default: 50]" };

    public InputOptions() => GeneNames.AcceptOnlyFromAmong("symbols", "ids");

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command c)
    {
        c.Options.Add(Obs); c.Options.Add(Coords); c.Options.Add(Transpose); c.Options.Add(GeneNames); c.Options.Add(AllowMissing); c.Options.Add(AllowNegative); c.Options.Add(Bin);
    }

    /// <summary>The reader options given on the command line.</summary>
    public ReadOptions ToReadOptions(ParseResult p, Reporter r, string? obsFile = null) => new()
    {
        ObsFile = obsFile ?? p.GetValue(Obs),
        Coords = p.GetValue(Coords)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
        Transpose = p.GetValue(Transpose),
        GeneNames = p.GetValue(GeneNames) == "ids" ? IO.GeneNames.Ids : IO.GeneNames.Symbols,
        AllowMissing = p.GetValue(AllowMissing),
        AllowNegative = p.GetValue(AllowNegative),
        Bin = p.GetValue(Bin),
        Progress = r.Library(),
    };

    /// <summary>Reads one input, recording it (and the --obs file) for run.json.</summary>
    public SpatialData Load(ParseResult p, Reporter r, string path, RunOutput? output = null, string? obsFile = null)
    {
        var opts = ToReadOptions(p, r, obsFile);
        if (opts.Coords is { Length: not (2 or 3) }) throw new TesseraException($"--coords needs 2 or 3 column names separated by commas, got '{p.GetValue(Coords)}'");
        SpatialData data;
        using (r.Stage($"read {Path.GetFileName(Path.TrimEndingDirectorySeparator(path))}"))
            data = DataReader.Read(path, opts);
        output?.Inputs.Add(path, data);
        if (opts.ObsFile != null) output?.Inputs.Add(opts.ObsFile);
        r.Info($"{data.NObs} spots x {data.NVars} genes" + (data.HasSpatial ? "" : " (no coordinates)"));
        return data;
    }
}
