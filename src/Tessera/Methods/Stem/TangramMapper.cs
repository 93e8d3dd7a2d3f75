using Tessera.Data;
using Tessera.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tessera.Methods.Stem;

/// <summary>Settings of <see cref="TangramMapper.Fit"/> (and of STEM's Tangram-style baseline); defaults live only here.</summary>
public sealed record TangramOptions
{
    /// <summary>Adam steps (Tangram default 1000).</summary>
    public int Epochs { get; init; } = 1000;
    /// <summary>Adam learning rate (Tangram default 0.1).</summary>
    public double LearningRate { get; init; } = 0.1;
    /// <summary>Weight of the per-spot cosine term (Tangram's lambda_g2); the per-gene term has weight 1.</summary>
    public double SpotWeight { get; init; } = 1.0;
    /// <summary>Seed of the random initial mapping.</summary>
    public int Seed { get; init; } = 0;
    /// <summary>Torch intra-op threads during the call; null leaves torch's thread count as it is.</summary>
    public int? Threads { get; init; }
    /// <summary>normalize_total + log1p each dataset (as STEM's inputs); false uses the values as given (z-scores, normalised data).</summary>
    public bool Normalize { get; init; } = true;
    /// <summary>Entries kept per cell (spots) and per spot (cells) in the sparse top-k mappings.</summary>
    public int TopK { get; init; } = 10;
    /// <summary>Spots used for the top-k coordinate estimate.</summary>
    public int CoordTopK { get; init; } = 10;
    /// <summary>Neighbours per cell in the cell–cell adjacency graph.</summary>
    public int AdjacencyK { get; init; } = 15;

    /// <summary>Throws a <see cref="TesseraException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new TesseraException($"Epochs must be at least 1 but is {Epochs}");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new TesseraException($"LearningRate must be positive but is {LearningRate}");
        if (!(SpotWeight >= 0) || double.IsInfinity(SpotWeight)) throw new TesseraException($"SpotWeight must be non-negative but is {SpotWeight}");
        if (Threads is { } t && t < 1) throw new TesseraException($"Threads must be at least 1 but is {t}");
        if (TopK < 1) throw new TesseraException($"TopK must be at least 1 but is {TopK}");
        if (CoordTopK < 1) throw new TesseraException($"CoordTopK must be at least 1 but is {CoordTopK}");
        if (AdjacencyK < 1) throw new TesseraException($"AdjacencyK must be at least 1 but is {AdjacencyK}");
    }
}

/// <summary>
/// Tangram's mapping as a module: logits M (cells × spots, N(0, 1) at the start); P = softmax over spots; forward gives the
/// predicted spot expression Pᵀ X_sc.
/// </summary>
public sealed class TangramMap : nn.Module<Tensor, Tensor>
{
    private readonly Parameter logits;

    /// <summary>Creates the cells × spots logits, drawn from <paramref name="gen"/>.</summary>
    public TangramMap(int cells, int spots, torch.Generator gen) : base(nameof(TangramMap))
    {
        logits = new Parameter(torch.randn([cells, spots], generator: gen));
        RegisterComponents();
    }

    /// <summary>The cells × spots logits.</summary>
    public Tensor Logits => logits;

    /// <summary>Predicted spot expression (spots × genes) from the cells' expression <paramref name="xsc"/> (cells × genes).</summary>
    public override Tensor forward(Tensor xsc) => nn.functional.softmax(logits, 1).t().mm(xsc);
}

/// <summary>
/// Tangram-style mapping (Biancalani et al. 2021, "cells" mode without density prior) with the same outputs as STEM: a
/// cells × spots mapping learnt by maximising the mean cosine similarity per gene plus <see cref="TangramOptions.SpotWeight"/>
/// × per spot between predicted (Pᵀ X_sc) and measured spot expression. There is no embedding: the mapping is the model.
/// </summary>
public static class TangramMapper
{
    /// <summary>
    /// Learns the mapping of <see cref="StemData.Sc"/> onto <see cref="StemData.St"/> (shared genes, normalised as STEM's
    /// inputs unless <see cref="TangramOptions.Normalize"/> is false) and computes its outputs. Deterministic for a given seed
    /// on CPU; inputs are not modified.
    /// </summary>
    public static TangramResult Fit(StemData data, TangramOptions? options = null, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = options ?? new TangramOptions();
        o.Validate();
        ArgumentNullException.ThrowIfNull(data);
        data.Validate();
        var coords = data.SpotCoordinates();
        using var torchScope = TorchScope.Enter(o.Threads);
        var inputs = new StemInputs(data.Sc, data.St, null, null, o.Normalize);
        progress.Note("Tangram", $"{inputs.Genes.Length} shared genes (dropped {inputs.DroppedScGenes} SC-only, {inputs.DroppedStGenes} ST-only); " +
                      $"{inputs.NCells} cells, {inputs.NSpots} spots; " +
                      (inputs.Normalized ? $"targets {inputs.TargetSumSc:G6} (SC) / {inputs.TargetSumSt:G6} (ST)" : "values used as given (no normalisation)"));
        using var scope = torch.NewDisposeScope();
        var (logits, history) = Train(inputs, o, progress, cancellationToken, "Tangram training");
        progress.Note("Tangram", "mapping cells");
        var mapping = new DenseLogits(logits);
        var map = StemMapper.Map(mapping, coords, o.TopK, o.CoordTopK, o.AdjacencyK, cancellationToken);

        string[]? types = null; DenseMatrix? proportions = null;
        if (data.CellTypeColumn != null)
        {
            var typeCat = CategoricalColumn.FromLabels(data.Sc.Obs.Labels(data.CellTypeColumn));
            types = typeCat.Categories;
            proportions = StemMapper.SpotTypeProportions(mapping, typeCat.Codes, types.Length);
        }
        SdgRow[]? sdg = null;
        if (data.Groups is { } groups)
        {
            progress.Note("Tangram", "spatially dominant genes (per-gene terms of each cell's cosine with its best spot)");
            sdg = SpatialGenes.Test(CosineAttributions(inputs, map.BestSpot), inputs.Genes, data.Sc.Obs.Labels(groups));
        }
        MappingScores? scores = null;
        if (MappingEvaluation.TruthScorer(data, coords) is { } score)
        {
            progress.Note("Tangram", "evaluating the mapping against the simulation's truth");
            scores = score(StemMapper.DenseProbabilities(logits));
        }
        return new TangramResult(data.Sc.ObsNames, data.St.ObsNames, logits.contiguous().data<float>().ToArray(), map, types, proportions, sdg, scores,
            inputs.Genes, history, o);
    }

    /// <summary>
    /// The training loop on prepared inputs: Adam on the logits, loss −(mean per-gene cosine) − SpotWeight × (mean per-spot
    /// cosine), reported per step as <paramref name="stage"/> with the two cosine terms. Returns the learnt logits normalised
    /// to log P (log-softmax over spots, so that their softmax over cells is P normalised per spot) in the caller's dispose
    /// scope, and the loss history.
    /// </summary>
    internal static (Tensor LogP, LossHistory History) Train(StemInputs inputs, TangramOptions o, IProgress<Progress>? progress, CancellationToken cancellationToken, string stage)
    {
        int g = inputs.Genes.Length;
        using var local = torch.NewDisposeScope();
        var xsc = torch.tensor(inputs.Sc, [inputs.NCells, g]);
        var xst = torch.tensor(inputs.St, [inputs.NSpots, g]);
        using var gen = new torch.Generator((ulong)Seeding.Derive(o.Seed, "tangram"));
        using var module = new TangramMap(inputs.NCells, inputs.NSpots, gen);
        using var opt = torch.optim.Adam(module.parameters(), o.LearningRate);
        var history = TrainingLoop.Run(module, opt, o.Epochs, _ =>
        {
            var pred = module.forward(xsc);
            var genes = nn.functional.cosine_similarity(pred, xst, 0, 1e-8).mean();
            var spots = nn.functional.cosine_similarity(pred, xst, 1, 1e-8).mean();
            return new StepLoss(-genes - o.SpotWeight * spots, new Dictionary<string, Tensor> { ["gene_cosine"] = genes, ["spot_cosine"] = spots });
        }, progress, cancellationToken, stage);
        using var _ = torch.no_grad();
        return (nn.functional.log_softmax(module.Logits, 1).MoveToOuterDisposeScope(), history);
    }

    /// <summary>
    /// Per-gene attributions of each cell's placement (cells × genes): gene g's term x_g y_g / (‖x‖ ‖y‖) of the cosine
    /// similarity between the cell's input profile x and its most probable spot's y (the terms sum to the cosine). Tangram's
    /// mapping is a free parameter, not a function of the cell's expression, so STEM's integrated gradients do not apply.
    /// </summary>
    public static DenseMatrix CosineAttributions(StemInputs inputs, IReadOnlyList<int> bestSpot)
    {
        ArgumentNullException.ThrowIfNull(inputs); ArgumentNullException.ThrowIfNull(bestSpot);
        if (bestSpot.Count != inputs.NCells) throw new TesseraException($"best spots have {bestSpot.Count} entries but the inputs have {inputs.NCells} cells");
        int g = inputs.Genes.Length;
        var result = new double[(long)inputs.NCells * g];
        for (int i = 0; i < inputs.NCells; i++)
        {
            int j = bestSpot[i];
            double nx = 0, ny = 0;
            for (int k = 0; k < g; k++) { double x = inputs.Sc[(long)i * g + k], y = inputs.St[(long)j * g + k]; nx += x * x; ny += y * y; }
            double norm = Math.Sqrt(nx) * Math.Sqrt(ny);
            if (norm == 0) continue;
            for (int k = 0; k < g; k++) result[(long)i * g + k] = inputs.Sc[(long)i * g + k] * (double)inputs.St[(long)j * g + k] / norm;
        }
        return new DenseMatrix(inputs.NCells, g, result);
    }
}
