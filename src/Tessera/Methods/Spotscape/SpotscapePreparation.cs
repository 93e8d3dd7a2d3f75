using Tessera.Data;
using Tessera.Graphs;
using Tessera.Preprocess;

namespace Tessera.Methods.Spotscape;

/// <summary>
/// The prepared input of a Spotscape run (<see cref="SpotscapeTrainer.Prepare"/>): log-normalised expression on the
/// shared genes, the radius graph of every slice and the slice of every spot. One preparation serves several seeds.
/// </summary>
public sealed class PreparedSlices
{
    /// <summary>Concatenated slices (X = log1p(normalize_total(counts, 1e4)) on the genes used; layer "counts"; obs "slice").</summary>
    public required SpatialData Data { get; init; }
    /// <summary>Spotscape input (expression, radius-graph edges without self-loops, slice ids).</summary>
    public required SpotscapeInput Input { get; init; }
    /// <summary>Radius used per slice.</summary>
    public required double[] Radii { get; init; }
    /// <summary>Spot counts per slice.</summary>
    public required int[] SliceSizes { get; init; }
    /// <summary>Slice names.</summary>
    public required string[] SliceNames { get; init; }
    /// <summary>The spots' names in the input slices (before concatenation made them unique).</summary>
    public required string[] SpotNames { get; init; }
    /// <summary>Slice index of every spot.</summary>
    public int[] SliceOf => Input.SliceIds;
}

public static partial class SpotscapeTrainer
{
    /// <summary>
    /// The preprocessing of the authors' code: seurat_v3 HVGs per slice on raw counts (<see cref="SpotscapeOptions.Hvg"/>;
    /// intersection across slices), normalize_total 1e4, log1p, and a radius graph per slice. Each slice holds raw counts in
    /// X and coordinates in obsm["spatial"]. <paramref name="names"/> default to slice0, slice1, ….
    /// </summary>
    public static PreparedSlices Prepare(IReadOnlyList<SpatialData> data, IReadOnlyList<string>? names = null, SpotscapeOptions? options = null,
        IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = options ?? new SpotscapeOptions();
        o.Validate();
        return PrepareCore(data, names, o, null, progress, cancellationToken);
    }

    /// <summary>Prepares with the HVG selection, or on exactly <paramref name="genes"/> (a trained model's) when given.</summary>
    internal static PreparedSlices PrepareCore(IReadOnlyList<SpatialData> slices, IReadOnlyList<string>? names, SpotscapeOptions o,
        IReadOnlyList<string>? genes, IProgress<Progress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(slices);
        if (slices.Count == 0) throw new TesseraException("no slices given");
        names ??= Enumerable.Range(0, slices.Count).Select(i => $"slice{i}").ToArray();
        if (names.Count != slices.Count) throw new TesseraException($"{slices.Count} slices but {names.Count} names");
        if (names.Distinct().Count() != names.Count) throw new TesseraException($"slice names must be unique: {string.Join(", ", names)}");
        foreach (var (s, i) in slices.Select((s, i) => (s, i)))
            if (!s.HasSpatial) throw new TesseraException($"slice '{names[i]}' has no spatial coordinates (obsm['spatial'])");
        // the reference column is checked before anything is trained (the obs indexer names the columns there are)
        if (genes is null && o.TruthColumn is { } truth)
            foreach (var s in slices) _ = s.Obs[truth];
        const string stage = "prepare";
        string[] used;
        if (genes is null)
        {
            var hvgSets = new List<HashSet<string>>();
            foreach (var s in slices)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (o.Hvg > 0 && o.Hvg < s.NVars)
                {
                    var hvg = HighlyVariableGenes.Select(s, o.Hvg, HvgFlavor.SeuratV3);
                    hvgSets.Add(hvg.SelectedIndices().Select(g => s.VarNames[g]).ToHashSet(StringComparer.Ordinal));
                }
                else hvgSets.Add(s.VarNames.ToHashSet(StringComparer.Ordinal));
            }
            used = slices[0].VarNames.Where(g => hvgSets.All(h => h.Contains(g))).ToArray();
            if (used.Length == 0) throw new TesseraException("the slices share no highly variable genes");
            progress.Note(stage, slices.Count == 1 ? $"{used.Length} genes (seurat_v3 HVGs)" : $"{used.Length} genes shared by the slices' seurat_v3 HVG sets");
        }
        else
        {
            used = genes.ToArray();
            foreach (var (s, i) in slices.Select((s, i) => (s, i)))
            {
                var have = s.VarNames.ToHashSet(StringComparer.Ordinal);
                var missing = used.Where(g => !have.Contains(g)).ToArray();
                if (missing.Length > 0)
                    throw new TesseraException($"slice '{names[i]}' lacks {missing.Length} of the model's {used.Length} genes (first: {missing[0]})");
            }
        }
        var parts = slices.Select(s => s.Subset(null, used.Select(s.GeneIndex).ToArray())).ToList();
        var spotNames = parts.SelectMany(p => p.ObsNames).ToArray();
        var data = parts.Count == 1 ? parts[0] : SpatialData.Concat(parts, names, "slice");
        if (parts.Count == 1) data.Obs.Set("slice", new CategoricalColumn(new int[data.NObs], [names[0]]));
        data.Layers["counts"] = data.X;
        data.X = Normalize.Log1p(Normalize.Total(data.X, 1e4));

        var src = new List<int>(); var dst = new List<int>(); var sliceIds = new int[data.NObs];
        var radii = new double[parts.Count]; int offset = 0;
        for (int b = 0; b < parts.Count; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var coords = parts[b].Spatial;
            radii[b] = o.Radius ?? (o.RadiusMicrons is { } um ? um / (parts[b].MicronsPerUnit
                ?? throw new TesseraException($"RadiusMicrons needs the µm per coordinate unit of slice '{names[b]}', which it does not record (uns['microns_per_unit']); give Radius in coordinate units instead"))
                : RadiusGraph.AutoRadius(coords));
            var g = RadiusGraph.Build(coords, radii[b], o.MaxNeighbors, selfLoops: false);
            for (int e = 0; e < g.NumEdges; e++) { src.Add(g.Src[e] + offset); dst.Add(g.Dst[e] + offset); }
            for (int i = 0; i < parts[b].NObs; i++) sliceIds[offset + i] = b;
            progress.Note(stage, $"slice {names[b]}: {parts[b].NObs} spots, radius {radii[b]:G4}{(o.RadiusMicrons is { } rum ? $" (= {rum:G4} µm)" : o.Radius == null ? " (auto: 1.5 x median nearest-neighbour distance)" : "")}{(parts[b].MicronsPerUnit is { } mpu && o.RadiusMicrons == null ? $" = {radii[b] * mpu:G4} µm" : "")}, mean degree {g.NumEdges / (double)Math.Max(1, g.NumNodes):F2}");
            offset += parts[b].NObs;
        }
        // the coordinates let mini-batch training cut each slice into spatial tiles
        var xy = new double[2L * data.NObs];
        offset = 0;
        foreach (var part in parts)
        {
            var c = part.Spatial;
            for (int i = 0; i < part.NObs; i++) { xy[2L * (offset + i)] = c[i, 0]; xy[2L * (offset + i) + 1] = c[i, 1]; }
            offset += part.NObs;
        }
        return new PreparedSlices
        {
            Data = data, Input = new SpotscapeInput(data.X, src.ToArray(), dst.ToArray(), sliceIds) { Coordinates = new DenseMatrix(data.NObs, 2, xy) },
            Radii = radii,
            SliceSizes = parts.Select(p => p.NObs).ToArray(), SliceNames = names.ToArray(), SpotNames = spotNames,
        };
    }
}
