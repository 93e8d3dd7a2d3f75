using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using StbImageSharp;
using Tessera.Data;
using Tessera.Plotting;
using Tessera.Tests.Support;

namespace Tessera.Tests.Plotting;

/// <summary>
/// The example figure: DLPFC 151673 coloured by layer_guess_reordered over the low-res H&amp;E.
/// Set TESSERA_FIGURE_DIR to keep the PNGs for inspection.
/// </summary>
public class DlpfcFigureTests
{
    internal sealed record Slice(SpatialData Data, string?[] Layers, TissueImage Lowres, double[] LowresRow, double[] LowresCol);

    /// <summary>Loads positions (full-res), layer labels and the low-res image; parsing lives here because IO readers are on another branch.</summary>
    internal static Slice LoadDlpfc()
    {
        var root = SharedData.Require("dlpfc/151673");
        var pos = new Dictionary<string, (double X, double Y)>(StringComparer.Ordinal);
        foreach (var line in ReadGz(Path.Combine(root, "spatial/tissue_positions_list.csv.gz")))
        {
            var f = line.Split(',');
            if (f[1] == "1") pos[f[0]] = (double.Parse(f[5], CultureInfo.InvariantCulture), double.Parse(f[4], CultureInfo.InvariantCulture));
        }
        var lines = ReadGz(Path.Combine(root, "spots.csv.gz")).ToList();
        var header = Split(lines[0]);
        int iLayer = Array.IndexOf(header, "layer_guess_reordered"), iRow = Array.IndexOf(header, "imagerow"), iCol = Array.IndexOf(header, "imagecol");
        var barcodes = new List<string>(); var layers = new List<string?>(); var xy = new List<double>(); var lr = new List<double>(); var lc = new List<double>();
        foreach (var line in lines.Skip(1))
        {
            var f = Split(line);
            var (x, y) = pos[f[0]];
            barcodes.Add(f[0]); layers.Add(f[iLayer] is "NA" or "" ? null : f[iLayer]);
            xy.Add(x); xy.Add(y);
            lr.Add(double.Parse(f[iRow], CultureInfo.InvariantCulture)); lc.Add(double.Parse(f[iCol], CultureInfo.InvariantCulture));
        }
        int n = barcodes.Count;
        var data = new SpatialData(CsrMatrix.Zeros(n, 0), new Table(barcodes.ToArray(), "barcode"), new Table([], "gene"));
        data.SetObsm(SpatialData.SpatialKey, new DenseMatrix(n, 2, xy.ToArray()));
        using var sf = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "spatial/scalefactors_json.json")));
        double scale = sf.RootElement.GetProperty("tissue_lowres_scalef").GetDouble();
        var img = ImageResult.FromMemory(File.ReadAllBytes(Path.Combine(root, "spatial/tissue_lowres_image.png")), ColorComponents.RedGreenBlue);
        var lowres = new TissueImage("lowres", img.Width, img.Height, img.Data, scale);
        return new Slice(data, layers.ToArray(), lowres, lr.ToArray(), lc.ToArray());
    }

    private static IEnumerable<string> ReadGz(string path)
    {
        using var rd = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        for (string? l; (l = rd.ReadLine()) != null;) yield return l;
    }

    private static string[] Split(string line) => line.Split(',').Select(s => s.Trim('"')).ToArray();

    [SkippableFact]
    public void LowresPixelsAreFullresTimesScale()
    {
        var s = LoadDlpfc();
        Assert.Equal(3639, s.Data.NObs);
        var rect = SpatialPlot.UnderlayRect(s.Lowres);
        Assert.Equal(s.Lowres.Width / 0.045004502, rect.Right, 6);
        // spots.csv's lowres pixel coordinates = full-res × tissue_lowres_scalef: the relation the underlay placement relies on
        double worst = 0;
        for (int i = 0; i < s.Data.NObs; i++)
        {
            worst = Math.Max(worst, Math.Abs(s.Data.Spatial[i, 0] * s.Lowres.Scale - s.LowresCol[i]));
            worst = Math.Max(worst, Math.Abs(s.Data.Spatial[i, 1] * s.Lowres.Scale - s.LowresRow[i]));
        }
        Assert.True(worst < 1e-3, $"largest lowres mismatch {worst} px");
    }

    [SkippableFact]
    public void LayerFigureOverHistology()
    {
        var s = LoadDlpfc();
        var palette = new CategoryPalette();
        var plot = SpatialPlot.Categorical(s.Data, s.Layers, "DLPFC 151673 — manual layer annotation", s.Lowres, palette);
        using var tmp = new TempDir();
        var path = tmp.File("dlpfc_layers.png");
        Figures.SavePng(plot, path, 900, 800);
        Assert.Equal((900, 800), PngTests.PngSize(path));
        Assert.Equal(new[] { "Layer1", "Layer2", "Layer3", "Layer4", "Layer5", "Layer6", "WM" }, palette.Labels);
        var keep = Environment.GetEnvironmentVariable("TESSERA_FIGURE_DIR");
        if (!string.IsNullOrEmpty(keep))
        {
            Figures.SavePng(plot, Path.Combine(keep, "dlpfc_layers.png"), 900, 800);
            var umi = SpatialPlot.Continuous(s.Data, Enumerable.Range(0, s.Data.NObs).Select(i => s.Data.Spatial[i, 1]).ToArray(), "full-res row (test values)");
            Figures.SavePng(umi, Path.Combine(keep, "dlpfc_continuous.png"), 900, 800);
            var hex = SpatialPlot.Categorical(s.Data, s.Layers, "DLPFC 151673 — hexagons, no underlay", palette: palette, shape: SpotShape.Hexagon);
            Figures.SavePng(hex, Path.Combine(keep, "dlpfc_hex.png"), 900, 800);
            // stand-in embedding: spatial coordinates with a twist, just to look at the embedding figure's styling
            var emb = new DenseMatrix(s.Data.NObs, 2, Enumerable.Range(0, s.Data.NObs).SelectMany(i =>
            {
                double x = s.Data.Spatial[i, 0] / 1000, y = s.Data.Spatial[i, 1] / 1000;
                return new[] { x * Math.Cos(y / 3) + Math.Sin(i), y + Math.Cos(3 * i) };
            }).ToArray());
            Figures.SavePng(EmbeddingPlot.Categorical(emb, s.Layers, "UMAP (stand-in)", palette), Path.Combine(keep, "umap.png"), 800, 700);
            Figures.SavePng(EmbeddingPlot.Continuous(emb, Enumerable.Range(0, s.Data.NObs).Select(i => s.Data.Spatial[i, 0]).ToArray(), "UMAP value"), Path.Combine(keep, "umap_cont.png"), 800, 700);
            var loss = Enumerable.Range(0, 200).Select(e => 2.0 * Math.Exp(-e / 40.0) + 0.3 + 0.02 * Math.Sin(e)).ToArray();
            var rec = Enumerable.Range(0, 200).Select(e => 1.2 * Math.Exp(-e / 25.0) + 0.2).ToArray();
            Figures.SavePng(CurvePlot.Lines("Spotscape training", "epoch", new Dictionary<string, double[]> { ["total"] = loss, ["reconstruction"] = rec }, "loss"), Path.Combine(keep, "loss.png"), 800, 500);
        }
    }
}
