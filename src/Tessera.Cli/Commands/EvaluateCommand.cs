using System.CommandLine;
using System.Text.Json.Nodes;
using Tessera.Analysis;
using Tessera.Cli.Infrastructure;
using Tessera.IO;
using Tessera.Methods.Spotscape;

namespace Tessera.Cli.Commands;

/// <summary>`tessera evaluate --pred FILE --truth FILE|--truth-column COL`: ARI, NMI, AMI, CA, F1.</summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var pred = new Option<string>("--pred") { Description = "Predicted labels: result.h5ad (obs column) or a csv/tsv (spot id, label)", Required = true };
        var predCol = new Option<string?>("--pred-column") { Description = "Column of the predictions (default: cluster, else domain; csv: second column)" };
        var truth = new Option<string?>("--truth") { Description = "Reference labels as csv/tsv (spot id, label); default: --truth-column of the --pred file" };
        var truthCol = new Option<string?>("--truth-column") { Description = "Reference label column (in --truth, or in the --pred h5ad's obs)" };
        var output = new Option<string?>("--out", "-o") { Description = "Also write the scores to this JSON file" };
        var batchCol = new Option<string?>("--batch-column") { Description = "Integration results: obs column of the batch/slice; reports slice mixing per predicted domain (needs an h5ad --pred with an embedding)" };
        var useRep = new Option<string?>("--use-rep") { Description = "obsm embedding for --batch-column (default: X_spotscape, else X_pca)" };
        var figure = new Option<string?>("--figure") { Description = "With --batch-column: write the per-domain mixing bar chart to this PNG" };
        var cmd = new Command("evaluate", "Compare predicted clusters with reference labels (spots without a reference label are dropped)") { pred, predCol, truth, truthCol, output, batchCol, useRep, figure };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var predPath = p.GetValue(pred)!;
            if (!File.Exists(predPath)) throw new TesseraException($"--pred '{predPath}' does not exist");
            string[] ids; string?[] predLabels; Data.SpatialData? predData = null;
            if (predPath.EndsWith(".h5ad", StringComparison.OrdinalIgnoreCase))
            {
                predData = H5ad.Read(predPath);
                var col = p.GetValue(predCol) ?? (predData.Obs.Contains("cluster") ? "cluster" : predData.Obs.Contains("domain") ? "domain"
                    : throw new TesseraException($"{predPath} has no obs column 'cluster' or 'domain'; name one with --pred-column"));
                ids = predData.ObsNames; predLabels = predData.Obs.Labels(col);
            }
            else (ids, predLabels, _) = LabelTable.Read(predPath, p.GetValue(predCol));

            JsonObject? mixing = null;
            if (p.GetValue(batchCol) is { } bc)
            {
                if (predData == null) throw new TesseraException("--batch-column needs an h5ad --pred (it holds the embedding and the batch column)");
                var rep = p.GetValue(useRep) ?? (predData.Obsm.ContainsKey("X_spotscape") ? "X_spotscape" : "X_pca");
                if (!predData.Obsm.TryGetValue(rep, out var emb)) throw new TesseraException($"{predPath} has no obsm '{rep}'; name the embedding with --use-rep");
                var batchLabels = predData.Obs.Labels(bc);
                var keep = Enumerable.Range(0, ids.Length).Where(i => batchLabels[i] != null && predLabels[i] != null).ToArray();
                if (keep.Length == 0) throw new TesseraException($"no spot has both a '{bc}' and a predicted label");
                var batchNames = keep.Select(i => batchLabels[i]!).Distinct().Order(StringComparer.Ordinal).ToArray();
                var domainNames = keep.Select(i => predLabels[i]!).Distinct().Order(Tessera.Plotting.NaturalComparer.Instance).ToArray();
                var mix = SliceMixing.Compute(emb.SubsetRows(keep), keep.Select(i => Array.IndexOf(batchNames, batchLabels[i])).ToArray(),
                    keep.Select(i => Array.IndexOf(domainNames, predLabels[i])).ToArray(), 0, domainNames);
                var mixJson = mixing = mix.ToJson();
                r.Info($"slice mixing within domains ('{bc}' on {rep}; 1 - |silhouette|, mean over domains): {mixJson["mean_mixing"]?.GetValue<double>() ?? double.NaN:F3}");
                foreach (var d in mixJson["per_domain"]!.AsArray())
                    r.Info($"  domain {d!["domain"]}: n = {d["n"]}, mixing {d["mixing"]?.GetValue<double>() ?? double.NaN:F3}, silhouette {d["silhouette"]?.GetValue<double>() ?? double.NaN:F3}");
                if (p.GetValue(figure) is { } fig) Tessera.Plotting.Figures.SavePng(SpotscapeFigures.Mixing(mix), fig, 1000, 700);
            }

            string?[] truthLabels;
            if (p.GetValue(truth) is { } truthPath)
            {
                if (!File.Exists(truthPath)) throw new TesseraException($"--truth '{truthPath}' does not exist");
                var (tIds, tLabels, _) = LabelTable.Read(truthPath, p.GetValue(truthCol));
                var map = tIds.Select((id, i) => (id, i)).ToDictionary(t => t.id, t => tLabels[t.i]);
                int matched = ids.Count(map.ContainsKey);
                if (matched == 0) throw new TesseraException($"no spot of {predPath} appears in {truthPath}");
                r.Info($"matched {matched} of {ids.Length} spots with {Path.GetFileName(truthPath)}");
                truthLabels = ids.Select(id => map.TryGetValue(id, out var l) ? l : null).ToArray();
            }
            else
            {
                var tc = p.GetValue(truthCol) ?? throw new TesseraException("give --truth FILE or --truth-column COL");
                if (predData == null) throw new TesseraException("--truth-column without --truth needs an h5ad --pred that holds the column");
                truthLabels = predData.Obs.Labels(tc);
            }
            var scores = ClusterScores.Compute(truthLabels, predLabels);
            r.Info(scores.ToString());
            var json = scores.ToJson();
            if (mixing != null) json["batch_mixing"] = mixing;
            Console.WriteLine(json.ToJsonString(JsonOptions.Default));
            if (p.GetValue(output) is { } o) AtomicFile.WriteAllText(o, json.ToJsonString(JsonOptions.Default));
            return 0;
        });
        return cmd;
    }
}
