using System.Globalization;
using System.Text.Json.Nodes;
using Tessera.Data;
using Tessera.IO;

namespace Tessera.Methods.Stem;

/// <summary>
/// A STEM mapping of cells onto spots: both embeddings, the sparse top-k mappings, predicted cell coordinates, the cell–cell
/// graph, mapped cell-type proportions per spot (with a cell-type column), spatially dominant genes (with a group column)
/// and evaluation metrics (with the pseudo-spot simulation's truth).
/// </summary>
public sealed class StemResult
{
    private readonly StemMapping map;

    internal StemResult(string[] cellNames, string[] spotNames, DenseMatrix scEmbedding, DenseMatrix stEmbedding, StemMapping map,
        string[]? types, DenseMatrix? proportions, SdgRow[]? sdg, MappingScores? scores, MappingScores? correlationScores, MappingScores? tangramScores,
        string[] genes, double sigma, double dropout, int epochs, int seed, double finalLoss)
    {
        CellNames = cellNames; SpotNames = spotNames; ScEmbedding = scEmbedding; StEmbedding = stEmbedding; this.map = map;
        Types = types; Proportions = proportions; SpatiallyDominantGenes = sdg;
        Scores = scores; CorrelationScores = correlationScores; TangramScores = tangramScores;
        Genes = genes; Sigma = sigma; Dropout = dropout; Epochs = epochs; Seed = seed; FinalLoss = finalLoss;
    }

    /// <summary>Cell names (SC obs names).</summary>
    public string[] CellNames { get; }
    /// <summary>Spot names (ST obs names).</summary>
    public string[] SpotNames { get; }
    /// <summary>Cells × 128 embedding (eval mode).</summary>
    public DenseMatrix ScEmbedding { get; }
    /// <summary>Spots × 128 embedding (eval mode).</summary>
    public DenseMatrix StEmbedding { get; }
    /// <summary>Cells × spots, each cell's top-k (<see cref="StemOptions.TopK"/>) entries of softmax over spots (not renormalised).</summary>
    public CsrMatrix CellToSpot => map.CellToSpot;
    /// <summary>Spots × cells, each spot's top-k entries of softmax over cells.</summary>
    public CsrMatrix SpotToCell => map.SpotToCell;
    /// <summary>Predicted cell coordinates: sc2st-weighted mean over all spots.</summary>
    public DenseMatrix PredictedCoordinates => map.CoordsAll;
    /// <summary>Predicted cell coordinates: weighted mean over each cell's top <see cref="CoordTopK"/> spots (weights renormalised).</summary>
    public DenseMatrix PredictedCoordinatesTopK => map.CoordsTopK;
    /// <summary>k of <see cref="PredictedCoordinatesTopK"/> (<see cref="StemOptions.CoordTopK"/>, at most the number of spots).</summary>
    public int CoordTopK => map.CoordTopK;
    /// <summary>Cells × cells sparse top-k graph of sc2st·st2sc (self excluded).</summary>
    public CsrMatrix Adjacency => map.Adjacency;
    /// <summary>Index of each cell's most probable spot.</summary>
    public int[] BestSpot => map.BestSpot;
    /// <summary>Cell types in <see cref="Proportions"/> column order; null without a cell-type column.</summary>
    public string[]? Types { get; }
    /// <summary>Spots × types: Σ over cells of each type of st2sc (softmax over cells); null without a cell-type column.</summary>
    public DenseMatrix? Proportions { get; }
    /// <summary>Spatially dominant genes (integrated gradients, Wilcoxon per group); null without a group column.</summary>
    public SdgRow[]? SpatiallyDominantGenes { get; }
    /// <summary>STEM's scores against the simulation's truth; null when the data carry no truth or no cell-type column.</summary>
    public MappingScores? Scores { get; }
    /// <summary>Scores of the expression-correlation baseline (with <see cref="StemOptions.Baselines"/>).</summary>
    public MappingScores? CorrelationScores { get; }
    /// <summary>Scores of the Tangram-style baseline (with <see cref="StemOptions.Baselines"/>).</summary>
    public MappingScores? TangramScores { get; }
    /// <summary>Genes the encoder read.</summary>
    public string[] Genes { get; }
    /// <summary>Kernel width of the spatial target.</summary>
    public double Sigma { get; }
    /// <summary>ST input dropout.</summary>
    public double Dropout { get; }
    /// <summary>Training epochs.</summary>
    public int Epochs { get; }
    /// <summary>Training seed.</summary>
    public int Seed { get; }
    /// <summary>Total loss of the last training epoch.</summary>
    public double FinalLoss { get; }

    /// <summary>Dense cells × spots probabilities (sc2st, softmax over spots; st2sc transposed, softmax over cells), as STEM's Fig. 2 evaluation.</summary>
    public CellSpotProbabilities DenseProbabilities() => StemMapper.DenseProbabilities(ScEmbedding, StEmbedding);

    /// <summary>
    /// Mapped cell-type composition of each spot for any labelling of the cells: Σ over cells of type t of st2sc[spot, cell];
    /// <paramref name="codes"/> gives each cell's type index (−1 = untyped).
    /// </summary>
    public DenseMatrix SpotTypeProportions(IReadOnlyList<int> codes, int types) => StemMapper.SpotTypeProportions(ScEmbedding, StEmbedding, codes, types);

    /// <summary>
    /// Writes the cell side into <paramref name="sc"/> (the mapped cells, in order): obsm "X_{key}" (embedding),
    /// "spatial_pred" and "spatial_pred_top{k}" (predicted coordinates), obs "{key}_best_spot", uns "{key}" (sigma, dropout,
    /// epochs, seed, genes, final_loss).
    /// </summary>
    public void AddTo(SpatialData sc, string key = "stem")
    {
        ArgumentNullException.ThrowIfNull(sc); ArgumentException.ThrowIfNullOrEmpty(key);
        if (sc.NObs != CellNames.Length) throw new TesseraException($"the data have {sc.NObs} cells but the mapping has {CellNames.Length}");
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
        ArgumentNullException.ThrowIfNull(st); ArgumentException.ThrowIfNullOrEmpty(key);
        if (st.NObs != SpotNames.Length) throw new TesseraException($"the data have {st.NObs} spots but the mapping has {SpotNames.Length}");
        st.SetObsm("X_" + key, StEmbedding);
        if (Proportions is null || Types is null) return;
        st.SetObsm(key + "_proportions", Proportions);
        st.Uns[key + "_proportion_types"] = Types;
        for (int t = 0; t < Types.Length; t++) st.Obs.Set(key + "_" + Types[t], new NumericColumn(Proportions.Column(t)));
    }

    /// <summary>Writes both sides: <see cref="AddTo(SpatialData, string)"/> into data.Sc and <see cref="AddToSpots"/> into data.St.</summary>
    public void AddTo(StemData data, string key = "stem")
    {
        ArgumentNullException.ThrowIfNull(data);
        AddTo(data.Sc, key);
        AddToSpots(data.St, key);
    }

    /// <summary>Writes each cell's top-k spots as a table: cell, rank (1 = most probable), spot, probability.</summary>
    public void WriteTopSpots(string path)
    {
        var inv = CultureInfo.InvariantCulture;
        var c2s = CellToSpot;
        CsvTable.Write(path, ["cell", "rank", "spot", "probability"],
            Enumerable.Range(0, c2s.Rows).SelectMany(i => Enumerable.Range(c2s.IndPtr[i], c2s.IndPtr[i + 1] - c2s.IndPtr[i])
                .OrderByDescending(k => c2s.Data[k]).Select((k, rank) => (IReadOnlyList<string>)[CellNames[i], (rank + 1).ToString(inv), SpotNames[c2s.Indices[k]], c2s.Data[k].ToString("R", inv)])));
    }

    /// <summary>Writes the spatially dominant genes as a table (no-op without them); false when there were none to write.</summary>
    public bool WriteSpatiallyDominantGenes(string path)
    {
        if (SpatiallyDominantGenes is not { } sdg) return false;
        var inv = CultureInfo.InvariantCulture;
        CsvTable.Write(path, ["group", "gene", "rank", "z", "mean_attribution_group", "mean_attribution_rest", "p", "p_adj"],
            sdg.Select(s => (IReadOnlyList<string>)[s.Group, s.Gene, s.Rank.ToString(inv), s.Z.ToString("R", inv), s.MeanInGroup.ToString("R", inv),
                s.MeanRest.ToString("R", inv), s.P.ToString("R", inv), s.PAdj.ToString("R", inv)]));
        return true;
    }

    /// <summary>
    /// The metrics as JSON: one object per scored method ("stem", "correlation", "tangram") with the means, hit rates, coordinate
    /// errors (6 decimals, null when undefined) and per-type Pearson and KL; null when nothing was scored.
    /// </summary>
    public JsonObject? MetricsJson()
    {
        if (Scores is null) return null;
        var json = new JsonObject { ["stem"] = ToJson(Scores) };
        if (CorrelationScores != null) json["correlation"] = ToJson(CorrelationScores);
        if (TangramScores != null) json["tangram"] = ToJson(TangramScores);
        return json;
    }

    private static JsonObject ToJson(MappingScores s) => new()
    {
        ["pearson_mean"] = Num(s.PearsonMean), ["kl_mean"] = Num(s.KlMean), ["hit10"] = Num(s.Hit10), ["hit30"] = Num(s.Hit30), ["hit50"] = Num(s.Hit50),
        ["coord_error_10"] = Num(s.CoordError10), ["coord_error_30"] = Num(s.CoordError30), ["coord_error_50"] = Num(s.CoordError50), ["coord_error_all"] = Num(s.CoordErrorAll),
        ["pearson"] = new JsonObject(s.Types.Select((t, i) => KeyValuePair.Create(t, (JsonNode?)Num(s.Pearson[i])))),
        ["kl"] = new JsonObject(s.Types.Select((t, i) => KeyValuePair.Create(t, (JsonNode?)Num(s.Kl[i])))),
    };

    private static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 6)) : null;
}
