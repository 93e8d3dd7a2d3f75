using System.Text.RegularExpressions;

namespace Tessera.Reporting;

/// <summary>A figure of a run folder with its place in the report, title and how to read it.</summary>
/// <param name="File">Path relative to the run folder.</param>
/// <param name="Order">Sort key: the method's key figures first, diagnostics last.</param>
/// <param name="Title">Short title.</param>
/// <param name="Caption">One line saying how to read the figure.</param>
public sealed record ReportFigure(string File, int Order, string Title, string Caption);

/// <summary>
/// Titles and captions of the figures the commands write, recognised by file name (the names are fixed by the commands,
/// see README "Commands"); a PNG the table does not know still appears, captioned by its name.
/// </summary>
public static class FigureCaptions
{
    private sealed record Rule(Regex Pattern, int Order, Func<Match, string> Title, Func<Match, string> Caption);

    private static Rule R(string pattern, int order, Func<Match, string> title, Func<Match, string> caption) =>
        new(new Regex("^" + pattern + "$", RegexOptions.CultureInvariant), order, title, caption);

    private static string Sfx(Match m, string group = "s") => m.Groups[group].Value.TrimStart('_') is { Length: > 0 } s ? $" ({s})" : "";

    private static readonly Rule[] Rules =
    [
        R(@"spatial_domains(?<s>_.*)?\.png", 10, m => "Spatial domains" + Sfx(m),
            _ => "Each dot is a spot at its position on the tissue, coloured by its predicted domain; contiguous bands that follow the tissue's anatomy (and the reference layers, when given) mean good domains."),
        R(@"spatial_truth(?<s>_.*)?\.png", 11, m => "Reference labels" + Sfx(m),
            _ => "The same spots coloured by the reference annotation: compare region by region with the predicted domains (colours need not match, only the partition)."),
        R(@"spatial_baseline\.png", 12, _ => "Non-spatial baseline",
            _ => "Domains of PCA + k-means on the same spots, which ignores positions: scattered, salt-and-pepper labels show what the spatial model adds."),
        R(@"umap_slice\.png", 20, _ => "UMAP by slice",
            _ => "UMAP of the joint embedding coloured by slice: within each group of points the slices should be intermixed, not side by side."),
        R(@"batch_mixing\.png", 21, _ => "Slice mixing per domain",
            _ => "1 − |silhouette of the slice labels| within each domain (scIB batch ASW): 1 = slices fully mixed, 0 = slices apart."),
        R(@"umap_(?<s>.+)\.png", 25, m => "UMAP: " + m.Groups["s"].Value,
            m => $"Two-dimensional UMAP of the learned embedding coloured by {m.Groups["s"].Value}: compact, separated groups mean the embedding tells them apart; distances between far groups are not meaningful."),
        R(@"umap\.png", 25, _ => "UMAP", _ => "Two-dimensional UMAP of the embedding: compact, separated groups mean the embedding tells them apart."),
        R(@"spatial_(?<s>.+)\.png", 15, m => "Spatial map: " + m.Groups["s"].Value,
            m => $"Each dot is a spot at its position, coloured by {m.Groups["s"].Value}: look for spatially coherent regions."),
        R(@"cells_true\.png", 30, _ => "Cells at their true positions",
            _ => "Single cells where they were measured, coloured by type: the reference for the mapped positions next to it."),
        R(@"cells_predicted\.png", 31, _ => "Cells at their mapped positions",
            _ => "Each cell placed at the position STEM predicts (mapping-weighted spot coordinates), coloured by type: the closer to the true layout, the better the mapping."),
        R(@"spots_dominant_type\.png", 32, _ => "Dominant cell type per spot",
            _ => "Each spot coloured by the cell type with the largest mapped proportion: regions should follow the tissue's known cell-type layout."),
        R(@"proportion_(?<s>.+)\.png", 33, m => "Mapped proportion: " + m.Groups["s"].Value,
            m => $"Fraction of each spot's mapped cells that are {m.Groups["s"].Value} (darker = more): where this type sits according to the mapping."),
        R(@"sdg_heatmap\.png", 34, _ => "Spatially dominant genes",
            _ => "Mean integrated-gradient attribution of each group's top spatially dominant genes: bright cells mark the genes that place a group of cells where it is mapped."),
        R(@"map_(?<g>.+)_measured\.png", 40, m => $"{m.Groups["g"].Value}: measured",
            m => $"Measured expression of {m.Groups["g"].Value} on the held-out section (transformed counts): compare with the predicted map beside it."),
        R(@"map_(?<g>.+)_predicted\.png", 41, m => $"{m.Groups["g"].Value}: predicted from histology",
            m => $"Expression of {m.Groups["g"].Value} predicted from the H&E patches alone, with the section held out: the same regions high as in the measured map means the image carries the signal."),
        R(@"map_(?<g>.+)\.png", 42, m => $"{m.Groups["g"].Value}: predicted",
            m => $"Expression of {m.Groups["g"].Value} predicted from the H&E image at each spot or tile (brighter = higher)."),
        R(@"ig_(?<g>.+)\.png", 45, m => $"Integrated gradients: {m.Groups["g"].Value}",
            m => $"Patches where {m.Groups["g"].Value} is predicted highest, with the pixels that drive the prediction highlighted."),
        R(@"gene_umap\.png", 50, _ => "Gene embedding",
            _ => "UMAP of the genes' CoSTA embeddings coloured by gene cluster: genes close together have similar spatial patterns."),
        R(@"cluster_images\.png", 51, _ => "Gene-cluster patterns",
            _ => "Mean expression image of each gene cluster over the tissue: each panel is the spatial pattern its genes share."),
        R(@"query_images\.png", 52, _ => "Query genes and their correlated genes",
            _ => "Expression images of each query gene (first column) and the genes CoSTA finds closest to it: shared bright regions mean a shared spatial pattern."),
        R(@"nmi\.png", 60, _ => "Self-labelling stability",
            _ => "NMI between the pseudo-labels of successive epochs: rising towards 1 means the self-labelling has settled."),
        R(@"loss\.png", 70, _ => "Training loss",
            _ => "Loss per epoch (total and each component): a curve that falls and flattens means training converged; a rising one, too high a learning rate."),
        R(@"finetune_loss\.png", 71, _ => "Fine-tuning loss",
            _ => "Training loss per patch and held-out mean squared error per epoch of each fold: held-out error that stops falling while training loss keeps falling means over-fitting."),
    ];

    /// <summary>Title and caption of a figure, from its file name (relative to the run folder).</summary>
    public static ReportFigure Describe(string relativePath)
    {
        var name = Path.GetFileName(relativePath);
        foreach (var r in Rules)
        {
            var m = r.Pattern.Match(name);
            if (m.Success) return new ReportFigure(relativePath, r.Order, r.Title(m), r.Caption(m));
        }
        var title = Path.GetFileNameWithoutExtension(name).Replace('_', ' ');
        return new ReportFigure(relativePath, 80, title, $"Figure written by this run ({relativePath}).");
    }
}
