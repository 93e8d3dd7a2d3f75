using ScottPlot;
using Tessera.Analysis;
using Tessera.Data;
using Tessera.Plotting;

namespace Tessera.Methods.Spotscape;

/// <summary>Figures of a Spotscape domains result: domain and reference maps per slice, UMAPs, slice mixing.</summary>
public static class SpotscapeFigures
{
    /// <summary>Domains of slice <paramref name="slice"/> over its tissue image; the title carries the slice's ARI when the result has a reference.</summary>
    public static Plot SpatialDomains(SpotscapeResult result, int slice, TissueImage? underlay = null)
    {
        var (data, idx) = SliceData(result, slice);
        var labels = result.DomainNames();
        var title = $"{result.Slices[slice].Name}: domains ({result.Method})";
        if (result.Truth is { } truth)
            title += $", ARI {ClusterScores.Compute(idx.Select(i => truth[i]).ToArray(), idx.Select(i => labels[i]).ToArray()).Ari:F3}";
        return SpatialPlot.Categorical(data, idx.Select(i => labels[i]).ToArray(), title, underlay);
    }

    /// <summary>The reference labels of slice <paramref name="slice"/>; null when the result has none.</summary>
    public static Plot? SpatialTruth(SpotscapeResult result, int slice, string truthName, TissueImage? underlay = null)
    {
        if (result.Truth is not { } truth) return null;
        var (data, idx) = SliceData(result, slice);
        return SpatialPlot.Categorical(data, idx.Select(i => truth[i]).ToArray(), $"{result.Slices[slice].Name}: {truthName}", underlay);
    }

    /// <summary>A 2-D view of the embedding (e.g. its UMAP) coloured by domain.</summary>
    public static Plot UmapDomains(SpotscapeResult result, DenseMatrix umap) =>
        EmbeddingPlot.Categorical(umap, result.DomainNames(), "UMAP of the embedding: domain");

    /// <summary>A 2-D view of the embedding coloured by slice.</summary>
    public static Plot UmapSlices(SpotscapeResult result, DenseMatrix umap) =>
        EmbeddingPlot.Categorical(umap, result.SliceOf.Select(b => (string?)result.Slices[b].Name).ToArray(), "UMAP of the embedding: slice");

    /// <summary>Bar chart of the slice mixing within each domain, with the mean as a line.</summary>
    public static Plot Mixing(SliceMixing mixing) =>
        BarPlot.Bars($"Slice mixing within each domain (mean {mixing.Mean:F2})", mixing.DomainNames,
            mixing.PerDomain.Select(m => m.Mixing).ToArray(), "1 - |silhouette of slice labels|", "domain", mixing.Mean, "mean over domains");

    /// <summary>
    /// Writes the result's figures as PNG: spatial_domains[_SLICE].png and spatial_truth[_SLICE].png per slice (suffix with
    /// several slices), umap_domain.png (and umap_slice.png) when <see cref="SpotscapeResult.Data"/> has obsm X_umap, and
    /// batch_mixing.png with several slices. <paramref name="path"/> maps a file name to its path.
    /// </summary>
    public static void Write(SpotscapeResult result, Func<string, string> path, IReadOnlyList<TissueImage?>? underlays = null, string? truthName = null)
    {
        ArgumentNullException.ThrowIfNull(result); ArgumentNullException.ThrowIfNull(path);
        bool multi = result.Slices.Count > 1;
        for (int b = 0; b < result.Slices.Count; b++)
        {
            var img = underlays is { } u && b < u.Count ? u[b] : null;
            var suffix = multi ? "_" + Safe(result.Slices[b].Name) : "";
            Figures.SavePng(SpatialDomains(result, b, img), path($"spatial_domains{suffix}.png"), 1100, 900);
            if (SpatialTruth(result, b, truthName ?? "reference", img) is { } truth)
                Figures.SavePng(truth, path($"spatial_truth{suffix}.png"), 1100, 900);
        }
        if (result.Data?.Obsm.TryGetValue("X_umap", out var umap) == true)
        {
            Figures.SavePng(UmapDomains(result, umap), path("umap_domain.png"), 1000, 850);
            if (multi) Figures.SavePng(UmapSlices(result, umap), path("umap_slice.png"), 1000, 850);
        }
        if (result.Mixing is { } m) Figures.SavePng(Mixing(m), path("batch_mixing.png"), 1000, 700);
    }

    private static (SpatialData Data, int[] Idx) SliceData(SpotscapeResult result, int slice)
    {
        var data = result.Data ?? throw new TesseraException("the result has no spatial data (fitted on a bare SpotscapeInput)");
        if (slice < 0 || slice >= result.Slices.Count) throw new TesseraException($"slice must be in [0, {result.Slices.Count}) but is {slice}");
        int off = 0;
        for (int b = 0; b < slice; b++) off += result.Slices[b].Spots;
        var idx = Enumerable.Range(off, result.Slices[slice].Spots).ToArray();
        return (data.Subset(idx, Array.Empty<int>()), idx);
    }

    private static string Safe(string s) => string.Concat(s.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}
