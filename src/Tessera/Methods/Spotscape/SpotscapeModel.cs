using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using Tessera.Data;
using Tessera.IO;
using Tessera.Nn;
using Tessera.Preprocess;
using static TorchSharp.torch;

namespace Tessera.Methods.Spotscape;

/// <summary>
/// A fitted Spotscape run: the trained network (none for the PCA baseline), the options and genes it was fitted with, and
/// the domains of the training data. <see cref="Transform(SpatialData, IProgress{Progress}?, CancellationToken)"/> prepares
/// a new slice on the same genes, embeds it (eval mode, no augmentation) and clusters it into domains.
/// </summary>
public sealed class SpotscapeModel : IDisposable
{
    private const string Format = "tessera.spotscape/2";
    private const string FormatV1 = "tessera.spotscape/1";
    private readonly SpotscapeNet? net;

    /// <summary>The trained network (null for the PCA baseline).</summary>
    internal SpotscapeNet? Net => net;

    /// <summary>Options the model was fitted with.</summary>
    public SpotscapeOptions Options { get; }

    /// <summary>Number of genes the model expects.</summary>
    public int NGenes { get; }

    /// <summary>The genes, in order, the model was trained on; null for a model fitted on a bare <see cref="SpotscapeInput"/> or saved in format 1.</summary>
    public IReadOnlyList<string>? Genes { get; }

    /// <summary>Embedding width (last encoder width, 64 by default; the PCA baseline's component count varies with the data).</summary>
    public int EmbeddingDim => Options.EncoderDims[^1];

    /// <summary>Whether the model holds a trained network (false for the PCA baseline, which trains nothing).</summary>
    public bool IsTrained => net is not null;

    /// <summary>The result on the training data; null for a model loaded from disk.</summary>
    public SpotscapeResult? Result { get; }

    internal SpotscapeModel(SpotscapeNet? net, SpotscapeOptions options, int nGenes, IReadOnlyList<string>? genes, SpotscapeResult? result)
    {
        this.net = net; Options = options; NGenes = nGenes; Genes = genes; Result = result;
        net?.eval();
    }

    /// <summary>
    /// Domains of a new slice (raw counts in X, coordinates in obsm["spatial"], every gene of <see cref="Genes"/>): prepared as
    /// in training (the model's genes, normalize_total, log1p, radius graph), embedded, clustered with the model's seed and
    /// cluster count. For the PCA baseline the embedding is the new slice's own PCA (nothing was trained).
    /// </summary>
    public SpotscapeResult Transform(SpatialData data, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var genes = Genes ?? throw new TesseraException("this model knows no gene names (fitted on a bare SpotscapeInput or saved in format 1); embed prepared input with Embed");
        var prepared = SpotscapeTrainer.PrepareCore([data], null, Options, genes, progress, cancellationToken);
        return Transform(prepared, progress, cancellationToken);
    }

    /// <summary>Embeds and clusters already prepared slices (on the model's genes, in order).</summary>
    public SpotscapeResult Transform(PreparedSlices data, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var _ = TorchScope.Enter(Options.Threads);
        cancellationToken.ThrowIfCancellationRequested();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        DenseMatrix embedding;
        if (net is null) embedding = PcaEmbedding(data.Data.X, Options.Seed);
        else
        {
            CheckGenes(data.Input);
            embedding = EmbedMatrix(net, data.Input, Options, progress);
        }
        return SpotscapeResult.Create(data, embedding, Options, null, sw.Elapsed.TotalSeconds, cancellationToken, progress);
    }

    /// <summary>
    /// Embeds every spot of a bare input: the non-negative encoder output with BatchNorm running statistics, on the full
    /// graph with self-loops. Returns row-major N×<see cref="EmbeddingDim"/>.
    /// </summary>
    public float[] Embed(SpotscapeInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (net is null) throw new TesseraException("the PCA baseline has no trained network to embed with");
        CheckGenes(input);
        using var _ = TorchScope.Enter(Options.Threads);
        return EmbedFloats(net, input, Options, null);
    }

    private void CheckGenes(SpotscapeInput input)
    {
        if (input.NGenes != NGenes)
            throw new TesseraException($"model was trained on {NGenes} genes but the input has {input.NGenes}");
    }

    internal static DenseMatrix EmbedMatrix(SpotscapeNet net, SpotscapeInput input, SpotscapeOptions options, IProgress<Progress>? progress)
    {
        var z = EmbedFloats(net, input, options, progress);
        return DenseMatrix.FromFloat(input.NSpots, z.Length / input.NSpots, z);
    }

    /// <summary>
    /// The embedding of every spot: on the full graph below the mini-batch size (<see cref="SpotscapeOptions.ResolveBatchSpots(int)"/>),
    /// else tile by tile with a halo one hop wider than the encoder's depth, so that every tile spot's embedding, the GCN
    /// normalisation of its receptive field included, equals the full-graph one while memory stays ∝ the tile.
    /// </summary>
    private static float[] EmbedFloats(SpotscapeNet net, SpotscapeInput input, SpotscapeOptions options, IProgress<Progress>? progress)
    {
        int batchSpots = options.ResolveBatchSpots(input.NSpots);
        return batchSpots > 0 ? EmbedTiles(net, input, batchSpots, options.Seed, progress) : EmbedFull(net, input);
    }

    internal static float[] EmbedTiles(SpotscapeNet net, SpotscapeInput input, int batchSpots, int seed, IProgress<Progress>? progress)
    {
        net.eval();
        var batches = new SpotBatches(input, batchSpots, seed);
        var x = input.Dense is { } d ? new CsrOperand(d, input.NSpots, input.NGenes) : new CsrOperand(input.Sparse!);
        int dim = (int)net.EncoderBatchNorms[^1].weight!.shape[0];
        var z = new float[(long)input.NSpots * dim];
        var tiles = batches.AllTiles.ToArray();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int t = 0; t < tiles.Length; t++)
        {
            var core = tiles[t];
            var (nodes, ei) = batches.Subgraph(core, net.Depth + 1);
            var part = TorchGuard.Run(() =>
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var edges = GraphOps.WithSelfLoops(tensor(ei, [2, ei.Length / 2]), nodes.Length);
                var zt = net.Encode(x.RowsView(nodes), GraphOps.GcnNorm(edges, nodes.Length), null).narrow(0, 0, core.Length).contiguous();
                return zt.data<float>().ToArray();
            });
            for (int i = 0; i < core.Length; i++) Array.Copy(part, (long)i * dim, z, (long)core[i] * dim, dim);
            progress?.Report(new Progress("embed", t + 1, tiles.Length, sw.Elapsed));
        }
        return z;
    }

    internal static float[] EmbedFull(SpotscapeNet net, SpotscapeInput input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var data = new SpotscapeTensors(input);
        net.eval();
        var adj = GraphOps.GcnNorm(data.EdgeIndexWithLoops, input.NSpots);
        var z = net.Encode(data.X, adj, null).contiguous();
        return z.data<float>().ToArray();
    }

    /// <summary>The baseline's embedding: PCA (30 components, fewer for tiny data) of the log-normalised expression.</summary>
    internal static DenseMatrix PcaEmbedding(CsrMatrix x, int seed) =>
        Pca.Fit(x, new PcaOptions { Components = Math.Min(30, Math.Min(x.Rows, x.Cols) - 1), Seed = seed }).Scores;

    /// <summary>
    /// Writes the weights (TorchSharp state-dict format) to <paramref name="path"/> and the options, gene count and genes to
    /// <c>path + ".json"</c> (format tessera.spotscape/2; format 1 files, without genes, still load).
    /// </summary>
    public void Save(string path)
    {
        if (net is null) throw new TesseraException("the PCA baseline has no trained weights to save");
        ModelFiles.Save(path, tmp => net.save(tmp), new Meta(Format, NGenes, Options, Genes?.ToArray()), Json);
    }

    /// <summary>Loads a model written by <see cref="Save"/>; its <see cref="Result"/> is null.</summary>
    public static SpotscapeModel Load(string path)
    {
        var meta = ModelFiles.ReadMeta<Meta>(path, Json, out var text);
        var metaPath = ModelFiles.MetaPath(path);
        // format 1 named the domain count NClusters
        if (meta is { Format: FormatV1, Options: not null } && System.Text.Json.Nodes.JsonNode.Parse(text)?["Options"]?["NClusters"] is { } k)
            meta = meta with { Options = meta.Options with { Clusters = k.GetValue<int>() } };
        if (meta is null || meta.Format is not (Format or FormatV1) || meta.Options is null || meta.NGenes < 1)
            throw new TesseraException($"model metadata '{metaPath}' is not a Spotscape model ({Format})");
        if (meta.Genes is { } g && g.Length != meta.NGenes)
            throw new TesseraException($"model metadata '{metaPath}' lists {g.Length} genes but NGenes is {meta.NGenes}");
        meta.Options.Validate();
        var net = new SpotscapeNet(meta.NGenes, meta.Options.EncoderDims, meta.Options.BatchNormMomentum);
        try { net.load(path); }
        catch (Exception e) when (e is not TesseraException)
        {
            net.Dispose();
            throw new TesseraException($"model weights '{path}' do not match the metadata: {e.Message}");
        }
        return new SpotscapeModel(net, meta.Options, meta.NGenes, meta.Genes, null);
    }

    /// <summary>Releases the network's tensors.</summary>
    public void Dispose() => net?.Dispose();

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private sealed record Meta(string Format, int NGenes, SpotscapeOptions Options, string[]? Genes = null);
}
