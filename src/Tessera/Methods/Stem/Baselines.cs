using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Stem;

/// <summary>Settings of the Tangram-style baseline.</summary>
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

    /// <summary>Throws a <see cref="TesseraException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new TesseraException($"Epochs must be at least 1 but is {Epochs}");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new TesseraException($"LearningRate must be positive but is {LearningRate}");
        if (!(SpotWeight >= 0) || double.IsInfinity(SpotWeight)) throw new TesseraException($"SpotWeight must be non-negative but is {SpotWeight}");
    }
}

/// <summary>Baseline mappings scored with the same metrics as STEM.</summary>
public static class MappingBaselines
{
    /// <summary>
    /// Each cell to spots by Pearson correlation of the (shared-gene, log-normalised) expression profiles, turned into
    /// probabilities by softmax(r / temperature): over spots for cell→spot, over cells for spot→cell.
    /// </summary>
    public static CellSpotProbabilities Correlation(StemInputs inputs, double temperature = 0.05)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (!(temperature > 0)) throw new TesseraException($"softmax temperature must be positive, got {temperature}");
        using var scope = torch.NewDisposeScope();
        int g = inputs.Genes.Length;
        var a = Standardise(torch.tensor(inputs.Sc, [inputs.NCells, g]));
        var b = Standardise(torch.tensor(inputs.St, [inputs.NSpots, g]));
        var r = a.mm(b.t()) / temperature;
        return new CellSpotProbabilities(inputs.NCells, inputs.NSpots,
            nn.functional.softmax(r, 1).contiguous().data<float>().ToArray(), nn.functional.softmax(r, 0).contiguous().data<float>().ToArray());
    }

    private static Tensor Standardise(Tensor x)
    {
        var c = x - x.mean([1], keepdim: true);
        return c / c.pow(2).sum(1, keepdim: true).sqrt().clamp_min(1e-12f);
    }

    /// <summary>
    /// Tangram-style mapping (Biancalani et al. 2021, "cells" mode without density prior): logits M (cells × spots), P = softmax
    /// over spots, predicted spot expression Pᵀ X_sc; maximise the mean cosine similarity per gene plus SpotWeight × per spot.
    /// Spot→cell is P normalised per spot. Each step is reported as stage "Tangram-style baseline" with the loss and the two
    /// cosine terms; <paramref name="cancellationToken"/> is honoured between steps.
    /// </summary>
    public static CellSpotProbabilities Tangram(StemInputs inputs, TangramOptions? options = null, IProgress<Progress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var o = options ?? new TangramOptions();
        o.Validate();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var scope = torch.NewDisposeScope();
        int g = inputs.Genes.Length;
        var xsc = torch.tensor(inputs.Sc, [inputs.NCells, g]);
        var xst = torch.tensor(inputs.St, [inputs.NSpots, g]);
        using var gen = new torch.Generator((ulong)Seeding.Derive(o.Seed, "tangram"));
        var m = new TorchSharp.Modules.Parameter(torch.randn([inputs.NCells, inputs.NSpots], generator: gen));
        using var opt = torch.optim.Adam([m], o.LearningRate);
        for (int e = 0; e < o.Epochs; e++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var values = TorchGuard.Run(() =>
            {
                using var s = torch.NewDisposeScope();
                var p = nn.functional.softmax(m, 1);
                var pred = p.t().mm(xsc);
                var genes = nn.functional.cosine_similarity(pred, xst, 0, 1e-8).mean();
                var spots = nn.functional.cosine_similarity(pred, xst, 1, 1e-8).mean();
                var loss = -genes - o.SpotWeight * spots;
                opt.zero_grad(); loss.backward(); opt.step();
                return progress is null ? default : (Loss: (double)loss.item<float>(), Genes: (double)genes.item<float>(), Spots: (double)spots.item<float>());
            });
            progress?.Report(new Progress("Tangram-style baseline", e + 1, o.Epochs, clock.Elapsed)
            {
                Loss = values.Loss, Values = new Dictionary<string, double> { ["gene_cosine"] = values.Genes, ["spot_cosine"] = values.Spots },
            });
        }
        using var _ = torch.no_grad();
        var pf = nn.functional.softmax(m, 1);
        var col = pf / pf.sum(0, keepdim: true);
        return new CellSpotProbabilities(inputs.NCells, inputs.NSpots, pf.contiguous().data<float>().ToArray(), col.contiguous().data<float>().ToArray());
    }
}
