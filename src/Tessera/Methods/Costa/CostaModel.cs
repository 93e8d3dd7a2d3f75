using System.Text.Json;
using System.Text.Json.Serialization;
using Tessera.Data;
using Tessera.IO;
using Tessera.Nn;
using static TorchSharp.torch;

namespace Tessera.Methods.Costa;

/// <summary>A trained CoSTA ensemble: one ConvNet per model, the options, and the result on the training genes.</summary>
public sealed class CostaModel : IDisposable
{
    private const string Format = "tessera-costa-model/1";
    private const string MetaFile = "costa.json";
    private readonly List<CostaNet> nets;

    internal CostaModel(CostaOptions options, List<CostaNet> nets, int height, int width, CostaResult? result)
    {
        Options = options; this.nets = nets; ImageHeight = height; ImageWidth = width; Result = result;
    }

    /// <summary>The options the ensemble was trained with (also used by <see cref="Transform(SpatialData, IProgress{Progress}?, CancellationToken)"/>).</summary>
    public CostaOptions Options { get; }

    /// <summary>The result on the training genes; null for a model loaded from disk (its training data are not stored).</summary>
    public CostaResult? Result { get; }

    /// <summary>The trained nets, one per model of the ensemble.</summary>
    public IReadOnlyList<CostaNet> Nets => nets;

    /// <summary>Height of the images the nets take.</summary>
    public int ImageHeight { get; }

    /// <summary>Width of the images the nets take.</summary>
    public int ImageWidth { get; }

    /// <summary>
    /// Embeds the genes of new spots × genes data with the trained nets (images built with the model's image settings)
    /// and analyses the embeddings as <see cref="CostaTrainer.Fit(SpatialData, CostaOptions?, IProgress{Progress}?, CancellationToken)"/>
    /// does; nothing is trained. The result has no self-labelling labels and no training history.
    /// </summary>
    public CostaResult Transform(SpatialData data, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var _ = TorchScope.Enter(Options.Threads);
        return Transform(CostaTrainer.Images(data, Options, progress), progress, cancellationToken);
    }

    /// <summary>Embeds ready-made gene images with the trained nets and analyses the embeddings (see <see cref="Transform(SpatialData, IProgress{Progress}?, CancellationToken)"/>).</summary>
    public CostaResult Transform(GeneImageSet images, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (images.Height != ImageHeight || images.Width != ImageWidth)
            throw new TesseraException($"the model takes {ImageHeight}x{ImageWidth} images but got {images.Height}x{images.Width}");
        if (images.Count < 2) throw new TesseraException($"embedding genes needs at least 2 gene images but got {images.Count}");
        foreach (var q in Options.Queries) images.IndexOf(q);
        using var _ = TorchScope.Enter(Options.Threads);
        using var x = tensor(images.Pixels, [images.Count, 1, images.Height, images.Width]);
        var embs = new List<float[]>();
        for (int m = 0; m < nets.Count; m++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Train-mode BatchNorm as in training (the authors' feature pass): each chunk's own statistics.
            nets[m].train();
            embs.Add(CostaTrainer.FeaturePass(nets[m], x, CostaTrainer.ChunkOrder(images.Count, CostaTrainer.ModelSeed(Options, m)), Options.FeatureChunk, cancellationToken));
            progress?.Report(new Progress("embedding", m + 1, nets.Count, TimeSpan.Zero));
        }
        return CostaResult.Analyse(images, embs, nets[0].FeatureDim, [], [], Options, progress, cancellationToken);
    }

    /// <summary>
    /// Writes the model to the folder <paramref name="path"/>: one TorchSharp state dict per net (net1.pt, ...) and
    /// costa.json (format tag, options, image size), each written atomically, the metadata last.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ObjectDisposedException.ThrowIf(disposed, this);
        Directory.CreateDirectory(path);
        for (int m = 0; m < nets.Count; m++)
        {
            var net = nets[m];
            AtomicFile.Write(Path.Combine(path, $"net{m + 1}.pt"), tmp => net.save(tmp));
        }
        AtomicFile.WriteAllText(Path.Combine(path, MetaFile), JsonSerializer.Serialize(new Meta(Format, ImageHeight, ImageWidth, nets.Count, Options), Json));
    }

    /// <summary>Loads a model written by <see cref="Save"/>; its <see cref="Result"/> is null.</summary>
    public static CostaModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var metaPath = Path.Combine(path, MetaFile);
        if (!File.Exists(metaPath)) throw new TesseraException($"'{path}' is not a saved CoSTA model: {MetaFile} not found");
        Meta? meta;
        try { meta = JsonSerializer.Deserialize<Meta>(File.ReadAllText(metaPath), Json); }
        catch (JsonException e) { throw new TesseraException($"model metadata '{metaPath}' is not valid JSON: {e.Message}"); }
        if (meta is null || meta.Format != Format || meta.Options is null || meta.Models != meta.Options.Models)
            throw new TesseraException($"model metadata '{metaPath}' is not a CoSTA model ({Format})");
        meta.Options.Validate();
        // Building a net draws its initial weights from torch's global generator: hold the scope so no fit on another thread is disturbed.
        using var _ = TorchScope.Enter(meta.Options.Threads);
        var nets = new List<CostaNet>();
        try
        {
            for (int m = 0; m < meta.Models; m++)
            {
                var file = Path.Combine(path, $"net{m + 1}.pt");
                if (!File.Exists(file)) throw new TesseraException($"model weights '{file}' not found");
                var net = new CostaNet(meta.ImageHeight, meta.ImageWidth, meta.Options.Clusters, meta.Options.TanhLast);
                nets.Add(net);
                try { net.load(file); }
                catch (Exception e) when (e is not TesseraException)
                {
                    throw new TesseraException($"model weights '{file}' do not match the metadata: {e.Message}");
                }
            }
        }
        catch
        {
            foreach (var n in nets) n.Dispose();
            throw;
        }
        return new CostaModel(meta.Options, nets, meta.ImageHeight, meta.ImageWidth, null);
    }

    private bool disposed;

    /// <summary>Releases the nets' tensors.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var n in nets) n.Dispose();
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private sealed record Meta(string Format, int ImageHeight, int ImageWidth, int Models, CostaOptions Options);
}
