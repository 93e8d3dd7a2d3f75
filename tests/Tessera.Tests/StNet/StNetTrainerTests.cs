using System.Globalization;
using Tessera.Data;
using Tessera.Methods.StNet;
using Tessera.Tests.Support;

namespace Tessera.Tests.StNet;

/// <summary>
/// Three small synthetic sections on disk: a 4×4 ST array (pitch 100 px, so 2 µm/px at the 200 µm pitch and a 75-px
/// window) on a 500-px slide whose tissue darkens from left to right; gene G1 follows the darkness, G2–G4 are noise.
/// One frozen fit is shared by the tests (ResNet-18 features of 48 patches).
/// </summary>
public sealed class StNetTrainerFixture : IDisposable
{
    public TempDir Dir { get; } = new();
    public List<HistologySection> Sections { get; } = [];
    public StNetOptions Options { get; }
    public StNetModel Model { get; }
    public List<Progress> Reports { get; } = [];

    public StNetTrainerFixture()
    {
        var rng = new Random(5);
        foreach (var sec in new[] { "S1", "S2", "S3" })
        {
            var png = Dir.File($"{sec}.png");
            SyntheticSlide.Write(png, 500, 40, rng);
            int n = 16;
            var counts = new float[n, 4];
            var ids = new string[n]; var px = new double[n]; var py = new double[n]; var ax = new double[n]; var ay = new double[n];
            for (int i = 0; i < n; i++)
            {
                ax[i] = i / 4 + 1; ay[i] = i % 4 + 1;
                px[i] = 100 * ax[i] + rng.NextDouble() * 4 - 2; py[i] = 100 * ay[i] + rng.NextDouble() * 4 - 2;
                ids[i] = string.Create(CultureInfo.InvariantCulture, $"{ax[i]}x{ay[i]}");
                counts[i, 0] = (int)(5 + 60 * (px[i] - 40) / 420.0 + rng.Next(0, 6));
                counts[i, 1] = rng.Next(20, 40); counts[i, 2] = rng.Next(10, 30); counts[i, 3] = rng.Next(5, 25);
            }
            var sd = new SpatialData(CsrMatrix.FromDense(counts), new Table(ids), new Table(["G1", "G2", "G3", "G4"]));
            Sections.Add(new HistologySection { Name = sec, Counts = sd, PixelX = px, PixelY = py, ArrayX = ax, ArrayY = ay, ImagePath = png });
        }
        Options = new StNetOptions { Genes = 4, TestTimeAugmentation = false, CacheDir = Dir.File("cache") };
        Model = StNetTrainer.Fit(Sections, Options, new SyncProgress(Reports.Add));
    }

    public void Dispose()
    {
        Model.Dispose();
        Dir.Dispose();
    }
}

/// <summary>A square PNG slide: glass around a tissue square that darkens from left to right (with pixel noise from <c>rng</c>).</summary>
internal static class SyntheticSlide
{
    public static void Write(string png, int side, int margin, Random rng)
    {
        using var bmp = new SkiaSharp.SKBitmap(side, side, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque);
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                bool tissue = x >= margin && x < side - margin && y >= margin && y < side - margin;
                double dark = (x - margin) / (double)(side - 2 * margin);
                int noise = rng.Next(-12, 13);
                bmp.SetPixel(x, y, tissue
                    ? new SkiaSharp.SKColor((byte)Math.Clamp(230 - 130 * dark + noise, 0, 255), (byte)Math.Clamp(170 - 120 * dark + noise, 0, 255), (byte)Math.Clamp(210 - 40 * dark + noise, 0, 255))
                    : new SkiaSharp.SKColor(245, 245, 245));
            }
        using var data = bmp.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(png, data.ToArray());
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread (System.Progress posts to the thread pool).</summary>
internal sealed class SyncProgress(Action<Progress> report) : IProgress<Progress>
{
    public void Report(Progress value) => report(value);
}

public class StNetTrainerTests(StNetTrainerFixture f) : IClassFixture<StNetTrainerFixture>
{
    [Fact]
    public void Fit_CrossValidatesEverySection_AndTheColourFollowingGeneIsPredicted()
    {
        var res = f.Model.Result!;
        Assert.True(res.CrossValidated);
        Assert.Equal(["G1", "G2", "G3", "G4"], res.Genes.Order().ToArray()); // the four genes, by mean count
        Assert.Equal(res.Genes, f.Model.Genes);
        Assert.Equal(["S1", "S2", "S3"], res.Predictions.Select(p => p.Name));
        foreach (var p in res.Predictions)
        {
            Assert.Equal(16, p.SpotIds.Length);
            Assert.Equal(16, p.Values.Rows);
            Assert.Equal(4, p.Values.Cols);
            Assert.Equal(75, p.WindowPixels, 0); // 150 µm at 2 µm/px
        }
        Assert.Equal(3 * 4 * 2, res.Scores.Count); // sections × genes × {stnet, colour}
        Assert.Equal(4, res.Summary.Count);
        var g1 = res.Summary.Single(s => s.Gene == "G1");
        Assert.True(g1.MeanPearson > 0.6, $"G1 held-out Pearson {g1.MeanPearson}");
        Assert.Equal(3, g1.PositiveSections);
        Assert.Null(res.FineTuneFolds);
        Assert.Equal(3, res.ColourBaseline.Count);
        Assert.Equal(2, f.Model.TrainingUmPerPixel, 1);
        // the held-out prediction equals a ridge head fitted on the other two sections
        var train = res.Sections.Where(s => s.Section.Name != "S2").ToArray();
        var head = Tessera.Analysis.Ridge.Fit(DenseMatrix.VStack([.. train.Select(t => t.Features)]), DenseMatrix.VStack([.. train.Select(t => t.Targets)]));
        Assert.Equal(head.Predict(res.Sections[1].Features).Data, res.Prediction("S2").Values.Data);
        // progress: feature steps per section and the headline as messages
        Assert.Contains(f.Reports, r => r.Stage == "features S3" && r.Done == 16 && r.Total == 16);
        Assert.Contains(f.Reports, r => r.Message is { } m && m.StartsWith("beats the colour baseline on", StringComparison.Ordinal));
    }

    [Fact]
    public void AddTo_WritesThePredictionsOfOneSectionByObsName()
    {
        var res = f.Model.Result!;
        var data = f.Sections[1].Counts.Subset([3, 0, 7]);
        Assert.Equal("the result holds predictions of 3 sections (S1, S2, S3); name the section to add",
            Assert.Throws<TesseraException>(() => res.AddTo(data)).Message);
        res.AddTo(data, "stnet", "S2");
        var m = data.GetObsm("stnet");
        Assert.Equal(3, m.Rows);
        Assert.Equal(4, m.Cols);
        var p = res.Prediction("S2");
        for (int o = 0; o < 3; o++)
        {
            int row = Array.IndexOf(p.SpotIds, data.ObsNames[o]);
            for (int g = 0; g < 4; g++) Assert.Equal(p.Values[row, g], m[o, g]);
        }
        var uns = (Dictionary<string, object>)data.Uns["stnet"];
        Assert.Equal(res.Genes, (string[])uns["genes"]);
        Assert.Equal("S2", uns["section"]);
        var r = (double[])uns["pearson"];
        Assert.Equal(res.Scores.Single(s => s.Model == "stnet" && s.Section == "S2" && s.Gene == res.Genes[0]).Pearson, r[0]);
    }

    [Fact]
    public void SameSettings_IdenticalResult()
    {
        using var again = StNetTrainer.Fit(f.Sections, f.Options); // features from the cache the first fit wrote
        for (int i = 0; i < 3; i++) Assert.Equal(f.Model.Result!.Predictions[i].Values.Data, again.Result!.Predictions[i].Values.Data);
        Assert.Equal(f.Model.Head!.Coefficients.Data, again.Head!.Coefficients.Data);
        Assert.Equal(f.Model.Result!.Scores, again.Result!.Scores);
    }

    [Fact]
    public void SaveLoadPredict_RoundTripIsIdentical()
    {
        using var dir = new TempDir();
        f.Model.Save(dir.Path);
        using var loaded = StNetModel.Load(dir.Path);
        Assert.Null(loaded.Result);
        Assert.Equal(f.Model.Genes, loaded.Genes);
        Assert.Equal(f.Model.TrainingUmPerPixel, loaded.TrainingUmPerPixel);
        var a = f.Model.Predict(f.Sections[2]);
        var b = loaded.Predict(f.Sections[2]);
        Assert.False(a.CrossValidated);
        Assert.Equal(16, a.Predictions[0].Values.Rows);
        Assert.Equal(a.Predictions[0].SpotIds, b.Predictions[0].SpotIds);
        Assert.Equal(a.Predictions[0].Values.Data, b.Predictions[0].Values.Data);
        // the final head (trained on S3 too) predicts S3 from the same features the fit extracted
        Assert.Equal(f.Model.Head!.Predict(f.Model.Result!.Sections[2].Features).Data, a.Predictions[0].Values.Data);
        // a prediction's tables: predictions.csv and pseudobulk.csv
        b.WriteTables(dir.File("out"));
        var rows = File.ReadAllLines(dir.File("out/predictions.csv"));
        Assert.Equal(17, rows.Length);
        Assert.Equal(5, File.ReadAllLines(dir.File("out/pseudobulk.csv")).Length);
        // whole slide: tissue tiles of one window
        var tiles = loaded.Predict(new HistologySlide(f.Sections[0].ImagePath));
        Assert.True(tiles.Predictions[0].WholeSlide);
        Assert.InRange(tiles.Predictions[0].SpotIds.Length, 16, 49);
        Assert.StartsWith("tile_", tiles.Predictions[0].SpotIds[0]);
    }

    [Fact]
    public void Cancellation_StopsBetweenBatches()
    {
        using var cts = new CancellationTokenSource();
        int featureReports = 0;
        var progress = new SyncProgress(p => { if (p.Stage.StartsWith("features", StringComparison.Ordinal) && p.Done > 0 && ++featureReports == 1) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => StNetTrainer.Fit(f.Sections, f.Options with { CacheDir = null, BatchSize = 4 }, progress, cts.Token));
        Assert.Equal(1, featureReports); // stopped after the first batch
    }

    [Fact]
    public void Validate_NamesThePropertyAndItsRange()
    {
        string M(StNetOptions o) => Assert.Throws<TesseraException>(o.Validate).Message;
        Assert.Equal("Genes must be at least 1 but is 0", M(new StNetOptions { Genes = 0 }));
        Assert.Equal("BatchSize must be at least 1 but is 0", M(new StNetOptions { BatchSize = 0 }));
        Assert.Equal("WindowUm must be a positive number but is -5", M(new StNetOptions { WindowUm = -5 }));
        Assert.Equal("UmPerPixel must be a positive number but is NaN", M(new StNetOptions { UmPerPixel = double.NaN }));
        Assert.Equal("Momentum must be in [0, 1) but is 1", M(new StNetOptions { Momentum = 1 }));
        Assert.Equal("Device must be 'cpu' but is 'cuda' (only the CPU is served)", M(new StNetOptions { Device = "cuda" }));
        Assert.Equal("Backbone 'vgg' is unknown (resnet18-imagenet, densenet121)", M(new StNetOptions { Backbone = "vgg" }));
        Assert.Equal("Weights is for densenet121; resnet18-imagenet ships its own ImageNet weights", M(new StNetOptions { Weights = "w.pt" }));
        Assert.Equal("Threads must be at least 1 but is 0", M(new StNetOptions { Threads = 0 }));
        Assert.Equal("Genes must be at least 1 but is 0", Assert.Throws<TesseraException>(() => StNetTrainer.Fit(f.Sections, new StNetOptions { Genes = 0 })).Message);
        Assert.Equal("asked for 9 genes but the sections have only 4", Assert.Throws<TesseraException>(() => StNetTrainer.Fit(f.Sections, new StNetOptions { Genes = 9 })).Message);
    }

    [Fact]
    public void FineTune_ZeroEpochs_IsTheMeanPredictor_AndKeepsNoNetwork()
    {
        var o = f.Options with { Mode = StNetMode.FineTune, Epochs = 0, InnerFolds = 0, Folds = ["S2"], BatchSize = 8 };
        using var m = StNetTrainer.Fit(f.Sections, o);
        var res = m.Result!;
        Assert.Single(res.FineTuneFolds!);
        Assert.Equal(["S2"], res.Predictions.Select(p => p.Name));
        Assert.Equal(2 * 4, res.Scores.Count);
        var mean = res.Sections.Where(s => s.Section.Name != "S2").SelectMany(s => Enumerable.Range(0, s.Targets.Rows).Select(i => s.Targets[i, 0])).Average();
        Assert.All(Enumerable.Range(0, 16), i => Assert.Equal(mean, res.Predictions[0].Values[i, 0], 1e-5)); // zero weights, bias = training mean
        Assert.Null(m.Head);
        Assert.StartsWith("a fine-tuned ST-Net model has no final network", Assert.Throws<TesseraException>(() => m.Predict(f.Sections[0])).Message);
        Assert.Equal("Folds names 'S9', which is not a section or patient of the data (S1, S2, S3)",
            Assert.Throws<TesseraException>(() => StNetTrainer.Fit(f.Sections, o with { Folds = ["S9"] })).Message);
    }
}
