using Tessera.Analysis;
using Tessera.Data;
using Tessera.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Tessera.Methods.StNet;

/// <summary>One fine-tuned fold: loss per epoch, the epoch used and the held-out predictions at that epoch.</summary>
public sealed record FineTuneFold(string HeldOut, double[] TrainLoss, double[] HeldOutMse, int SelectedEpoch, double[]? InnerSse,
    IReadOnlyDictionary<string, DenseMatrix> Predictions);

/// <summary>
/// ST-Net fine-tuning: backbone + Linear(features → genes) whose weight starts at zero and bias at the training mean
/// (the authors' <c>set_out_features</c> + mean initialisation, so training starts from the mean predictor), SGD with
/// momentum, loss Σ_batch mean_genes (pred − y)² (the authors' sum over the batch), random flips and 90° rotations.
/// </summary>
internal static class StNetFineTune
{
    /// <summary>
    /// Runs the cross-validation folds of <see cref="StNetOptions.Folds"/> (leave one patient, else section, out) with the
    /// fine-tuning settings of <paramref name="o"/>; <paramref name="backbone"/> makes a fresh trainable backbone per run.
    /// </summary>
    public static IReadOnlyList<FineTuneFold> CrossValidate(IReadOnlyList<PreparedSection> prepared, Func<(Module<Tensor, Tensor> Net, int Dim)> backbone,
        StNetOptions o, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        var groups = prepared.Select(p => p.Group).Distinct(StringComparer.Ordinal).ToArray();
        if (groups.Length < 2) throw new TesseraException($"cross-validation needs at least 2 patients or sections, got {groups.Length}");
        var run = o.Folds ?? groups;
        foreach (var f in run)
            if (!groups.Contains(f)) throw new TesseraException($"Folds names '{f}', which is not a section or patient of the data ({string.Join(", ", groups)})");
        var folds = new List<FineTuneFold>();
        using var heap = NativeHeap.ReuseLargeBlocks(); // the same activation sizes at every step (NativeHeap explains)
        foreach (var g in run)
        {
            var train = prepared.Where(p => p.Group != g).ToArray();
            var test = prepared.Where(p => p.Group == g).ToArray();
            double[]? inner = null;
            int k = Math.Min(o.InnerFolds, train.Select(t => t.Group).Distinct().Count());
            if (k >= 2)
            {
                var tg = train.Select(t => t.Group).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
                inner = new double[o.Epochs];
                for (int f = 0; f < k; f++)
                {
                    var held = tg.Where((_, i) => i % k == f).ToHashSet(StringComparer.Ordinal);
                    var innerRun = Fold($"{g}/inner{f + 1}", [.. train.Where(t => !held.Contains(t.Group))], [.. train.Where(t => held.Contains(t.Group))], backbone, o, progress, cancellationToken);
                    long n = train.Where(t => held.Contains(t.Group)).Sum(t => (long)t.Targets.Data.Length);
                    for (int e = 0; e < o.Epochs; e++) inner[e] += innerRun.Mse[e] * n;
                }
                progress.Note("fine-tune", $"fold {g}: inner {k}-fold squared error by epoch {string.Join(", ", inner.Select(v => v.ToString("G5")))}");
            }
            var outer = Fold(g, train, test, backbone, o, progress, cancellationToken);
            int best = inner is null || o.Epochs == 0 ? o.Epochs : Array.IndexOf(inner, inner.Min()) + 1;
            folds.Add(new FineTuneFold(g, outer.Loss, outer.Mse, best, inner, best == 0 ? outer.Initial : outer.PerEpoch[best - 1]));
        }
        return folds;
    }

    private sealed record FoldRun(double[] Loss, double[] Mse, IReadOnlyDictionary<string, DenseMatrix> Initial, List<Dictionary<string, DenseMatrix>> PerEpoch);

    private static FoldRun Fold(string heldOut, PreparedSection[] train, PreparedSection[] test, Func<(Module<Tensor, Tensor> Net, int Dim)> backbone,
        StNetOptions o, IProgress<Progress>? progress, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Seeding.SeedTorch(Seeding.Derive(o.Seed, "stnet.finetune." + heldOut));
        var (net, dim) = backbone();
        int genes = train[0].Targets.Cols;
        var y = DenseMatrix.VStack([.. train.Select(t => t.Targets)]);
        var mean = new double[genes];
        for (int i = 0; i < y.Rows; i++) for (int gi = 0; gi < genes; gi++) mean[gi] += y[i, gi] / y.Rows;
        using var model = new Regressor(net, dim, genes, mean);
        // the train rows: (section, patch row) pairs
        var rows = train.SelectMany((t, si) => Enumerable.Range(0, t.Targets.Rows).Select(r => (si, r))).ToArray();
        var rng = Seeding.Rng(o.Seed, "stnet.finetune.batches." + heldOut);
        int[] perm = [];
        using var opt = optim.SGD(model.parameters(), o.LearningRate, o.Momentum);
        var heldMse = new List<double>();
        var perEpoch = new List<Dictionary<string, DenseMatrix>>();
        var initial = o.Epochs == 0 ? Evaluate(model, test, o.BatchSize).Preds : [];
        int nb = (rows.Length + o.BatchSize - 1) / o.BatchSize;
        var history = TrainingLoop.RunBatches(model, opt, o.Epochs, _ =>
        {
            perm = [.. Enumerable.Range(0, rows.Length).OrderBy(_ => rng.Next())];
            return nb;
        }, (epoch, b) =>
        {
            var idx = perm.Skip(b * o.BatchSize).Take(o.BatchSize).Select(i => rows[i]).ToArray();
            var x = cat([.. idx.Select(t => Augment(train[t.si].Patches.Batch(t.r, 1), rng.Next(8)))], 0);
            var target = tensor(idx.SelectMany(t => Enumerable.Range(0, genes).Select(gi => (float)train[t.si].Targets[t.r, gi])).ToArray(), [idx.Length, genes]);
            var pred = model.call(x);
            var loss = (pred - target).pow(2).mean([1]).sum(); // the authors' loss: summed over the batch
            progress?.Report(new Progress($"fine-tune fold {heldOut}", epoch * nb + b + 1, (long)o.Epochs * nb, clock.Elapsed) { Loss = loss.item<float>() });
            return loss;
        }, (epoch, l) =>
        {
            var (ep, mse) = Evaluate(model, test, o.BatchSize);
            heldMse.Add(mse);
            perEpoch.Add(ep);
            progress.Note("fine-tune", $"fold {heldOut} epoch {epoch + 1}/{o.Epochs}: train loss {l:F4} (per patch {l / o.BatchSize:F5}), held-out MSE {mse:F5}");
        }, cancellationToken);
        return new FoldRun([.. history.Total], [.. heldMse], initial, perEpoch);
    }

    private static (Dictionary<string, DenseMatrix> Preds, double Mse) Evaluate(Regressor model, PreparedSection[] test, int batch)
    {
        model.eval();
        var preds = new Dictionary<string, DenseMatrix>(StringComparer.Ordinal);
        double se = 0; long n = 0;
        foreach (var t in test)
        {
            // the same batched, guarded, no-grad pass as feature extraction, with the regressor's outputs as "features"
            var pm = StNetFrozen.Featurize(t.Patches, new Outputs(model, t.Targets.Cols), new StNetOptions { BatchSize = batch, TestTimeAugmentation = false });
            for (int i = 0; i < pm.Data.Length; i++) { se += Math.Pow(pm.Data[i] - t.Targets.Data[i], 2); n++; }
            preds[t.Section.Name] = pm;
        }
        return (preds, se / Math.Max(1, n));
    }

    /// <summary>Symmetry <paramref name="k"/> (0–7) of a [1, 3, H, W] patch: bit 0 h-flip, bit 1 v-flip, bit 2 90° rotation.</summary>
    public static Tensor Augment(Tensor x, int k)
    {
        var t = (k & 4) != 0 ? x.rot90(1, (2, 3)) : x;
        if ((k & 2) != 0) t = t.flip(2);
        if ((k & 1) != 0) t = t.flip(3);
        return t;
    }

    private sealed class Outputs(Regressor model, int genes) : IPatchFeaturizer
    {
        public string Name => "finetuned";
        public int FeatureDim => genes;
        public Tensor Features(Tensor rgb) => model.call(rgb);
    }

    private sealed class Regressor : Module<Tensor, Tensor>
    {
        private readonly Module<Tensor, Tensor> backbone;
        private readonly Linear head;

        public Regressor(Module<Tensor, Tensor> backbone, int dim, int genes, double[] mean) : base("StNetRegressor")
        {
            this.backbone = backbone;
            head = nn.Linear(dim, genes);
            using (no_grad())
            {
                head.weight!.zero_();
                head.bias!.copy_(tensor(mean.Select(v => (float)v).ToArray()));
            }
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => head.call(backbone.call(x));
    }
}
