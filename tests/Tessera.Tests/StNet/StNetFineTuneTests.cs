using Tessera.Data;
using Tessera.Methods.StNet;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Tessera.Tests.StNet;

public class StNetFineTuneTests
{
    /// <summary>Sections of 8×8-px patches whose brightness sets the single target: a tiny stand-in for H&amp;E.</summary>
    private static List<PreparedSection> Sections()
    {
        var rng = new Random(2);
        var list = new List<PreparedSection>();
        foreach (var name in new[] { "A", "B", "C" })
        {
            int n = 24;
            var rgb = new byte[n * 8 * 8 * 3];
            var y = new DenseMatrix(n, 1);
            for (int i = 0; i < n; i++)
            {
                int level = rng.Next(0, 256);
                for (int k = 0; k < 64 * 3; k++) rgb[i * 192 + k] = (byte)Math.Clamp(level + rng.Next(-10, 11), 0, 255);
                y[i, 0] = level / 255.0;
            }
            var counts = new SpatialData(new CsrMatrix(n, 1, new int[n + 1], [], []), new Table([.. Enumerable.Range(0, n).Select(i => $"{name}{i}")]), new Table(["g"]));
            var sec = new HistologySection { Name = name, Counts = counts, PixelX = new double[n], PixelY = new double[n], ImagePath = "none" };
            list.Add(new PreparedSection
            {
                Section = sec, Spots = [.. Enumerable.Range(0, n)], Patches = new PatchSet(8, rgb, [.. Enumerable.Range(0, n)]),
                Features = new DenseMatrix(n, 0), Colour = new DenseMatrix(n, 0), Targets = y,
            });
        }
        return list;
    }

    private static (Module<Tensor, Tensor>, int) Tiny() => (new TinyNet(), 4);

    /// <summary>conv → relu → global mean on inputs scaled to 0..1 (as the real backbones normalise theirs).</summary>
    private sealed class TinyNet : Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Conv2d conv = Conv2d(3, 4, 3);
        public TinyNet() : base("TinyNet") => RegisterComponents();
        public override Tensor forward(Tensor x) => functional.relu(conv.call(x / 255)).mean([2, 3]);
    }

    [Fact]
    public void LossFalls_StartsFromTheMeanPredictor_AndIsDeterministic()
    {
        var prep = Sections();
        var none = StNetFineTune.CrossValidate(prep, Tiny, new StNetOptions { Epochs = 0, Folds = ["B"], Seed = 1, InnerFolds = 0 });
        var meanA = prep[0].Targets.Data.Concat(prep[2].Targets.Data).Average();
        Assert.All(none[0].Predictions["B"].Data, v => Assert.Equal(meanA, v, 5)); // zero weights, bias = training mean
        var o = new StNetOptions { Epochs = 8, BatchSize = 8, LearningRate = 1e-3, Folds = ["B"], Seed = 1, InnerFolds = 0 };
        var a = StNetFineTune.CrossValidate(prep, Tiny, o);
        var b = StNetFineTune.CrossValidate(prep, Tiny, o);
        Assert.Equal(a[0].TrainLoss, b[0].TrainLoss);
        Assert.Equal(a[0].Predictions["B"].Data, b[0].Predictions["B"].Data);
        Assert.True(a[0].TrainLoss[^1] < 0.7 * a[0].TrainLoss[0], $"train loss {string.Join(", ", a[0].TrainLoss)}");
        Assert.True(a[0].HeldOutMse[^1] < a[0].HeldOutMse[0], $"held-out MSE {string.Join(", ", a[0].HeldOutMse)}");
        Assert.Equal(8, a[0].SelectedEpoch); // no inner folds: the last epoch
        Assert.Equal("Folds names 'D', which is not a section or patient of the data (A, B, C)",
            Assert.Throws<TesseraException>(() => StNetFineTune.CrossValidate(prep, Tiny, new StNetOptions { Folds = ["D"] })).Message);
    }

    [Fact]
    public void InnerFolds_PickTheEpochWithTheLeastPooledError()
    {
        var prep = Sections();
        var o = new StNetOptions { Epochs = 4, BatchSize = 8, LearningRate = 3e-2, Folds = ["B"], Seed = 1, InnerFolds = 4 };
        var f = StNetFineTune.CrossValidate(prep, Tiny, o)[0];
        Assert.NotNull(f.InnerSse); // training groups A and C: two inner folds
        Assert.Equal(4, f.InnerSse!.Length);
        Assert.Equal(Array.IndexOf(f.InnerSse, f.InnerSse.Min()) + 1, f.SelectedEpoch);
    }

    [Fact]
    public void Cancellation_StopsBetweenBatches()
    {
        var prep = Sections();
        using var cts = new CancellationTokenSource();
        var steps = new List<long>();
        var progress = new SyncProgress(p => { if (p.Message is null) { steps.Add(p.Done); cts.Cancel(); } });
        var o = new StNetOptions { Epochs = 4, BatchSize = 8, LearningRate = 1e-3, Folds = ["B"], Seed = 1, InnerFolds = 0 };
        Assert.ThrowsAny<OperationCanceledException>(() => StNetFineTune.CrossValidate(prep, Tiny, o, progress, cts.Token));
        Assert.Equal([1L], steps); // one batch, then the token stopped the loop
    }

    [Fact]
    public void Augment_IsTheEightSymmetries()
    {
        using var x = arange(16, dtype: ScalarType.Float32).reshape(1, 1, 4, 4);
        var all = Enumerable.Range(0, 8).Select(k => string.Join(",", StNetFineTune.Augment(x, k).flatten().data<float>().ToArray())).ToHashSet();
        Assert.Equal(8, all.Count);
        var viaPatches = Patches.EightSymmetries(x).Select(v => string.Join(",", v.flatten().data<float>().ToArray())).ToHashSet();
        Assert.True(all.SetEquals(viaPatches));
    }
}
