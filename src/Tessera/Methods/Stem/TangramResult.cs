using System.Text.Json.Nodes;
using Tessera.Data;
using Tessera.Nn;
using TorchSharp;

namespace Tessera.Methods.Stem;

/// <summary>
/// A Tangram-style mapping of cells onto spots with STEM's outputs (<see cref="CellMappingResult"/>) but no embedding: the
/// learnt cells × spots mapping is the model. Its spatially dominant genes come from
/// <see cref="TangramMapper.CosineAttributions"/> instead of STEM's integrated gradients.
/// </summary>
public sealed class TangramResult : CellMappingResult
{
    private readonly float[] logP;

    internal TangramResult(string[] cellNames, string[] spotNames, float[] logP, StemMapping map, string[]? types, DenseMatrix? proportions,
        SdgRow[]? sdg, MappingScores? scores, string[] genes, LossHistory history, TangramOptions options)
        : base(cellNames, spotNames, map, types, proportions, sdg, scores, genes, options.Epochs, options.Seed, history.Total[^1])
    {
        this.logP = logP; History = history; Options = options;
    }

    /// <inheritdoc/>
    public override string Method => "Tangram";
    /// <summary>Per-step loss and the two cosine terms (gene_cosine, spot_cosine).</summary>
    public LossHistory History { get; }
    /// <summary>Options the mapping was learnt with.</summary>
    public TangramOptions Options { get; }

    private T WithLogits<T>(Func<MappingLogits, T> f)
    {
        using var scope = torch.NewDisposeScope();
        return f(new DenseLogits(torch.tensor(logP, [CellNames.Length, SpotNames.Length])));
    }

    /// <summary>Dense cells × spots probabilities: P (softmax over spots of the learnt logits) and P normalised per spot.</summary>
    public override CellSpotProbabilities DenseProbabilities()
    {
        using var scope = torch.NewDisposeScope();
        return StemMapper.DenseProbabilities(torch.tensor(logP, [CellNames.Length, SpotNames.Length]));
    }

    /// <inheritdoc/>
    public override DenseMatrix SpotTypeProportions(IReadOnlyList<int> codes, int types) => WithLogits(l => StemMapper.SpotTypeProportions(l, codes, types));

    /// <summary>
    /// Writes the cell side into <paramref name="sc"/> (the mapped cells, in order): obsm "{key}_spatial_pred" and
    /// "{key}_spatial_pred_top{k}" (predicted coordinates; prefixed, unlike STEM's, so both methods fit in one data object),
    /// obs "{key}_best_spot", uns "{key}" (epochs, seed, learning rate, spot weight, genes, final_loss).
    /// </summary>
    public void AddTo(SpatialData sc, string key = "tangram")
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        CheckRows(sc, CellNames.Length, "cells");
        sc.SetObsm(key + "_spatial_pred", PredictedCoordinates);
        sc.SetObsm(key + "_spatial_pred_top" + CoordTopK, PredictedCoordinatesTopK);
        sc.Obs.Set(key + "_best_spot", new StringColumn(BestSpot.Select(s => (string?)SpotNames[s]).ToArray()));
        sc.Uns[key] = new Dictionary<string, object>
        {
            ["epochs"] = Epochs, ["seed"] = Seed, ["learning_rate"] = Options.LearningRate, ["spot_weight"] = Options.SpotWeight, ["genes"] = Genes,
            ["final_loss"] = FinalLoss,
        };
    }

    /// <summary>
    /// Writes the spot side into <paramref name="st"/> (the mapped spots, in order): with cell types, obsm "{key}_proportions",
    /// uns "{key}_proportion_types" and one obs column "{key}_{type}" per type (no embedding: Tangram has none).
    /// </summary>
    public void AddToSpots(SpatialData st, string key = "tangram")
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        CheckRows(st, SpotNames.Length, "spots");
        AddProportions(st, key);
    }

    /// <summary>Writes both sides: <see cref="AddTo(SpatialData, string)"/> into data.Sc and <see cref="AddToSpots"/> into data.St.</summary>
    public void AddTo(StemData data, string key = "tangram")
    {
        ArgumentNullException.ThrowIfNull(data);
        AddTo(data.Sc, key);
        AddToSpots(data.St, key);
    }

    /// <summary>The metrics as JSON ({"tangram": scores}); null when nothing was scored.</summary>
    public override JsonObject? MetricsJson() => Scores is null ? null : new JsonObject { ["tangram"] = ToJson(Scores) };
}
