using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using Tessera.IO;
using Tessera.Nn;
using static TorchSharp.torch;

namespace Tessera.Methods.Spotscape;

/// <summary>A trained Spotscape network: embeds spots (eval mode, no augmentation), saves and loads.</summary>
public sealed class SpotscapeModel : IDisposable
{
    private const string Format = "tessera.spotscape/1";
    private readonly SpotscapeNet net;

    /// <summary>Options the model was trained with.</summary>
    public SpotscapeOptions Options { get; }

    /// <summary>Number of genes the model expects.</summary>
    public int NGenes { get; }

    /// <summary>Embedding width (last encoder width, 64 by default).</summary>
    public int EmbeddingDim => Options.EncoderDims[^1];

    /// <summary>Training report; null for a model loaded from disk.</summary>
    public SpotscapeFitReport? FitReport { get; }

    internal SpotscapeModel(SpotscapeNet net, SpotscapeOptions options, int nGenes, SpotscapeFitReport? report)
    {
        this.net = net; Options = options; NGenes = nGenes; FitReport = report;
        net.eval();
    }

    /// <summary>
    /// Embeds every spot: the non-negative 64-d encoder output with BatchNorm running statistics, on the full graph with
    /// self-loops. Returns row-major N×<see cref="EmbeddingDim"/>.
    /// </summary>
    public float[] Embed(SpotscapeInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.NGenes != NGenes)
            throw new TesseraException($"model was trained on {NGenes} genes but the input has {input.NGenes}");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var data = new SpotscapeTensors(input);
        net.eval();
        var adj = GraphOps.GcnNorm(data.EdgeIndexWithLoops, input.NSpots);
        var z = net.Encode(data.X, adj, null).contiguous();
        return z.data<float>().ToArray();
    }

    /// <summary>Writes the weights (TorchSharp state-dict format) to <paramref name="path"/> and options/gene count to <c>path + ".json"</c>.</summary>
    public void Save(string path)
    {
        ModelFiles.Save(path, tmp => net.save(tmp), new Meta(Format, NGenes, Options), Json);
    }

    /// <summary>Loads a model written by <see cref="Save"/>.</summary>
    public static SpotscapeModel Load(string path)
    {
        var meta = ModelFiles.ReadMeta<Meta>(path, Json);
        if (meta is null || meta.Format != Format || meta.Options is null || meta.NGenes < 1)
            throw new TesseraException($"model metadata '{ModelFiles.MetaPath(path)}' is not a Spotscape model ({Format})");
        meta.Options.Validate();
        var net = new SpotscapeNet(meta.NGenes, meta.Options.EncoderDims, meta.Options.BatchNormMomentum);
        try { net.load(path); }
        catch (Exception e) when (e is not TesseraException)
        {
            throw new TesseraException($"model weights '{path}' do not match the metadata: {e.Message}");
        }
        return new SpotscapeModel(net, meta.Options, meta.NGenes, null);
    }

    /// <summary>Releases the network's tensors.</summary>
    public void Dispose() => net.Dispose();

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private sealed record Meta(string Format, int NGenes, SpotscapeOptions Options);
}
