using System.Diagnostics;
using Tessera.Analysis;
using Tessera.Data;
using Tessera.Nn;
using Tessera.Simulate;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tessera.Methods.Costa;

/// <summary>Settings of one CoSTA model (defaults: the authors' Slide-seq notebook).</summary>
public sealed record CostaOptions
{
    /// <summary>Self-labelling clusters K: GMM components, UMAP components and head outputs (authors: 30).</summary>
    public int Clusters { get; init; } = 30;
    /// <summary>Training epochs (notebook: 10).</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Mini-batch size; the last partial batch is dropped as in the authors' loop.</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>Random fraction of genes trained on per epoch (authors: train_test_split test_size 0.3).</summary>
    public double TrainFraction { get; init; } = 0.7;
    /// <summary>Optimiser: SGD with momentum (the Slide-seq notebook) or Adam (the authors' MNIST and MERFISH scripts).</summary>
    public CostaOptimizer Optimizer { get; init; } = CostaOptimizer.Sgd;
    /// <summary>Learning rate (null: 0.01 for SGD, 0.001 = torch's default for Adam, as the authors).</summary>
    public double? LearningRate { get; init; }
    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;
    /// <summary>Bi-tempered loss t1.</summary>
    public double T1 { get; init; } = 0.8;
    /// <summary>Bi-tempered loss t2.</summary>
    public double T2 { get; init; } = 1.2;
    /// <summary>Fixed-point iterations of the tempered normaliser.</summary>
    public int NormalizerIterations { get; init; } = 5;
    /// <summary>Center-loss weight (authors: 0.01 when enabled; off in all their shipped code).</summary>
    public double CenterLossWeight { get; init; }
    /// <summary>Permute the new targets' clusters to match the previous epoch's (the .py/MERFISH scripts; Hungarian matching here).</summary>
    public bool Realign { get; init; } = true;
    /// <summary>Tanh in the third block (Slide-seq) instead of ReLU (MERFISH).</summary>
    public bool TanhLast { get; init; } = true;
    /// <summary>UMAP neighbours in the target step.</summary>
    public int UmapNeighbors { get; init; } = 20;
    /// <summary>UMAP min_dist in the target step.</summary>
    public double UmapMinDist { get; init; }
    /// <summary>UMAP optimisation epochs (null = umap-learn's default: 500 up to 10,000 points, else 200).</summary>
    public int? UmapEpochs { get; init; }
    /// <summary>Genes per chunk of the feature pass (train-mode BatchNorm statistics are per chunk; authors: all genes at once).</summary>
    public int FeatureChunk { get; init; } = 1024;
    /// <summary>Seed for every random choice.</summary>
    public int Seed { get; init; }
    /// <summary>Progress messages.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>CoSTA's optimiser choice.</summary>
public enum CostaOptimizer
{
    /// <summary>SGD with momentum (Slide-seq notebook: lr 0.01, momentum 0.9).</summary>
    Sgd,
    /// <summary>Adam with torch defaults (MNIST/MERFISH scripts: lr 0.001).</summary>
    Adam,
}

/// <summary>One epoch of CoSTA training (epoch 0 = targets from the untrained net).</summary>
public sealed record CostaEpoch(int Epoch, double Loss, double Nmi, int Steps, double TrainSeconds, double FeatureSeconds, double UmapSeconds, double GmmSeconds);

/// <summary>A trained CoSTA model: the net, the genes' final embedding and labels, and the training log.</summary>
public sealed class CostaModel : IDisposable
{
    /// <summary>The trained ConvNet.</summary>
    public required CostaNet Net { get; init; }
    /// <summary>Final L2-normalised embedding, genes × <see cref="Dim"/>, row-major.</summary>
    public required float[] Embedding { get; init; }
    /// <summary>Embedding length.</summary>
    public int Dim { get; init; }
    /// <summary>Final self-labelling (GMM) labels.</summary>
    public required int[] Labels { get; init; }
    /// <summary>Per-epoch loss, NMI to the previous labels and timings.</summary>
    public required IReadOnlyList<CostaEpoch> History { get; init; }
    /// <summary>Options used.</summary>
    public required CostaOptions Options { get; init; }
    /// <summary>Feature chunk order used by the feature pass (a fixed seeded permutation).</summary>
    internal int[] ChunkOrder { get; init; } = [];

    /// <summary>The embedding as a dense matrix.</summary>
    public DenseMatrix EmbeddingMatrix => DenseMatrix.FromFloat(Embedding.Length / Dim, Dim, Embedding);

    /// <summary>Releases the net.</summary>
    public void Dispose() => Net.Dispose();
}

/// <summary>CoSTA (Xu &amp; McCord): self-supervised gene embeddings from gene images by DeepCluster-style self-labelling.</summary>
public sealed class Costa
{
    /// <summary>The options.</summary>
    public CostaOptions Options { get; }

    /// <summary>Creates the trainer.</summary>
    public Costa(CostaOptions? options = null) => Options = options ?? new CostaOptions();

    /// <summary>Trains on a set of gene images.</summary>
    public CostaModel Fit(GeneImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Fit(images.Pixels, images.Count, images.Height, images.Width);
    }

    /// <summary>Trains on n single-channel images (n × h × w floats, row-major).</summary>
    public CostaModel Fit(float[] pixels, int n, int h, int w)
    {
        var o = Options;
        Validate(o, n);
        if ((long)n * h * w != pixels.Length) throw new TesseraException($"{n} images of {h}x{w} need {(long)n * h * w} values but got {pixels.Length}");
        Seeding.SeedTorch(Seeding.Derive(o.Seed, "costa-init"));
        var net = new CostaNet(h, w, o.Clusters, o.TanhLast);
        net.train();
        using var x = tensor(pixels, [n, 1, h, w]);
        var chunkOrder = Permutation(n, Seeding.Rng(o.Seed, "costa-chunks"));
        Parameter? centers = null;
        if (o.CenterLossWeight > 0) centers = new Parameter(randn(o.Clusters, net.FeatureDim));
        var parameters = net.parameters().ToList();
        if (centers is not null) parameters.Add(centers);
        using optim.Optimizer opt = o.Optimizer == CostaOptimizer.Adam
            ? optim.Adam(parameters, o.LearningRate ?? 1e-3)
            : optim.SGD(parameters, o.LearningRate ?? 0.01, o.Momentum);
        var history = new List<CostaEpoch>();

        var sw = Stopwatch.StartNew();
        var feats = FeaturePass(net, x, chunkOrder, o.FeatureChunk);
        double tFeat = sw.Elapsed.TotalSeconds;
        var (targets, labels, tU, tG) = Targets(feats, n, net.FeatureDim, o, 0);
        history.Add(new CostaEpoch(0, double.NaN, double.NaN, 0, 0, tFeat, tU, tG));
        o.Log?.Invoke($"epoch 0: features {tFeat:F1}s, UMAP {tU:F1}s, GMM {tG:F1}s");
        var rng = Seeding.Rng(o.Seed, "costa-batches");
        int nTrain = (int)Math.Round(n * o.TrainFraction);
        int steps = nTrain / o.BatchSize; // drop_last
        int[] perm = [];
        Tensor? targetT = null;
        try
        {
            TrainingLoop.RunBatches(net, opt, o.Epochs, _ =>
            {
                // A fresh order of all genes each epoch; the first TrainFraction of it is trained on.
                sw.Restart();
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
                double tTrain = sw.Elapsed.TotalSeconds;
                sw.Restart();
                feats = FeaturePass(net, x, chunkOrder, o.FeatureChunk);
                tFeat = sw.Elapsed.TotalSeconds;
                var (newTargets, newLabels, tU2, tG2) = Targets(feats, n, net.FeatureDim, o, epoch);
                double nmi = Metrics.NormalizedMutualInfo(labels, newLabels);
                if (o.Realign) (newTargets, newLabels) = Realign(labels, newLabels, newTargets, o.Clusters);
                targets = newTargets; labels = newLabels;
                history.Add(new CostaEpoch(epoch, meanLoss, nmi, steps, tTrain, tFeat, tU2, tG2));
                o.Log?.Invoke($"epoch {epoch}: loss {meanLoss:F4}, NMI(prev) {nmi:F3}; train {tTrain:F1}s, features {tFeat:F1}s, UMAP {tU2:F1}s, GMM {tG2:F1}s");
            });
        }
        finally { targetT?.Dispose(); }
        centers?.Dispose();
        return new CostaModel { Net = net, Embedding = feats, Dim = net.FeatureDim, Labels = labels, History = history, Options = o, ChunkOrder = chunkOrder };
    }

    private static void Validate(CostaOptions o, int n)
    {
        if (o.Clusters < 2) throw new TesseraException($"clusters must be at least 2 but is {o.Clusters}");
        if (o.Epochs < 0) throw new TesseraException($"epochs must be >= 0 but is {o.Epochs}");
        if (o.LearningRate is { } lr && !(lr > 0)) throw new TesseraException($"learning rate must be positive but is {lr}");
        if (o.BatchSize < 2) throw new TesseraException($"batch size must be at least 2 but is {o.BatchSize}");
        if (!(o.TrainFraction > 0 && o.TrainFraction <= 1)) throw new TesseraException($"train fraction must be in (0, 1] but is {o.TrainFraction}");
        if (o.FeatureChunk < 2) throw new TesseraException($"feature chunk must be at least 2 but is {o.FeatureChunk}");
        if (n < Math.Max(o.Clusters + 1, o.UmapNeighbors + 1))
            throw new TesseraException($"CoSTA needs more genes than clusters ({o.Clusters}) and UMAP neighbours ({o.UmapNeighbors}) but got {n}");
        if (o.Epochs > 0 && (int)Math.Round(n * o.TrainFraction) < o.BatchSize)
            throw new TesseraException($"{n} genes × train fraction {o.TrainFraction} is fewer than one batch of {o.BatchSize}");
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
    internal static float[] FeaturePass(CostaNet net, Tensor x, int[] order, int chunk)
    {
        int n = (int)x.shape[0], d = net.FeatureDim;
        var result = new float[(long)n * d];
        using var _ = no_grad();
        var buf = new float[(long)Math.Min(chunk, n) * d];
        for (int s = 0; s < n; s += chunk)
        {
            using var scope = NewDisposeScope();
            int m = Math.Min(chunk, n - s);
            // A trailing chunk of one gene cannot be batch-normalised; fold it into the previous chunk's size class.
            if (m < 2 && s > 0) { s -= 1; m += 1; }
            var idxArr = order.AsSpan(s, m).ToArray();
            var f = net.Features(x.index_select(0, tensor(idxArr.Select(i => (long)i).ToArray()))).contiguous();
            f.data<float>().CopyTo(buf.AsSpan(0, m * d));
            for (int i = 0; i < m; i++) Array.Copy(buf, (long)i * d, result, (long)idxArr[i] * d, d);
        }
        // The chunks' activations (hundreds of MB, freed in varying order) fragment glibc's heap; hand the pages back.
        NativeHeap.Trim();
        return result;
    }

    /// <summary>
    /// The authors' evaluation(): UMAP (K components) of the features → GMM (K, full covariance) labels → per-label
    /// means → q = softmax(1/distance) → p ∝ q²/f (DEC's sharpened target), rows summing to 1.
    /// </summary>
    internal static (float[] Targets, int[] Labels, double UmapSeconds, double GmmSeconds) Targets(float[] feats, int n, int d, CostaOptions o, int epoch)
    {
        var sw = Stopwatch.StartNew();
        var umap = new Umap(new UmapOptions
        {
            NNeighbors = o.UmapNeighbors, MinDist = o.UmapMinDist, NComponents = o.Clusters, NEpochs = o.UmapEpochs,
            Seed = Seeding.Derive(o.Seed, $"costa-umap-{epoch}"),
        });
        var emb = umap.Fit(feats, n, d).Embedding;
        double tU = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var gmm = new GaussianMixture(new GaussianMixtureOptions { K = o.Clusters, Seed = Seeding.Derive(o.Seed, $"costa-gmm-{epoch}") }).Fit(emb);
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
