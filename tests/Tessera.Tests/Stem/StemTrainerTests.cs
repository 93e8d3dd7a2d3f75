using Tessera.Data;
using Tessera.Methods.Stem;
using Tessera.Simulate;
using Tessera.Tests.Support;

namespace Tessera.Tests.Stem;

/// <summary>The library shape in-process: StemTrainer.Fit → StemModel (Save/Load, Transform) → StemResult.AddTo.</summary>
public class StemTrainerTests
{
    private static readonly StemOptions Small = new() { Epochs = 25, CycleStart = 15, TopK = 3, CoordTopK = 3, AdjacencyK = 4, MmdBatch = 20, IgSteps = 8 };

    /// <summary>The 12-spot tissue run through the pseudo-spot simulation, so that the truth (true coordinates, proportions) is present.</summary>
    internal static StemData Simulated()
    {
        var (sc, _, _, xy) = StemTests.Tissue();
        var cells = sc.Subset();
        cells.SetObsm(SpatialData.SpatialKey, xy);
        var sim = PseudoSpots.Simulate(cells, new PseudoSpotOptions { GridX = 4, GridY = 3, MinCells = 2, CaptureMin = 0.6, CaptureMax = 0.8, CellTypeColumn = "type" });
        return new StemData(sim.Sc, sim.St) { CellTypeColumn = "type" };
    }

    internal static void AssertSameResult(StemResult a, StemResult b)
    {
        Assert.Equal(a.ScEmbedding.Data, b.ScEmbedding.Data);
        Assert.Equal(a.StEmbedding.Data, b.StEmbedding.Data);
        Assert.Equal(a.CellToSpot.ToDenseArray(), b.CellToSpot.ToDenseArray());
        Assert.Equal(a.SpotToCell.ToDenseArray(), b.SpotToCell.ToDenseArray());
        Assert.Equal(a.PredictedCoordinates.Data, b.PredictedCoordinates.Data);
        Assert.Equal(a.PredictedCoordinatesTopK.Data, b.PredictedCoordinatesTopK.Data);
        Assert.Equal(a.Adjacency.ToDenseArray(), b.Adjacency.ToDenseArray());
        Assert.Equal(a.BestSpot, b.BestSpot);
        Assert.Equal(a.Proportions?.Data, b.Proportions?.Data);
        Assert.Equal(a.SpatiallyDominantGenes, b.SpatiallyDominantGenes);
        Assert.Equal(a.MetricsJson()?.ToJsonString(), b.MetricsJson()?.ToJsonString());
    }

    [Fact]
    public void FitMapsTheTrainingDataAndAddToWritesTheCliKeys()
    {
        var data = Simulated();
        var progress = new List<Progress>();
        using var model = StemTrainer.Fit(data, Small with { TangramEpochs = 10 }, new SyncProgress(progress.Add));
        var r = model.Result!;
        int cells = data.Sc.NObs, spots = data.St.NObs;
        Assert.Equal(60, cells);
        Assert.Equal((cells, 128), (r.ScEmbedding.Rows, r.ScEmbedding.Cols));
        Assert.Equal((spots, 128), (r.StEmbedding.Rows, r.StEmbedding.Cols));
        Assert.Equal(Enumerable.Repeat(3, cells), r.CellToSpot.RowNnz());
        Assert.Equal(Enumerable.Repeat(4, cells), r.Adjacency.RowNnz());
        Assert.Equal(["A", "B"], r.Types!);
        for (int s = 0; s < spots; s++) Assert.Equal(1.0, r.Proportions![s, 0] + r.Proportions[s, 1], 4);
        // Spatially dominant genes: every gene ranked within each of the two groups.
        Assert.Equal(2 * model.Genes.Length, r.SpatiallyDominantGenes!.Length);
        Assert.Equal(Enumerable.Range(1, model.Genes.Length), r.SpatiallyDominantGenes.Where(g => g.Group == "A").Select(g => g.Rank));
        // The simulation's truth is present: STEM and both baselines are scored, in this order.
        Assert.Equal(["stem", "correlation", "tangram"], r.MetricsJson()!.Select(kv => kv.Key));
        Assert.InRange(r.Scores!.PearsonMean, -1, 1);
        // Sigma: half the nearest-spot distance of the full 4 × 3 grid of bin centres (the smaller of the two steps).
        Assert.Equal(12, spots);
        var xs = Enumerable.Range(0, spots).Select(i => data.St.Spatial[i, 0]).Distinct().Order().ToArray();
        var ys = Enumerable.Range(0, spots).Select(i => data.St.Spatial[i, 1]).Distinct().Order().ToArray();
        Assert.Equal(Math.Min(xs[1] - xs[0], ys[1] - ys[0]) / 2, model.Sigma, 4);
        Assert.Equal(model.History.Total[^1], r.FinalLoss);
        // Progress: one line of settings, then one report per epoch, the IG batches and the Tangram steps.
        Assert.Contains(progress, p => p.Stage == "STEM" && p.Message!.Contains("6 shared genes"));
        Assert.Equal(Enumerable.Range(1, 25).Select(i => (long)i), progress.Where(p => p.Stage == "STEM training").Select(p => p.Done));
        Assert.Equal(10, progress.Count(p => p.Stage == "Tangram-style baseline"));
        Assert.Contains(progress, p => p.Stage == "STEM spatially dominant genes" && p.Done == cells);

        var output = new StemData(data.Sc.Subset(), data.St.Subset());
        r.AddTo(output);
        var sc = output.Sc; var st = output.St;
        Assert.Equal(r.ScEmbedding.Data, sc.Obsm["X_stem"].Data);
        Assert.Equal(r.PredictedCoordinates.Data, sc.Obsm["spatial_pred"].Data);
        Assert.Equal(r.PredictedCoordinatesTopK.Data, sc.Obsm["spatial_pred_top3"].Data);
        Assert.Equal(r.BestSpot.Select(s => data.St.ObsNames[s]), sc.Obs.Get<StringColumn>("stem_best_spot").Values);
        var uns = Assert.IsType<Dictionary<string, object>>(sc.Uns["stem"]);
        Assert.Equal(["sigma", "dropout", "epochs", "seed", "genes", "final_loss"], uns.Keys);
        Assert.Equal(model.Sigma, (double)uns["sigma"]);
        Assert.Equal((25, 2022), ((int)uns["epochs"], (int)uns["seed"]));
        Assert.Equal(model.Genes, uns["genes"]);
        Assert.Equal(r.StEmbedding.Data, st.Obsm["X_stem"].Data);
        Assert.Equal(r.Proportions!.Data, st.Obsm["stem_proportions"].Data);
        Assert.Equal(new[] { "A", "B" }, st.Uns["stem_proportion_types"]);
        Assert.Equal(r.Proportions.Column(1), st.Obs.Get<NumericColumn>("stem_B").Values);
        // Another key writes beside the first; the predicted coordinates keep their fixed names.
        r.AddTo(sc, "run2");
        Assert.True(sc.Obsm.ContainsKey("X_run2") && sc.Obs.Contains("run2_best_spot") && sc.Uns.ContainsKey("run2"));
        Assert.Equal("the data have 12 cells but the mapping has 60", Assert.Throws<TesseraException>(() => r.AddTo(data.St)).Message);
    }

    /// <summary>IProgress that reports on the calling thread (System.Progress posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<Progress> report) : IProgress<Progress>
    {
        public void Report(Progress value) => report(value);
    }

    [Fact]
    public void SameSeedSameFloatsAndTransformOfTheTrainingDataGivesTheResult()
    {
        var data = new StemData(StemTests.Tissue().Sc, StemTests.Tissue().St) { CellTypeColumn = "type" };
        using var a = StemTrainer.Fit(data, Small);
        using var b = StemTrainer.Fit(data, Small);
        AssertSameResult(a.Result!, b.Result!);
        Assert.Equal(a.History.Total, b.History.Total);
        Assert.Null(a.Result!.Scores); // no truth in these data
        AssertSameResult(a.Result, a.Transform(data));
        using var c = StemTrainer.Fit(data, Small with { Seed = 3 });
        Assert.NotEqual(a.Result.ScEmbedding.Data, c.Result!.ScEmbedding.Data);
        // Threads is scoped to the call: the caller's thread count is back afterwards.
        int threads = TorchSharp.torch.get_num_threads();
        using var d = StemTrainer.Fit(data, Small with { Epochs = 2, Threads = threads == 1 ? 2 : 1 });
        Assert.Equal(threads, TorchSharp.torch.get_num_threads());
    }

    [Fact]
    public void SaveLoadRoundTripTransformsIdentically()
    {
        using var tmp = new TempDir();
        var data = Simulated();
        using var model = StemTrainer.Fit(data, Small with { Baselines = false });
        model.Save(tmp.File("stem.pt"));
        Assert.True(File.Exists(tmp.File("stem.pt.json")));
        using var loaded = StemModel.Load(tmp.File("stem.pt"));
        Assert.Null(loaded.Result);
        Assert.Equal(model.Options, loaded.Options);
        Assert.Equal(model.Genes, loaded.Genes);
        Assert.Equal((model.TargetSumSc, model.TargetSumSt, model.Sigma, model.Dropout), (loaded.TargetSumSc, loaded.TargetSumSt, loaded.Sigma, loaded.Dropout));
        Assert.Equal(model.History.Total, loaded.History.Total);
        Assert.Equal(model.History.Components.Keys, loaded.History.Components.Keys);
        Assert.Equal(model.History.Components["cycle"], loaded.History.Components["cycle"]); // NaN before the ramp survives JSON
        var again = loaded.Transform(data);
        AssertSameResult(model.Result!, again);
        Assert.Equal(["stem"], again.MetricsJson()!.Select(kv => kv.Key)); // Baselines = false travels with the options

        // ST data without coordinates of their own map onto the stored training spots when they are those spots.
        var noCoords = data.St.Subset();
        noCoords.Obsm.Remove(SpatialData.SpatialKey);
        AssertSameResult(again, loaded.Transform(data with { St = noCoords }));
        var renamed = new SpatialData(noCoords.X, new Table(noCoords.ObsNames.Select(n => n + "x").ToArray()), noCoords.Var);
        Assert.Equal("ST data has no spot coordinates (obsm 'spatial') and are not the training spots",
            Assert.Throws<TesseraException>(() => loaded.Transform(data with { St = renamed })).Message);

        // New data must hold the model's genes.
        var fewer = data.Sc.Subset(null, [0, 1, 2]);
        Assert.Equal("SC data lack 3 of the model's 6 genes (e.g. g3, g4, g5)",
            Assert.Throws<TesseraException>(() => loaded.Transform(data with { Sc = fewer })).Message);
        File.WriteAllText(tmp.File("stem.pt.json"), "{\"Format\":\"other\"}");
        Assert.Equal($"model metadata '{tmp.File("stem.pt.json")}' is not a STEM model (tessera.stem/1)",
            Assert.Throws<TesseraException>(() => StemModel.Load(tmp.File("stem.pt"))).Message);
    }

    [Fact]
    public void CancellationStopsTrainingAndMapping()
    {
        var data = new StemData(StemTests.Tissue().Sc, StemTests.Tissue().St);
        using var before = new CancellationTokenSource();
        before.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => StemTrainer.Fit(data, Small, null, before.Token));
        // Cancelled during training, after the third epoch.
        using var during = new CancellationTokenSource();
        int epochs = 0;
        var progress = new SyncProgress(p => { if (p.Stage == "STEM training" && ++epochs == 3) during.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => StemTrainer.Fit(data, Small, progress, during.Token));
        Assert.Equal(3, epochs);
        using var model = StemTrainer.Fit(data, Small with { Epochs = 2 });
        Assert.ThrowsAny<OperationCanceledException>(() => model.Transform(data, null, before.Token));
    }

    [Fact]
    public void ValidateNamesThePropertyAndItsRange()
    {
        string Message(StemOptions o) => Assert.Throws<TesseraException>(o.Validate).Message;
        Assert.Equal("Epochs must be at least 1 but is 0", Message(new StemOptions { Epochs = 0 }));
        Assert.Equal("Threads must be at least 1 but is 0", Message(new StemOptions { Threads = 0 }));
        Assert.Equal("Device must be \"cpu\" (the only device served) but is \"cuda\"", Message(new StemOptions { Device = "cuda" }));
        Assert.Equal("LearningRate must be positive but is -1", Message(new StemOptions { LearningRate = -1 }));
        Assert.Equal("Sigma must be non-negative but is -2", Message(new StemOptions { Sigma = -2 }));
        Assert.Equal("Dropout must be in [0, 1) but is 1", Message(new StemOptions { Dropout = 1 }));
        Assert.Equal("MmdBatch must be at least 1 but is 0", Message(new StemOptions { MmdBatch = 0 }));
        Assert.Equal("StepGamma must be in (0, 1] but is 2", Message(new StemOptions { StepGamma = 2 }));
        Assert.Equal("TopK must be at least 1 but is 0", Message(new StemOptions { TopK = 0 }));
        Assert.Equal("IgSteps must be at least 1 but is 0", Message(new StemOptions { IgSteps = 0 }));
        Assert.Equal("TangramEpochs must be at least 1 but is 0", Message(new StemOptions { TangramEpochs = 0 }));
        Assert.Equal("TargetSumSt must be positive but is 0", Message(new StemOptions { TargetSumSt = 0 }));
        new StemOptions().Validate();
        Assert.Equal("Epochs must be at least 1 but is 0", Assert.Throws<TesseraException>(new TangramOptions { Epochs = 0 }.Validate).Message);

        var (sc, st, _, _) = StemTests.Tissue();
        Assert.Equal("SC obs column 'kind' not found; available: type",
            Assert.Throws<TesseraException>(() => StemTrainer.Fit(new StemData(sc, st) { GroupColumn = "kind" }, Small)).Message);
        // The CLI shows the same messages with its flags.
        Assert.Equal("--epochs must be at least 1 but is 0",
            Tessera.Cli.Infrastructure.CommandHost.TranslateMessage("Epochs must be at least 1 but is 0", new Dictionary<string, string> { ["Epochs"] = "--epochs" }));
    }
}
