using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Nn;

/// <summary>What one training step returns: the total loss to backpropagate and named components for the history.</summary>
/// <param name="Total">Scalar loss tensor to minimise.</param>
/// <param name="Components">Named scalar tensors logged each epoch (not backpropagated separately).</param>
public readonly record struct StepLoss(Tensor Total, IReadOnlyDictionary<string, Tensor> Components);

/// <summary>Per-epoch loss history of a training run.</summary>
public sealed class LossHistory
{
    private readonly List<double> total = [];
    private readonly List<double> seconds = [];
    private readonly Dictionary<string, List<double>> components = [];

    /// <summary>Total loss per epoch.</summary>
    public IReadOnlyList<double> Total => total;

    /// <summary>Wall-clock seconds per epoch.</summary>
    public IReadOnlyList<double> EpochSeconds => seconds;

    /// <summary>Each named component per epoch (a component absent in early epochs, e.g. after a warm-up, is NaN there).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> Components =>
        components.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<double>)kv.Value);

    /// <summary>Number of recorded epochs.</summary>
    public int Count => total.Count;

    /// <summary>Appends one epoch.</summary>
    public void Add(double loss, IReadOnlyDictionary<string, double> parts, double epochSeconds)
    {
        foreach (var (name, v) in parts)
        {
            if (!components.TryGetValue(name, out var list))
            {
                list = [.. Enumerable.Repeat(double.NaN, total.Count)];
                components[name] = list;
            }
            list.Add(v);
        }
        foreach (var (name, list) in components)
            if (!parts.ContainsKey(name)) list.Add(double.NaN);
        total.Add(loss);
        seconds.Add(epochSeconds);
    }
}

/// <summary>
/// The shared full-batch training loop: per epoch, train mode, zero_grad, step, backward, optimizer step, all inside a
/// dispose scope and a <see cref="TorchGuard"/> no-GC region; records the loss history and reports progress.
/// </summary>
public static class TrainingLoop
{
    /// <summary>Epochs between returns of freed native memory to the system (<see cref="NativeHeap.Trim"/>).</summary>
    public const int TrimEvery = 10;

    /// <summary>
    /// Runs <paramref name="epochs"/> epochs. <paramref name="step"/> receives the 0-based epoch and builds the loss
    /// (its tensors are disposed at the end of the epoch). Each finished epoch is reported as <paramref name="stage"/> with its
    /// loss and named components. Throws a <see cref="TesseraException"/> if the loss is not finite.
    /// </summary>
    public static LossHistory Run(nn.Module module, optim.Optimizer optimizer, int epochs, Func<int, StepLoss> step,
        IProgress<Progress>? progress = null, CancellationToken cancellationToken = default, string stage = "training")
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(step);
        if (epochs < 0) throw new TesseraException($"epochs must be non-negative but is {epochs}");
        var history = new LossHistory();
        var total = Stopwatch.StartNew();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sw = Stopwatch.StartNew();
            double loss;
            Dictionary<string, double> parts;
            int e = epoch;
            (loss, parts) = TorchGuard.Run(() =>
            {
                using var scope = NewDisposeScope();
                module.train();
                optimizer.zero_grad();
                var result = step(e);
                result.Total.backward();
                optimizer.step();
                return ((double)result.Total.item<float>(),
                        result.Components.ToDictionary(kv => kv.Key, kv => (double)kv.Value.item<float>()));
            });
            if (!double.IsFinite(loss))
                throw new TesseraException($"training diverged: loss is {loss} at epoch {epoch + 1}; lower the learning rate");
            history.Add(loss, parts, sw.Elapsed.TotalSeconds);
            if (epoch % TrimEvery == TrimEvery - 1) NativeHeap.Trim();
            progress?.Report(new Progress(stage, epoch + 1, epochs, total.Elapsed) { Loss = loss, Values = parts });
        }
        return history;
    }

    /// <summary>
    /// Minibatch training: per epoch, train mode, then for each of <paramref name="batches"/>(epoch) batches zero_grad,
    /// <paramref name="step"/>(epoch, batch) → loss, backward, optimizer step, each batch in a dispose scope and a
    /// <see cref="TorchGuard"/> region. Returns the mean batch loss per epoch; <paramref name="onEpoch"/> sees each epoch's
    /// mean (e.g. to evaluate on held-out data). Throws a <see cref="TesseraException"/> if a loss is not finite.
    /// </summary>
    public static LossHistory RunBatches(nn.Module module, optim.Optimizer optimizer, int epochs, Func<int, int> batches,
        Func<int, int, Tensor> step, Action<int, double>? onEpoch = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(step);
        if (epochs < 0) throw new TesseraException($"epochs must be non-negative but is {epochs}");
        var history = new LossHistory();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var sw = Stopwatch.StartNew();
            module.train();
            int nb = batches(epoch);
            double sum = 0;
            for (int b = 0; b < nb; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int e = epoch, bb = b;
                double l = TorchGuard.Run(() =>
                {
                    using var scope = NewDisposeScope();
                    optimizer.zero_grad();
                    var loss = step(e, bb);
                    loss.backward();
                    optimizer.step();
                    return (double)loss.item<float>();
                });
                if (!double.IsFinite(l))
                    throw new TesseraException($"training diverged: loss is {l} at epoch {epoch + 1}, batch {b + 1}; lower the learning rate");
                sum += l;
            }
            double mean = nb > 0 ? sum / nb : double.NaN;
            history.Add(mean, new Dictionary<string, double>(), sw.Elapsed.TotalSeconds);
            if (epoch % TrimEvery == TrimEvery - 1) NativeHeap.Trim();
            onEpoch?.Invoke(epoch, mean);
        }
        return history;
    }
}
