using Tessera.Analysis;
using Tessera.Data;
using Tessera.Graphs;
using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Stem;

/// <summary>
/// STEM (Hao et al., WhirlFirst/STEM): a shared encoder embeds single cells and spots so that spot–spot similarities
/// follow spatial proximity, the two embedding distributions match (MMD) and spot→cell→spot round trips stay local;
/// cells are then mapped to spots by a softmax of embedding dot products.
/// </summary>
public static class StemTrainer
{
    /// <summary>
    /// Trains STEM on <see cref="StemData.Sc"/> (cells, coordinates ignored) and <see cref="StemData.St"/> (spots with
    /// obsm["spatial"]), then maps the training cells (<see cref="StemModel.Result"/>). Deterministic for a given seed on CPU.
    /// Inputs are not modified.
    /// </summary>
    public static StemModel Fit(StemData data, StemOptions? options = null, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = options ?? new StemOptions();
        o.Validate();
        ArgumentNullException.ThrowIfNull(data);
        data.Validate();
        var (sc, st) = (data.Sc, data.St);
        var coords = data.SpotCoordinates();
        using var torchScope = TorchScope.Enter(o.Threads);
        var inputs = new StemInputs(sc, st, o.TargetSumSc, o.TargetSumSt, o.Normalize);
        double dropout = o.Dropout ?? inputs.DefaultDropout;

        int batchSpots = o.ResolveBatchSpots(inputs.NSpots, inputs.NCells);
        string mode = batchSpots == 0
            ? (o.BatchSpots == 0 ? $"full batch (forced by BatchSpots = 0)" : $"full batch: {inputs.NSpots} spots <= {o.FullBatchMaxSpots} and {inputs.NCells} cells <= {o.FullBatchMaxCells} (the full-batch limits)")
            : $"mini-batch: {(o.BatchSpots is null ? $"{inputs.NSpots} spots > {o.FullBatchMaxSpots} or {inputs.NCells} cells > {o.FullBatchMaxCells} (the full-batch limits)" : $"forced by BatchSpots = {batchSpots}")}";
        var (encoder, history, sigma) = batchSpots == 0
            ? FitFullBatch(inputs, coords, dropout, o, mode, progress, cancellationToken)
            : FitMiniBatch(inputs, coords, dropout, batchSpots, o, mode, progress, cancellationToken);
        var xsc = torch.tensor(inputs.Sc, [inputs.NCells, inputs.Genes.Length]);
        var xst = torch.tensor(inputs.St, [inputs.NSpots, inputs.Genes.Length]);
        var model = new StemModel(encoder, inputs.Genes, inputs.Normalized ? inputs.TargetSumSc : null, inputs.Normalized ? inputs.TargetSumSt : null,
            inputs.Normalized, sigma, dropout, history, o, coords.Clone(), st.ObsNames);
        try
        {
            model.Result = model.Compute(data, inputs, xsc, xst, coords, progress, cancellationToken);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            xsc.Dispose(); xst.Dispose();
        }
        return model;
    }

    private static string Describe(StemInputs inputs, StemOptions o, double sigma, double dropout) =>
        $"{inputs.Genes.Length} shared genes (dropped {inputs.DroppedScGenes} SC-only, {inputs.DroppedStGenes} ST-only); " +
        $"{inputs.NCells} cells, {inputs.NSpots} spots; " +
        (inputs.Normalized ? $"targets {inputs.TargetSumSc:G6} (SC) / {inputs.TargetSumSt:G6} (ST); " : "values used as given (no normalisation); ") +
        $"sigma = {sigma:G6}{(o.Sigma == null ? " (half the median nearest-spot distance)" : "")}; ST dropout = {dropout:G4}" +
        (o.Dropout == null ? $" (1 - {inputs.MedianGenesSc:G6}/{inputs.MedianGenesSt:G6} detected genes)" : "");

    /// <summary>The reference's full-batch training (every spot and cell each epoch; dense spots × spots target).</summary>
    private static (StemEncoder, LossHistory, double) FitFullBatch(StemInputs inputs, DenseMatrix coords, double dropout, StemOptions o, string mode,
        IProgress<Progress>? progress, CancellationToken cancellationToken)
    {
        using var noGradScope = torch.NewDisposeScope();
        var coordT = torch.tensor(coords.ToFloatArray(), [coords.Rows, coords.Cols]);
        // Sigma's default and the cycle tiles' size; duplicate coordinates (median 0) only matter when sigma is not given.
        double nearest = o.Sigma is null ? MedianNearestDistance(coordT) : MedianNearestRaw(coordT);
        double sigma = o.Sigma ?? nearest / 2;
        var target = SpatialTarget(coordT, sigma).DetachFromDisposeScope();
        var cycleLoss = new CycleLoss(coordT, target, sigma, nearest);
        var xsc = torch.tensor(inputs.Sc, [inputs.NCells, inputs.Genes.Length]).DetachFromDisposeScope();
        var xst = torch.tensor(inputs.St, [inputs.NSpots, inputs.Genes.Length]).DetachFromDisposeScope();
        noGradScope.Dispose();

        progress.Note("STEM", mode);
        progress.Note("STEM", Describe(inputs, o, sigma, dropout) + $"; cycle term over {cycleLoss.Pairs:N0} spot pairs in {cycleLoss.Tiles} tile(s)");

        var encoder = new StemEncoder(inputs.Genes.Length);
        try
        {
            // A private generator (not torch's global one) so that concurrent fits elsewhere in the process cannot change the result.
            using var gen = new torch.Generator((ulong)Seeding.Derive(o.Seed, "stem"));
            encoder.ResetParameters(gen);
            using var optimizer = torch.optim.AdamW(encoder.parameters(), o.LearningRate, 0.9, 0.999, 1e-8, o.WeightDecay);
            var scheduler = torch.optim.lr_scheduler.StepLR(optimizer, o.StepSize, o.StepGamma);
            var history = TrainingLoop.Run(encoder, optimizer, o.Epochs, ep =>
            {
                // StepLR steps after each finished epoch; stepping it before the next epoch's update is the same schedule.
                if (ep > 0) scheduler.step();
                var est = encoder.forward(Dropout(xst, dropout, gen));
                var spatial = -(target * nn.functional.log_softmax(est.mm(est.t()), 1)).sum(1).mean();
                var idx = torch.randint(0, inputs.NCells, [o.MmdBatch], dtype: ScalarType.Int64, generator: gen);
                double ratio = CycleWeight(ep, o);
                if (ratio <= 0)
                {
                    // Before the cycle ramp only the MMD sample of cells is needed; LayerNorm is per row, so encoding just those
                    // rows gives the same loss and gradients as encoding all cells (5x less work on MERFISH).
                    var mmd0 = Mmd(est, encoder.forward(xsc.index_select(0, idx)));
                    return new StepLoss(spatial + o.Alpha * mmd0, new Dictionary<string, Tensor> { ["spatial"] = spatial, ["mmd"] = mmd0 });
                }
                var esc = encoder.forward(xsc);
                var mmd = Mmd(est, esc.index_select(0, idx));
                var logits = est.mm(esc.t()); // spots × cells
                // st2sc: softmax over cells; sc2st (cells × spots, softmax over spots) is kept transposed as spots × cells.
                var cycle = cycleLoss.Forward(nn.functional.softmax(logits, 1), nn.functional.softmax(logits, 0));
                return new StepLoss(spatial + o.Alpha * mmd + ratio * cycle,
                    new Dictionary<string, Tensor> { ["spatial"] = spatial, ["mmd"] = mmd, ["cycle"] = cycle });
            }, progress, cancellationToken, "STEM training");
            encoder.eval();
            return (encoder, history, sigma);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
        finally
        {
            target.Dispose(); cycleLoss.Dispose(); coordT.Dispose(); xsc.Dispose(); xst.Dispose();
        }
    }

    /// <summary>
    /// Mini-batch training (<see cref="StemOptions.BatchSpots"/>; protocol in its remarks): one spatial tile per optimiser step
    /// with its halo, a uniform spot sample and a cell sample; sparse target; nothing spots × spots or cells × spots.
    /// </summary>
    private static (StemEncoder, LossHistory, double) FitMiniBatch(StemInputs inputs, DenseMatrix coords, double dropout, int batchSpots, StemOptions o,
        string mode, IProgress<Progress>? progress, CancellationToken cancellationToken)
    {
        int ns = inputs.NSpots, nc = inputs.NCells;
        double nearest = MedianNearestDistance(coords);
        double sigma = o.Sigma ?? nearest / 2;
        var batches = new StemBatches(coords, sigma, batchSpots, o.Seed);
        int batchCells = o.ResolveBatchCells(nc);
        // optimiser steps per epoch: 1 (the full-batch protocol's steps) or one pass over the tiles
        int perEpoch = o.MiniBatchEpoch == MiniBatchEpoch.Pass ? batches.Tiles : 1;
        int steps = checked(o.Epochs * perEpoch);
        progress.Note("STEM", $"{mode}; {batches.Tiles} tiles of <= {batches.MaxTile} spots, {o.MmdBatch} sampled spots (MMD and softmax normaliser), " +
                              (batchCells == nc ? $"all {nc} cells per step" : $"{batchCells} sampled cells per step") +
                              $"; {o.Epochs} epochs of {(perEpoch == 1 ? "one optimiser step" : $"{perEpoch} optimiser steps (one pass over the tiles)")} = " +
                              $"{steps} steps, {steps / (double)batches.Tiles:F1} passes over the spots, {(double)steps * batchCells / nc:F1} over the cells");
        progress.Note("STEM", Describe(inputs, o, sigma, dropout) + $"; sparse target of {batches.Pairs:N0} spot pairs (within {CycleLoss.Cutoff(sigma):G4})");
        var encoder = new StemEncoder(inputs.Genes.Length);
        var xsc = torch.tensor(inputs.Sc, [nc, inputs.Genes.Length]);
        var xst = torch.tensor(inputs.St, [ns, inputs.Genes.Length]);
        var coordT = torch.tensor(coords.ToFloatArray(), [ns, coords.Cols]);
        try
        {
            using var gen = new torch.Generator((ulong)Seeding.Derive(o.Seed, "stem"));
            encoder.ResetParameters(gen);
            using var optimizer = torch.optim.AdamW(encoder.parameters(), o.LearningRate, 0.9, 0.999, 1e-8, o.WeightDecay);
            var scheduler = torch.optim.lr_scheduler.StepLR(optimizer, o.StepSize, o.StepGamma);
            var history = TrainingLoop.Run(encoder, optimizer, steps, step =>
            {
                if (step > 0 && step % perEpoch == 0) scheduler.step();
                var (core, local, target) = batches.Batch(step);
                int nl = local.Length;
                var sample = torch.randint(0, ns, [o.MmdBatch], dtype: ScalarType.Int64, generator: gen);
                var isLocal = batches.SampleIsLocal(sample.data<long>().ToArray());
                var localIdx = torch.tensor(local.Select(i => (long)i).ToArray());
                var rows = torch.cat([localIdx, sample], 0);
                var e = encoder.forward(Dropout(xst.index_select(0, rows), dropout, gen));
                var eLocal = e.narrow(0, 0, nl); var eSample = e.narrow(0, nl, o.MmdBatch); var eCore = eLocal.narrow(0, 0, core);
                var sLocal = eCore.mm(eLocal.t());
                var logZ = StemBatches.LogNormaliser(sLocal, eCore.mm(eSample.t()), isLocal, ns);
                var spatial = -(target * (sLocal - logZ)).sum(1).mean();
                double ratio = CycleWeight(step / perEpoch, o);
                int cells = Math.Min(ratio <= 0 ? o.MmdBatch : Math.Max(batchCells, o.MmdBatch), nc);
                var cellIdx = torch.randperm(nc, generator: gen).narrow(0, 0, cells);
                var esc = encoder.forward(xsc.index_select(0, cellIdx));
                var mmd = Mmd(eSample, esc.narrow(0, 0, Math.Min(o.MmdBatch, cells)));
                if (ratio <= 0)
                    return new StepLoss(spatial + o.Alpha * mmd, new Dictionary<string, Tensor> { ["spatial"] = spatial, ["mmd"] = mmd });
                // st2sc over the sampled cells (tile rows); sc2st over all spots, its normaliser estimated as the spatial loss's;
                // the round trip only on tile × halo pairs near each other (CycleLoss's sub-tiles, as in full batch).
                var st2sc = nn.functional.softmax(eCore.mm(esc.t()), 1);
                var cLocal = esc.mm(eLocal.t());
                var sc2st = torch.exp(cLocal - StemBatches.LogNormaliser(cLocal, esc.mm(eSample.t()), isLocal, ns));
                // Disposing the loss object only drops its handles: the autograd graph keeps the tensors it saved.
                using var cycleLoss = new CycleLoss(coordT.index_select(0, localIdx), target, sigma, nearest);
                var cycle = cycleLoss.Forward(st2sc, sc2st.t());
                return new StepLoss(spatial + o.Alpha * mmd + ratio * cycle,
                    new Dictionary<string, Tensor> { ["spatial"] = spatial, ["mmd"] = mmd, ["cycle"] = cycle });
            }, progress, cancellationToken, "STEM training");
            encoder.eval();
            return (encoder, history, sigma);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
        finally
        {
            xsc.Dispose(); xst.Dispose(); coordT.Dispose();
        }
    }

    /// <summary>Weight of the cycle loss at 0-based <paramref name="epoch"/>: 0 until <see cref="StemOptions.CycleStart"/>, then (epoch − start) / (epochs − start), as the reference (so the last epoch has 1 − 1/(epochs − start)).</summary>
    public static double CycleWeight(int epoch, StemOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Epochs > options.CycleStart ? Math.Max((double)(epoch - options.CycleStart) / (options.Epochs - options.CycleStart), 0) : 0;
    }

    /// <summary>Inverted dropout (as nn.Dropout in train mode) drawing its mask from <paramref name="gen"/>.</summary>
    private static Tensor Dropout(Tensor x, double p, torch.Generator gen)
    {
        if (p <= 0) return x.alias();
        using var mask = torch.rand(x.shape, generator: gen).ge_(p).to_type(x.dtype);
        return x * mask / (1 - p);
    }

    /// <summary>Half the median distance from each spot to its nearest other spot (the README's "half of the adjacent spot distance").</summary>
    public static double DefaultSigma(Tensor coords) => MedianNearestDistance(coords) / 2;

    /// <summary>Median over spots of the distance to the nearest other spot (in blocks, never spots × spots at once).</summary>
    public static double MedianNearestDistance(Tensor coords)
    {
        var m = MedianNearestRaw(coords);
        if (!(m > 0) || double.IsInfinity(m)) throw new TesseraException($"cannot derive sigma: median nearest-spot distance is {m} (duplicate spot coordinates?); set Sigma");
        return m;
    }

    private static double MedianNearestRaw(Tensor coords)
    {
        using var scope = torch.NewDisposeScope();
        int n = (int)coords.shape[0];
        var nearest = new List<double>(n);
        for (int b = 0; b < n; b += 1024)
        {
            int e = Math.Min(n, b + 1024);
            var d = torch.cdist(coords.narrow(0, b, e - b), coords);
            for (int i = b; i < e; i++) d[i - b, i] = torch.tensor(float.PositiveInfinity);
            nearest.AddRange(d.min(1).values.data<float>().ToArray().Select(v => (double)v));
        }
        return Statistics.Median(nearest);
    }

    /// <summary>Median over spots of the distance to the nearest other spot, by the k-d tree (the large-data path's <see cref="MedianNearestDistance(Tensor)"/>).</summary>
    public static double MedianNearestDistance(DenseMatrix coords)
    {
        ArgumentNullException.ThrowIfNull(coords);
        var m = coords.Rows < 2 ? double.NaN : Statistics.Median(new KdTree(coords).NearestNeighborDistances());
        if (!(m > 0) || double.IsInfinity(m)) throw new TesseraException($"cannot derive sigma: median nearest-spot distance is {m} (duplicate spot coordinates?); set Sigma");
        return m;
    }

    /// <summary>
    /// <see cref="SpatialTarget"/> kept sparse: the Gaussian kernel exp(−d²/(2σ²)) only over spot pairs within the cut-off
    /// (<see cref="CycleLoss.KernelFloor"/>: 6.44 σ, found with the k-d tree; self included), each row normalised over its
    /// pairs. The dropped kernel values are below 1e-9 of the self term, so this equals the dense target restricted to the
    /// cut-off up to that relative mass. σ = 0 gives the identity.
    /// </summary>
    public static CsrMatrix SparseSpatialTarget(DenseMatrix coords, double sigma)
    {
        ArgumentNullException.ThrowIfNull(coords);
        if (!(sigma >= 0) || !double.IsFinite(sigma)) throw new TesseraException($"sigma must be non-negative but is {sigma}");
        int n = coords.Rows, d = coords.Cols;
        if (sigma == 0)
            return new CsrMatrix(n, n, Enumerable.Range(0, n + 1).ToArray(), Enumerable.Range(0, n).ToArray(), Enumerable.Repeat(1f, n).ToArray());
        var tree = new KdTree(coords);
        double cutoff = CycleLoss.Cutoff(sigma);
        var cols = new int[n][]; var vals = new float[n][];
        Parallel.For(0, n, i =>
        {
            var q = coords.Data.AsSpan(i * d, d);
            var nb = tree.WithinRadius(q, cutoff, strict: false);
            Array.Sort(nb);
            var k = new double[nb.Length]; double sum = 0;
            for (int a = 0; a < nb.Length; a++)
            {
                double s = 0;
                for (int c = 0; c < d; c++) { double t = coords.Data[nb[a] * d + c] - q[c]; s += t * t; }
                sum += k[a] = Math.Exp(-s / (2 * sigma * sigma));
            }
            cols[i] = nb; vals[i] = k.Select(v => (float)(v / sum)).ToArray();
        });
        var ptr = new int[n + 1];
        for (int i = 0; i < n; i++) ptr[i + 1] = checked(ptr[i] + cols[i].Length);
        return new CsrMatrix(n, n, ptr, cols.SelectMany(c => c).ToArray(), vals.SelectMany(v => v).ToArray());
    }

    /// <summary>
    /// Row-normalised Gaussian kernel exp(−d²/(2σ²)) of spot distances (the reference's 1/(√(2π)σ) factor cancels in the
    /// row normalisation); identity when σ = 0. Spots × spots: STEM's loss is defined over all spot pairs.
    /// </summary>
    public static Tensor SpatialTarget(Tensor coords, double sigma)
    {
        int n = (int)coords.shape[0];
        if (sigma == 0) return torch.eye(n);
        using var scope = torch.NewDisposeScope();
        var d2 = torch.cdist(coords, coords).pow(2);
        var k = torch.exp(-d2 / (2 * sigma * sigma));
        return (k / k.sum(1, keepdim: true)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Biased multi-kernel Gaussian MMD (5 kernels, multiplier 2; bandwidth = detached mean off-diagonal squared distance
    /// of the pooled set / 4), as the reference's MMD_loss, but with squared distances from ‖a‖² + ‖b‖² − 2ab per block
    /// (XX, YY, XY) instead of an (n+m)² × d broadcast; the pooled sum is Σ_XX + Σ_YY + 2 Σ_XY.
    /// </summary>
    public static Tensor Mmd(Tensor x, Tensor y, int kernels = 5, double multiplier = 2.0)
    {
        using var scope = torch.NewDisposeScope();
        long n = x.shape[0], m = y.shape[0];
        var nx = x.pow(2).sum(1); var ny = y.pow(2).sum(1);
        var dxx = (nx.unsqueeze(1) + nx.unsqueeze(0) - 2 * x.mm(x.t())).clamp_min(0);
        var dyy = (ny.unsqueeze(1) + ny.unsqueeze(0) - 2 * y.mm(y.t())).clamp_min(0);
        var dxy = (nx.unsqueeze(1) + ny.unsqueeze(0) - 2 * x.mm(y.t())).clamp_min(0);
        long total = n + m;
        var bandwidth = ((dxx.sum() + dyy.sum() + 2 * dxy.sum()) / (double)(total * total - total)).detach();
        bandwidth = bandwidth / Math.Pow(multiplier, kernels / 2);
        Tensor? kxx = null, kyy = null, kxy = null;
        for (int i = 0; i < kernels; i++)
        {
            var bw = bandwidth * Math.Pow(multiplier, i);
            var a = torch.exp(-dxx / bw); var b = torch.exp(-dyy / bw); var c = torch.exp(-dxy / bw);
            kxx = kxx is null ? a : kxx + a; kyy = kyy is null ? b : kyy + b; kxy = kxy is null ? c : kxy + c;
        }
        // mean(K_XY) = mean(K_YX) for the symmetric kernel.
        return (kxx!.mean() + kyy!.mean() - 2 * kxy!.mean()).MoveToOuterDisposeScope();
    }
}
