using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.Costa;
using Tessera.Simulate;
using Tessera.Tests.Support;

namespace Tessera.Tests.Costa;

/// <summary>One small CoSTA fit shared by the tests of <see cref="CostaTrainerTests"/>.</summary>
public sealed class CostaFitFixture : IDisposable
{
    /// <summary>A small Visium-like tissue: 3 layer domains with 10 marker genes each, 60 genes.</summary>
    public SpatialData Data { get; } = SyntheticTissue.Generate(new SyntheticTissueOptions
    {
        Rows = 16, Cols = 32, Domains = 3, Genes = 60, MarkersPerDomain = 10, MedianUmis = 3000, Seed = 3,
    });

    /// <summary>Tiny images, 1 epoch, 2 models.</summary>
    public CostaOptions Options { get; } = new()
    {
        ImageSize = 24, MinSpots = 1, LogNormalize = true, RegressOutTotal = false, Standardize = true,
        Models = 2, Clusters = 4, Epochs = 1, BatchSize = 8, UmapNeighbors = 10, UmapEpochs = 20, GeneClusters = 3, Seed = 5,
        Queries = ["L1_marker1"],
    };

    public CostaModel Model { get; }

    public CostaFitFixture() => Model = CostaTrainer.Fit(Data, Options);

    public void Dispose() => Model.Dispose();
}

public class CostaTrainerTests(CostaFitFixture fit) : IClassFixture<CostaFitFixture>
{
    private static float[] Floats(DenseMatrix m) => m.ToFloatArray();

    [Fact]
    public void FitGivesAnEnsembleResultOnEveryImagedGene()
    {
        var r = fit.Model.Result!;
        Assert.Equal(60, r.Genes.Length);
        Assert.Equal(fit.Data.VarNames, r.Genes);
        Assert.Equal(2, r.Embeddings.Count);
        Assert.All(r.Embeddings, e => Assert.Equal((60, 128), (e.Rows, e.Cols)));
        Assert.NotEqual(Floats(r.Embeddings[0]), Floats(r.Embeddings[1])); // models have their own seeds
        Assert.All(r.Histories, h => Assert.Equal([0, 1], h.Select(e => e.Epoch)));
        Assert.Equal(5, r.Histories[0][1].Steps); // round(60 × 0.7) = 42 genes, batches of 8
        Assert.All(r.Stability, s => Assert.InRange(s, 0.0, 1.0));
        Assert.Equal(r.Stability.Select(s => s >= 0.2), r.Se);
        Assert.Equal(3, r.ClusterCount);
        Assert.All(r.Clusters, c => Assert.InRange(c, 0, 2));
        Assert.Equal((60, 2), (r.Umap.Rows, r.Umap.Cols));
        var c = r.Correlation!;
        Assert.Equal(["L1_marker1"], c.Queries);
        Assert.Equal(2, c.MinModels); // 3, or all models when fewer
        Assert.Equal(r.Se.Count(b => b) - (r.Se[0] ? 1 : 0), c.Similarities.Count);
    }

    [Fact]
    public void SameSeedGivesIdenticalResults()
    {
        using var again = CostaTrainer.Fit(fit.Data, fit.Options);
        var (a, b) = (fit.Model.Result!, again.Result!);
        for (int m = 0; m < 2; m++) Assert.Equal(Floats(a.Embeddings[m]), Floats(b.Embeddings[m]));
        Assert.Equal(a.Stability, b.Stability);
        Assert.Equal(a.Clusters, b.Clusters);
        Assert.Equal(a.Umap.Data, b.Umap.Data);
        Assert.Equal(a.Histories[1].Select(e => e.Loss), b.Histories[1].Select(e => e.Loss));
    }

    [Fact]
    public void SavedModelTransformsLikeTheTrainedOne()
    {
        using var tmp = new TempDir();
        fit.Model.Save(tmp.File("model"));
        Assert.True(File.Exists(tmp.File("model/net2.pt")));
        using var loaded = CostaModel.Load(tmp.File("model"));
        Assert.Null(loaded.Result!);
        Assert.Equal(fit.Options, loaded.Options with { Queries = fit.Options.Queries });
        Assert.Equal(fit.Options.Queries, loaded.Options.Queries);
        var t1 = fit.Model.Transform(fit.Data);
        var t2 = loaded.Transform(fit.Data);
        for (int m = 0; m < 2; m++)
        {
            Assert.Equal(Floats(t1.Embeddings[m]), Floats(t2.Embeddings[m]));
            // The feature pass of the training data repeats the last one of training (same nets, chunks, batch statistics).
            Assert.Equal(Floats(fit.Model.Result!.Embeddings[m]), Floats(t1.Embeddings[m]));
        }
        Assert.Equal(fit.Model.Result!.Clusters, t2.Clusters);
        Assert.Empty(t2.Histories);
        Assert.Equal("'" + tmp.File("nothing") + "' is not a saved CoSTA model: costa.json not found",
            Assert.Throws<TesseraException>(() => CostaModel.Load(tmp.File("nothing"))).Message);
    }

    [Fact]
    public void CancellationStopsTheFit()
    {
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.Stage.Contains("training")) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => CostaTrainer.Fit(fit.Data, fit.Options, progress, cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => fit.Model.Transform(fit.Data, null, new CancellationToken(true)));
    }

    [Fact]
    public void AddToWritesVarVarmAndUns()
    {
        var data = fit.Data.Subset();
        var r = fit.Model.Result!;
        r.AddTo(data);
        int g = Array.IndexOf(data.VarNames, r.Genes[7]);
        Assert.Equal(r.Clusters[7].ToString(System.Globalization.CultureInfo.InvariantCulture), data.Var.Labels("costa_cluster")[g]);
        Assert.Equal(r.Se, ((BoolColumn)data.Var["costa_se"]).Values);
        Assert.Equal(r.Stability, ((NumericColumn)data.Var["costa_stability"]).Values);
        Assert.Equal(["X_costa", "X_costa_2", "X_costa_umap"], data.Varm.Keys.Order());
        Assert.Equal(Floats(r.Embeddings[1]), Floats(data.Varm["X_costa_2"]));
        var uns = (Dictionary<string, object>)data.Uns["costa"];
        Assert.Equal(new long[] { 24, 24 }, (long[])uns["image_shape"]);
        Assert.Equal(2L, uns["models"]);
        Assert.Equal(new long[] { 1, 1, 2, 2 }, (long[])((Dictionary<string, object>)uns["training"])["model"]);
        Assert.Equal(r.Correlation!.Similarities.Select(s => s.MeanZ), (double[])((Dictionary<string, object>)uns["correlated"])["z"]);

        // The keys survive h5ad, varm included; genes left out of the images get NaN rows.
        using var tmp = new TempDir();
        var sub = fit.Data.Subset();
        var small = CostaResult.FromSpatialData(r.ToSpatialData().Subset(obs: Enumerable.Range(1, 59).ToArray()));
        small.AddTo(sub, "c2");
        H5ad.Write(sub, tmp.File("d.h5ad"));
        var back = H5ad.Read(tmp.File("d.h5ad"));
        Assert.True(double.IsNaN(back.Varm["X_c2"][0, 0]));
        Assert.Equal(sub.Varm["X_c2"].Data.Skip(128), back.Varm["X_c2"].Data.Skip(128));
        Assert.Null(back.Var.Labels("c2_cluster")[0]);
        Assert.Equal("gene 'L1_marker1' of the CoSTA result is not in the data (59 genes)",
            Assert.Throws<TesseraException>(() => r.AddTo(fit.Data.Subset(vars: Enumerable.Range(1, 59).ToArray()))).Message);
    }

    [Fact]
    public void WrittenResultReadsBackAndAnswersQueries()
    {
        using var tmp = new TempDir();
        var r = fit.Model.Result!;
        r.Write(tmp.Path);
        foreach (var f in new[] { "result.h5ad", "genes.csv", "training.csv", "gene_umap.png", "cluster_images.png", "nmi.png", "correlated.csv", "correlated_set.csv", "query_images.png" })
            Assert.True(File.Exists(tmp.File(f)), f);
        Assert.Equal(61, File.ReadAllLines(tmp.File("genes.csv")).Length);
        var back = CostaResult.Read(tmp.Path);
        Assert.Equal(r.Genes, back.Genes);
        Assert.Equal(r.Images.Pixels, back.Images.Pixels);
        Assert.Equal(r.Images.Mask, back.Images.Mask);
        Assert.Equal(Floats(r.Embeddings[1]), Floats(back.Embeddings[1]));
        Assert.Equal(r.Se, back.Se);
        Assert.Equal(r.Clusters, back.Clusters);
        var c = back.Correlate(["L1_marker1", "L1_marker1"], minModels: 2);
        Assert.Equal(r.Correlation!.Similarities, c.Similarities);
        Assert.Equal(r.Correlation.Set.Select(s => s.Gene), c.Set.Select(s => s.Gene));
        var all = back.Correlate(["L1_marker1"], allGenes: true);
        Assert.Equal(59, all.Similarities.Count);
        Assert.Equal("MinModels must be between 1 and the 2 models but is 3",
            Assert.Throws<TesseraException>(() => back.Correlate(["L1_marker1"], minModels: 3)).Message);
        Assert.Equal("gene 'nope' is not among the 60 gene images",
            Assert.Throws<TesseraException>(() => back.Correlate(["nope"])).Message);
        Assert.Equal("the data has no obsm 'X_costa': not a CoSTA result",
            Assert.Throws<TesseraException>(() => CostaResult.FromSpatialData(fit.Data)).Message);
    }

    [Theory]
    [InlineData("Models", "Models must be at least 1 but is 0")]
    [InlineData("Device", "Device must be \"cpu\" (the only device CoSTA is served on) but is \"cuda\"")]
    [InlineData("ImageSize", "ImageSize must be at least 8 but is 4")]
    [InlineData("GeneClusters", "GeneClusters must be at least 2 but is 1")]
    [InlineData("MinModels", "MinModels must be between 1 and the 5 models but is 6")]
    [InlineData("Threads", "Threads must be at least 1 but is 0")]
    [InlineData("Epochs", "Epochs must be at least 0 but is -1")]
    public void ValidateNamesTheProperty(string property, string message)
    {
        var o = property switch
        {
            "Models" => new CostaOptions { Models = 0 },
            "Device" => new CostaOptions { Device = "cuda" },
            "ImageSize" => new CostaOptions { ImageSize = 4 },
            "GeneClusters" => new CostaOptions { GeneClusters = 1 },
            "MinModels" => new CostaOptions { MinModels = 6 },
            "Threads" => new CostaOptions { Threads = 0 },
            _ => new CostaOptions { Epochs = -1 },
        };
        Assert.Equal(message, Assert.Throws<TesseraException>(o.Validate).Message);
        Assert.Equal(message, Assert.Throws<TesseraException>(() => CostaTrainer.Fit(fit.Data, o)).Message);
    }

    [Fact]
    public void DefaultsAreTheAuthorsAndTheCommandsOnes()
    {
        var o = new CostaOptions();
        Assert.Equal((0, 5, 0.2, 48, 10, 30, 10, 128, 6), (o.Seed, o.Models, o.SeThreshold, o.ImageSize, o.MinSpots, o.Clusters, o.Epochs, o.BatchSize, o.GeneClusters));
        Assert.True(o.RegressOutTotal);
        Assert.Equal(-2.325, o.CorrelationThreshold);
        Assert.Equal(3, o.EffectiveMinModels);
        Assert.Equal(2, (o with { Models = 2 }).EffectiveMinModels);
    }

    private sealed class SyncProgress(Action<Progress> report) : IProgress<Progress>
    {
        public void Report(Progress value) => report(value);
    }
}
