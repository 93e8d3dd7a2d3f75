using System.CommandLine;
using Tessera.Cli.Infrastructure;
using Tessera.Reporting;

namespace Tessera.Cli.Commands;

/// <summary>`tessera report RUN_DIR` (rebuild a run's report.html) and `tessera report --compare RUN1 RUN2 ... -o OUT.html`.</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run folder(s) written by a Tessera command", Arity = ArgumentArity.OneOrMore };
        var compare = new Option<bool>("--compare") { Description = "Put the runs side by side in one page (-o) instead of rebuilding each run's report.html" };
        var outOpt = new Option<string?>("--out", "-o") { Description = "--compare: the page to write (e.g. compare.html)" };
        var table = new Option<string?>("--table") { Description = "--compare: also write the metrics as a CSV (mean, sd, n per group of runs that differ only in their seed, and metric)" };
        var cmd = new Command("report", "Build report.html of a run folder from its files, or compare runs side by side") { runs, compare, outOpt, table };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var dirs = p.GetValue(runs)!;
            if (!p.GetValue(compare))
            {
                if (p.GetValue(outOpt) != null || p.GetValue(table) != null) throw new TesseraException("--out and --table go with --compare; without it each run's report.html is rebuilt in its folder");
                foreach (var dir in dirs) RunFolder.Open(dir); // every folder checked before any is written
                foreach (var dir in dirs) r.Info($"wrote {RunReport.Write(dir)}");
                return 0;
            }
            var output = p.GetValue(outOpt) ?? throw new TesseraException("--compare needs --out OUT.html");
            if (Directory.Exists(output)) throw new TesseraException($"--out '{output}' is a folder; give the HTML file to write");
            RunReport.Compare(dirs, output);
            if (p.GetValue(table) is { } csv) RunReport.WriteComparisonTable(dirs, csv);
            r.Info($"wrote {output}");
            return 0;
        });
        return cmd;
    }
}
