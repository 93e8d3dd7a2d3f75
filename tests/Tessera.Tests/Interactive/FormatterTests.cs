using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Formatting;
using StbImageSharp;
using Tessera.Data;
using Tessera.Interactive;
using Tessera.Methods.Spotscape;
using Tessera.Simulate;

namespace Tessera.Tests.Interactive;

public class FormatterTests
{
    private static SpatialData Tissue() => SyntheticTissue.Generate(new SyntheticTissueOptions { Seed = 3 });

    /// <summary>Decodes every inline PNG of an HTML fragment.</summary>
    private static List<ImageResult> Images(string html) =>
        Regex.Matches(html, "data:image/png;base64,([A-Za-z0-9+/=]+)")
            .Select(m => ImageResult.FromMemory(Convert.FromBase64String(m.Groups[1].Value), ColorComponents.RedGreenBlue)).ToList();

    /// <summary>Distinct colours of an image: a blank or single-colour figure has one or two.</summary>
    private static int Colours(ImageResult img) =>
        Enumerable.Range(0, img.Width * img.Height).Select(i => (img.Data[3 * i] << 16) | (img.Data[3 * i + 1] << 8) | img.Data[3 * i + 2]).Distinct().Count();

    [Fact]
    public void SpatialData_RendersShapeColumnsAndANonBlankThumbnail_ThroughTheFormatter()
    {
        TesseraFormatters.Register();
        var data = Tissue();
        string html = data.ToDisplayString(HtmlFormatter.MimeType);
        Assert.Contains($"{data.NObs:N0} observations × {data.NVars:N0} variables", html);
        foreach (var c in data.Obs.ColumnNames) Assert.Contains(c, html);
        Assert.Contains("spatial (", html);
        var img = Assert.Single(Images(html));
        Assert.Equal((420, 340), (img.Width, img.Height));
        Assert.True(Colours(img) > 50, "the thumbnail should show spots in many colours");
    }

    [Fact]
    public void DenseMatrix_ShowsShapeAndTheFirstValues()
    {
        var m = new DenseMatrix(20, 3, Enumerable.Range(0, 60).Select(i => i * 0.5).ToArray());
        string html = TesseraFormatters.ToHtml(m);
        Assert.Contains("20 × 3", html);
        Assert.Contains("<td>0</td><td>0.5</td><td>1</td>", html);         // row 0
        Assert.Contains("<td>10.5</td><td>11</td><td>11.5</td>", html);    // row 7, the last one shown
        Assert.DoesNotContain("<td>12</td>", html);                         // row 8 is not shown
    }

    [Fact]
    public void Table_EscapesNamesAndValues()
    {
        var t = new Table(["a<b", "c"]);
        t.Set("kind", new StringColumn(["<script>", "x&y"]));
        string html = TesseraFormatters.ToHtml(t);
        Assert.Contains("a&lt;b", html);
        Assert.Contains("&lt;script&gt;", html);
        Assert.Contains("x&amp;y", html);
        Assert.DoesNotContain("<script>", html);
    }

    [Fact]
    public void SpotscapeResult_ShowsCountsScoresAndTheDomainsFigure()
    {
        TesseraFormatters.Register();
        var data = SyntheticTissue.Generate(new SyntheticTissueOptions { Rows = 12, Cols = 24, Domains = 3, Genes = 60, MarkersPerDomain = 8, Seed = 1 });
        using var model = SpotscapeTrainer.Fit(data, new SpotscapeOptions { Threads = 1, Epochs = 3, Clusters = 3, Hvg = 40, Radius = 150, TruthColumn = "layer" });
        var r = model.Result!;
        string html = r.ToDisplayString(HtmlFormatter.MimeType);
        Assert.Contains($"{data.NObs:N0} spots in 1 slice(s), {r.Labels.Distinct().Count()} domains, embedding 64-d", html);
        Assert.Contains($"ARI {r.Scores!.Joint.Ari:F3}", html);
        var img = Assert.Single(Images(html));
        Assert.True(Colours(img) > 3, "the domains figure should show the domain colours");
    }
}
