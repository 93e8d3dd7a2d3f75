using Tessera.Data;
using Tessera.Nn;

namespace Tessera.Methods.StNet;

/// <summary>
/// ST-Net (He et al. 2020, Nat. Biomed. Eng.): spot expression from the H&amp;E patch under each spot. Entry point:
/// <see cref="Fit"/> cross-validates on the sections and returns the model (frozen mode: the backbone + a ridge head fitted
/// on every section, which predicts new slides).
/// </summary>
public static class StNetTrainer
{
    /// <summary>
    /// Picks the <see cref="StNetOptions.Genes"/> most expressed genes, cuts the patches, and cross-validates (leave one
    /// patient out when the sections name patients, else one section out) against the colour-statistics baseline. Frozen
    /// mode extracts backbone features once and fits ridge heads (the final head on all sections makes the model);
    /// fine-tune mode trains every layer per fold (its model keeps no network: <see cref="StNetModel.Predict(HistologySlide, IProgress{Progress}?, CancellationToken)"/> refuses).
    /// Progress: patches, features per section (per batch), cross-validation folds, fine-tuning steps; cancellation is
    /// honoured between sections, batches and folds.
    /// </summary>
    public static StNetModel Fit(IReadOnlyList<HistologySection> data, StNetOptions? options = null, IProgress<Progress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var o = options ?? new StNetOptions();
        o.Validate();
        if (data.Count == 0) throw new TesseraException("ST-Net needs at least one section");
        var dup = data.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw new TesseraException($"section name '{dup.Key}' is used twice");
        using var scope = TorchScope.Enter(o.Threads);
        var genes = StNetTargets.TopGenes(data, o.Genes);
        return o.Mode == StNetMode.Frozen ? FitFrozen(data, genes, o, progress, cancellationToken) : FitFineTuned(data, genes, o, progress, cancellationToken);
    }

    private static StNetModel FitFrozen(IReadOnlyList<HistologySection> data, string[] genes, StNetOptions o, IProgress<Progress>? progress, CancellationToken ct)
    {
        var net = StNetBackbones.Create(o.Backbone, o.Weights);
        try
        {
            progress.Note("", $"patches and {(o.TestTimeAugmentation ? "8-symmetry " : "")}{o.Backbone} features");
            var prepared = StNetFrozen.Prepare(data, net, genes, o, progress, ct);
            progress.Note("", "cross-validation (ridge head vs colour baseline)");
            var cv = StNetFrozen.CrossValidate(prepared, genes, progress, ct);
            var result = new StNetResult(o, genes, Held(prepared, cv.Predictions, o), true)
            {
                Sections = prepared, ColourBaseline = cv.BaselinePredictions, Scores = cv.Scores, Summary = cv.Summary,
            };
            foreach (var line in result.Headline()) progress.Note("", line);
            // the median resolution of the training slides: the default for whole-slide prediction
            double umPerPx = data.Select(q => o.UmPerPixel ?? o.PitchUm / q.PixelsPerArrayStep()).Order().ElementAt(data.Count / 2);
            return new StNetModel(o, genes, umPerPx, cv.FinalHead, net, result);
        }
        catch
        {
            (net as IDisposable)?.Dispose();
            throw;
        }
    }

    private static StNetModel FitFineTuned(IReadOnlyList<HistologySection> data, string[] genes, StNetOptions o, IProgress<Progress>? progress, CancellationToken ct)
    {
        StNetBackbones.CreateTrainable(o.Backbone, o.Weights).Net.Dispose(); // fail early on a bad weights file, before the patches
        progress.Note("", "patches");
        var prepared = StNetFrozen.Prepare(data, null, genes, o, progress, ct);
        progress.Note("", $"fine-tune {o.Backbone} ({o.Epochs} epochs, SGD lr {o.LearningRate:G3}, momentum {o.Momentum})");
        var folds = StNetFineTune.CrossValidate(prepared, () => StNetBackbones.CreateTrainable(o.Backbone, o.Weights), o, progress, ct);
        var held = folds.Select(f => f.HeldOut).ToArray();
        var preds = new Dictionary<string, DenseMatrix>(StringComparer.Ordinal);
        foreach (var f in folds) foreach (var (k, v) in f.Predictions) preds[k] = v;
        var basePreds = StNetFrozen.ColourBaseline(prepared, held);
        var scores = new List<GeneSectionScore>();
        foreach (var ps in prepared.Where(q => preds.ContainsKey(q.Section.Name)))
        {
            scores.AddRange(StNetFrozen.Score("stnet", ps, preds[ps.Section.Name], genes));
            scores.AddRange(StNetFrozen.Score("colour", ps, basePreds[ps.Section.Name], genes));
        }
        var result = new StNetResult(o, genes, Held(prepared, preds, o), true)
        {
            Sections = prepared, ColourBaseline = basePreds, Scores = scores, Summary = StNetFrozen.Summarise(scores, genes, prepared), FineTuneFolds = folds,
        };
        foreach (var line in result.Headline()) progress.Note("", line);
        return new StNetModel(o, genes, double.NaN, null, null, result);
    }

    /// <summary>Held-out predictions as rows of spots, in the order of the prepared sections.</summary>
    private static List<StNetPrediction> Held(IReadOnlyList<PreparedSection> prepared, IReadOnlyDictionary<string, DenseMatrix> preds, StNetOptions o) =>
        [.. prepared.Where(q => preds.ContainsKey(q.Section.Name)).Select(ps => new StNetPrediction(ps.Section.Name,
            [.. ps.Spots.Select(s => ps.Section.Counts.ObsNames[s])], [.. ps.Spots.Select(s => ps.Section.PixelX[s])], [.. ps.Spots.Select(s => ps.Section.PixelY[s])],
            preds[ps.Section.Name], ps.Section.ImagePath) { WindowPixels = StNetFrozen.WindowPixels(ps.Section, o) })];
}
