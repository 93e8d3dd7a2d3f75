using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Analysis;
using Tessera.Data;
using Tessera.IO;

namespace Tessera.Methods.StNet;

/// <summary>Saved frozen-mode ST-Net model: backbone name, genes, patch settings and the ridge head (JSON, plain numbers).</summary>
public static class StNetModelFiles
{
    /// <summary>Writes <c>model.json</c> (settings, genes, head; <paramref name="trainingUmPerPixel"/> is the median image resolution of the training sections, the default for whole-slide prediction) into <paramref name="dir"/>.</summary>
    public static void Save(string dir, string backbone, string? weights, string[] genes, StNetOptions o, double trainingUmPerPixel, RidgeModel head)
    {
        Directory.CreateDirectory(dir);
        var json = new JsonObject
        {
            ["format"] = "tessera-stnet-frozen/1", ["backbone"] = backbone, ["weights"] = weights is null ? null : Path.GetFullPath(weights),
            ["training_um_per_px"] = trainingUmPerPixel, ["transform"] = o.Transform.ToString(),
            ["window_um"] = o.WindowUm, ["pitch_um"] = o.PitchUm, ["um_per_px"] = o.UmPerPixel, ["patch_size"] = o.PatchSize,
            ["tta"] = o.TestTimeAugmentation,
            ["genes"] = new JsonArray([.. genes.Select(g => (JsonNode?)g)]),
            ["feature_mean"] = Arr(head.FeatureMean), ["feature_scale"] = Arr(head.FeatureScale), ["intercept"] = Arr(head.Intercept),
            ["lambda"] = Arr(head.Lambda), ["coef_rows"] = head.Coefficients.Rows, ["coef_cols"] = head.Coefficients.Cols,
            ["coef"] = Arr(head.Coefficients.Data),
        };
        AtomicFile.WriteAllText(Path.Combine(dir, "model.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }

    /// <summary>A saved frozen-mode model.</summary>
    public sealed record Saved(string Backbone, string? Weights, string[] Genes, StNetOptions Options, double TrainingUmPerPixel, RidgeModel Head);

    /// <summary>Reads a saved model.</summary>
    public static Saved Load(string dir)
    {
        var path = Path.Combine(dir, "model.json");
        if (!File.Exists(path)) throw new TesseraException($"'{dir}' holds no ST-Net model (model.json missing)");
        JsonNode j;
        try { j = JsonNode.Parse(File.ReadAllText(path))!; }
        catch (JsonException e) { throw new TesseraException($"'{path}' is not valid JSON ({e.Message})"); }
        if ((string?)j["format"] != "tessera-stnet-frozen/1") throw new TesseraException($"'{path}' is not a Tessera ST-Net model");
        double[] D(string k) => [.. j[k]!.AsArray().Select(v => (double)v!)];
        var head = new RidgeModel
        {
            FeatureMean = D("feature_mean"), FeatureScale = D("feature_scale"), Intercept = D("intercept"), Lambda = D("lambda"),
            Coefficients = new DenseMatrix((int)j["coef_rows"]!, (int)j["coef_cols"]!, D("coef")),
        };
        var o = new StNetOptions
        {
            Transform = Enum.Parse<TargetTransform>((string)j["transform"]!), WindowUm = (double)j["window_um"]!, PitchUm = (double)j["pitch_um"]!,
            UmPerPixel = (double?)j["um_per_px"], PatchSize = (int)j["patch_size"]!, TestTimeAugmentation = (bool)j["tta"]!,
        };
        return new Saved((string)j["backbone"]!, (string?)j["weights"], [.. j["genes"]!.AsArray().Select(v => (string)v!)], o, (double)j["training_um_per_px"]!, head);
    }

    private static JsonArray Arr(double[] v) => new([.. v.Select(x => (JsonNode?)JsonValue.Create(double.Parse(x.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)))]);
}
