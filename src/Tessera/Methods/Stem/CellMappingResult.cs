using System.Globalization;
using System.Text.Json.Nodes;
using Tessera.Data;
using Tessera.IO;

namespace Tessera.Methods.Stem;

/// <summary>
/// What every cell→spot mapping gives (STEM's and Tangram's): the sparse top-k mappings, predicted cell coordinates, the
/// cell–cell graph, mapped cell-type proportions per spot (with a cell-type column), spatially dominant genes (with a group
/// column) and evaluation scores (with the pseudo-spot simulation's truth).
/// </summary>
public abstract class CellMappingResult
{
    private readonly StemMapping map;

    private protected CellMappingResult(string[] cellNames, string[] spotNames, StemMapping map, string[]? types, DenseMatrix? proportions,
        SdgRow[]? sdg, MappingScores? scores, string[] genes, int epochs, int seed, double finalLoss)
    {
        CellNames = cellNames; SpotNames = spotNames; this.map = map; Types = types; Proportions = proportions; SpatiallyDominantGenes = sdg;
        Scores = scores; Genes = genes; Epochs = epochs; Seed = seed; FinalLoss = finalLoss;
    }

    /// <summary>The method's name as figures and logs show it ("STEM", "Tangram").</summary>
    public abstract string Method { get; }
    /// <summary>Cell names (SC obs names).</summary>
    public string[] CellNames { get; }
    /// <summary>Spot names (ST obs names).</summary>
    public string[] SpotNames { get; }
    /// <summary>Cells × spots, each cell's top-k entries of its probabilities over spots (not renormalised).</summary>
    public CsrMatrix CellToSpot => map.CellToSpot;
    /// <summary>Spots × cells, each spot's top-k entries of its probabilities over cells.</summary>
    public CsrMatrix SpotToCell => map.SpotToCell;
    /// <summary>Predicted cell coordinates: probability-weighted mean over all spots.</summary>
    public DenseMatrix PredictedCoordinates => map.CoordsAll;
    /// <summary>Predicted cell coordinates: weighted mean over each cell's top <see cref="CoordTopK"/> spots (weights renormalised).</summary>
    public DenseMatrix PredictedCoordinatesTopK => map.CoordsTopK;
    /// <summary>k of <see cref="PredictedCoordinatesTopK"/> (at most the number of spots).</summary>
    public int CoordTopK => map.CoordTopK;
    /// <summary>Cells × cells sparse top-k graph of sc2st·st2sc (cell → spot → cell round trips; self excluded).</summary>
    public CsrMatrix Adjacency => map.Adjacency;
    /// <summary>Index of each cell's most probable spot.</summary>
    public int[] BestSpot => map.BestSpot;
    /// <summary>Cell types in <see cref="Proportions"/> column order; null without a cell-type column.</summary>
    public string[]? Types { get; }
    /// <summary>Spots × types: Σ over cells of each type of the spot's probabilities over cells; null without a cell-type column.</summary>
    public DenseMatrix? Proportions { get; }
    /// <summary>Spatially dominant genes (per-cell gene attributions, Wilcoxon per group); null without a group column.</summary>
    public SdgRow[]? SpatiallyDominantGenes { get; }
    /// <summary>The method's scores against the simulation's truth; null when the data carry no truth or no cell-type column.</summary>
    public MappingScores? Scores { get; }
    /// <summary>Genes the mapping read.</summary>
    public string[] Genes { get; }
    /// <summary>Training epochs.</summary>
    public int Epochs { get; }
    /// <summary>Training seed.</summary>
    public int Seed { get; }
    /// <summary>Total loss of the last training epoch.</summary>
    public double FinalLoss { get; }

    /// <summary>Dense cells × spots probabilities: softmax over spots (where each cell goes) and over cells (what each spot holds, transposed).</summary>
    public abstract CellSpotProbabilities DenseProbabilities();

    /// <summary>
    /// Mapped cell-type composition of each spot for any labelling of the cells: Σ over cells of type t of the spot's
    /// probability of the cell; <paramref name="codes"/> gives each cell's type index (−1 = untyped).
    /// </summary>
    public abstract DenseMatrix SpotTypeProportions(IReadOnlyList<int> codes, int types);

    /// <summary>Writes each cell's top-k spots as a table: cell, rank (1 = most probable), spot, probability.</summary>
    public void WriteTopSpots(string path) => WriteTop(path, CellToSpot, ["cell", "rank", "spot", "probability"], CellNames, SpotNames);

    /// <summary>Writes the cell–cell graph as a table: cell, rank (1 = strongest), neighbour, weight (sc2st·st2sc).</summary>
    public void WriteAdjacency(string path) => WriteTop(path, Adjacency, ["cell", "rank", "neighbour", "weight"], CellNames, CellNames);

    private static void WriteTop(string path, CsrMatrix m, IReadOnlyList<string> header, string[] rows, string[] cols)
    {
        var inv = CultureInfo.InvariantCulture;
        CsvTable.Write(path, header,
            Enumerable.Range(0, m.Rows).SelectMany(i => Enumerable.Range(m.IndPtr[i], m.IndPtr[i + 1] - m.IndPtr[i])
                .OrderByDescending(k => m.Data[k]).Select((k, rank) => (IReadOnlyList<string>)[rows[i], (rank + 1).ToString(inv), cols[m.Indices[k]], m.Data[k].ToString("R", inv)])));
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
    /// The metrics as JSON: one object per scored method with the means, hit rates, coordinate errors (6 decimals, null when
    /// undefined) and per-type Pearson and KL; null when nothing was scored.
    /// </summary>
    public abstract JsonObject? MetricsJson();

    /// <summary>One method's scores as JSON.</summary>
    private protected static JsonObject ToJson(MappingScores s) => new()
    {
        ["pearson_mean"] = Num(s.PearsonMean), ["kl_mean"] = Num(s.KlMean), ["hit10"] = Num(s.Hit10), ["hit30"] = Num(s.Hit30), ["hit50"] = Num(s.Hit50),
        ["coord_error_10"] = Num(s.CoordError10), ["coord_error_30"] = Num(s.CoordError30), ["coord_error_50"] = Num(s.CoordError50), ["coord_error_all"] = Num(s.CoordErrorAll),
        ["pearson"] = new JsonObject(s.Types.Select((t, i) => KeyValuePair.Create(t, (JsonNode?)Num(s.Pearson[i])))),
        ["kl"] = new JsonObject(s.Types.Select((t, i) => KeyValuePair.Create(t, (JsonNode?)Num(s.Kl[i])))),
    };

    private static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 6)) : null;

    /// <summary>Checks that <paramref name="data"/> holds the mapped observations, in number.</summary>
    private protected static void CheckRows(SpatialData data, int expected, string what)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.NObs != expected) throw new TesseraException($"the data have {data.NObs} {what} but the mapping has {expected}");
    }

    /// <summary>Writes the spot proportions (with cell types): obsm "{key}_proportions", uns "{key}_proportion_types", obs "{key}_{type}".</summary>
    private protected void AddProportions(SpatialData st, string key)
    {
        if (Proportions is null || Types is null) return;
        st.SetObsm(key + "_proportions", Proportions);
        st.Uns[key + "_proportion_types"] = Types;
        for (int t = 0; t < Types.Length; t++) st.Obs.Set(key + "_" + Types[t], new NumericColumn(Proportions.Column(t)));
    }
}
