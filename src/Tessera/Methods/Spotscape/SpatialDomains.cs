using Tessera.Analysis;
using Tessera.Data;
using Tessera.Graphs;
using Tessera.Nn;
using Tessera.Preprocess;

namespace Tessera.Methods.Spotscape;

/// <summary>How spots are embedded before clustering into domains.</summary>
public enum DomainMethod
{
    /// <summary>Spotscape GCN embedding (the paper's method).</summary>
    Spotscape,
    /// <summary>Baseline: PCA (30 components) of the log-normalised HVGs, no spatial information.</summary>
    PcaKMeans,
}

/// <summary>Settings of <see cref="SpatialDomains"/>.</summary>
public sealed record DomainOptions
{
    /// <summary>Embedding method.</summary>
    public DomainMethod Method { get; init; } = DomainMethod.Spotscape;
    /// <summary>Number of domains.</summary>
    public int Clusters { get; init; } = 7;
    /// <summary>Clustering of the embedding: k-means with 10 restarts (the paper's protocol) or GMM tied (mclust EEE).</summary>
    public ClusterMethod ClusterMethod { get; init; } = ClusterMethod.KMeans;
    /// <summary>seurat_v3 HVGs per slice on raw counts (intersection across slices); 0 or ≥ genes keeps every gene.</summary>
    public int Hvg { get; init; } = 5000;
    /// <summary>Radius graph radius in coordinate units (Visium full-resolution pixels: 150); null = automatic.</summary>
    public double? Radius { get; init; }
    /// <summary>At most this many neighbours per spot (STAGATE / Spotscape: 50).</summary>
    public int MaxNeighbors { get; init; } = 50;
    /// <summary>Training epochs (Spotscape: 1000).</summary>
    public int Epochs { get; init; } = 1000;
    /// <summary>Learning rate; null = 1e-4 single slice, 5e-4 multi-slice (the authors' run scripts).</summary>
    public double? LearningRate { get; init; }
    /// <summary>Torch threads; null keeps the process setting.</summary>
    public int? Threads { get; init; }
}

/// <summary>The prepared input of one domain run: log-normalised HVG expression, spatial graph and slice ids.</summary>
public sealed class PreparedSlices
{
    /// <summary>Concatenated slices (X = log1p(normalize_total(counts)) on the shared HVGs; obs "slice").</summary>
    public required SpatialData Data { get; init; }
    /// <summary>Spotscape input (expression, radius-graph edges without self-loops, slice ids).</summary>
    public required SpotscapeInput Input { get; init; }
    /// <summary>Radius used per slice.</summary>
    public required double[] Radii { get; init; }
    /// <summary>Spot counts per slice.</summary>
    public required int[] SliceSizes { get; init; }
    /// <summary>Slice names.</summary>
    public required string[] SliceNames { get; init; }
}

/// <summary>One seed's result.</summary>
public sealed class DomainRun
{
    /// <summary>Seed of this run.</summary>
    public required int Seed { get; init; }
    /// <summary>Embedding (rows = spots).</summary>
    public required DenseMatrix Embedding { get; init; }
    /// <summary>Domain label per spot (0-based).</summary>
    public required int[] Labels { get; init; }
    /// <summary>Trained model (Spotscape only).</summary>
    public SpotscapeModel? Model { get; init; }
    /// <summary>Seconds spent training or embedding.</summary>
    public double Seconds { get; init; }
}

/// <summary>
/// Spatial domains with Spotscape (or the PCA + k-means baseline), single- or multi-slice: the preprocessing of the
/// authors' code (seurat_v3 HVGs per slice on raw counts, intersection, normalize_total 1e4, log1p), a radius graph
/// per slice, the embedding, then clustering.
/// </summary>
public static class SpatialDomains
{
    /// <summary>Prepares one or more slices (each with raw counts in X and coordinates).</summary>
    public static PreparedSlices Prepare(IReadOnlyList<SpatialData> slices, IReadOnlyList<string> names, DomainOptions o, Action<string>? log = null)
    {
        if (slices.Count == 0) throw new TesseraException("no slices given");
        foreach (var (s, i) in slices.Select((s, i) => (s, i)))
            if (!s.HasSpatial) throw new TesseraException($"slice '{names[i]}' has no spatial coordinates (obsm['spatial']); give them with --coords COLX,COLY");
        var hvgSets = new List<HashSet<string>>();
        foreach (var (s, i) in slices.Select((s, i) => (s, i)))
        {
            if (o.Hvg > 0 && o.Hvg < s.NVars)
            {
                var hvg = HighlyVariableGenes.Select(s, o.Hvg, HvgFlavor.SeuratV3);
                hvgSets.Add(hvg.SelectedIndices().Select(g => s.VarNames[g]).ToHashSet(StringComparer.Ordinal));
            }
            else hvgSets.Add(s.VarNames.ToHashSet(StringComparer.Ordinal));
        }
        var genes = slices[0].VarNames.Where(g => hvgSets.All(h => h.Contains(g))).ToArray();
        if (genes.Length == 0) throw new TesseraException("the slices share no highly variable genes");
        log?.Invoke(slices.Count == 1 ? $"{genes.Length} genes (seurat_v3 HVGs)" : $"{genes.Length} genes shared by the slices' seurat_v3 HVG sets");
        var parts = slices.Select(s => s.Subset(null, genes.Select(s.GeneIndex).ToArray())).ToList();
        var data = parts.Count == 1 ? parts[0] : SpatialData.Concat(parts, names, "slice");
        if (parts.Count == 1) data.Obs.Set("slice", new CategoricalColumn(new int[data.NObs], [names[0]]));
        data.Layers["counts"] = data.X;
        data.X = Normalize.Log1p(Normalize.Total(data.X, 1e4));

        var src = new List<int>(); var dst = new List<int>(); var sliceIds = new int[data.NObs];
        var radii = new double[parts.Count]; int offset = 0;
        for (int b = 0; b < parts.Count; b++)
        {
            var coords = parts[b].Spatial;
            radii[b] = o.Radius ?? RadiusGraph.AutoRadius(coords);
            var g = RadiusGraph.Build(coords, radii[b], o.MaxNeighbors, selfLoops: false);
            for (int e = 0; e < g.NumEdges; e++) { src.Add(g.Src[e] + offset); dst.Add(g.Dst[e] + offset); }
            for (int i = 0; i < parts[b].NObs; i++) sliceIds[offset + i] = b;
            log?.Invoke($"slice {names[b]}: {parts[b].NObs} spots, radius {radii[b]:G4}{(o.Radius == null ? " (auto: 1.5 x median nearest-neighbour distance)" : "")}, mean degree {g.NumEdges / (double)Math.Max(1, g.NumNodes):F2}");
            offset += parts[b].NObs;
        }
        return new PreparedSlices
        {
            Data = data, Input = new SpotscapeInput(data.X, src.ToArray(), dst.ToArray(), sliceIds), Radii = radii,
            SliceSizes = parts.Select(p => p.NObs).ToArray(), SliceNames = names.ToArray(),
        };
    }

    /// <summary>The domain clustering protocol: k-means with 10 restarts (the paper's) or GMM with tied covariance (mclust EEE).</summary>
    public static int[] Cluster(DenseMatrix embedding, ClusterMethod method, int clusters, int seed) =>
        Clustering.Run(embedding, new ClusteringOptions { Method = method, Clusters = clusters, Covariance = CovarianceType.Tied, Restarts = 10, Seed = seed });

    /// <summary>Embeds and clusters with one seed.</summary>
    public static DomainRun Run(PreparedSlices p, DomainOptions o, int seed, IProgress<Progress>? progress = null)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        DenseMatrix emb; SpotscapeModel? model = null;
        if (o.Method == DomainMethod.Spotscape)
        {
            var opts = new SpotscapeOptions { Seed = seed, Epochs = o.Epochs, LearningRate = o.LearningRate, NClusters = o.Clusters, Threads = o.Threads };
            model = new SpotscapeTrainer(opts).Fit(p.Input, progress);
            emb = DenseMatrix.FromFloat(p.Data.NObs, model.EmbeddingDim, model.Embed(p.Input));
        }
        else
        {
            var pca = Pca.Fit(p.Data.X, new PcaOptions { NComps = Math.Min(30, Math.Min(p.Data.NObs, p.Data.NVars) - 1), Seed = seed });
            emb = pca.Scores;
        }
        var seconds = sw.Elapsed.TotalSeconds;
        var labels = Cluster(emb, o.ClusterMethod, o.Clusters, seed);
        return new DomainRun { Seed = seed, Embedding = emb, Labels = labels, Model = model, Seconds = seconds };
    }
}
