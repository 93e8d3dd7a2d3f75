using System.Diagnostics;
using Tessera.Analysis;

// Embedding benchmarks: synthetic Gaussian clusters (seeded), written to a binary file that bench/embed_python.py reads
// (int32 n, int32 d, then n*d float32 row-major, little endian), timed in this process and reported with peak memory.
// Usage: EmbedBench umap N D [outDir] | knn N D [outDir] | leiden N D
static float[] Clusters(int n, int d, int nClusters, int seed)
{
    var rng = new Random(seed);
    double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
    var centers = new double[nClusters * d];
    for (int i = 0; i < centers.Length; i++) centers[i] = 0.7 * Normal();
    var x = new float[(long)n * d];
    for (int i = 0; i < n; i++)
    {
        int c = i % nClusters;
        for (int j = 0; j < d; j++) x[(long)i * d + j] = (float)(centers[c * d + j] + Normal());
    }
    return x;
}

static void Write(string path, float[] x, int n, int d)
{
    using var w = new BinaryWriter(File.Create(path));
    w.Write(n); w.Write(d);
    foreach (var v in x) w.Write(v);
}

static string Mem() => $"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):F0} MiB, process CPU {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:F1} s";

// One bench/peers.sh row: EmbedBench row knn-exact|knn-approx (IVF)|knn-nndescent|umap|leiden N D dir, printed as
// "ROW|task|data|side|wall s|CPU s|peak MiB|quality" (bench/Peers/table.py joins it with the peer's line).
if (args.Length > 0 && args[0] == "row") return Row(args[1], int.Parse(args[2]), int.Parse(args[3]), args[4]);

string mode = args.Length > 0 ? args[0] : "umap";
int n = args.Length > 1 ? int.Parse(args[1]) : 10000;
int d = args.Length > 2 ? int.Parse(args[2]) : 50;
string outDir = args.Length > 3 ? args[3] : ".";
var x = Clusters(n, d, 20, 42);
Directory.CreateDirectory(outDir);
var sw = Stopwatch.StartNew();
switch (mode)
{
    case "umap":
    {
        Write(Path.Combine(outDir, $"umap_{n}x{d}.bin"), x, n, d);
        int dim = args.Length > 4 ? int.Parse(args[4]) : 2;
        double minDist = args.Length > 5 ? double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : 0.1;
        sw.Restart();
        var t0 = sw.Elapsed.TotalSeconds;
        var knn = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = 15, IncludeSelf = true, Seed = 0 });
        var t1 = sw.Elapsed.TotalSeconds;
        var model = new Umap(new UmapOptions { Seed = 0, Components = dim, MinDist = minDist }).FitFromKnn(knn, n);
        var t2 = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"UMAP {n}x{d} -> {dim}: total {t2:F2} s (kNN {t1 - t0:F2} s, graph+init+SGD {t2 - t1:F2} s, init {model.InitUsed}, epochs {model.Epochs}); {Mem()}");
        break;
    }
    case "knn":
    {
        Write(Path.Combine(outDir, $"knn_{n}x{d}.bin"), x, n, d);
        sw.Restart();
        var exact = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = 15, Method = NeighborMethod.Exact });
        var te = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"exact kNN {n}x{d} k=15: {te:F2} s; {Mem()}");
        sw.Restart();
        var approx = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = 15, Method = NeighborMethod.NnDescent, Seed = 0 });
        var ta = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"NN-descent {n}x{d} k=15: {ta:F2} s, recall {NearestNeighbors.Recall(approx, exact):F4}; {Mem()}");
        break;
    }
    case "leiden":
    {
        sw.Restart();
        var m = Leiden.Cluster(new Tessera.Data.DenseMatrix(n, d, x.Select(v => (double)v).ToArray()), 15, 1.0, 0);
        Console.WriteLine($"Leiden.Cluster {n}x{d}: {sw.Elapsed.TotalSeconds:F2} s, {m.Max() + 1} communities; {Mem()}");
        break;
    }
    case "prof":
    {
        for (int rep = 0; rep < 2; rep++)
        {
            sw.Restart();
            var knn = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = 15, IncludeSelf = true, Method = NeighborMethod.Exact });
            Console.WriteLine($"exact {sw.Elapsed.TotalSeconds:F2} s; {Mem()}");
            sw.Restart();
            var g = Umap.FuzzySimplicialSet(knn);
            Console.WriteLine($"graph {sw.Elapsed.TotalSeconds:F2} s; {Mem()}");
            sw.Restart();
            var m = new Umap(new UmapOptions { Epochs = 1 }).FitFromKnn(knn, n);
            Console.WriteLine($"graph+init+1 epoch {sw.Elapsed.TotalSeconds:F2} s {m.InitUsed}; {Mem()}");
            sw.Restart();
            m = new Umap(new UmapOptions { Epochs = 200 }).FitFromKnn(knn, n);
            Console.WriteLine($"graph+init+200 epochs {sw.Elapsed.TotalSeconds:F2} s; {Mem()}");
        }
        break;
    }
    case "prof30":
    {
        int dim = args.Length > 4 ? int.Parse(args[4]) : 30;
        var cpu = () => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        double c0 = cpu();
        var knn = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = 15, IncludeSelf = true, Method = NeighborMethod.Exact });
        double c1 = cpu();
        var g = Umap.FuzzySimplicialSet(knn);
        double c2 = cpu();
        var init = Umap.SpectralLayout(g, dim, 0, forceSparse: true);
        double c3 = cpu();
        var m = new Umap(new UmapOptions { Epochs = 100, Components = dim, Init = UmapInit.Random }).FitFromKnn(knn, n);
        double c4 = cpu();
        Console.WriteLine($"cpu: knn {c1 - c0:F2} graph {c2 - c1:F2} spectral {(init == null ? "disconnected" : "")} {c3 - c2:F2} 100 epochs {c4 - c3:F2}");
        break;
    }
    default:
        Console.Error.WriteLine("usage: EmbedBench umap|knn|leiden N D [outDir]");
        return 2;
}
return 0;

static int Row(string task, int n, int d, string dir)
{
    var x = Clusters(n, d, 20, 42);
    Directory.CreateDirectory(dir);
    string file = Path.Combine(dir, $"emb_{n}x{d}.bin");
    if (!File.Exists(file)) Write(file, x, n, d);
    string gtFile = Path.Combine(dir, $"emb_{n}x{d}.gt15");
    // warm-up on a slice so libtorch loading and JIT are not billed to the task
    NearestNeighbors.Compute(x.AsSpan(0, 500 * d).ToArray(), 500, d, new NearestNeighborsOptions { Neighbors = 15, Method = NeighborMethod.Exact });
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    string quality, data = $"{n}x{d}";
    switch (task)
    {
        case "knn-exact":
        {
            var exact = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = 15, Method = NeighborMethod.Exact });
            sw.Stop(); cpu0 = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            using (var w = new BinaryWriter(File.Create(gtFile))) foreach (int v in exact.Indices) w.Write(v);
            quality = "recall@15 1 (reference for the approximate rows)";
            data += " k=15";
            break;
        }
        case "knn-nndescent":
        {
            var approx = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = 15, Method = NeighborMethod.NnDescent, Seed = 0 });
            sw.Stop(); cpu0 = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            quality = $"recall@15 {RecallVs(approx.Indices, gtFile, n):F4}";
            data += " k=15, NN-descent";
            break;
        }
        case "knn-approx":
        {
            // the library's approximate search (IVF); IVF_PROBES (default: the library's) and IVF_LISTS (default round(√N))
            // give a recall–time curve
            var o = new NearestNeighborsOptions { Neighbors = 15, Method = NeighborMethod.Ivf, Seed = 0 };
            if (Environment.GetEnvironmentVariable("IVF_PROBES") is { } pr) o = o with { IvfProbes = int.Parse(pr) };
            if (Environment.GetEnvironmentVariable("IVF_LISTS") is { } li) o = o with { IvfLists = int.Parse(li) };
            var approx = NearestNeighbors.Compute(x, n, d, o);
            sw.Stop(); cpu0 = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            quality = $"recall@15 {RecallVs(approx.Indices, gtFile, n):F4}";
            data += $" k=15, IVF {o.IvfLists ?? (int)Math.Round(Math.Sqrt(n))} lists, {o.IvfProbes} probes";
            break;
        }
        case "umap":
        {
            var knn = NearestNeighbors.Compute(x, n, d, new NearestNeighborsOptions { Neighbors = 15, IncludeSelf = true, Seed = 0 });
            var model = new Umap(new UmapOptions { Seed = 0 }).FitFromKnn(knn, n);
            sw.Stop(); cpu0 = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            quality = $"trustworthiness@15 {Trust(x, d, model.Embedding):F4} (first 3000 points)";
            data += $" -> 2, {model.Epochs} epochs";
            break;
        }
        case "leiden":
        {
            var m = Leiden.Cluster(new Tessera.Data.DenseMatrix(n, d, x.Select(v => (double)v).ToArray()), 15, 1.0, 0);
            sw.Stop(); cpu0 = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            var truth = Enumerable.Range(0, n).Select(i => i % 20).ToArray();
            quality = $"ARI {Metrics.AdjustedRandIndex(truth, m):F4}, {m.Max() + 1} communities";
            data += " kNN 15 + fuzzy graph + Leiden res 1";
            break;
        }
        default:
            Console.Error.WriteLine($"unknown task {task}");
            return 2;
    }
    Console.WriteLine($"ROW|{task}|{data}|Tessera|{sw.Elapsed.TotalSeconds:F3}|{cpu0.TotalSeconds:F3}|{Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0}|{quality}");
    return 0;
}

static double RecallVs(int[] approx, string gtFile, int n)
{
    if (!File.Exists(gtFile)) return double.NaN;
    var gt = new int[n * 15];
    using (var r = new BinaryReader(File.OpenRead(gtFile))) for (int i = 0; i < gt.Length; i++) gt[i] = r.ReadInt32();
    return NearestNeighbors.Recall(new KnnResult(n, 15, approx, new float[approx.Length], false), new KnnResult(n, 15, gt, new float[gt.Length], false));
}

// Trustworthiness on the first 3000 points (sklearn's O(n²) version is what the peer uses on the same subset).
static double Trust(float[] x, int d, Tessera.Data.DenseMatrix emb)
{
    int m = Math.Min(3000, emb.Rows);
    var hi = new Tessera.Data.DenseMatrix(m, d, x.AsSpan(0, m * d).ToArray().Select(v => (double)v).ToArray());
    return Metrics.Trustworthiness(hi, emb.SubsetRows(Enumerable.Range(0, m).ToArray()), 15);
}
