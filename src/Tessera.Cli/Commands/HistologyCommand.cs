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
        return cmd;
    }

    private static Command CreateTrain()
    {
        var manifest = new Option<string>("--manifest") { Description = "CSV with columns section,counts,spots,image[,patient] (paths relative to the manifest)", Required = true };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var backbone = new Option<string>("--backbone") { Description = "resnet18-imagenet (pretrained, offline) or densenet121 (with --weights)", DefaultValueFactory = _ => "resnet18-imagenet" };
        var weights = new Option<string?>("--weights") { Description = "PyTorch state dict (.pt/.safetensors) for densenet121" };
        var mode = new Option<string>("--mode") { Description = "frozen (features once + ridge head; the CPU path)", DefaultValueFactory = _ => "frozen" };
        var genes = new Option<int>("--genes") { Description = "Predict the N genes of highest mean count", DefaultValueFactory = _ => 250 };
        var transform = new Option<string>("--transform") { Description = "stnet: log((1+c)/(G+total)) as the authors; log1p-cpm", DefaultValueFactory = _ => "stnet" };
        var window = new Option<double>("--window-um") { Description = "Patch side in µm", DefaultValueFactory = _ => 150 };
        var pitch = new Option<double>("--pitch-um") { Description = "Spot centre-to-centre distance in µm (ST 200, Visium 100)", DefaultValueFactory = _ => 200 };
        var umpx = new Option<double?>("--um-per-px") { Description = "Image resolution (default: from the spot pitch)" };
        var noTta = new Option<bool>("--no-tta") { Description = "Do not average features over the 8 dihedral symmetries" };
        var cache = new Option<string?>("--cache") { Description = "Patch/feature cache folder (default: ~/.cache/tessera/histology)" };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => 0 };
        var cmd = new Command("train", "Cross-validated ST-Net run (leave one patient out, else one section out) plus a final model")
            { manifest, outOpt, overwrite, backbone, weights, mode, genes, transform, window, pitch, umpx, noTta, cache, seed };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var m = p.GetValue(mode)!;
            if (m != "frozen") throw new TesseraException($"--mode '{m}' is not available in this version (frozen is)");
            var tf = p.GetValue(transform) switch
            {
                "stnet" => TargetTransform.StNetLog, "log1p-cpm" => TargetTransform.Log1pCpm,
                var t => throw new TesseraException($"--transform '{t}' is unknown (stnet, log1p-cpm)"),
            };
            var cacheDir = p.GetValue(cache) ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "tessera", "histology");
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            IReadOnlyList<HistologySectionSpec> specs;
            List<HistologySection> sections;
            using (r.Stage("read sections"))
            {
                specs = HistologyManifest.Read(p.GetValue(manifest)!);
                sections = [.. specs.Select(s => HistologySection.Load(s, r.Warn))];
                foreach (var s in specs) { run.Inputs.Add(s.Counts); run.Inputs.Add(s.Spots); run.Inputs.Add(s.Image); }
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
            IPatchFeaturizer net;
            using (r.Stage($"load backbone {p.GetValue(backbone)}")) net = StNetBackbones.Create(p.GetValue(backbone)!, p.GetValue(weights));
            IReadOnlyList<PreparedSection> prepared;
            using (r.Stage($"patches and {(options.TestTimeAugmentation ? "8-symmetry " : "")}features")) prepared = StNetFrozen.Prepare(sections, net, geneList, options);
            StNetCvResult res;
            using (r.Stage("cross-validation (ridge head vs colour baseline)")) res = StNetFrozen.CrossValidate(prepared, geneList, r.Info);
            var top50 = res.Summary.Take(Math.Min(50, res.Summary.Count)).ToArray();
            int beats = res.Summary.Count(s => s.BeatsBaseline);
            int allPos = res.Summary.Count(s => s.Sections > 0 && s.PositiveSections == s.Sections);
            int sig = res.Summary.Count(s => s.HolmP < 0.1);
            r.Info($"mean Pearson, top {top50.Length} genes: {top50.Average(s => s.MeanPearson):F3} (colour baseline {top50.Average(s => s.BaselineMeanPearson):F3}); all {res.Summary.Count}: {res.Summary.Average(s => s.MeanPearson):F3} (colour {res.Summary.Average(s => s.BaselineMeanPearson):F3})");
            r.Info($"beats the colour baseline on {beats}/{res.Summary.Count} genes; r > 0 in every held-out section for {allPos}; Holm-corrected sign test < 0.1 for {sig}");

            using (r.Stage("write results"))
            {
                var inv = CultureInfo.InvariantCulture;
                string F(double v) => double.IsFinite(v) ? v.ToString("R", inv) : "NA";
                CsvTable.Write(run.File("genes.csv"),
                    ["gene", "mean_target", "mean_pearson", "median_pearson", "positive_sections", "sections", "sign_test_p", "holm_p", "mean_pearson_smoothed", "colour_mean_pearson", "beats_colour"],
                    res.Summary.Select(s => (IReadOnlyList<string>)[s.Gene, F(s.MeanExpression), F(s.MeanPearson), F(s.MedianPearson), s.PositiveSections.ToString(inv), s.Sections.ToString(inv),
                        F(s.SignTestP), F(s.HolmP), F(s.MeanPearsonSmoothed), F(s.BaselineMeanPearson), s.BeatsBaseline ? "true" : "false"]));
                CsvTable.Write(run.File("scores.csv"),
                    ["model", "section", "gene", "spots", "pearson", "spearman", "rmse", "auroc", "pearson_smoothed", "spearman_smoothed", "rmse_smoothed", "auroc_smoothed"],
                    res.Scores.Select(s => (IReadOnlyList<string>)[s.Model, s.Section, s.Gene, s.Spots.ToString(inv), F(s.Pearson), F(s.Spearman), F(s.Rmse), F(s.Auroc),
                        F(s.PearsonSmoothed), F(s.SpearmanSmoothed), F(s.RmseSmoothed), F(s.AurocSmoothed)]));
                foreach (var ps in prepared)
                {
                    var pred = res.Predictions[ps.Section.Name];
                    CsvTable.Write(run.File($"predictions_{ps.Section.Name}.csv"), ["spot", "pixel_x", "pixel_y", .. geneList],
                        ps.Spots.Select((s, i) => (IReadOnlyList<string>)[ps.Section.Counts.ObsNames[s], F(ps.Section.PixelX[s]), F(ps.Section.PixelY[s]),
                            .. Enumerable.Range(0, geneList.Length).Select(g => F(pred[i, g]))]));
                }
                var summary = new JsonObject
                {
                    ["backbone"] = net.Name, ["mode"] = m, ["genes"] = geneList.Length, ["sections"] = prepared.Count,
                    ["spots"] = prepared.Sum(q => q.Targets.Rows), ["tta"] = options.TestTimeAugmentation,
                    ["mean_pearson_top50"] = Math.Round(top50.Average(s => s.MeanPearson), 6),
                    ["colour_mean_pearson_top50"] = Math.Round(top50.Average(s => s.BaselineMeanPearson), 6),
                    ["mean_pearson_all"] = Math.Round(res.Summary.Average(s => s.MeanPearson), 6),
                    ["colour_mean_pearson_all"] = Math.Round(res.Summary.Average(s => s.BaselineMeanPearson), 6),
                    ["genes_beating_colour"] = beats, ["genes_positive_in_all_sections"] = allPos, ["genes_holm_below_0.1"] = sig,
                };
                AtomicFile.WriteAllText(run.File("summary.json"), summary.ToJsonString(JsonOptions.Default));
                run.Extra["summary"] = summary.DeepClone();
                StNetModelFiles.Save(run.File("model"), net.Name, geneList, options, res.FinalHead);
                Maps(prepared[0], res, geneList, run);
            }
            run.Commit("histology train", new
            {
                Backbone = net.Name, Mode = m, Genes = geneList.Length, Transform = tf.ToString(), options.WindowUm, options.PitchUm, options.UmPerPixel,
                Tta = options.TestTimeAugmentation,
            }, p.GetValue(seed), r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        });
        return cmd;
    }

    /// <summary>Measured vs held-out predicted maps of the 4 best-predicted genes on one section, over the tissue.</summary>
    private static void Maps(PreparedSection ps, StNetCvResult res, string[] genes, RunOutput run)
    {
        var s = ps.Section;
        var sub = s.Counts.Subset(ps.Spots);
        var xy = new DenseMatrix(ps.Spots.Length, 2);
        for (int i = 0; i < ps.Spots.Length; i++) { xy[i, 0] = s.PixelX[ps.Spots[i]]; xy[i, 1] = s.PixelY[ps.Spots[i]]; }
        sub.SetObsm(SpatialData.SpatialKey, xy);
        var thumb = Patches.Thumbnail(s.ImagePath, 1200);
        var best = res.Summary.Select((g, i) => (g, i)).OrderByDescending(t => t.g.MeanPearson).Take(4).ToArray();
        var pred = res.Predictions[s.Name];
        foreach (var (g, gi) in best)
        {
            var truth = new double[ps.Spots.Length]; var p = new double[ps.Spots.Length];
            for (int i = 0; i < truth.Length; i++) { truth[i] = ps.Targets[i, gi]; p[i] = pred[i, gi]; }
            var (lo, hi) = Figures.FiniteRange(truth);
            var r = res.Scores.First(x => x.Model == "stnet" && x.Section == s.Name && x.Gene == g.Gene).Pearson;
            Figures.SavePng(SpatialPlot.Continuous(sub, truth, $"{g.Gene} measured ({s.Name})", "magma", thumb, lo, hi), run.File($"map_{g.Gene}_measured.png"), 700, 650);
            Figures.SavePng(SpatialPlot.Continuous(sub, p, $"{g.Gene} predicted, held out (r = {r:F2})", "magma", thumb), run.File($"map_{g.Gene}_predicted.png"), 700, 650);
        }
    }
}
