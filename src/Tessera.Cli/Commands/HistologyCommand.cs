using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.StNet;
using Tessera.Plotting;

namespace Tessera.Cli.Commands;

/// <summary>`tessera histology train`: ST-Net, spot expression from H&amp;E patches, cross-validated.</summary>
public static class HistologyCommand
{
    public static Command Create()
    {
        var cmd = new Command("histology", "ST-Net: predict spot expression from H&E histology");
        cmd.Subcommands.Add(CreateTrain());
        cmd.Subcommands.Add(CreatePredict());
        return cmd;
    }

    private static Command CreateTrain()
    {
        var manifest = new Option<string>("--manifest") { Description = "CSV with columns section,counts,spots,image[,patient] (paths relative to the manifest)", Required = true };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var backbone = new Option<string>("--backbone") { Description = "resnet18-imagenet (pretrained, offline) or densenet121 (with --weights)", DefaultValueFactory = _ => "resnet18-imagenet" };
        var weights = new Option<string?>("--weights") { Description = "PyTorch state dict (.pt/.safetensors) for densenet121" };
        var mode = new Option<string>("--mode") { Description = "frozen (features once + ridge head; the CPU path) or finetune (all layers, SGD; GPU-scale work)", DefaultValueFactory = _ => "frozen" };
        var genes = new Option<int>("--genes") { Description = "Predict the N genes of highest mean count", DefaultValueFactory = _ => 250 };
        var transform = new Option<string>("--transform") { Description = "stnet: log((1+c)/(G+total)) as the authors; log1p-cpm", DefaultValueFactory = _ => "stnet" };
        var window = new Option<double>("--window-um") { Description = "Patch side in µm", DefaultValueFactory = _ => 150 };
        var pitch = new Option<double>("--pitch-um") { Description = "Spot centre-to-centre distance in µm (ST 200, Visium 100)", DefaultValueFactory = _ => 200 };
        var umpx = new Option<double?>("--um-per-px") { Description = "Image resolution (default: from the spot pitch)" };
        var noTta = new Option<bool>("--no-tta") { Description = "Do not average features over the 8 dihedral symmetries" };
        var cache = new Option<string?>("--cache") { Description = "Patch/feature cache folder (default: ~/.cache/tessera/histology)" };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => 0 };
        var epochs = new Option<int>("--epochs") { Description = "finetune: epochs (the paper: 50)", DefaultValueFactory = _ => 50 };
        var batch = new Option<int>("--batch") { Description = "finetune: batch size", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "finetune: SGD learning rate (the paper's 1e-6 with a loss summed over the batch)", DefaultValueFactory = _ => 1e-6 };
        var igPatches = new Option<int>("--ig-patches") { Description = "frozen: patches in the integrated-gradients figure of the best gene (0: none)", DefaultValueFactory = _ => 4 };
        var igSteps = new Option<int>("--ig-steps") { Description = "frozen: integrated-gradients path steps", DefaultValueFactory = _ => 32 };
        var innerFolds = new Option<int>("--inner-folds") { Description = "finetune: inner folds choosing the epoch (the paper's 4; 0: last epoch)", DefaultValueFactory = _ => 4 };
        var foldsOpt = new Option<string?>("--folds") { Description = "finetune: held-out sections/patients to run, comma-separated (default: all)" };
        var cmd = new Command("train", "Cross-validated ST-Net run (leave one patient out, else one section out) plus a final model")
            { manifest, outOpt, overwrite, backbone, weights, mode, genes, transform, window, pitch, umpx, noTta, cache, seed, epochs, batch, lr, foldsOpt, igPatches, igSteps, innerFolds };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var m = p.GetValue(mode)!;
            if (m != "frozen" && m != "finetune") throw new TesseraException($"--mode '{m}' is unknown (frozen, finetune)");
            var tf = p.GetValue(transform) switch
            {
                "stnet" => TargetTransform.StNetLog, "log1p-cpm" => TargetTransform.Log1pCpm,
                var t => throw new TesseraException($"--transform '{t}' is unknown (stnet, log1p-cpm)"),
            };
            var cacheDir = p.GetValue(cache) ?? StNetOptions.DefaultCacheDir;
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            IReadOnlyList<HistologySectionSpec> specs;
            List<HistologySection> sections;
            using (r.Stage("read sections"))
            {
                specs = HistologyManifest.Read(p.GetValue(manifest)!);
                foreach (var s in specs) { run.Inputs.Add(s.Counts); run.Inputs.Add(s.Spots); run.Inputs.Add(s.Image); }
                sections = [.. specs.Select(s => HistologySection.Load(s, r.Warn))];
                r.Info($"{sections.Count} sections, {sections.Sum(s => s.NSpots)} spots with positions");
            }
            var geneList = StNetTargets.TopGenes(sections, p.GetValue(genes));
            var bar = new Dictionary<string, Reporter.ProgressLine>();
            var options = new StNetOptions
            {
                Genes = geneList.Length, Transform = tf, WindowUm = p.GetValue(window), PitchUm = p.GetValue(pitch), UmPerPixel = p.GetValue(umpx),
                TestTimeAugmentation = !p.GetValue(noTta), CacheDir = cacheDir, Log = r.Info,
                Progress = (sec, done, total) =>
                {
                    if (!bar.TryGetValue(sec, out var b)) bar[sec] = b = r.Progress($"features {sec}", total);
                    b.Report(done);
                },
            };
            string backboneName = p.GetValue(backbone)!;
            IReadOnlyList<PreparedSection> prepared;
            IReadOnlyDictionary<string, DenseMatrix> preds;
            IReadOnlyList<GeneSectionScore> scores;
            IReadOnlyList<GeneSummary> summaryRows;
            StNetCvResult? res = null;
            IPatchFeaturizer? frozenNet = null;
            IReadOnlyList<FineTuneFold>? folds = null;
            if (m == "frozen")
            {
                IPatchFeaturizer net;
                using (r.Stage($"load backbone {backboneName}")) net = StNetBackbones.Create(backboneName, p.GetValue(weights));
                frozenNet = net;
                using (r.Stage($"patches and {(options.TestTimeAugmentation ? "8-symmetry " : "")}features")) prepared = StNetFrozen.Prepare(sections, net, geneList, options);
                using (r.Stage("cross-validation (ridge head vs colour baseline)")) res = StNetFrozen.CrossValidate(prepared, geneList, r.Info);
                preds = res.Predictions; scores = res.Scores; summaryRows = res.Summary;
            }
            else
            {
                StNetBackbones.CreateTrainable(backboneName, p.GetValue(weights)).Net.Dispose(); // fail early on a bad backbone or weights file
                using (r.Stage("patches")) prepared = StNetFrozen.Prepare(sections, null, geneList, options);
                var ft = new StNetFineTuneOptions
                {
                    Epochs = p.GetValue(epochs), BatchSize = p.GetValue(batch), LearningRate = p.GetValue(lr), Momentum = 0.9, Seed = p.GetValue(seed),
                    InnerFolds = p.GetValue(innerFolds),
                    Folds = p.GetValue(foldsOpt)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), Log = r.Info,
                };
                var ftBars = new Dictionary<string, Reporter.ProgressLine>();
                using (r.Stage($"fine-tune {backboneName} ({ft.Epochs} epochs, SGD lr {ft.LearningRate:G3}, momentum {ft.Momentum})"))
                    folds = StNetFineTune.CrossValidate(prepared, () => StNetBackbones.CreateTrainable(backboneName, p.GetValue(weights)), ft, (fold, done, total, loss) =>
                    {
                        if (!ftBars.TryGetValue(fold, out var b)) ftBars[fold] = b = r.Progress($"fine-tune fold {fold}", total);
                        b.Report(done, $"batch loss {loss:G4}");
                    });
                var held = folds.Select(f => f.HeldOut).ToArray();
                var fp = new Dictionary<string, DenseMatrix>(StringComparer.Ordinal);
                foreach (var f in folds) foreach (var (k, v) in f.Predictions) fp[k] = v;
                var basePreds = StNetFrozen.ColourBaseline(prepared, held);
                var sc = new List<GeneSectionScore>();
                foreach (var ps in prepared.Where(q => fp.ContainsKey(q.Section.Name)))
                {
                    sc.AddRange(StNetFrozen.Score("stnet", ps, fp[ps.Section.Name], geneList));
                    sc.AddRange(StNetFrozen.Score("colour", ps, basePreds[ps.Section.Name], geneList));
                }
                preds = fp; scores = sc; summaryRows = StNetFrozen.Summarise(sc, geneList, prepared);
            }
            var top50 = summaryRows.Take(Math.Min(50, summaryRows.Count)).ToArray();
            int beats = summaryRows.Count(s => s.BeatsBaseline);
            int allPos = summaryRows.Count(s => s.Sections > 0 && s.PositiveSections == s.Sections);
            int sig = summaryRows.Count(s => s.HolmP < 0.1);
            r.Info($"mean Pearson, top {top50.Length} genes: {top50.Average(s => s.MeanPearson):F3} (colour baseline {top50.Average(s => s.BaselineMeanPearson):F3}); all {summaryRows.Count}: {summaryRows.Average(s => s.MeanPearson):F3} (colour {summaryRows.Average(s => s.BaselineMeanPearson):F3})");
            r.Info($"beats the colour baseline on {beats}/{summaryRows.Count} genes; r > 0 in every held-out section for {allPos}; Holm-corrected sign test < 0.1 for {sig}");

            using (r.Stage("write results"))
            {
                var inv = CultureInfo.InvariantCulture;
                string F(double v) => double.IsFinite(v) ? v.ToString("R", inv) : "NA";
                CsvTable.Write(run.File("genes.csv"),
                    ["gene", "mean_target", "mean_pearson", "median_pearson", "positive_sections", "sections", "sign_test_p", "holm_p", "mean_pearson_smoothed", "colour_mean_pearson", "beats_colour"],
                    summaryRows.Select(s => (IReadOnlyList<string>)[s.Gene, F(s.MeanExpression), F(s.MeanPearson), F(s.MedianPearson), s.PositiveSections.ToString(inv), s.Sections.ToString(inv),
                        F(s.SignTestP), F(s.HolmP), F(s.MeanPearsonSmoothed), F(s.BaselineMeanPearson), s.BeatsBaseline ? "true" : "false"]));
                CsvTable.Write(run.File("scores.csv"),
                    ["model", "section", "gene", "spots", "pearson", "spearman", "rmse", "auroc", "pearson_smoothed", "spearman_smoothed", "rmse_smoothed", "auroc_smoothed"],
                    scores.Select(s => (IReadOnlyList<string>)[s.Model, s.Section, s.Gene, s.Spots.ToString(inv), F(s.Pearson), F(s.Spearman), F(s.Rmse), F(s.Auroc),
                        F(s.PearsonSmoothed), F(s.SpearmanSmoothed), F(s.RmseSmoothed), F(s.AurocSmoothed)]));
                foreach (var ps in prepared.Where(q => preds.ContainsKey(q.Section.Name)))
                {
                    var pred = preds[ps.Section.Name];
                    CsvTable.Write(run.File($"predictions_{ps.Section.Name}.csv"), ["spot", "pixel_x", "pixel_y", .. geneList],
                        ps.Spots.Select((s, i) => (IReadOnlyList<string>)[ps.Section.Counts.ObsNames[s], F(ps.Section.PixelX[s]), F(ps.Section.PixelY[s]),
                            .. Enumerable.Range(0, geneList.Length).Select(g => F(pred[i, g]))]));
                }
                var summary = new JsonObject
                {
                    ["backbone"] = backboneName, ["mode"] = m, ["genes"] = geneList.Length, ["sections"] = prepared.Count,
                    ["spots"] = prepared.Sum(q => q.Targets.Rows), ["tta"] = m == "frozen" && options.TestTimeAugmentation,
                    ["held_out_sections"] = preds.Count,
                    ["selected_epochs"] = folds is null ? null : new JsonObject(folds.Select(f => KeyValuePair.Create(f.HeldOut, (JsonNode?)f.SelectedEpoch))),
                    ["mean_pearson_top50"] = Math.Round(top50.Average(s => s.MeanPearson), 6),
                    ["colour_mean_pearson_top50"] = Math.Round(top50.Average(s => s.BaselineMeanPearson), 6),
                    ["mean_pearson_all"] = Math.Round(summaryRows.Average(s => s.MeanPearson), 6),
                    ["colour_mean_pearson_all"] = Math.Round(summaryRows.Average(s => s.BaselineMeanPearson), 6),
                    ["genes_beating_colour"] = beats, ["genes_positive_in_all_sections"] = allPos, ["genes_holm_below_0.1"] = sig,
                };
                AtomicFile.WriteAllText(run.File("summary.json"), summary.ToJsonString(JsonOptions.Default));
                run.Extra["summary"] = summary.DeepClone();
                if (res != null)
                {
                    var umpxTrain = sections.Select(q => options.UmPerPixel ?? options.PitchUm / q.PixelsPerArrayStep()).Order().ElementAt(sections.Count / 2);
                    StNetModelFiles.Save(run.File("model"), backboneName, p.GetValue(weights), geneList, options, umpxTrain, res.FinalHead);
                }
                if (folds != null)
                {
                    CsvTable.Write(run.File("finetune_loss.csv"), ["fold", "epoch", "train_loss", "held_out_mse", "inner_cv_sse", "selected"],
                        folds.SelectMany(f => f.TrainLoss.Select((l, e) => (IReadOnlyList<string>)[f.HeldOut, (e + 1).ToString(inv), F(l), F(f.HeldOutMse[e]),
                            f.InnerSse is null ? "NA" : F(f.InnerSse[e]), e + 1 == f.SelectedEpoch ? "true" : "false"])));
                    var plot = new ScottPlot.Plot();
                    foreach (var f in folds)
                    {
                        var xs = Enumerable.Range(1, f.TrainLoss.Length).Select(e => (double)e).ToArray();
                        var sTrain = plot.Add.Scatter(xs, f.TrainLoss.Select(l => l / p.GetValue(batch)).ToArray()); sTrain.LegendText = $"{f.HeldOut}: train loss per patch";
                        var sHeld = plot.Add.Scatter(xs, f.HeldOutMse); sHeld.LegendText = $"{f.HeldOut}: held-out MSE";
                    }
                    plot.Title("ST-Net fine-tuning"); plot.XLabel("epoch"); plot.YLabel("mean squared error"); plot.ShowLegend();
                    Figures.SavePng(plot, run.File("finetune_loss.png"), 800, 500);
                }
                var mapSection = prepared.First(q => preds.ContainsKey(q.Section.Name));
                Maps(mapSection, summaryRows, scores, preds[mapSection.Section.Name], run);
            }
            if (res != null && frozenNet != null)
            {
                var bestGene = summaryRows.Select((g, i) => (g, i)).MaxBy(t => t.g.MeanPearson);
                using (r.Stage("UMAP of patch features")) LatentFigures(prepared, preds, bestGene.g.Gene, bestGene.i, p.GetValue(seed), run);
                if (p.GetValue(igPatches) > 0)
                    using (r.Stage($"integrated gradients of {bestGene.g.Gene} ({p.GetValue(igPatches)} patches, {p.GetValue(igSteps)} steps)"))
                        IgFigure(prepared[0], frozenNet, res.FinalHead, bestGene.i, bestGene.g.Gene, p.GetValue(igPatches), p.GetValue(igSteps), run);
            }
            run.Commit("histology train", new
            {
                Backbone = backboneName, Mode = m, Genes = geneList.Length, Transform = tf.ToString(), options.WindowUm, options.PitchUm, options.UmPerPixel,
                Tta = options.TestTimeAugmentation,
            }, p.GetValue(seed), r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        });
        return cmd;
    }

    private static Command CreatePredict()
    {
        var model = new Option<string>("--model") { Description = "Model folder written by histology train (its model/ subfolder or the run folder)", Required = true };
        var image = new Option<string>("--image") { Description = "H&E slide (JPEG/PNG)", Required = true };
        var spots = new Option<string?>("--spots") { Description = "Spot file with pixel_x,pixel_y (and x,y); without it the whole slide is tiled" };
        var umpx = new Option<double?>("--um-per-px") { Description = "Slide resolution (default: from the spot pitch, else the training slides')" };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var cache = new Option<string?>("--cache") { Description = "Patch/feature cache folder (default: ~/.cache/tessera/histology)" };
        var cmd = new Command("predict", "Predict spot (or whole-slide tile) expression with a trained ST-Net model") { model, image, spots, umpx, outOpt, overwrite, cache };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var dir = p.GetValue(model)!;
            if (File.Exists(Path.Combine(dir, "model", "model.json"))) dir = Path.Combine(dir, "model");
            var saved = StNetModelFiles.Load(dir);
            var img = p.GetValue(image)!;
            if (!File.Exists(img)) throw new TesseraException($"image '{img}' does not exist");
            var cacheDir = p.GetValue(cache) ?? StNetOptions.DefaultCacheDir;
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            run.Inputs.Add(img);
            IPatchFeaturizer net;
            using (r.Stage($"load backbone {saved.Backbone}")) net = StNetBackbones.Create(saved.Backbone, saved.Weights);
            var o = new StNetOptions
            {
                Transform = saved.Options.Transform, WindowUm = saved.Options.WindowUm, PitchUm = saved.Options.PitchUm, PatchSize = saved.Options.PatchSize,
                TestTimeAugmentation = saved.Options.TestTimeAugmentation, CacheDir = cacheDir, Log = r.Info,
            };
            string[] ids; double[] xs, ys; double window; bool wholeSlide = p.GetValue(spots) is null;
            TissueImage? slide = null;
            if (!wholeSlide)
            {
                var pos = SpotPositions.Read(p.GetValue(spots)!);
                run.Inputs.Add(p.GetValue(spots)!);
                var res = new StNetOptions { WindowUm = o.WindowUm, PitchUm = o.PitchUm, UmPerPixel = p.GetValue(umpx) };
                window = StNetFrozen.WindowPixels(res.UmPerPixel is null ? pos.PixelsPerArrayStep() : double.NaN, $"spot file '{p.GetValue(spots)}'", res);
                ids = pos.Ids; xs = pos.PixelX; ys = pos.PixelY;
            }
            else
            {
                double um = p.GetValue(umpx) ?? saved.TrainingUmPerPixel;
                window = o.WindowUm / um;
                using (r.Stage("decode slide and find tissue tiles")) slide = SpaceRanger.LoadImage(img, "slide", 1.0);
                var (tx, ty, tc, tr) = SlideTiles.Tissue(slide, window);
                if (tx.Length == 0) throw new TesseraException($"no tissue tile in '{img}' (every {window:F0}-px tile is more than half background)");
                r.Info($"{tx.Length} tissue tiles of {window:F0} px ({o.WindowUm} µm at {um:G4} µm/px)");
                ids = [.. tc.Select((c, i) => $"tile_{c}_{tr[i]}")]; xs = tx; ys = ty;
            }
            PatchSet patches;
            TissueImage? thumb = null;
            using (r.Stage("patches"))
            {
                patches = slide is null ? Patches.Extract(img, xs, ys, window, o.PatchSize, cacheDir, r.Info) : Patches.FromImage(slide, xs, ys, window, o.PatchSize);
                if (slide is not null) thumb = Patches.Thumbnail(slide, 1200); // from the decoded slide, not a second decode
            }
            slide = null; // the decoded slide is not needed any more
            if (patches.Count == 0) throw new TesseraException($"no spot of '{p.GetValue(spots)}' has a {window:F0}-px patch inside the image");
            DenseMatrix feats;
            var bar = r.Progress("features", patches.Count);
            var oo = new StNetOptions { TestTimeAugmentation = o.TestTimeAugmentation, CacheDir = wholeSlide ? null : cacheDir, Log = r.Info, Progress = (_, d, _) => bar.Report(d) };
            using (r.Stage($"{(o.TestTimeAugmentation ? "8-symmetry " : "")}features")) feats = StNetFrozen.Featurize(patches, net, oo, "slide");
            var pred = saved.Head.Predict(feats);
            using (r.Stage("write results"))
            {
                var inv = CultureInfo.InvariantCulture;
                string F(double v) => v.ToString("R", inv);
                CsvTable.Write(run.File("predictions.csv"), ["spot", "pixel_x", "pixel_y", .. saved.Genes],
                    patches.SpotIndex.Select((s, i) => (IReadOnlyList<string>)[ids[s], F(xs[s]), F(ys[s]), .. Enumerable.Range(0, saved.Genes.Length).Select(g => F(pred[i, g]))]));
                var bulk = Enumerable.Range(0, saved.Genes.Length).Select(g => Enumerable.Range(0, pred.Rows).Average(i => pred[i, g])).ToArray();
                CsvTable.Write(run.File("pseudobulk.csv"), ["gene", "mean_predicted_target"], saved.Genes.Select((g, i) => (IReadOnlyList<string>)[g, F(bulk[i])]));
                var kept = patches.SpotIndex;
                var xy = new DenseMatrix(kept.Length, 2);
                for (int i = 0; i < kept.Length; i++) { xy[i, 0] = xs[kept[i]]; xy[i, 1] = ys[kept[i]]; }
                var sd = new SpatialData(new CsrMatrix(kept.Length, 1, new int[kept.Length + 1], [], []), new Table([.. kept.Select(k => ids[k])]), new Table(["none"]));
                sd.SetObsm(SpatialData.SpatialKey, xy);
                thumb ??= Patches.Thumbnail(img, 1200);
                foreach (var g in Enumerable.Range(0, Math.Min(4, saved.Genes.Length)))
                    Figures.SavePng(SpatialPlot.Continuous(sd, Enumerable.Range(0, pred.Rows).Select(i => pred[i, g]).ToArray(), $"{saved.Genes[g]} predicted", "magma", thumb),
                        run.File($"map_{saved.Genes[g]}.png"), 700, 650);
            }
            run.Commit("histology predict", new { Model = dir, Backbone = saved.Backbone, WholeSlide = wholeSlide, WindowPx = window, Tiles = patches.Count }, null, r);
            r.Info($"{patches.Count} {(wholeSlide ? "tiles" : "spots")} predicted; results in {run.FinalDir}");
            return 0;
        });
        return cmd;
    }

    /// <summary>UMAP of the backbone features of every patch, coloured by section and by the held-out prediction of one gene.</summary>
    private static void LatentFigures(IReadOnlyList<PreparedSection> prepared, IReadOnlyDictionary<string, DenseMatrix> preds, string gene, int gi, int seed, RunOutput run)
    {
        var feats = DenseMatrix.VStack([.. prepared.Select(q => q.Features)]);
        var z = Tessera.Analysis.Statistics.ZScores(feats);
        for (int i = 0; i < z.Data.Length; i++) if (!double.IsFinite(z.Data[i])) z.Data[i] = 0; // constant features (dead ReLUs) carry nothing
        var xy = new Tessera.Analysis.Umap(new Tessera.Analysis.UmapOptions { Seed = seed }).FitTransform(z);
        var labels = prepared.SelectMany(q => Enumerable.Repeat<string?>(q.Section.Name, q.Features.Rows)).ToArray();
        Figures.SavePng(EmbeddingPlot.Categorical(xy, labels, "Patch features (UMAP) by section"), run.File("umap_sections.png"), 700, 600);
        var values = prepared.SelectMany(q => Enumerable.Range(0, q.Features.Rows).Select(i => preds[q.Section.Name][i, gi])).ToArray();
        Figures.SavePng(EmbeddingPlot.Continuous(xy, values, $"Patch features (UMAP): held-out predicted {gene}", "magma"), run.File($"umap_{gene}.png"), 700, 600);
    }

    /// <summary>The patches with the highest predicted expression of a gene, each above its integrated-gradients heat map.</summary>
    private static void IgFigure(PreparedSection ps, IPatchFeaturizer net, Tessera.Analysis.RidgeModel head, int gi, string gene, int count, int steps, RunOutput run)
    {
        var pred = head.Predict(ps.Features);
        var order = Enumerable.Range(0, ps.Features.Rows).OrderByDescending(i => pred[i, gi]).Take(count).ToArray();
        int size = ps.Patches.Size, gap = 8, w = order.Length * (size + gap) - gap, h = 2 * size + gap;
        using var bmp = new SkiaSharp.SKBitmap(w, h, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque);
        using (var canvas = new SkiaSharp.SKCanvas(bmp)) canvas.Clear(SkiaSharp.SKColors.White);
        for (int k = 0; k < order.Length; k++)
        {
            using var patch = ps.Patches.Batch(order[k], 1);
            var heat = StNetAttribution.GeneHeatmap(net, head, gi, patch, steps);
            // robust scale: the 99th percentile of the map maps to full red
            var sorted = (float[])heat.Clone(); Array.Sort(sorted);
            float top = Math.Max(sorted[(int)(0.99 * (sorted.Length - 1))], 1e-12f);
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    int o = ((order[k] * size + y) * size + x) * 3;
                    byte rr = ps.Patches.Rgb[o], gg = ps.Patches.Rgb[o + 1], bb = ps.Patches.Rgb[o + 2];
                    bmp.SetPixel(k * (size + gap) + x, y, new SkiaSharp.SKColor(rr, gg, bb));
                    float a = Math.Clamp(heat[y * size + x] / top, 0, 1);
                    byte grey = (byte)((rr + gg + bb) / 3);
                    bmp.SetPixel(k * (size + gap) + x, size + gap + y, new SkiaSharp.SKColor((byte)(grey * (1 - a) + 255 * a), (byte)(grey * (1 - a)), (byte)(grey * (1 - a))));
                }
        }
        using var png = bmp.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(run.File($"ig_{gene}.png"), png.ToArray());
    }

    /// <summary>Measured vs held-out predicted maps of the 4 best-predicted genes on one section, over the tissue.</summary>
    private static void Maps(PreparedSection ps, IReadOnlyList<GeneSummary> summary, IReadOnlyList<GeneSectionScore> scores, DenseMatrix pred, RunOutput run)
    {
        var s = ps.Section;
        var sub = s.Counts.Subset(ps.Spots);
        var xy = new DenseMatrix(ps.Spots.Length, 2);
        for (int i = 0; i < ps.Spots.Length; i++) { xy[i, 0] = s.PixelX[ps.Spots[i]]; xy[i, 1] = s.PixelY[ps.Spots[i]]; }
        sub.SetObsm(SpatialData.SpatialKey, xy);
        var thumb = Patches.Thumbnail(s.ImagePath, 1200);
        var best = summary.Select((g, i) => (g, i)).OrderByDescending(t => t.g.MeanPearson).Take(4).ToArray();
        foreach (var (g, gi) in best)
        {
            var truth = new double[ps.Spots.Length]; var p = new double[ps.Spots.Length];
            for (int i = 0; i < truth.Length; i++) { truth[i] = ps.Targets[i, gi]; p[i] = pred[i, gi]; }
            var (lo, hi) = Figures.FiniteRange(truth);
            var r = scores.First(x => x.Model == "stnet" && x.Section == s.Name && x.Gene == g.Gene).Pearson;
            Figures.SavePng(SpatialPlot.Continuous(sub, truth, $"{g.Gene} measured ({s.Name})", "magma", thumb, lo, hi), run.File($"map_{g.Gene}_measured.png"), 700, 650);
            Figures.SavePng(SpatialPlot.Continuous(sub, p, $"{g.Gene} predicted, held out (r = {r:F2})", "magma", thumb), run.File($"map_{g.Gene}_predicted.png"), 700, 650);
        }
    }
}
