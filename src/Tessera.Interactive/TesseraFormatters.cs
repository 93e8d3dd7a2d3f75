using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using ScottPlot;
using Tessera.Data;
using Tessera.Methods.Costa;
using Tessera.Methods.Spotscape;
using Tessera.Methods.StNet;
using Tessera.Methods.Stem;
using Tessera.Plotting;

namespace Tessera.Interactive;

/// <summary>
/// Notebook rendering of Tessera objects. <see cref="Register"/> is run by the package's <c>extension.dib</c> when a
/// notebook loads it (<c>#r "nuget: Tessera.Interactive"</c>); afterwards a cell whose value is a
/// <see cref="SpatialData"/>, a figure (<see cref="Plot"/>), a <see cref="DenseMatrix"/> or a <see cref="Table"/> shows as
/// HTML: a summary with a spatial thumbnail, an inline PNG, the first rows. Every page is self-contained (images are
/// base64 data URIs), so a saved notebook shows them without network access.
/// </summary>
public static class TesseraFormatters
{
    /// <summary>Rows shown of a matrix or table.</summary>
    public const int PreviewRows = 8;

    /// <summary>Columns shown of a matrix.</summary>
    public const int PreviewColumns = 8;

    /// <summary>Size in pixels of a figure rendered in a notebook.</summary>
    public static (int Width, int Height) FigureSize { get; set; } = (640, 520);

    /// <summary>Registers the HTML formatters with .NET Interactive (idempotent).</summary>
    public static void Register()
    {
        Formatter.Register<SpatialData>(ToHtml, HtmlFormatter.MimeType);
        Formatter.Register<Plot>(p => ToHtml(p), HtmlFormatter.MimeType);
        Formatter.Register<DenseMatrix>(ToHtml, HtmlFormatter.MimeType);
        Formatter.Register<Table>(t => ToHtml(t), HtmlFormatter.MimeType);
        Formatter.Register<SpotscapeResult>(ToHtml, HtmlFormatter.MimeType);
        Formatter.Register<CostaResult>(ToHtml, HtmlFormatter.MimeType);
        Formatter.Register<StemResult>(ToHtml, HtmlFormatter.MimeType);
        Formatter.Register<StNetResult>(ToHtml, HtmlFormatter.MimeType);
        foreach (var t in new[] { typeof(SpatialData), typeof(Plot), typeof(DenseMatrix), typeof(Table), typeof(SpotscapeResult),
                     typeof(CostaResult), typeof(StemResult), typeof(StNetResult) })
            Formatter.SetPreferredMimeTypesFor(t, HtmlFormatter.MimeType);
    }

    /// <summary>
    /// A data set as HTML: shape, sparsity, the obs/var columns with their kinds, obsm/layers/uns keys, and a spatial
    /// thumbnail (spots coloured by log total counts) when it has coordinates.
    /// </summary>
    public static string ToHtml(SpatialData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var sb = new StringBuilder("<div class=\"tessera-data\">");
        double density = data.NObs == 0 || data.NVars == 0 ? 0 : (double)data.X.Nnz / ((double)data.NObs * data.NVars);
        sb.Append(CultureInfo.InvariantCulture, $"<p><b>SpatialData</b>: {data.NObs:N0} observations × {data.NVars:N0} variables, X sparse ({100 * density:F1}% non-zero)</p>");
        sb.Append("<table>");
        Row(sb, "obs", Columns(data.Obs));
        Row(sb, "var", Columns(data.Var));
        Row(sb, "obsm", string.Join(", ", data.Obsm.Select(kv => $"{kv.Key} ({kv.Value.Rows}×{kv.Value.Cols})")));
        Row(sb, "layers", string.Join(", ", data.Layers.Keys));
        Row(sb, "uns", string.Join(", ", data.Uns.Keys));
        Row(sb, "images", string.Join(", ", data.Images.Select(i => $"{i.Name} ({i.Width}×{i.Height})")));
        sb.Append("</table>");
        if (data.HasSpatial && data.NObs > 0)
        {
            var totals = data.X.RowSums().Select(v => Math.Log(1 + v)).ToArray();
            var plot = SpatialPlot.Continuous(data, totals, "log(1 + total counts)");
            sb.Append(Image(plot, 420, 340));
        }
        return sb.Append("</div>").ToString();
    }

    /// <summary>Spotscape domains: counts, scores against the truth when given, and the domains over the (first) slice.</summary>
    public static string ToHtml(SpotscapeResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var sb = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"<div class=\"tessera-result\"><p><b>Spotscape</b> ({r.Method}, seed {r.Seed}): {r.Labels.Length:N0} spots in {r.Slices.Count} slice(s), {r.Labels.Distinct().Count()} domains, embedding {r.Embedding.Cols}-d</p>");
        if (r.Scores is { } sc)
            sb.Append(CultureInfo.InvariantCulture, $"<p>against the truth: ARI {sc.Joint.Ari:F3}, NMI {sc.Joint.Nmi:F3}, silhouette {sc.Silhouette:F3}</p>");
        if (r.Data is { HasSpatial: true }) sb.Append(Image(SpotscapeFigures.SpatialDomains(r, 0), FigureSize.Width, FigureSize.Height));
        return sb.Append("</div>").ToString();
    }

    /// <summary>CoSTA genes: counts of genes, clusters and spatially expressed genes, and the UMAP of the gene embedding.</summary>
    public static string ToHtml(CostaResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var sb = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"<div class=\"tessera-result\"><p><b>CoSTA</b>: {r.Genes.Length:N0} genes, {r.Embeddings.Count} model(s), embedding {r.Dim}-d, {r.ClusterCount} gene clusters, {r.Se.Count(v => v)} spatially expressed genes</p>");
        sb.Append(Image(CostaFigures.GeneUmap(r), FigureSize.Width, FigureSize.Height));
        return sb.Append("</div>").ToString();
    }

    /// <summary>STEM mapping: sizes, the metrics when the truth is known, and the cells at their predicted positions.</summary>
    public static string ToHtml(StemResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var sb = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"<div class=\"tessera-result\"><p><b>STEM</b>: {r.CellNames.Length:N0} cells mapped onto {r.SpotNames.Length:N0} spots, embedding {r.ScEmbedding.Cols}-d, final loss {r.FinalLoss:G4}</p>");
        if (r.Scores is { } m)
            sb.Append(CultureInfo.InvariantCulture, $"<p>cell-type proportions: mean Pearson r {m.PearsonMean:F3}; neighbourhood hits at 10: {m.Hit10:F3}; coordinate error (top 10): {m.CoordError10:G4}</p>");
        sb.Append(Image(StemFigures.PredictedCells(r, new string?[r.CellNames.Length]), FigureSize.Width, FigureSize.Height));
        return sb.Append("</div>").ToString();
    }

    /// <summary>ST-Net: sections and genes, and the genes predicted best (mean Pearson r over held-out sections).</summary>
    public static string ToHtml(StNetResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var sb = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"<div class=\"tessera-result\"><p><b>ST-Net</b>: {r.Genes.Length} genes, {r.Predictions.Count} section(s) predicted{(r.CrossValidated ? " (each by a model that did not see it)" : "")}</p>");
        if (r.Summary.Count > 0)
        {
            sb.Append("<table><tr><th>gene</th><th>mean Pearson r</th></tr>");
            foreach (var g in r.Summary.OrderByDescending(g => g.MeanPearson).Take(PreviewRows))
                sb.Append("<tr><td>").Append(WebUtility.HtmlEncode(g.Gene)).Append(CultureInfo.InvariantCulture, $"</td><td>{g.MeanPearson:F3}</td></tr>");
            sb.Append("</table>");
        }
        return sb.Append("</div>").ToString();
    }

    /// <summary>A figure as an inline PNG (<see cref="FigureSize"/> unless given).</summary>
    public static string ToHtml(Plot plot, int? width = null, int? height = null)
    {
        ArgumentNullException.ThrowIfNull(plot);
        return Image(plot, width ?? FigureSize.Width, height ?? FigureSize.Height);
    }

    /// <summary>A matrix as its shape and its first <see cref="PreviewRows"/> × <see cref="PreviewColumns"/> values.</summary>
    public static string ToHtml(DenseMatrix m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var sb = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<div class=\"tessera-matrix\"><p><b>DenseMatrix</b> {m.Rows:N0} × {m.Cols:N0}</p><table>");
        int rows = Math.Min(PreviewRows, m.Rows), cols = Math.Min(PreviewColumns, m.Cols);
        for (int i = 0; i < rows; i++)
        {
            sb.Append("<tr>");
            for (int j = 0; j < cols; j++) sb.Append(CultureInfo.InvariantCulture, $"<td>{m[i, j]:G4}</td>");
            if (cols < m.Cols) sb.Append("<td>…</td>");
            sb.Append("</tr>");
        }
        if (rows < m.Rows) sb.Append("<tr><td>…</td></tr>");
        return sb.Append("</table></div>").ToString();
    }

    /// <summary>A table (obs or var) as its first <paramref name="rows"/> rows with every column.</summary>
    public static string ToHtml(Table table, int rows = PreviewRows)
    {
        ArgumentNullException.ThrowIfNull(table);
        var cols = table.Columns.ToList();
        var sb = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<div class=\"tessera-table\"><p><b>Table</b> {table.Count:N0} rows × {cols.Count} columns</p><table><tr><th></th>");
        foreach (var (name, _) in cols) sb.Append("<th>").Append(WebUtility.HtmlEncode(name)).Append("</th>");
        sb.Append("</tr>");
        int n = Math.Min(rows, table.Count);
        for (int i = 0; i < n; i++)
        {
            sb.Append("<tr><th>").Append(WebUtility.HtmlEncode(table.Index[i])).Append("</th>");
            foreach (var (_, c) in cols) sb.Append("<td>").Append(WebUtility.HtmlEncode(c.Format(i))).Append("</td>");
            sb.Append("</tr>");
        }
        if (n < table.Count) sb.Append("<tr><td>…</td></tr>");
        return sb.Append("</table></div>").ToString();
    }

    /// <summary>An inline PNG image tag of <paramref name="plot"/>.</summary>
    public static string Image(Plot plot, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(plot);
        var png = plot.GetImageBytes(width, height, ImageFormat.Png);
        return $"<img width=\"{width}\" height=\"{height}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\"/>";
    }

    private static string Columns(Table t) => string.Join(", ", t.Columns.Select(c => $"{c.Name} ({Kind(c.Column)})"));

    private static string Kind(Column c) => c switch
    {
        NumericColumn n => n.IsInteger ? "int" : "float",
        BoolColumn => "bool",
        CategoricalColumn => "categorical",
        _ => "str",
    };

    private static void Row(StringBuilder sb, string key, string value)
    {
        if (value.Length == 0) return;
        sb.Append("<tr><th style=\"text-align:left\">").Append(key).Append("</th><td style=\"text-align:left\">")
          .Append(WebUtility.HtmlEncode(value)).Append("</td></tr>");
    }
}
