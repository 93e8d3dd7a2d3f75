using System.CommandLine;
using Tessera.Cli.Infrastructure;
using Tessera.Methods.Costa;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera correlated RESULT.h5ad --query GENE,... --out DIR`: correlated genes of new query genes from the embeddings a
/// `patterns` run saved, without training again.
/// </summary>
public static class CorrelatedCommand
{
    private static readonly CostaOptions Defaults = new();

    private static readonly Dictionary<string, string> Flags = new()
    {
        ["Queries"] = "--query", ["CorrelationThreshold"] = "--threshold", ["MinModels"] = "--min-models", ["AllGenes"] = "--all-genes",
    };

    public static Command Create()
    {
        var input = new Argument<string>("result") { Description = "result.h5ad of `tessera patterns` (or its output folder)" };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var query = new Option<string>("--query") { Description = "Comma-separated genes of interest", Required = true };
        var threshold = new Option<double>("--threshold") { Description = "z-score below which a gene counts as correlated in one model (authors: -2.325; -1.645 and -3.1 are their alternatives)", DefaultValueFactory = _ => Defaults.CorrelationThreshold };
        var minModels = new Option<int?>("--min-models") { Description = "Models in which a gene must pass (default: 3, or all models when fewer)" };
        var allGenes = new Option<bool>("--all-genes") { Description = "Compare with every gene, not only the SE genes (the authors use SE genes)" };
        var cmd = new Command("correlated", "CoSTA: correlated genes of query genes from a saved `patterns` result (no retraining)")
            { input, outOpt, overwrite, query, threshold, minModels, allGenes };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var path = p.GetValue(input)!;
            if (Directory.Exists(path)) path = Path.Combine(path, CostaResult.ResultFile);
            var queries = p.GetValue(query)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
            if (queries.Length == 0) throw new TesseraException("--query names no gene");
            double thr = p.GetValue(threshold);
            bool all = p.GetValue(allGenes);
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            CostaResult result;
            using (r.Stage($"read {Path.GetFileName(path)}")) result = CostaResult.Read(path);
            run.Inputs.Add(path);
            if (!all && !result.Se.Contains(true)) throw new TesseraException($"{path} flags no SE gene to compare with; use --all-genes");
            var c = result.Correlate(queries, thr, p.GetValue(minModels), all);
            r.Info($"{result.Genes.Length} genes, {result.Embeddings.Count} model(s), {c.Candidates} candidate genes" + (c.Candidates < result.Genes.Length ? " (SE)" : ""));
            c.Write(run.Dir);
            foreach (var line in c.Summary()) r.Info(line);
            run.Commit("correlated", new { Queries = queries, Threshold = thr, c.MinModels, AllGenes = all }, null, r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        }, Flags);
        return cmd;
    }
}
