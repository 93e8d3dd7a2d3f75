using System.Globalization;
using System.Text.Json.Nodes;
using Tessera.Data;
using Tessera.IO;

namespace Tessera.Methods.StNet;

/// <summary>Predicted expression of the spots (or whole-slide tiles) of one section or slide.</summary>
/// <param name="Name">Section or slide name.</param>
/// <param name="SpotIds">Id of each row (spot id, or <c>tile_{col}_{row}</c> for whole-slide tiles).</param>
/// <param name="PixelX">Row centre column in full-resolution image pixels.</param>
/// <param name="PixelY">Row centre row in full-resolution image pixels.</param>
/// <param name="Values">Predicted targets, rows × genes (in the target transform's units).</param>
/// <param name="ImagePath">The H&amp;E image the rows were cut from.</param>
public sealed record StNetPrediction(string Name, string[] SpotIds, double[] PixelX, double[] PixelY, DenseMatrix Values, string ImagePath)
{
    /// <summary>Patch window in image pixels.</summary>
    public double WindowPixels { get; init; }

    /// <summary>Whether the rows are tissue tiles of the whole slide rather than given spots.</summary>
    public bool WholeSlide { get; init; }

    /// <summary>A thumbnail (longest side 1200 px) kept when the slide was decoded whole, for figures; null otherwise.</summary>
    public TissueImage? Thumbnail { get; init; }
}

/// <summary>
/// What ST-Net computed: on the training data, the held-out (leave one patient, else section, out) predictions, scores
/// per gene and section against the colour baseline, and per-gene summaries; on new data (<see cref="StNetModel.Predict(HistologySlide, IProgress{Progress}?, CancellationToken)"/>)
/// the predictions only.
/// </summary>
public sealed class StNetResult
{
    internal StNetResult(StNetOptions options, string[] genes, IReadOnlyList<StNetPrediction> predictions, bool crossValidated)
    {
        Options = options;
        Genes = genes;
        Predictions = predictions;
        CrossValidated = crossValidated;
    }

    /// <summary>The settings the result was computed with.</summary>
    public StNetOptions Options { get; }

    /// <summary>Predicted genes (by decreasing mean raw count over the training spots).</summary>
    public string[] Genes { get; }

    /// <summary>Whether this is the cross-validation result of a fit (true) or a prediction on new data (false).</summary>
    public bool CrossValidated { get; }

    /// <summary>Held-out predictions per section (cross-validation), or the predictions of one slide.</summary>
    public IReadOnlyList<StNetPrediction> Predictions { get; }

    /// <summary>Prepared training sections (patches, features, targets) in input order; empty for a prediction.</summary>
    public IReadOnlyList<PreparedSection> Sections { get; internal init; } = [];

    /// <summary>Held-out predictions of the colour-statistics baseline per section; empty for a prediction.</summary>
    public IReadOnlyDictionary<string, DenseMatrix> ColourBaseline { get; internal init; } = new Dictionary<string, DenseMatrix>();

    /// <summary>Scores of ST-Net (model "stnet") and the colour baseline (model "colour") per held-out section and gene.</summary>
    public IReadOnlyList<GeneSectionScore> Scores { get; internal init; } = [];

    /// <summary>Per-gene summary over the held-out sections, in <see cref="Genes"/> order.</summary>
    public IReadOnlyList<GeneSummary> Summary { get; internal init; } = [];

    /// <summary>Fine-tuning folds (losses per epoch, the epoch used); null in frozen mode and for a prediction.</summary>
    public IReadOnlyList<FineTuneFold>? FineTuneFolds { get; internal init; }

    /// <summary>The prediction of section or slide <paramref name="name"/>.</summary>
    public StNetPrediction Prediction(string name) => Predictions.FirstOrDefault(p => p.Name == name)
        ?? throw new TesseraException($"the result has no predictions of '{name}' ({string.Join(", ", Predictions.Select(p => p.Name))})");

    /// <summary>
    /// Stores the predictions of one section in <paramref name="data"/>, matched by spot id (obs names): <c>obsm[key]</c>
    /// (obs × genes, NaN where a spot has no prediction) and <c>uns[key]</c> (genes, section, window, and for a
    /// cross-validated result the section's held-out Pearson r per gene). <paramref name="section"/> picks the section when
    /// the result holds several.
    /// </summary>
    public void AddTo(SpatialData data, string key = "stnet", string? section = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var p = section is not null ? Prediction(section)
            : Predictions.Count == 1 ? Predictions[0]
            : throw new TesseraException($"the result holds predictions of {Predictions.Count} sections ({string.Join(", ", Predictions.Select(q => q.Name))}); name the section to add");
        var row = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < p.SpotIds.Length; i++) row[p.SpotIds[i]] = i;
        var m = new DenseMatrix(data.NObs, Genes.Length);
        Array.Fill(m.Data, double.NaN);
        int matched = 0;
        for (int o = 0; o < data.NObs; o++)
        {
            if (!row.TryGetValue(data.ObsNames[o], out var r)) continue;
            matched++;
            for (int g = 0; g < Genes.Length; g++) m[o, g] = p.Values[r, g];
        }
        if (matched == 0)
            throw new TesseraException($"no obs name of the data ('{(data.NObs > 0 ? data.ObsNames[0] : "")}', ...) is a spot of the predictions of '{p.Name}' ('{(p.SpotIds.Length > 0 ? p.SpotIds[0] : "")}', ...)");
        data.SetObsm(key, m);
        var uns = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["genes"] = (string?[])Genes.Clone(), ["section"] = p.Name, ["window_px"] = p.WindowPixels, ["whole_slide"] = p.WholeSlide,
            ["transform"] = Options.Transform.ToString(), ["backbone"] = Options.Backbone, ["mode"] = Options.ModeName,
        };
        if (CrossValidated)
        {
            var r = Scores.Where(s => s.Model == "stnet" && s.Section == p.Name).ToDictionary(s => s.Gene, s => s.Pearson, StringComparer.Ordinal);
            uns["pearson"] = Genes.Select(g => r.GetValueOrDefault(g, double.NaN)).ToArray();
        }
        data.Uns[key] = uns;
    }

    /// <summary>
    /// Writes the tables into <paramref name="dir"/>. Cross-validated: <c>genes.csv</c> (per-gene summary),
    /// <c>scores.csv</c>, <c>predictions_{section}.csv</c> per held-out section and, when fine-tuned,
    /// <c>finetune_loss.csv</c>. A prediction: <c>predictions.csv</c> and <c>pseudobulk.csv</c> (mean predicted target per gene).
    /// </summary>
    public void WriteTables(string dir)
    {
        Directory.CreateDirectory(dir);
        var inv = CultureInfo.InvariantCulture;
        string F(double v) => double.IsFinite(v) ? v.ToString("R", inv) : "NA";
        IEnumerable<IReadOnlyList<string>> Rows(StNetPrediction p) => p.SpotIds.Select((id, i) => (IReadOnlyList<string>)[id, F(p.PixelX[i]), F(p.PixelY[i]),
            .. Enumerable.Range(0, Genes.Length).Select(g => F(p.Values[i, g]))]);
        if (!CrossValidated)
        {
            var p = Predictions[0];
            CsvTable.Write(Path.Combine(dir, "predictions.csv"), ["spot", "pixel_x", "pixel_y", .. Genes], Rows(p));
            var bulk = Enumerable.Range(0, Genes.Length).Select(g => Enumerable.Range(0, p.Values.Rows).Average(i => p.Values[i, g])).ToArray();
            CsvTable.Write(Path.Combine(dir, "pseudobulk.csv"), ["gene", "mean_predicted_target"], Genes.Select((g, i) => (IReadOnlyList<string>)[g, F(bulk[i])]));
            return;
        }
        CsvTable.Write(Path.Combine(dir, "genes.csv"),
            ["gene", "mean_target", "mean_pearson", "median_pearson", "positive_sections", "sections", "sign_test_p", "holm_p", "mean_pearson_smoothed", "colour_mean_pearson", "beats_colour"],
            Summary.Select(s => (IReadOnlyList<string>)[s.Gene, F(s.MeanExpression), F(s.MeanPearson), F(s.MedianPearson), s.PositiveSections.ToString(inv), s.Sections.ToString(inv),
                F(s.SignTestP), F(s.HolmP), F(s.MeanPearsonSmoothed), F(s.BaselineMeanPearson), s.BeatsBaseline ? "true" : "false"]));
        CsvTable.Write(Path.Combine(dir, "scores.csv"),
            ["model", "section", "gene", "spots", "pearson", "spearman", "rmse", "auroc", "pearson_smoothed", "spearman_smoothed", "rmse_smoothed", "auroc_smoothed"],
            Scores.Select(s => (IReadOnlyList<string>)[s.Model, s.Section, s.Gene, s.Spots.ToString(inv), F(s.Pearson), F(s.Spearman), F(s.Rmse), F(s.Auroc),
                F(s.PearsonSmoothed), F(s.SpearmanSmoothed), F(s.RmseSmoothed), F(s.AurocSmoothed)]));
        foreach (var p in Predictions)
            CsvTable.Write(Path.Combine(dir, $"predictions_{p.Name}.csv"), ["spot", "pixel_x", "pixel_y", .. Genes], Rows(p));
        if (FineTuneFolds is { } folds)
            CsvTable.Write(Path.Combine(dir, "finetune_loss.csv"), ["fold", "epoch", "train_loss", "held_out_mse", "inner_cv_sse", "selected"],
                folds.SelectMany(f => f.TrainLoss.Select((l, e) => (IReadOnlyList<string>)[f.HeldOut, (e + 1).ToString(inv), F(l), F(f.HeldOutMse[e]),
                    f.InnerSse is null ? "NA" : F(f.InnerSse[e]), e + 1 == f.SelectedEpoch ? "true" : "false"])));
    }

    /// <summary>Genes whose mean held-out Pearson r beats the colour baseline's.</summary>
    public int GenesBeatingColour => Summary.Count(s => s.BeatsBaseline);

    /// <summary>Genes with r &gt; 0 in every held-out section.</summary>
    public int GenesPositiveInAllSections => Summary.Count(s => s.Sections > 0 && s.PositiveSections == s.Sections);

    /// <summary>Genes whose Holm-corrected sign test is below 0.1.</summary>
    public int GenesHolmBelow01 => Summary.Count(s => s.HolmP < 0.1);

    /// <summary>The cross-validation in a few numbers (the run's <c>summary.json</c>): settings, mean Pearson r of the top 50 and of all genes against the colour baseline, gene counts.</summary>
    public JsonObject SummaryJson()
    {
        if (!CrossValidated) throw new TesseraException("a prediction has no cross-validation summary");
        var top50 = Summary.Take(Math.Min(50, Summary.Count)).ToArray();
        return new JsonObject
        {
            ["backbone"] = Options.Backbone, ["mode"] = Options.ModeName, ["genes"] = Genes.Length, ["sections"] = Sections.Count,
            ["spots"] = Sections.Sum(q => q.Targets.Rows), ["tta"] = Options.Mode == StNetMode.Frozen && Options.TestTimeAugmentation,
            ["held_out_sections"] = Predictions.Count,
            ["selected_epochs"] = FineTuneFolds is null ? null : new JsonObject(FineTuneFolds.Select(f => KeyValuePair.Create(f.HeldOut, (JsonNode?)f.SelectedEpoch))),
            ["mean_pearson_top50"] = Math.Round(top50.Average(s => s.MeanPearson), 6),
            ["colour_mean_pearson_top50"] = Math.Round(top50.Average(s => s.BaselineMeanPearson), 6),
            ["mean_pearson_all"] = Math.Round(Summary.Average(s => s.MeanPearson), 6),
            ["colour_mean_pearson_all"] = Math.Round(Summary.Average(s => s.BaselineMeanPearson), 6),
            ["genes_beating_colour"] = GenesBeatingColour, ["genes_positive_in_all_sections"] = GenesPositiveInAllSections, ["genes_holm_below_0.1"] = GenesHolmBelow01,
        };
    }

    /// <summary>Two lines of the cross-validation's headline numbers (mean Pearson r vs the colour baseline, gene counts).</summary>
    internal IEnumerable<string> Headline()
    {
        var top50 = Summary.Take(Math.Min(50, Summary.Count)).ToArray();
        yield return $"mean Pearson, top {top50.Length} genes: {top50.Average(s => s.MeanPearson):F3} (colour baseline {top50.Average(s => s.BaselineMeanPearson):F3}); all {Summary.Count}: {Summary.Average(s => s.MeanPearson):F3} (colour {Summary.Average(s => s.BaselineMeanPearson):F3})";
        yield return $"beats the colour baseline on {GenesBeatingColour}/{Summary.Count} genes; r > 0 in every held-out section for {GenesPositiveInAllSections}; Holm-corrected sign test < 0.1 for {GenesHolmBelow01}";
    }
}
