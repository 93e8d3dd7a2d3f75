using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.Stem;
using Tessera.Plotting;
using Tessera.Simulate;

namespace Tessera.Cli.Commands;

/// <summary>`tessera map --sc SC --st ST --out DIR`: STEM mapping of single cells onto spots.</summary>
public static class MapCommand
{
    public static Command Create()
    {
        var scOpt = new Option<string>("--sc") { Description = "Single-cell data (any reader; coordinates are never read)", Required = true };
        var stOpt = new Option<string>("--st") { Description = "Spatial data with spot coordinates", Required = true };
        var stCoords = new Option<string?>("--st-coords") { Description = "Coordinate columns X,Y of the ST obs (when it has no obsm spatial)" };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var typeCol = new Option<string?>("--cell-type-column") { Description = "SC obs column with cell types (proportion maps; metrics when truth is present)" };
        var groupCol = new Option<string?>("--group-column") { Description = "SC obs column grouping cells for spatially dominant genes (default: the cell-type column)" };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs", DefaultValueFactory = _ => 400 };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => 2022 };
        var sigma = new Option<double?>("--sigma") { Description = "Spatial kernel width (default: half the median nearest-spot distance)" };
        var dropout = new Option<double?>("--dropout") { Description = "ST input dropout (default: 1 - median genes per cell / median genes per spot)" };
        var topK = new Option<int>("--top-k") { Description = "Spots kept per cell in mapping_topk.csv", DefaultValueFactory = _ => 10 };
        var igSteps = new Option<int>("--ig-steps") { Description = "Integrated-gradient steps for spatially dominant genes", DefaultValueFactory = _ => 50 };
        var tangramEpochs = new Option<int>("--tangram-epochs") { Description = "Epochs of the Tangram-style baseline (metrics only)", DefaultValueFactory = _ => 1000 };
        var mmdBatch = new Option<int>("--mmd-batch") { Description = "Cells sampled per step for the MMD", DefaultValueFactory = _ => 1000 };
        var noNormalize = new Option<bool>("--no-normalize") { Description = "Use expression values as given instead of normalize_total + log1p (already normalised or z-scored data, e.g. seqFISH; negative values are then accepted)" };
        var noBaselines = new Option<bool>("--no-baselines") { Description = "Skip the correlation and Tangram-style baselines" };
        var cmd = new Command("map", "Map single cells onto spatial spots with STEM")
            { scOpt, stOpt, stCoords, outOpt, overwrite, typeCol, groupCol, epochs, seed, sigma, dropout, topK, igSteps, tangramEpochs, mmdBatch, noNormalize, noBaselines };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var options = new StemOptions
            {
                Epochs = p.GetValue(epochs), Seed = p.GetValue(seed), Sigma = p.GetValue(sigma), Dropout = p.GetValue(dropout),
                TopK = Math.Max(p.GetValue(topK), 1), MmdBatch = p.GetValue(mmdBatch), Normalize = !p.GetValue(noNormalize), Log = r.Info,
            };
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            SpatialData sc, st;
            using (r.Stage("read SC")) sc = DataReader.Read(p.GetValue(scOpt)!, new ReadOptions { Log = r.Info, AllowNegative = true });
            // Negative values are judged by STEM's input step, whose message points to --no-normalize; the reader still rejects NaN/Inf.
            var stRead = new ReadOptions { Log = r.Info, AllowNegative = true, Coords = p.GetValue(stCoords)?.Split(',', StringSplitOptions.TrimEntries) };
            using (r.Stage("read ST")) st = DataReader.Read(p.GetValue(stOpt)!, stRead);
            run.Inputs.Add(p.GetValue(scOpt)!); run.Inputs.Add(p.GetValue(stOpt)!);
            string? types = p.GetValue(typeCol), groups = p.GetValue(groupCol) ?? types;
            foreach (var c in new[] { types, groups })
                if (c != null && !sc.Obs.Contains(c))
                    throw new TesseraException($"SC obs column '{c}' not found; available: {(sc.Obs.ColumnNames.Count == 0 ? "(none)" : string.Join(", ", sc.Obs.ColumnNames))}");

            StemModel model;
            using (r.Stage($"train STEM ({options.Epochs} epochs)")) model = Stem.Fit(sc, st, options);
            using var _ = model;
            r.Info($"sigma used: {model.Sigma:G6}; ST dropout used: {model.Dropout:G4}; genes: {model.Inputs.Genes.Length} shared, {model.Inputs.DroppedScGenes} SC-only and {model.Inputs.DroppedStGenes} ST-only dropped");
            StemMapping map;
            using (r.Stage("map cells")) map = model.Map();

            var scOut = sc.Subset(); var stOut = st.Subset();
            scOut.SetObsm("X_stem", model.ScEmbedding);
            scOut.SetObsm("spatial_pred", map.CoordsAll);
            scOut.SetObsm("spatial_pred_top" + map.CoordTopK, map.CoordsTopK);
            scOut.Obs.Set("stem_best_spot", new StringColumn(map.BestSpot.Select(s => (string?)model.SpotNames[s]).ToArray()));
            stOut.SetObsm("X_stem", model.StEmbedding);
            scOut.Uns["stem"] = new Dictionary<string, object>
            {
                ["sigma"] = model.Sigma, ["dropout"] = model.Dropout, ["epochs"] = options.Epochs, ["seed"] = options.Seed,
                ["genes"] = model.Inputs.Genes, ["final_loss"] = model.History.Total[^1],
            };
            CategoricalColumn? typeCat = types != null ? CategoricalColumn.FromLabels(sc.Obs.Labels(types)) : null;
            if (typeCat != null)
            {
                var props = model.SpotTypeProportions(typeCat.Codes, typeCat.Categories.Length);
                stOut.SetObsm("stem_proportions", props);
                stOut.Uns["stem_proportion_types"] = typeCat.Categories;
                for (int t = 0; t < typeCat.Categories.Length; t++) stOut.Obs.Set("stem_" + typeCat.Categories[t], new NumericColumn(props.Column(t)));
            }

            SdgRow[]? sdg = null;
            if (groups != null)
                using (r.Stage($"spatially dominant genes ({p.GetValue(igSteps)} IG steps)"))
                    sdg = SpatialGenes.Test(model.IntegratedGradients(p.GetValue(igSteps)), model.Inputs.Genes, sc.Obs.Labels(groups));

            JsonObject? metrics = null;
            if (typeCat != null && sc.Obsm.TryGetValue(PseudoSpots.TrueCoordsKey, out var truth) && st.Obsm.TryGetValue(PseudoSpots.ProportionsKey, out var trueProps)
                && st.Uns.TryGetValue(PseudoSpots.ProportionTypesKey, out var tn) && tn is string?[] propTypes)
            {
                var labels = sc.Obs.Labels(types!);
                var ptypes = propTypes.Select(t => t ?? "").ToArray();
                metrics = [];
                using (r.Stage("evaluate STEM")) metrics["stem"] = ToJson(MappingEvaluation.Evaluate(model.DenseProbabilities(), st.Spatial, truth, labels, trueProps, ptypes));
                if (!p.GetValue(noBaselines))
                {
                    using (r.Stage("correlation baseline")) metrics["correlation"] = ToJson(MappingEvaluation.Evaluate(MappingBaselines.Correlation(model.Inputs), st.Spatial, truth, labels, trueProps, ptypes));
                    using (r.Stage("Tangram-style baseline")) metrics["tangram"] = ToJson(MappingEvaluation.Evaluate(
                        MappingBaselines.Tangram(model.Inputs, new TangramOptions { Epochs = p.GetValue(tangramEpochs), Seed = options.Seed }, r.Detail), st.Spatial, truth, labels, trueProps, ptypes));
                }
                foreach (var (name, node) in metrics)
                    r.Info($"{name,-12} pearson {node!["pearson_mean"]} kl {node["kl_mean"]} hit10 {node["hit10"]} hit30 {node["hit30"]} hit50 {node["hit50"]} error(all) {node["coord_error_all"]}");
            }

            using (r.Stage("write results"))
            {
                H5ad.Write(scOut, run.File("result_sc.h5ad"));
                H5ad.Write(stOut, run.File("result_st.h5ad"));
                var inv = CultureInfo.InvariantCulture;
                var c2s = map.CellToSpot;
                CsvTable.Write(run.File("mapping_topk.csv"), ["cell", "rank", "spot", "probability"],
                    Enumerable.Range(0, c2s.Rows).SelectMany(i => Enumerable.Range(c2s.IndPtr[i], c2s.IndPtr[i + 1] - c2s.IndPtr[i])
                        .OrderByDescending(k => c2s.Data[k]).Select((k, rank) => (IReadOnlyList<string>)[sc.ObsNames[i], (rank + 1).ToString(inv), model.SpotNames[c2s.Indices[k]], c2s.Data[k].ToString("R", inv)])));
                if (sdg != null)
                    CsvTable.Write(run.File("sdg.csv"), ["group", "gene", "rank", "z", "mean_attribution_group", "mean_attribution_rest", "p", "p_adj"],
                        sdg.Select(s => (IReadOnlyList<string>)[s.Group, s.Gene, s.Rank.ToString(inv), s.Z.ToString("R", inv), s.MeanInGroup.ToString("R", inv),
                            s.MeanRest.ToString("R", inv), s.P.ToString("R", inv), s.PAdj.ToString("R", inv)]));
                if (metrics != null)
                {
                    AtomicFile.WriteAllText(run.File("metrics.json"), metrics.ToJsonString(JsonOptions.Default));
                    run.Extra["metrics"] = metrics.DeepClone();
                }
                Plots(scOut, stOut, typeCat, run);
                RunFigures.TrainingRecord(model.History, "STEM training loss", run);
                if (sdg != null) SdgHeatmap(sdg, run.File("sdg_heatmap.png"));
            }
            run.Commit("map", new
            {
                options.Epochs, options.Seed, Sigma = model.Sigma, Dropout = model.Dropout, options.LearningRate, options.WeightDecay, options.Alpha,
                options.MmdBatch, TopK = options.TopK, options.Normalize, CellTypeColumn = types, GroupColumn = groups,
            }, options.Seed, r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        });
        return cmd;
    }

    private static JsonObject ToJson(MappingScores s) => new()
    {
        ["pearson_mean"] = Num(s.PearsonMean), ["kl_mean"] = Num(s.KlMean), ["hit10"] = Num(s.Hit10), ["hit30"] = Num(s.Hit30), ["hit50"] = Num(s.Hit50),
        ["coord_error_10"] = Num(s.CoordError10), ["coord_error_30"] = Num(s.CoordError30), ["coord_error_50"] = Num(s.CoordError50), ["coord_error_all"] = Num(s.CoordErrorAll),
        ["pearson"] = new JsonObject(s.Types.Select((t, i) => KeyValuePair.Create(t, (JsonNode?)Num(s.Pearson[i])))),
        ["kl"] = new JsonObject(s.Types.Select((t, i) => KeyValuePair.Create(t, (JsonNode?)Num(s.Kl[i])))),
    };

    private static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 6)) : null;

    /// <summary>Groups × (top 5 SDGs of each group): mean attribution in the group, scaled per gene to its maximum over groups.</summary>
    private static void SdgHeatmap(SdgRow[] sdg, string path)
    {
        var groups = sdg.Select(s => s.Group).Distinct().ToArray();
        var genes = groups.SelectMany(g => sdg.Where(s => s.Group == g && s.Rank <= 5).Select(s => s.Gene)).Distinct().ToArray();
        if (groups.Length == 0 || genes.Length == 0) return;
        var lookup = sdg.ToDictionary(s => (s.Group, s.Gene), s => s.MeanInGroup);
        var m = new double[groups.Length, genes.Length];
        for (int j = 0; j < genes.Length; j++)
        {
            double max = groups.Max(g => Math.Abs(lookup.GetValueOrDefault((g, genes[j]))));
            for (int i = 0; i < groups.Length; i++) m[groups.Length - 1 - i, j] = max > 0 ? lookup.GetValueOrDefault((groups[i], genes[j])) / max : 0;
        }
        var plot = new ScottPlot.Plot();
        var hm = plot.Add.Heatmap(m);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(hm);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, genes.Length).Select(j => (double)j).ToArray(), genes);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 90;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plot.Axes.Left.SetTicks(Enumerable.Range(0, groups.Length).Select(i => (double)(groups.Length - 1 - i)).ToArray(), groups);
        plot.Title("spatially dominant genes: mean IG attribution (scaled per gene)");
        Tessera.Plotting.Figures.SavePng(plot, path, Math.Max(900, 40 * genes.Length + 300), Math.Max(500, 30 * groups.Length + 300));
    }

    private static void Plots(SpatialData sc, SpatialData st, CategoricalColumn? types, RunOutput run)
    {
        var labels = types != null ? Enumerable.Range(0, types.Length).Select(types.Label).ToArray() : new string?[sc.NObs];
        Tessera.Plotting.Figures.SavePng(EmbeddingPlot.Categorical(sc.Obsm["spatial_pred"], labels, "predicted cell positions (STEM)", axisPrefix: "x"),
            run.File("cells_predicted.png"), 1100, 900);
        if (sc.Obsm.TryGetValue(PseudoSpots.TrueCoordsKey, out var truth))
            Tessera.Plotting.Figures.SavePng(EmbeddingPlot.Categorical(truth, labels, "true cell positions", axisPrefix: "x"), run.File("cells_true.png"), 1100, 900);
        if (types == null || !st.HasSpatial) return;
        var props = st.Obsm["stem_proportions"];
        for (int t = 0; t < types.Categories.Length; t++)
        {
            var v = props.Column(t);
            if (!(v.Max() > v.Min())) continue;
            var safe = new string(types.Categories[t].Select(ch => char.IsLetterOrDigit(ch) ? ch : '_').ToArray());
            Tessera.Plotting.Figures.SavePng(SpatialPlot.Continuous(st, v, $"STEM proportion: {types.Categories[t]}"), run.File($"proportion_{safe}.png"), 1000, 850);
        }
    }
}
