using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Analysis;
using Tessera.Data;
using Tessera.IO;
using Tessera.Nn;

namespace Tessera.Methods.StNet;

/// <summary>
/// A trained ST-Net model. Frozen mode: the image backbone and a ridge head fitted on every training section, which
/// predicts spots or whole-slide tiles of new slides; saved as a folder holding <c>model.json</c> (format
/// <c>tessera-stnet-frozen/1</c>: settings, genes, the head in plain numbers, the backbone by name and weights path).
/// Fine-tune mode keeps only its cross-validation <see cref="Result"/>: it trains no final network.
/// </summary>
public sealed class StNetModel : IDisposable
{
    private const string Format = "tessera-stnet-frozen/1";
    private IPatchFeaturizer? backbone;

    internal StNetModel(StNetOptions options, string[] genes, double trainingUmPerPixel, RidgeModel? head, IPatchFeaturizer? backbone, StNetResult? result)
    {
        Options = options;
        Genes = genes;
        TrainingUmPerPixel = trainingUmPerPixel;
        Head = head;
        this.backbone = backbone;
        Result = result;
    }

    /// <summary>The settings of the fit (for a loaded model: the saved ones, with the cache folder given to <see cref="Load"/>).</summary>
    public StNetOptions Options { get; }

    /// <summary>The cross-validation result on the training sections; null for a model loaded from disk.</summary>
    public StNetResult? Result { get; }

    /// <summary>Predicted genes, in output column order.</summary>
    public string[] Genes { get; }

    /// <summary>Median image resolution of the training sections (µm per pixel), the default for whole-slide prediction; NaN for a fine-tuned model.</summary>
    public double TrainingUmPerPixel { get; }

    /// <summary>The ridge head on the backbone features (frozen mode); null for a fine-tuned model.</summary>
    public RidgeModel? Head { get; }

    /// <summary>The backbone (loaded on first use for a model read from disk).</summary>
    internal IPatchFeaturizer Backbone => backbone ??= StNetBackbones.Create(Options.Backbone, Options.Weights);

    /// <summary>
    /// Predicts the spots of <paramref name="data"/> (or, without spots, the tissue tiles of the whole slide: tiles of one
    /// patch window whose majority is not background). Spots whose window leaves the image are left out. Progress:
    /// patches and features per batch; cancellation is honoured between batches.
    /// </summary>
    public StNetResult Predict(HistologySlide data, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var head = HeadOrThrow();
        var img = data.ImagePath;
        if (!File.Exists(img)) throw new TesseraException($"image '{img}' does not exist");
        if (data.UmPerPixel is { } u && (!(u > 0) || !double.IsFinite(u))) throw new TesseraException($"UmPerPixel must be a positive number but is {u.ToString(CultureInfo.InvariantCulture)}");
        using var scope = TorchScope.Enter(Options.Threads);
        string[] ids; double[] xs, ys; double window;
        bool wholeSlide = data.Spots is null;
        TissueImage? slide = null;
        if (data.Spots is { } pos)
        {
            var res = Options with { UmPerPixel = data.UmPerPixel };
            window = StNetFrozen.WindowPixels(res.UmPerPixel is null ? pos.PixelsPerArrayStep() : double.NaN, $"slide '{data.Name}'", res);
            ids = pos.Ids; xs = pos.PixelX; ys = pos.PixelY;
        }
        else
        {
            double um = data.UmPerPixel ?? TrainingUmPerPixel;
            window = Options.WindowUm / um;
            slide = SpaceRanger.LoadImage(img, "slide", 1.0);
            var (tx, ty, tc, tr) = SlideTiles.Tissue(slide, window);
            if (tx.Length == 0) throw new TesseraException($"no tissue tile in '{img}' (every {window:F0}-px tile is more than half background)");
            progress.Note("patches", $"{tx.Length} tissue tiles of {window:F0} px ({Options.WindowUm} µm at {um:G4} µm/px)");
            ids = [.. tc.Select((c, i) => $"tile_{c}_{tr[i]}")]; xs = tx; ys = ty;
        }
        cancellationToken.ThrowIfCancellationRequested();
        var patches = slide is null ? Patches.Extract(img, xs, ys, window, Options.PatchSize, Options.CacheDir, progress) : Patches.FromImage(slide, xs, ys, window, Options.PatchSize);
        var thumb = slide is null ? null : Patches.Thumbnail(slide, 1200); // from the decoded slide, not a second decode
        slide = null; // the decoded slide is not needed any more
        if (patches.Count == 0) throw new TesseraException($"no spot of slide '{data.Name}' has a {window:F0}-px patch inside the image");
        // whole-slide tiles are not cached: their features are used once
        var feats = StNetFrozen.Featurize(patches, Backbone, Options with { CacheDir = wholeSlide ? null : Options.CacheDir }, data.Name, progress, cancellationToken);
        var pred = head.Predict(feats);
        var kept = patches.SpotIndex;
        var p = new StNetPrediction(data.Name, [.. kept.Select(k => ids[k])], [.. kept.Select(k => xs[k])], [.. kept.Select(k => ys[k])], pred, img)
        {
            WindowPixels = window, WholeSlide = wholeSlide, Thumbnail = thumb,
        };
        return new StNetResult(Options, Genes, [p], false);
    }

    /// <summary>Predicts the spots of a section (its counts are not used; the resolution comes from its spot pitch unless <see cref="StNetOptions.UmPerPixel"/> was set for the fit).</summary>
    public StNetResult Predict(HistologySection data, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var spots = new SpotPositions(data.Counts.ObsNames, data.PixelX, data.PixelY, data.ArrayX, data.ArrayY);
        return Predict(new HistologySlide(data.ImagePath, spots, Options.UmPerPixel) { Name = data.Name }, progress, cancellationToken);
    }

    private RidgeModel HeadOrThrow() => Head ?? throw new TesseraException(
        "a fine-tuned ST-Net model has no final network to predict with or save (fine-tuning runs the cross-validation folds only); fit with Mode Frozen for one");

    /// <summary>Writes <c>model.json</c> into the folder <paramref name="path"/> (created when missing; the file is replaced atomically).</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var head = HeadOrThrow();
        var o = Options;
        Directory.CreateDirectory(path);
        var json = new JsonObject
        {
            ["format"] = Format, ["backbone"] = o.Backbone, ["weights"] = o.Weights is null ? null : Path.GetFullPath(o.Weights),
            ["training_um_per_px"] = TrainingUmPerPixel, ["transform"] = o.Transform.ToString(),
            ["window_um"] = o.WindowUm, ["pitch_um"] = o.PitchUm, ["um_per_px"] = o.UmPerPixel, ["patch_size"] = o.PatchSize,
            ["tta"] = o.TestTimeAugmentation,
            ["genes"] = new JsonArray([.. Genes.Select(g => (JsonNode?)g)]),
            ["feature_mean"] = Arr(head.FeatureMean), ["feature_scale"] = Arr(head.FeatureScale), ["intercept"] = Arr(head.Intercept),
            ["lambda"] = Arr(head.Lambda), ["coef_rows"] = head.Coefficients.Rows, ["coef_cols"] = head.Coefficients.Cols,
            ["coef"] = Arr(head.Coefficients.Data),
        };
        AtomicFile.WriteAllText(Path.Combine(path, "model.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }

    /// <summary>
    /// Reads a model folder written by <see cref="Save"/>. <paramref name="cacheDir"/> is the patch/feature cache that
    /// <see cref="Predict(HistologySlide, IProgress{Progress}?, CancellationToken)"/> uses (the folder keeps none). The
    /// backbone is loaded on the first prediction.
    /// </summary>
    public static StNetModel Load(string path, string? cacheDir = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = Path.Combine(path, "model.json");
        if (!File.Exists(file)) throw new TesseraException($"'{path}' holds no ST-Net model (model.json missing)");
        JsonNode j;
        try { j = JsonNode.Parse(File.ReadAllText(file))!; }
        catch (JsonException e) { throw new TesseraException($"'{file}' is not valid JSON ({e.Message})"); }
        if ((string?)j["format"] != Format) throw new TesseraException($"'{file}' is not a Tessera ST-Net model");
        double[] D(string k) => [.. j[k]!.AsArray().Select(v => (double)v!)];
        var head = new RidgeModel
        {
            FeatureMean = D("feature_mean"), FeatureScale = D("feature_scale"), Intercept = D("intercept"), Lambda = D("lambda"),
            Coefficients = new DenseMatrix((int)j["coef_rows"]!, (int)j["coef_cols"]!, D("coef")),
        };
        string[] genes = [.. j["genes"]!.AsArray().Select(v => (string)v!)];
        var o = new StNetOptions
        {
            Backbone = (string)j["backbone"]!, Weights = (string?)j["weights"], Genes = genes.Length,
            Transform = Enum.Parse<TargetTransform>((string)j["transform"]!), WindowUm = (double)j["window_um"]!, PitchUm = (double)j["pitch_um"]!,
            UmPerPixel = (double?)j["um_per_px"], PatchSize = (int)j["patch_size"]!, TestTimeAugmentation = (bool)j["tta"]!, CacheDir = cacheDir,
        };
        return new StNetModel(o, genes, (double)j["training_um_per_px"]!, head, null, null);
    }

    private static JsonArray Arr(double[] v) => new([.. v.Select(x => (JsonNode?)JsonValue.Create(double.Parse(x.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)))]);

    /// <summary>Frees the backbone's tensors.</summary>
    public void Dispose()
    {
        (backbone as IDisposable)?.Dispose();
        backbone = null;
    }
}
