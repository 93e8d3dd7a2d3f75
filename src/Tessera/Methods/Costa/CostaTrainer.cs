using System.Diagnostics;
using Tessera.Analysis;
using Tessera.Data;
using Tessera.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tessera.Methods.Costa;

/// <summary>One epoch of CoSTA training (epoch 0 = targets from the untrained net).</summary>
public sealed record CostaEpoch(int Epoch, double Loss, double Nmi, int Steps, double TrainSeconds, double FeatureSeconds, double UmapSeconds, double GmmSeconds);

/// <summary>One trained self-labelling net (<see cref="CostaTrainer.FitNet"/>): the net, the genes' final embedding and labels, the history.</summary>
public sealed record CostaNetFit(CostaNet Net, DenseMatrix Embedding, int[] Labels, IReadOnlyList<CostaEpoch> History) : IDisposable
{
    /// <summary>Releases the net.</summary>
    public void Dispose() => Net.Dispose();
}

/// <summary>
/// CoSTA (Xu &amp; McCord): self-supervised gene embeddings from gene images by DeepCluster-style self-labelling, trained
/// as the authors' ensemble of independently initialised nets, then analysed (gene clusters, stable genes, correlated genes).
/// </summary>
public static class CostaTrainer
{
    private const string Stage = "CoSTA";

    /// <summary>
    /// Rasterises every gene of <paramref name="data"/> (spots × genes) into an image, trains
    /// <see cref="CostaOptions.Models"/> nets on the images and analyses their embeddings.
    /// </summary>
    public static CostaModel Fit(SpatialData data, CostaOptions? options = null, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var o = options ?? new CostaOptions();
        o.Validate();
        using var _ = TorchScope.Enter(o.Threads);
        var images = Images(data, o, progress);
        return Fit(images, o, progress, cancellationToken);
    }

    /// <summary>Trains the ensemble on ready-made gene images (e.g. digits, or images built with other settings) and analyses it.</summary>
    public static CostaModel Fit(GeneImageSet images, CostaOptions? options = null, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var o = options ?? new CostaOptions();
        o.Validate();
        foreach (var q in o.Queries) images.IndexOf(q);
        CheckGenes(o, images.Count);
        using var _ = TorchScope.Enter(o.Threads);
        var nets = new List<CostaNet>();
        try
        {
            var embs = new List<float[]>(); var labels = new List<int[]>(); var hist = new List<IReadOnlyList<CostaEpoch>>();
            using var x = tensor(images.Pixels, [images.Count, 1, images.Height, images.Width]);
            for (int m = 0; m < o.Models; m++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (net, emb, lab, h) = TrainNet(x, ModelSeed(o, m), o, progress.Prefixed($"model {m + 1}/{o.Models}"), cancellationToken);
                nets.Add(net); embs.Add(emb); labels.Add(lab); hist.Add(h);
            }
            var result = CostaResult.Analyse(images, embs, nets[0].FeatureDim, labels, hist, o, progress, cancellationToken);
            return new CostaModel(o, nets, images.Height, images.Width, result);
        }
        catch
        {
            foreach (var n in nets) n.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Trains one self-labelling net with exactly <see cref="CostaOptions.Seed"/> (no ensemble seed derivation, no analysis):
    /// the authors' notebook, one model. The ensemble and image settings of the options are not used.
    /// </summary>
    public static CostaNetFit FitNet(GeneImageSet images, CostaOptions? options = null, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var o = options ?? new CostaOptions();
        o.Validate();
        CheckGenes(o, images.Count);
        using var _ = TorchScope.Enter(o.Threads);
        using var x = tensor(images.Pixels, [images.Count, 1, images.Height, images.Width]);
        var (net, emb, labels, history) = TrainNet(x, o.Seed, o, progress, cancellationToken);
        return new CostaNetFit(net, DenseMatrix.FromFloat(images.Count, net.FeatureDim, emb), labels, history);
    }

    /// <summary>The gene images of <paramref name="data"/> under <paramref name="o"/>'s image settings (pixel-shuffled when asked).</summary>
    internal static GeneImageSet Images(SpatialData data, CostaOptions o, IProgress<Progress>? progress)
    {
        var images = GeneImages.FromSpatial(data, o.ImageOptions);
        if (o.ShufflePixels) images = images.ShufflePixels(o.Seed);
        progress.Note(Stage, $"{images.Count} genes (detected in >= {o.MinSpots} spots), {images.Mask.Count(m => m)} of {images.PixelCount} pixels in tissue");
        return images;
    }

    /// <summary>Seed of model <paramref name="m"/> of the ensemble.</summary>
    internal static int ModelSeed(CostaOptions o, int m) => Seeding.Derive(o.Seed, $"costa-model-{m}");

    /// <summary>Feature-pass chunk order of a model: a fixed permutation of the genes seeded by the model's seed.</summary>
    public static int[] ChunkOrder(int n, int modelSeed) => Permutation(n, Seeding.Rng(modelSeed, "costa-chunks"));

    private static void CheckGenes(CostaOptions o, int n)
    {
        if (n < Math.Max(o.Clusters + 1, o.UmapNeighbors + 1))
            throw new TesseraException($"CoSTA needs more genes than Clusters ({o.Clusters}) and UmapNeighbors ({o.UmapNeighbors}) but got {n}");
        if (o.Epochs > 0 && (int)Math.Round(n * o.TrainFraction) < o.BatchSize)
            throw new TesseraException($"{n} genes × TrainFraction {o.TrainFraction} is fewer than one batch of BatchSize {o.BatchSize}");
    }

    // One self-labelling net on n single-channel images x (n × 1 × h × w); every random choice flows from seed.
    private static (CostaNet Net, float[] Embedding, int[] Labels, List<CostaEpoch> History) TrainNet(Tensor x, int seed, CostaOptions o,
        IProgress<Progress>? progress, CancellationToken ct)
    {
        int n = (int)x.shape[0], h = (int)x.shape[2], w = (int)x.shape[3];
        Seeding.SeedTorch(Seeding.Derive(seed, "costa-init"));
        var net = new CostaNet(h, w, o.Clusters, o.TanhLast);
        Parameter? centers = null;
        try
        {
            net.train();
            var chunkOrder = ChunkOrder(n, seed);
            if (o.CenterLossWeight > 0) centers = new Parameter(randn(o.Clusters, net.FeatureDim));
            var parameters = net.parameters().ToList();
            if (centers is not null) parameters.Add(centers);
            using optim.Optimizer opt = o.Optimizer == CostaOptimizer.Adam
                ? optim.Adam(parameters, o.LearningRate ?? 1e-3)
                : optim.SGD(parameters, o.LearningRate ?? 0.01, o.Momentum);
            var history = new List<CostaEpoch>();
            var total = Stopwatch.StartNew();
            var sw = Stopwatch.StartNew();
            var feats = FeaturePass(net, x, chunkOrder, o.FeatureChunk, ct);
            double tFeat = sw.Elapsed.TotalSeconds;
            var (targets, labels, tU, tG) = Targets(feats, n, net.FeatureDim, o, seed, 0, ct);
            history.Add(new CostaEpoch(0, double.NaN, double.NaN, 0, 0, tFeat, tU, tG));
            progress.Note("training", $"epoch 0: features {tFeat:F1}s, UMAP {tU:F1}s, GMM {tG:F1}s");
            var rng = Seeding.Rng(seed, "costa-batches");
            int nTrain = (int)Math.Round(n * o.TrainFraction);
            int steps = nTrain / o.BatchSize; // drop_last
            int[] perm = [];
            Tensor? targetT = null;
            // An epoch's steps allocate the same activation sizes again and again: their blocks stay in the heap while the
            // steps run (NativeHeap explains); UMAP and GMM run outside, the feature pass has its own scope.
            IDisposable? heap = null;
            try
            {
                TrainingLoop.RunBatches(net, opt, o.Epochs, _ =>
                {
                    // A fresh order of all genes each epoch; the first TrainFraction of it is trained on.
                    sw.Restart();
                    heap = NativeHeap.ReuseLargeBlocks();
                    perm = Permutation(n, rng);
                    targetT?.Dispose();
                    targetT = tensor(targets, [n, o.Clusters]);
                    return steps;
                }, (_, b) =>
                {
                    var idx = tensor(perm.AsSpan(b * o.BatchSize, o.BatchSize).ToArray().Select(i => (long)i).ToArray());
                    var xb = x.index_select(0, idx);
                    var yb = targetT!.index_select(0, idx);
                    if (centers is null) return BiTemperedLoss.Loss(net.call(xb), yb, o.T1, o.T2, o.NormalizerIterations);
                    var (f, logits) = net.ForwardBoth(xb);
                    var c = centers.index_select(0, yb.argmax(1));
                    // Wen et al.'s center loss as in the authors' Center_loss_pytorch (sum of squared distances / batch).
                    var center = (f - c).pow(2).sum(1).clamp(1e-12, 1e12).mean();
                    return BiTemperedLoss.Loss(logits, yb, o.T1, o.T2, o.NormalizerIterations) + o.CenterLossWeight * center;
                }, (e, meanLoss) =>
                {
                    int epoch = e + 1;
                    heap?.Dispose(); heap = null;
                    double tTrain = sw.Elapsed.TotalSeconds;
                    sw.Restart();
                    feats = FeaturePass(net, x, chunkOrder, o.FeatureChunk, ct);
                    tFeat = sw.Elapsed.TotalSeconds;
                    var (newTargets, newLabels, tU2, tG2) = Targets(feats, n, net.FeatureDim, o, seed, epoch, ct);
                    double nmi = Metrics.NormalizedMutualInfo(labels, newLabels);
                    if (o.Realign) (newTargets, newLabels) = Realign(labels, newLabels, newTargets, o.Clusters);
                    targets = newTargets; labels = newLabels;
                    history.Add(new CostaEpoch(epoch, meanLoss, nmi, steps, tTrain, tFeat, tU2, tG2));
                    progress?.Report(new Progress("training", epoch, o.Epochs, total.Elapsed)
                    {
                        Loss = meanLoss, Values = new Dictionary<string, double> { ["nmi"] = nmi },
                    });
                    progress.Note("training", $"epoch {epoch}: loss {meanLoss:F4}, NMI(prev) {nmi:F3}; train {tTrain:F1}s, features {tFeat:F1}s, UMAP {tU2:F1}s, GMM {tG2:F1}s");
                }, ct);
            }
            finally { targetT?.Dispose(); heap?.Dispose(); }
            return (net, feats, labels, history);
        }
        catch
        {
            net.Dispose();
            throw;
        }
        finally { centers?.Dispose(); }
    }

    private static int[] Permutation(int n, Random rng)
    {
        var p = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--) { int j = rng.Next(i + 1); (p[i], p[j]) = (p[j], p[i]); }
        return p;
    }

    /// <summary>
    /// Embedding of every image with the net in train mode (the authors' behaviour: BatchNorm uses the batch's
    /// statistics), in chunks taken from a fixed random order so each chunk's statistics mix all genes.
    /// </summary>
    public static float[] FeaturePass(CostaNet net, Tensor x, int[] order, int chunk, CancellationToken ct)
    {
        int n = (int)x.shape[0], d = net.FeatureDim;
        var result = new float[(long)n * d];
        using var _ = no_grad();
        // Every chunk allocates the same activation sizes (hundreds of MB): their blocks stay in the heap for the pass and the
        // scope's end hands the pages back (NativeHeap explains).
        using var heap = NativeHeap.ReuseLargeBlocks();
        var buf = new float[(long)Math.Min(chunk, n) * d];
        for (int s = 0; s < n; s += chunk)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            int m = Math.Min(chunk, n - s);
            // A trailing chunk of one gene cannot be batch-normalised; fold it into the previous chunk's size class.
            if (m < 2 && s > 0) { s -= 1; m += 1; }
            var idxArr = order.AsSpan(s, m).ToArray();
            var f = net.Features(x.index_select(0, tensor(idxArr.Select(i => (long)i).ToArray()))).contiguous();
            f.data<float>().CopyTo(buf.AsSpan(0, m * d));
            for (int i = 0; i < m; i++) Array.Copy(buf, (long)i * d, result, (long)idxArr[i] * d, d);
        }
        return result;
    }

    /// <summary>
    /// The authors' evaluation(): UMAP (K components) of the features → GMM (K, full covariance) labels → per-label
    /// means → q = softmax(1/distance) → p ∝ q²/f (DEC's sharpened target), rows summing to 1.
    /// </summary>
    internal static (float[] Targets, int[] Labels, double UmapSeconds, double GmmSeconds) Targets(float[] feats, int n, int d, CostaOptions o, int seed, int epoch,
        CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var sw = Stopwatch.StartNew();
        var umap = new Umap(new UmapOptions
        {
            Neighbors = o.UmapNeighbors, MinDist = o.UmapMinDist, Components = o.Clusters, Epochs = o.UmapEpochs,
            Seed = Seeding.Derive(seed, $"costa-umap-{epoch}"),
        });
        var emb = umap.Fit(feats, n, d).Embedding;
        double tU = sw.Elapsed.TotalSeconds;
        ct.ThrowIfCancellationRequested();
        sw.Restart();
        var gmm = new GaussianMixture(new GaussianMixtureOptions { Components = o.Clusters, Seed = Seeding.Derive(seed, $"costa-gmm-{epoch}") }).Fit(emb);
        var labels = gmm.Predict(emb);
        double tG = sw.Elapsed.TotalSeconds;
        return (SoftTargets(emb, labels, o.Clusters), labels, tU, tG);
    }

    /// <summary>Soft targets from an embedding and hard labels: q_ij = softmax_j(1/‖e_i − c_j‖), p_ij ∝ q_ij²/Σ_i q_ij (clusters without members get 0).</summary>
    public static float[] SoftTargets(DenseMatrix embedding, int[] labels, int k)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        ArgumentNullException.ThrowIfNull(labels);
        int n = embedding.Rows, d = embedding.Cols;
        if (labels.Length != n) throw new TesseraException($"embedding has {n} rows but there are {labels.Length} labels");
        var c = new double[k * d]; var cnt = new int[k];
        for (int i = 0; i < n; i++)
        {
            int l = labels[i];
            if (l < 0 || l >= k) throw new TesseraException($"label {l} of row {i} is outside 0..{k - 1}");
            cnt[l]++;
            for (int j = 0; j < d; j++) c[l * d + j] += embedding[i, j];
        }
        for (int l = 0; l < k; l++) if (cnt[l] > 0) for (int j = 0; j < d; j++) c[l * d + j] /= cnt[l];
        var q = new double[n * k];
        Parallel.For(0, n, i =>
        {
            double max = double.NegativeInfinity;
            for (int l = 0; l < k; l++)
            {
                if (cnt[l] == 0) { q[i * k + l] = double.NegativeInfinity; continue; }
                double s = 0;
                for (int j = 0; j < d; j++) { double t = embedding[i, j] - c[l * d + j]; s += t * t; }
                double v = 1.0 / Math.Max(Math.Sqrt(s), 1e-12);
                q[i * k + l] = v; if (v > max) max = v;
            }
            double z = 0;
            for (int l = 0; l < k; l++) { double e = cnt[l] == 0 ? 0 : Math.Exp(q[i * k + l] - max); q[i * k + l] = e; z += e; }
            for (int l = 0; l < k; l++) q[i * k + l] /= z;
        });
        var f = new double[k];
        for (int i = 0; i < n; i++) for (int l = 0; l < k; l++) f[l] += q[i * k + l];
        var p = new float[n * k];
        for (int i = 0; i < n; i++)
        {
            double z = 0;
            for (int l = 0; l < k; l++) { double v = f[l] > 0 ? q[i * k + l] * q[i * k + l] / f[l] : 0; q[i * k + l] = v; z += v; }
            for (int l = 0; l < k; l++) p[i * k + l] = (float)(q[i * k + l] / z);
        }
        return p;
    }

    /// <summary>
    /// Permutes the new clusters to the old indices by maximum overlap (Hungarian on the confusion matrix). The
    /// authors' argmax per old label can map two old labels to one new column; a permutation keeps every target column.
    /// Targets are genes × k row-major; returns the permuted targets and labels.
    /// </summary>
    public static (float[] Targets, int[] Labels) Realign(int[] oldLabels, int[] newLabels, float[] targets, int k)
    {
        var cm = new double[k, k];
        for (int i = 0; i < oldLabels.Length; i++) cm[oldLabels[i], newLabels[i]]++;
        var (rows, cols) = Hungarian.LinearSumAssignment(cm, maximize: true);
        var newToOld = new int[k];
        for (int r = 0; r < rows.Length; r++) newToOld[cols[r]] = rows[r];
        int n = oldLabels.Length;
        var t = new float[targets.Length];
        for (int i = 0; i < n; i++) for (int c = 0; c < k; c++) t[i * k + newToOld[c]] = targets[i * k + c];
        return (t, newLabels.Select(l => newToOld[l]).ToArray());
    }
}
