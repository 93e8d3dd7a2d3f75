using System.CommandLine;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.StNet;

namespace Tessera.Cli.Commands;

/// <summary>`tessera histology train|predict`: ST-Net, spot expression from H&amp;E patches (the work is <see cref="StNetTrainer"/>'s; this parses and writes).</summary>
public static class HistologyCommand
{
    public static Command Create()
    {
        var cmd = new Command("histology", "ST-Net: predict spot expression from H&E histology");
        cmd.Subcommands.Add(CreateTrain());
        cmd.Subcommands.Add(CreatePredict());
        return cmd;
    }

    private static readonly StNetOptions Defaults = new();

    /// <summary>The options' property names as this command's flags, for library messages.</summary>
    private static readonly Dictionary<string, string> TrainFlags = new()
    {
        ["Backbone"] = "--backbone", ["Weights"] = "--weights", ["Mode"] = "--mode", ["Genes"] = "--genes", ["Transform"] = "--transform",
        ["WindowUm"] = "--window-um", ["PitchUm"] = "--pitch-um", ["UmPerPixel"] = "--um-per-px", ["CacheDir"] = "--cache", ["Seed"] = "--seed",
        ["Epochs"] = "--epochs", ["BatchSize"] = "--batch", ["LearningRate"] = "--lr", ["InnerFolds"] = "--inner-folds", ["Folds"] = "--folds",
    };

    private static readonly Dictionary<string, string> PredictFlags = new() { ["UmPerPixel"] = "--um-per-px", ["CacheDir"] = "--cache" };

    private static Command CreateTrain()
    {
        var manifest = new Option<string>("--manifest") { Description = "CSV with columns section,counts,spots,image[,patient] (paths relative to the manifest)", Required = true };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var backbone = new Option<string>("--backbone") { Description = "resnet18-imagenet (pretrained, offline) or densenet121 (with --weights)", DefaultValueFactory = _ => Defaults.Backbone };
        var weights = new Option<string?>("--weights") { Description = "PyTorch state dict (.pt/.safetensors) for densenet121" };
        var mode = new Option<string>("--mode") { Description = "frozen (features once + ridge head; the CPU path) or finetune (all layers, SGD; GPU-scale work)", DefaultValueFactory = _ => ModeName(Defaults.Mode) };
        var genes = new Option<int>("--genes") { Description = "Predict the N genes of highest mean count", DefaultValueFactory = _ => Defaults.Genes };
        var transform = new Option<string>("--transform") { Description = "stnet: log((1+c)/(G+total)) as the authors; log1p-cpm", DefaultValueFactory = _ => TransformName(Defaults.Transform) };
        var window = new Option<double>("--window-um") { Description = "Patch side in µm", DefaultValueFactory = _ => Defaults.WindowUm };
        var pitch = new Option<double>("--pitch-um") { Description = "Spot centre-to-centre distance in µm (ST 200, Visium 100)", DefaultValueFactory = _ => Defaults.PitchUm };
        var umpx = new Option<double?>("--um-per-px") { Description = "Image resolution (default: from the spot pitch)" };
        var noTta = new Option<bool>("--no-tta") { Description = "Do not average features over the 8 dihedral symmetries" };
        var cache = new Option<string?>("--cache") { Description = "Patch/feature cache folder (default: ~/.cache/tessera/histology)" };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => Defaults.Seed };
        var epochs = new Option<int>("--epochs") { Description = "finetune: epochs (the paper: 50)", DefaultValueFactory = _ => Defaults.Epochs };
        var batch = new Option<int>("--batch") { Description = "finetune: batch size", DefaultValueFactory = _ => Defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "finetune: SGD learning rate (the paper's 1e-6 with a loss summed over the batch)", DefaultValueFactory = _ => Defaults.LearningRate };
        var igPatches = new Option<int>("--ig-patches") { Description = "frozen: patches in the integrated-gradients figure of the best gene (0: none)", DefaultValueFactory = _ => StNetFigures.DefaultAttributionPatches };
        var igSteps = new Option<int>("--ig-steps") { Description = "frozen: integrated-gradients path steps", DefaultValueFactory = _ => StNetFigures.DefaultAttributionSteps };
        var innerFolds = new Option<int>("--inner-folds") { Description = "finetune: inner folds choosing the epoch (the paper's 4; 0: last epoch)", DefaultValueFactory = _ => Defaults.InnerFolds };
        var foldsOpt = new Option<string?>("--folds") { Description = "finetune: held-out sections/patients to run, comma-separated (default: all)" };
        var cmd = new Command("train", "Cross-validated ST-Net run (leave one patient out, else one section out) plus a final model")
            { manifest, outOpt, overwrite, backbone, weights, mode, genes, transform, window, pitch, umpx, noTta, cache, seed, epochs, batch, lr, foldsOpt, igPatches, igSteps, innerFolds };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var options = new StNetOptions
            {
                Mode = p.GetValue(mode) switch
                {
                    "frozen" => StNetMode.Frozen, "finetune" => StNetMode.FineTune,
                    var m => throw new TesseraException($"--mode '{m}' is unknown (frozen, finetune)"),
                },
                Transform = p.GetValue(transform) switch
                {
                    "stnet" => TargetTransform.StNetLog, "log1p-cpm" => TargetTransform.Log1pCpm,
                    var t => throw new TesseraException($"--transform '{t}' is unknown (stnet, log1p-cpm)"),
                },
                Backbone = p.GetValue(backbone)!, Weights = p.GetValue(weights), Genes = p.GetValue(genes), WindowUm = p.GetValue(window), PitchUm = p.GetValue(pitch),
                UmPerPixel = p.GetValue(umpx), TestTimeAugmentation = !p.GetValue(noTta), CacheDir = p.GetValue(cache) ?? StNetOptions.DefaultCacheDir,
                Seed = p.GetValue(seed), Epochs = p.GetValue(epochs), BatchSize = p.GetValue(batch), LearningRate = p.GetValue(lr), InnerFolds = p.GetValue(innerFolds),
                Folds = p.GetValue(foldsOpt)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            };
            options.Validate();
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            var progress = r.Library();
            List<HistologySection> sections;
            using (r.Stage("read sections"))
            {
                var specs = HistologyManifest.Read(p.GetValue(manifest)!);
                // registered before loading, so an --out inside a manifest's input is refused before any work
                foreach (var s in specs) { run.Inputs.Add(s.Counts); run.Inputs.Add(s.Spots); run.Inputs.Add(s.Image); }
                sections = [.. specs.Select(s => HistologySection.Load(s, progress))];
                for (int i = 0; i < specs.Count; i++) run.Inputs.Add(specs[i].Counts, sections[i].Counts);
                r.Info($"{sections.Count} sections, {sections.Sum(s => s.NSpots)} spots with positions");
            }
            StNetModel model;
            using (r.Stage($"ST-Net {ModeName(options.Mode)} ({options.Backbone})")) model = StNetTrainer.Fit(sections, options, progress);
            using (model)
            {
                var res = model.Result!;
                using (r.Stage("write results"))
                {
                    res.WriteTables(run.Dir);
                    var summary = res.SummaryJson();
                    AtomicFile.WriteAllText(run.File("summary.json"), summary.ToJsonString(JsonOptions.Default));
                    run.Extra["summary"] = summary.DeepClone();
                    if (model.Head is not null) model.Save(run.File("model"));
                }
                using (r.Stage("figures")) StNetFigures.WriteTraining(model, run.Dir, p.GetValue(igPatches), p.GetValue(igSteps), progress);
                run.Commit("histology train", new
                {
                    options.Backbone, Mode = ModeName(options.Mode), Genes = res.Genes.Length, Transform = options.Transform.ToString(), options.WindowUm, options.PitchUm,
                    options.UmPerPixel, Tta = options.TestTimeAugmentation,
                }, options.Seed, r);
            }
            r.Info($"results in {run.FinalDir}");
            return 0;
        }, TrainFlags);
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
            using var net = StNetModel.Load(dir, p.GetValue(cache) ?? StNetOptions.DefaultCacheDir);
            var img = p.GetValue(image)!;
            if (!File.Exists(img)) throw new TesseraException($"image '{img}' does not exist");
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            run.Inputs.Add(img);
            var spotFile = p.GetValue(spots);
            SpotPositions? pos = null;
            if (spotFile is not null) { pos = SpotPositions.Read(spotFile); run.Inputs.Add(spotFile); }
            StNetResult res;
            using (r.Stage($"{net.Options.Backbone} features and prediction"))
                res = net.Predict(new HistologySlide(img, pos, p.GetValue(umpx)), r.Library());
            var pred = res.Predictions[0];
            using (r.Stage("write results"))
            {
                res.WriteTables(run.Dir);
                StNetFigures.WritePrediction(res, run.Dir);
            }
            run.Commit("histology predict", new { Model = dir, net.Options.Backbone, pred.WholeSlide, WindowPx = pred.WindowPixels, Tiles = pred.SpotIds.Length }, null, r);
            r.Info($"{pred.SpotIds.Length} {(pred.WholeSlide ? "tiles" : "spots")} predicted; results in {run.FinalDir}");
            return 0;
        }, PredictFlags);
        return cmd;
    }

    private static string ModeName(StNetMode mode) => mode == StNetMode.Frozen ? "frozen" : "finetune";

    private static string TransformName(TargetTransform t) => t == TargetTransform.StNetLog ? "stnet" : "log1p-cpm";
}
