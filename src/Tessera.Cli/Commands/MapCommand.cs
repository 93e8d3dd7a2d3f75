using System.CommandLine;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.Stem;

namespace Tessera.Cli.Commands;

/// <summary>`tessera map --sc SC --st ST --out DIR [--method stem|tangram|both]`: mapping of single cells onto spots.</summary>
public static class MapCommand
{
    private static readonly StemOptions Defaults = new();

    /// <summary>Options whose library messages name a property, and the flags that set them.</summary>
    private static readonly Dictionary<string, string> Flags = new()
    {
        ["Epochs"] = "--epochs", ["Seed"] = "--seed", ["Sigma"] = "--sigma", ["Dropout"] = "--dropout", ["TopK"] = "--top-k",
        ["IgSteps"] = "--ig-steps", ["TangramEpochs"] = "--tangram-epochs", ["MmdBatch"] = "--mmd-batch", ["Normalize"] = "--no-normalize",
        ["BatchSpots"] = "--batch-spots", ["BatchCells"] = "--batch-cells", ["MiniBatchEpoch"] = "--minibatch-epoch",
    };

    public static Command Create()
    {
        var scOpt = new Option<string>("--sc") { Description = "Single-cell data (any reader; coordinates are never read)", Required = true };
        var stOpt = new Option<string>("--st") { Description = "Spatial data with spot coordinates", Required = true };
        var stCoords = new Option<string?>("--st-coords") { Description = "Coordinate columns X,Y of the ST obs (when it has no obsm spatial)" };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var typeCol = new Option<string?>("--cell-type-column") { Description = "SC obs column with cell types (proportion maps; metrics when truth is present)" };
        var groupCol = new Option<string?>("--group-column") { Description = "SC obs column grouping cells for spatially dominant genes (default: the cell-type column)" };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs", DefaultValueFactory = _ => Defaults.Epochs };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => Defaults.Seed };
        var sigma = new Option<double?>("--sigma") { Description = "Spatial kernel width (default: half the median nearest-spot distance)" };
        var dropout = new Option<double?>("--dropout") { Description = "ST input dropout (default: 1 - median genes per cell / median genes per spot)" };
        var topK = new Option<int>("--top-k") { Description = "Spots kept per cell in mapping_topk.csv", DefaultValueFactory = _ => Defaults.TopK };
        var igSteps = new Option<int>("--ig-steps") { Description = "Integrated-gradient steps for spatially dominant genes", DefaultValueFactory = _ => Defaults.IgSteps };
        var tangramEpochs = new Option<int>("--tangram-epochs") { Description = "Epochs of the Tangram mapping (--method tangram|both) and of STEM's Tangram-style baseline", DefaultValueFactory = _ => Defaults.TangramEpochs };
        var mmdBatch = new Option<int>("--mmd-batch") { Description = "Cells sampled per step for the MMD", DefaultValueFactory = _ => Defaults.MmdBatch };
        var noNormalize = new Option<bool>("--no-normalize") { Description = "Use expression values as given instead of normalize_total + log1p (already normalised or z-scored data, e.g. seqFISH; negative values are then accepted)" };
        var batchSpots = new Option<int?>("--batch-spots") { Description = $"Training mode: 0 = full batch, N = mini-batches of spatial tiles of about N spots; default full batch up to {Defaults.FullBatchMaxSpots} spots and {Defaults.FullBatchMaxCells} cells, tiles of {StemOptions.DefaultBatchSpots} above (where the cell graph also comes from a k-d tree on predicted coordinates and the dense baselines are skipped)" };
        var batchCells = new Option<int?>("--batch-cells") { Description = $"Mini-batch mode: cells sampled per optimiser step; default all cells up to {Defaults.FullBatchMaxCells}, {StemOptions.DefaultBatchCells} above" };
        var miniBatchEpoch = new Option<string>("--minibatch-epoch") { Description = "Mini-batch mode: an epoch is one optimiser step (step: the full-batch protocol's steps, bounded cost) or one pass over the spot tiles (pass: its passes, tiles x the steps, full-batch quality)", DefaultValueFactory = _ => "step" };
        miniBatchEpoch.AcceptOnlyFromAmong("step", "pass");
        var noBaselines = new Option<bool>("--no-baselines") { Description = "Skip the correlation and Tangram-style baselines" };
        var method = new Option<string>("--method") { Description = "stem (default: shared embedding), tangram (Tangram-style mapping, same outputs without an embedding), or both (folders stem/ and tangram/ and comparison.png)", DefaultValueFactory = _ => "stem" };
        method.AcceptOnlyFromAmong("stem", "tangram", "both");
        var cmd = new Command("map", "Map single cells onto spatial spots with STEM or a Tangram-style mapping")
            { scOpt, stOpt, stCoords, outOpt, overwrite, typeCol, groupCol, method, epochs, seed, sigma, dropout, topK, igSteps, tangramEpochs, mmdBatch, batchSpots, batchCells, miniBatchEpoch, noNormalize, noBaselines };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var options = new StemOptions
            {
                Epochs = p.GetValue(epochs), Seed = p.GetValue(seed), Sigma = p.GetValue(sigma), Dropout = p.GetValue(dropout), TopK = p.GetValue(topK),
                MmdBatch = p.GetValue(mmdBatch), Normalize = !p.GetValue(noNormalize), IgSteps = p.GetValue(igSteps),
                TangramEpochs = p.GetValue(tangramEpochs), Baselines = !p.GetValue(noBaselines),
                BatchSpots = p.GetValue(batchSpots), BatchCells = p.GetValue(batchCells),
                MiniBatchEpoch = p.GetValue(miniBatchEpoch) == "pass" ? MiniBatchEpoch.Pass : MiniBatchEpoch.Step,
            };
            options.Validate();
            string which = p.GetValue(method)!;
            bool stem = which != "tangram", tangram = which != "stem";
            var tangramOptions = new TangramOptions { Epochs = options.TangramEpochs, Seed = options.Seed, TopK = options.TopK, Normalize = options.Normalize };
            tangramOptions.Validate();
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            r.Info($"method: {which}{(p.GetResult(method) is { Implicit: false } ? "" : " (the default; --method tangram|both for the Tangram-style mapping)")}");
            SpatialData sc, st;
            using (r.Stage("read SC")) sc = DataReader.Read(p.GetValue(scOpt)!, new ReadOptions { Progress = r.Library(), AllowNegative = true });
            // Negative values are judged by STEM's input step, whose message points to --no-normalize; the reader still rejects NaN/Inf.
            var stRead = new ReadOptions { Progress = r.Library(), AllowNegative = true, Coords = p.GetValue(stCoords)?.Split(',', StringSplitOptions.TrimEntries) };
            using (r.Stage("read ST")) st = DataReader.Read(p.GetValue(stOpt)!, stRead);
            run.Inputs.Add(p.GetValue(scOpt)!, sc); run.Inputs.Add(p.GetValue(stOpt)!, st);
            if (!st.HasSpatial) throw new TesseraException("ST data has no spot coordinates (obsm 'spatial'); give them with --st-coords X,Y");
            var data = new StemData(sc, st) { CellTypeColumn = p.GetValue(typeCol), GroupColumn = p.GetValue(groupCol) };
            data.Validate();

            StemModel? model = null;
            if (stem)
                using (r.Stage($"STEM ({options.Epochs} epochs, then mapping)")) model = StemTrainer.Fit(data, options, r.Library());
            using var _ = model;
            TangramResult? tangramResult = null;
            if (tangram)
                using (r.Stage($"Tangram ({tangramOptions.Epochs} epochs, then mapping)")) tangramResult = TangramMapper.Fit(data, tangramOptions, r.Library());
            var results = new List<(CellMappingResult Result, Nn.LossHistory History, string Folder)>();
            if (model != null) results.Add((model.Result!, model.History, which == "both" ? "stem" : ""));
            if (tangramResult != null) results.Add((tangramResult, tangramResult.History, which == "both" ? "tangram" : ""));
            foreach (var (result, _, _) in results)
                if (result.MetricsJson() is { } metrics)
                    foreach (var (name, node) in metrics)
                        r.Info($"{result.Method + (name == result.Method.ToLowerInvariant() ? "" : ": " + name),-20} pearson {node!["pearson_mean"]} kl {node["kl_mean"]} hit10 {node["hit10"]} hit30 {node["hit30"]} hit50 {node["hit50"]} error(all) {node["coord_error_all"]}");

            using (r.Stage("write results"))
            {
                var combined = new System.Text.Json.Nodes.JsonObject();
                foreach (var (result, history, folder) in results)
                {
                    var dir = Path.Combine(run.Dir, folder);
                    Directory.CreateDirectory(dir);
                    var output = new StemData(sc.Subset(), st.Subset()) { CellTypeColumn = data.CellTypeColumn, GroupColumn = data.GroupColumn };
                    if (result is StemResult sr) sr.AddTo(output); else ((TangramResult)result).AddTo(output);
                    H5ad.Write(output.Sc, Path.Combine(dir, "result_sc.h5ad"));
                    H5ad.Write(output.St, Path.Combine(dir, "result_st.h5ad"));
                    result.WriteTopSpots(Path.Combine(dir, "mapping_topk.csv"));
                    result.WriteAdjacency(Path.Combine(dir, "adjacency_topk.csv"));
                    result.WriteSpatiallyDominantGenes(Path.Combine(dir, "sdg.csv"));
                    if (result.MetricsJson() is { } m)
                    {
                        AtomicFile.WriteAllText(Path.Combine(dir, "metrics.json"), m.ToJsonString(JsonOptions.Default));
                        combined[result.Method.ToLowerInvariant()] = m[result.Method.ToLowerInvariant()]!.DeepClone();
                    }
                    StemFigures.WriteAll(result, data, dir);
                    RunFigures.TrainingRecord(history, $"{result.Method} training loss", run, folder);
                }
                if (combined.Count > 0) run.Extra["metrics"] = combined;
                if (results.Count > 1) StemFigures.WriteComparison(results.Select(x => x.Result).ToArray(), data, run.File("comparison.png"));
            }
            run.Commit("map", new
            {
                Method = which, options.Epochs, options.Seed, Sigma = model?.Sigma, Dropout = model?.Dropout, options.LearningRate, options.WeightDecay, options.Alpha,
                options.MmdBatch, options.BatchSpots, options.BatchCells, options.MiniBatchEpoch, TopK = options.TopK, options.Normalize, TangramEpochs = tangram ? tangramOptions.Epochs : (int?)null,
                CellTypeColumn = data.CellTypeColumn, GroupColumn = data.Groups,
            }, options.Seed, r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        }, Flags);
        return cmd;
    }
}
