using Tessera.Data;
using Tessera.Methods.Spotscape;
using Tessera.Simulate;
using Tessera.Tests.Support;

namespace Tessera.Tests.Spotscape;

/// <summary>The whole pipeline in process: SpatialData → SpotscapeTrainer.Fit → model/result → AddTo, Save/Load/Transform.</summary>
public class SpotscapeTrainerTests
{
    // 3 layers on a small Visium hex grid; 60 genes of which the 40 most variable are kept
    private static SpatialData Tissue(int seed = 3) =>
        SyntheticTissue.Generate(new SyntheticTissueOptions { Rows = 12, Cols = 24, Domains = 3, Genes = 60, MarkersPerDomain = 8, Seed = seed });

    private static SpotscapeOptions Options(int seed = 0) => new()
    {
        Threads = 1, Epochs = 5, LearningRate = 1e-3, Clusters = 3, Hvg = 40, Radius = 150, Seed = seed, TruthColumn = "layer",
    };

    [Fact]
    public void Fit_OneSlice_GivesEmbeddingDomainsScoresAndHistory()
    {
        var data = Tissue();
        using var model = SpotscapeTrainer.Fit(data, Options());
        var r = model.Result!;
        Assert.Equal(data.NObs, r.Embedding.Rows);
        Assert.Equal(64, r.Embedding.Cols);
        Assert.Equal(data.NObs, r.Labels.Length);
        Assert.Equal([0, 1, 2], r.Labels.Distinct().Order().ToArray());
        Assert.Equal(new SliceInfo("slice0", data.NObs, 150), Assert.Single(r.Slices));
        Assert.Equal(data.ObsNames, r.SpotNames);
        Assert.Equal(40, model.Genes!.Count);
        Assert.Equal(40, r.Data!.NVars);
        Assert.Equal(5, r.Training!.History.Count);
        Assert.Equal(1e-3, r.Training.LearningRate);
        Assert.Null(r.Mixing);
        var scores = r.Scores!;
        Assert.Equal(data.NObs, scores.Joint.N);
        Assert.InRange(scores.Joint.Ari, -1, 1);
        Assert.Equal(Tessera.Analysis.ClusterMethod.Gmm, scores.OtherMethod);
        Assert.Null(scores.PerSlice);
        var json = DomainMetrics.ToJson([r], Options());
        Assert.Equal(scores.Joint.Ari, json["runs"]![0]!["joint"]!["ari"]!.GetValue<double>());
        Assert.Equal(scores.Joint.Ari, json["summary"]!["ari"]!["mean"]!.GetValue<double>());
        Assert.Equal(0.0, json["summary"]!["ari"]!["sd"]!.GetValue<double>());
    }

    [Fact]
    public void SameSeed_IdenticalFloatsAndLabels_OtherSeedDiffers()
    {
        var data = Tissue();
        using var a = SpotscapeTrainer.Fit(data, Options(1));
        using var b = SpotscapeTrainer.Fit(data, Options(1));
        using var c = SpotscapeTrainer.Fit(data, Options(2));
        Assert.Equal(a.Result!.Embedding.ToFloatArray(), b.Result!.Embedding.ToFloatArray());
        Assert.Equal(a.Result.Labels, b.Result.Labels);
        Assert.Equal(a.Result.Training!.History.Total, b.Result.Training!.History.Total);
        Assert.NotEqual(a.Result.Embedding.ToFloatArray(), c.Result!.Embedding.ToFloatArray());
    }

    [Fact]
    public void SaveLoad_TransformIsIdentical_AndEqualsTheTrainingResult()
    {
        var data = Tissue();
        using var dir = new TempDir();
        var path = dir.File("model.pt");
        using var model = SpotscapeTrainer.Fit(data, Options());
        model.Save(path);
        using var loaded = SpotscapeModel.Load(path);
        Assert.Null(loaded.Result);
        Assert.Equal(model.Genes, loaded.Genes);
        Assert.Equal(model.Options with { EncoderDims = loaded.Options.EncoderDims, PrototypeGranularity = loaded.Options.PrototypeGranularity }, loaded.Options);
        var fresh = model.Transform(data);
        var reloaded = loaded.Transform(data);
        Assert.Equal(fresh.Embedding.ToFloatArray(), reloaded.Embedding.ToFloatArray());
        Assert.Equal(fresh.Labels, reloaded.Labels);
        // a transform of the training slice reproduces the fit's own embedding and domains (eval mode, same graph, same seed)
        Assert.Equal(model.Result!.Embedding.ToFloatArray(), reloaded.Embedding.ToFloatArray());
        Assert.Equal(model.Result.Labels, reloaded.Labels);
        Assert.Null(reloaded.Training);
        Assert.Equal(model.Result.Scores!.Joint, reloaded.Scores!.Joint);
    }

    [Fact]
    public void Load_Format1_ReadsNClustersAndKnowsNoGenes()
    {
        var data = Tissue();
        using var dir = new TempDir();
        var path = dir.File("model.pt");
        using (var model = SpotscapeTrainer.Fit(data, Options() with { Clusters = 5 })) model.Save(path);
        // rewrite the metadata as format 1 wrote it: NClusters instead of Clusters, no genes
        var meta = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path + ".json"))!.AsObject();
        meta["Format"] = "tessera.spotscape/1";
        meta.Remove("Genes");
        var options = meta["Options"]!.AsObject();
        options.Remove("Clusters");
        options["NClusters"] = 5;
        File.WriteAllText(path + ".json", meta.ToJsonString());
        using var loaded = SpotscapeModel.Load(path);
        Assert.Equal(5, loaded.Options.Clusters);
        Assert.Null(loaded.Genes);
        Assert.Equal("this model knows no gene names (fitted on a bare SpotscapeInput or saved in format 1); embed prepared input with Embed",
            Assert.Throws<TesseraException>(() => loaded.Transform(data)).Message);
    }

    [Fact]
    public void Transform_NewSliceMissingGenes_ExactMessage()
    {
        using var model = SpotscapeTrainer.Fit(Tissue(), Options());
        var other = Tissue(4);
        var keep = Enumerable.Range(0, other.NVars).Where(g => other.VarNames[g] != model.Genes![0]).ToArray();
        var fewer = other.Subset(null, keep);
        Assert.Equal($"slice 'slice0' lacks 1 of the model's 40 genes (first: {model.Genes![0]})",
            Assert.Throws<TesseraException>(() => model.Transform(fewer)).Message);
        // another tissue with every gene transforms, and is scored against its own layers
        var r = model.Transform(other);
        Assert.Equal(other.NObs, r.Labels.Length);
        Assert.NotNull(r.Scores);
    }

    [Fact]
    public void Cancellation_BeforeAndDuringTraining_Throws()
    {
        var data = Tissue();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => SpotscapeTrainer.Fit(data, Options(), null, cts.Token));
        using var during = new CancellationTokenSource();
        int epochs = 0;
        var progress = new SyncProgress(p => { if (p.Total > 0 && ++epochs == 2) during.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => SpotscapeTrainer.Fit(data, Options() with { Epochs = 50 }, progress, during.Token));
        Assert.Equal(2, epochs);
    }

    [Fact]
    public void AddTo_WritesEmbeddingAndDomain()
    {
        var data = Tissue();
        using var model = SpotscapeTrainer.Fit(data, Options());
        var r = model.Result!;
        r.AddTo(data);
        Assert.Equal(r.Embedding.ToFloatArray(), data.Obsm["X_spotscape"].ToFloatArray());
        var domain = Assert.IsType<CategoricalColumn>(data.Obs["domain"]);
        Assert.Equal(r.DomainNames(), Enumerable.Range(0, domain.Length).Select(domain.Label).ToArray());
        r.AddTo(data, "X_other");
        Assert.True(data.Obsm.ContainsKey("X_other"));
        Assert.Equal($"data has 10 spots but the result has {data.NObs}",
            Assert.Throws<TesseraException>(() => r.AddTo(data.Subset(Enumerable.Range(0, 10).ToArray(), null))).Message);
    }

    [Fact]
    public void Integration_TwoSlices_ScoresEachSliceAndMixing()
    {
        var a = Tissue(1);
        var b = Tissue(2);
        using var model = SpotscapeTrainer.Fit([a, b], ["A", "B"], Options() with { PrototypeWarmupEpochs = 3, LearningRate = null });
        var r = model.Result!;
        Assert.Equal(["A", "B"], r.Slices.Select(s => s.Name).ToArray());
        Assert.Equal(a.NObs + b.NObs, r.Labels.Length);
        Assert.Equal(Enumerable.Repeat(0, a.NObs).Concat(Enumerable.Repeat(1, b.NObs)).ToArray(), r.SliceOf);
        Assert.Equal(["A", "B"], r.Scores!.PerSlice!.Select(s => s.Slice).ToArray());
        Assert.Equal(a.NObs, r.Scores.PerSlice![0].Scores.N);
        Assert.NotNull(r.Mixing);
        Assert.Equal(["prototype", "reconstruction", "scale_matching", "telescope"], r.Training!.History.Components.Keys.Order().ToArray());
        Assert.Equal(5e-4, r.Training.LearningRate);
        var json = r.ToJson();
        Assert.NotNull(json["per_slice"]!["B"]);
        Assert.NotNull(json["batch_mixing"]!["per_domain"]);
    }

    [Fact]
    public void PcaBaseline_TrainsNothing_AndCannotBeSaved()
    {
        var data = Tissue();
        using var model = SpotscapeTrainer.Fit(data, Options() with { Method = DomainMethod.PcaKMeans });
        Assert.False(model.IsTrained);
        Assert.Equal("X_pca", model.Result!.EmbeddingKey);
        Assert.Equal(30, model.Result.Embedding.Cols);
        Assert.Null(model.Result.Training);
        using var dir = new TempDir();
        Assert.Equal("the PCA baseline has no trained weights to save", Assert.Throws<TesseraException>(() => model.Save(dir.File("m.pt"))).Message);
    }

    [Fact]
    public void SliceMixing_MixedDomainNearOne_SeparatedDomainNearZero()
    {
        // domain "a": both slices drawn from one square (mixed; random silhouettes stay near 0, mixing measured 0.90);
        // domain "b": slice 1 shifted far away (separated)
        var rng = new Random(1);
        int n = 40;
        var x = new DenseMatrix(2 * n, 2);
        var batch = new int[2 * n];
        var domain = new int[2 * n];
        for (int i = 0; i < 2 * n; i++)
        {
            domain[i] = i < n ? 0 : 1;
            batch[i] = i % 2;
            x[i, 0] = rng.NextDouble() + (domain[i] == 1 && batch[i] == 1 ? 100 : 0);
            x[i, 1] = rng.NextDouble();
        }
        var m = SliceMixing.Compute(x, batch, domain, 0, ["a", "b"]);
        Assert.Equal(["a", "b"], m.DomainNames);
        Assert.True(m.PerDomain[0].Mixing > 0.8, $"mixed {m.PerDomain[0].Mixing}");
        Assert.True(m.PerDomain[1].Mixing < 0.1, $"separated {m.PerDomain[1].Mixing}");
        Assert.Equal((m.PerDomain[0].Mixing + m.PerDomain[1].Mixing) / 2, m.Mean, 12);
        var json = m.ToJson();
        Assert.Equal("b", json["per_domain"]![1]!["domain"]!.GetValue<string>());
        Assert.Equal(2, json["per_domain"]![1]!["slices"]!.GetValue<int>());
        Assert.Equal(m.Mean, json["mean_mixing"]!.GetValue<double>());
    }

    [Theory]
    [InlineData("Clusters", "Clusters must be at least 2 but is 1")]
    [InlineData("Device", "Device must be \"cpu\" (the only device served) but is \"cuda\"")]
    [InlineData("Hvg", "Hvg must be non-negative but is -1")]
    [InlineData("Radius", "Radius must be positive but is 0")]
    [InlineData("Threads", "Threads must be at least 1 but is 0")]
    [InlineData("Epochs", "Epochs must be non-negative but is -1")]
    [InlineData("MaxNeighbors", "MaxNeighbors must be at least 1 but is 0")]
    public void Validate_NamesThePropertyAndRange(string property, string message)
    {
        var o = property switch
        {
            "Clusters" => Options() with { Clusters = 1 },
            "Device" => Options() with { Device = "cuda" },
            "Hvg" => Options() with { Hvg = -1 },
            "Radius" => Options() with { Radius = 0 },
            "Threads" => Options() with { Threads = 0 },
            "Epochs" => Options() with { Epochs = -1 },
            _ => Options() with { MaxNeighbors = 0 },
        };
        Assert.Equal(message, Assert.Throws<TesseraException>(() => SpotscapeTrainer.Fit(Tissue(), o)).Message);
    }

    [Fact]
    public void UnknownTruthColumn_FailsBeforeTraining()
    {
        var ex = Assert.Throws<TesseraException>(() => SpotscapeTrainer.Fit(Tissue(), Options() with { TruthColumn = "layers", Epochs = 100000 }));
        Assert.StartsWith("unknown column 'layers'; available: layer", ex.Message);
    }
}
