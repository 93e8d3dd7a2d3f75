using System.Text.Json.Nodes;
using Tessera.Data;

namespace Tessera.Methods.Stem;

/// <summary>
/// A STEM mapping of cells onto spots: both embeddings, the sparse top-k mappings, predicted cell coordinates, the cell–cell
/// graph, mapped cell-type proportions per spot (with a cell-type column), spatially dominant genes (with a group column)
/// and evaluation metrics (with the pseudo-spot simulation's truth).
/// </summary>
public sealed class StemResult : CellMappingResult
{
    internal StemResult(string[] cellNames, string[] spotNames, DenseMatrix scEmbedding, DenseMatrix stEmbedding, StemMapping map,
        string[]? types, DenseMatrix? proportions, SdgRow[]? sdg, MappingScores? scores, MappingScores? correlationScores, MappingScores? tangramScores,
        string[] genes, double sigma, double dropout, int epochs, int seed, double finalLoss)
        : base(cellNames, spotNames, map, types, proportions, sdg, scores, genes, epochs, seed, finalLoss)
    {
        ScEmbedding = scEmbedding; StEmbedding = stEmbedding;
        CorrelationScores = correlationScores; TangramScores = tangramScores;
        Sigma = sigma; Dropout = dropout;
    }

    /// <inheritdoc/>
    public override string Method => "STEM";
    /// <summary>Cells × 128 embedding (eval mode).</summary>
    public DenseMatrix ScEmbedding { get; }
    /// <summary>Spots × 128 embedding (eval mode).</summary>
    public DenseMatrix StEmbedding { get; }
    /// <summary>Scores of the expression-correlation baseline (with <see cref="StemOptions.Baselines"/>).</summary>
    public MappingScores? CorrelationScores { get; }
    /// <summary>Scores of the Tangram-style baseline (with <see cref="StemOptions.Baselines"/>).</summary>
    public MappingScores? TangramScores { get; }
    /// <summary>Kernel width of the spatial target.</summary>
    public double Sigma { get; }
    /// <summary>ST input dropout.</summary>
    public double Dropout { get; }

    /// <summary>Dense cells × spots probabilities (sc2st, softmax over spots; st2sc transposed, softmax over cells), as STEM's Fig. 2 evaluation.</summary>
    public override CellSpotProbabilities DenseProbabilities() => StemMapper.DenseProbabilities(ScEmbedding, StEmbedding);

    /// <inheritdoc/>
    public override DenseMatrix SpotTypeProportions(IReadOnlyList<int> codes, int types) => StemMapper.SpotTypeProportions(ScEmbedding, StEmbedding, codes, types);

    /// <summary>
    /// Writes the cell side into <paramref name="sc"/> (the mapped cells, in order): obsm "X_{key}" (embedding),
    /// "spatial_pred" and "spatial_pred_top{k}" (predicted coordinates), obs "{key}_best_spot", uns "{key}" (sigma, dropout,
    /// epochs, seed, genes, final_loss).
    /// </summary>
    public void AddTo(SpatialData sc, string key = "stem")
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        CheckRows(sc, CellNames.Length, "cells");
        sc.SetObsm("X_" + key, ScEmbedding);
        sc.SetObsm("spatial_pred", PredictedCoordinates);
        sc.SetObsm("spatial_pred_top" + CoordTopK, PredictedCoordinatesTopK);
        sc.Obs.Set(key + "_best_spot", new StringColumn(BestSpot.Select(s => (string?)SpotNames[s]).ToArray()));
        sc.Uns[key] = new Dictionary<string, object>
        {
            ["sigma"] = Sigma, ["dropout"] = Dropout, ["epochs"] = Epochs, ["seed"] = Seed, ["genes"] = Genes, ["final_loss"] = FinalLoss,
        };
    }

    /// <summary>
    /// Writes the spot side into <paramref name="st"/> (the mapped spots, in order): obsm "X_{key}" (embedding) and, with cell
    /// types, obsm "{key}_proportions", uns "{key}_proportion_types" and one obs column "{key}_{type}" per type.
    /// </summary>
    public void AddToSpots(SpatialData st, string key = "stem")
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        CheckRows(st, SpotNames.Length, "spots");
        st.SetObsm("X_" + key, StEmbedding);
        AddProportions(st, key);
    }

    /// <summary>Writes both sides: <see cref="AddTo(SpatialData, string)"/> into data.Sc and <see cref="AddToSpots"/> into data.St.</summary>
    public void AddTo(StemData data, string key = "stem")
    {
        ArgumentNullException.ThrowIfNull(data);
        AddTo(data.Sc, key);
        AddToSpots(data.St, key);
    }

    /// <summary>
    /// The metrics as JSON: one object per scored method ("stem", "correlation", "tangram") with the means, hit rates, coordinate
    /// errors (6 decimals, null when undefined) and per-type Pearson and KL; null when nothing was scored.
    /// </summary>
    public override JsonObject? MetricsJson()
    {
        if (Scores is null) return null;
        var json = new JsonObject { ["stem"] = ToJson(Scores) };
        if (CorrelationScores != null) json["correlation"] = ToJson(CorrelationScores);
        if (TangramScores != null) json["tangram"] = ToJson(TangramScores);
        return json;
    }
}
