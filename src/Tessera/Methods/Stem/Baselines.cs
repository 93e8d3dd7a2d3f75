using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Stem;

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
    /// Tangram-style mapping of prepared inputs (<see cref="TangramMapper.Train"/>): P = softmax over spots of the learnt
    /// logits; spot→cell is P normalised per spot. Each step is reported as stage "Tangram-style baseline".
    /// </summary>
    public static CellSpotProbabilities Tangram(StemInputs inputs, TangramOptions? options = null, IProgress<Progress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var o = options ?? new TangramOptions();
        o.Validate();
        using var scope = torch.NewDisposeScope();
        var (logits, _) = TangramMapper.Train(inputs, o, progress, cancellationToken, "Tangram-style baseline");
        return StemMapper.DenseProbabilities(logits);
    }
}
