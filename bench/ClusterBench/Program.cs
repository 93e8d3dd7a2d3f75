using System.Diagnostics;
using Tessera.Analysis;
using Tessera.Data;

// Usage: ClusterBench <blobs.bin>  (file from bench/cluster_sklearn.py: int32 rows, int32 cols, int32 k,
// rows×cols float64 row-major, rows int32 truth labels; little-endian)
//        ClusterBench row kmeans|gmm-full|gmm-tied|gmm-diag|gmm-spherical|pca <file>  (one bench/peers.sh row)
if (args.Length < 1) { Console.Error.WriteLine("usage: ClusterBench <blobs.bin> | ClusterBench row <task> <file>"); return 2; }
if (Environment.GetEnvironmentVariable("TORCH_THREADS") is { } tt) TorchSharp.torch.set_num_threads(int.Parse(tt));
if (args[0] == "row") return Row(args[1], args[2]);
var (x, truth, k) = Read(args[0]);
Console.WriteLine($"data {x.Rows}x{x.Cols}, k={k}, torch threads {TorchSharp.torch.get_num_threads()}");

// warm-up on a small slice so libtorch loading is not billed to the first method
var warm = x.SubsetRows(Enumerable.Range(0, 1000).ToArray());
new KMeans(new KMeansOptions { Clusters = 2, Restarts = 1 }).Fit(warm);
new GaussianMixture(new GaussianMixtureOptions { Components = 2 }).Fit(warm);
Console.WriteLine($"baseline after loading data + libtorch: peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB");

var sw = Stopwatch.StartNew();
var km = new KMeans(new KMeansOptions { Clusters = k, Restarts = 10, Seed = 0 }).Fit(x);
double tKm = sw.Elapsed.TotalSeconds;
long peakKm = Process.GetCurrentProcess().PeakWorkingSet64;
Console.WriteLine($"kmeans   n_init=10  wall {tKm:F3} s  inertia {km.Inertia:R}  n_iter {km.NIter}  ARI {Metrics.AdjustedRandIndex(truth, km.Labels):F6}  peak RSS {peakKm / 1048576.0:F0} MiB");

sw.Restart();
var gm = new GaussianMixture(new GaussianMixtureOptions { Components = k, Covariance = CovarianceType.Full, Seed = 0 }).Fit(x);
var gl = gm.Predict(x);
double tGm = sw.Elapsed.TotalSeconds;
long peakGm = Process.GetCurrentProcess().PeakWorkingSet64;
Console.WriteLine($"gmm full n_init=1   wall {tGm:F3} s  lower_bound {gm.LowerBound:R}  n_iter {gm.NIter}  ARI {Metrics.AdjustedRandIndex(truth, gl):F6}  peak RSS {peakGm / 1048576.0:F0} MiB");

sw.Restart();
var gd = new GaussianMixture(new GaussianMixtureOptions { Components = k, Covariance = CovarianceType.Diag, Seed = 0 }).Fit(x);
double tGd = sw.Elapsed.TotalSeconds;
Console.WriteLine($"gmm diag n_init=1   wall {tGd:F3} s  lower_bound {gd.LowerBound:R}  n_iter {gd.NIter}  peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB");
// CoSTA-like use: a GMM on a few thousand spots, refitted every epoch
var small = x.SubsetRows(Enumerable.Range(0, 4000).ToArray());
sw.Restart();
double lbSmall = 0;
for (int rep = 0; rep < 20; rep++) lbSmall = new GaussianMixture(new GaussianMixtureOptions { Components = 7, Seed = rep }).Fit(small).LowerBound;
Console.WriteLine($"gmm full 4000x30 K=7, 20 fits: {sw.Elapsed.TotalSeconds / 20 * 1000:F1} ms per fit (last lower_bound {lbSmall:F6})");
return 0;

// One task of bench/peers.sh, timed after a warm-up on a small slice (libtorch loading is not billed), printed as
// "ROW|task|data|side|wall s|CPU s|peak MiB|quality" (bench/Peers/table.py joins it with the peer's line).
static int Row(string task, string path)
{
    var (x, truth, k) = Read(path);
    var warm = x.SubsetRows(Enumerable.Range(0, Math.Min(1000, x.Rows)).ToArray());
    string data = $"{x.Rows}x{x.Cols}";
    var sw = new Stopwatch();
    var cpu0 = TimeSpan.Zero;
    string quality;
    if (task == "kmeans")
    {
        new KMeans(new KMeansOptions { Clusters = 2, Restarts = 1 }).Fit(warm);
        cpu0 = Process.GetCurrentProcess().TotalProcessorTime; sw.Start();
        var km = new KMeans(new KMeansOptions { Clusters = k, Restarts = 10, Seed = 0 }).Fit(x);
        sw.Stop(); cpu0 = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        quality = $"inertia {km.Inertia:G10}, ARI {Metrics.AdjustedRandIndex(truth, km.Labels):F4}";
        data += $" K={k} n_init=10";
    }
    else if (task.StartsWith("gmm-", StringComparison.Ordinal))
    {
        var cov = Enum.Parse<CovarianceType>(task[4..], ignoreCase: true);
        new GaussianMixture(new GaussianMixtureOptions { Components = 2, Covariance = cov }).Fit(warm);
        cpu0 = Process.GetCurrentProcess().TotalProcessorTime; sw.Start();
        var gm = new GaussianMixture(new GaussianMixtureOptions { Components = k, Covariance = cov, Seed = 0 }).Fit(x);
        var labels = gm.Predict(x); // sklearn's side times fit + predict too
        sw.Stop(); cpu0 = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        quality = $"lower bound {gm.LowerBound:F6}, n_iter {gm.NIter}, ARI {Metrics.AdjustedRandIndex(truth, labels):F4}";
        data += $" K={k}";
    }
    else if (task == "pca")
    {
        // k holds the number of components; the data are dense (a scaled matrix), as sklearn PCA's input
        var f = x.ToFloatArray();
        int pn = x.Rows, pg = x.Cols;
        var sm = new Tessera.Preprocess.ScaledMatrix(pn, pg, f, new double[pg], Enumerable.Repeat(1.0, pg).ToArray());
        var o = new Tessera.Preprocess.PcaOptions { Components = k, Solver = Tessera.Preprocess.PcaSolver.Randomized, Seed = 0 };
        var ws = new Tessera.Preprocess.ScaledMatrix(warm.Rows, warm.Cols, warm.ToFloatArray(), new double[pg], Enumerable.Repeat(1.0, pg).ToArray());
        Tessera.Preprocess.Pca.Fit(ws, o with { Components = 5 });
        // the float64 copy read from the file is the bench's, not the method's input: drop it before timing
        x = null!; warm = null!;
        GC.Collect();
        cpu0 = Process.GetCurrentProcess().TotalProcessorTime; sw.Start();
        var m = Tessera.Preprocess.Pca.Fit(sm, o);
        sw.Stop(); cpu0 = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        quality = $"explained variance ratio (sum of {k}) {m.ExplainedVarianceRatio.Sum():F6}";
        data = $"{pn}x{pg} {k} PCs, {o.PowerIterations} power it., {o.Oversamples} oversamples";
    }
    else { Console.Error.WriteLine($"unknown task {task}"); return 2; }
    Console.WriteLine($"ROW|{task}|{data}|Tessera|{sw.Elapsed.TotalSeconds:F3}|{cpu0.TotalSeconds:F3}|{Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0}|{quality}");
    return 0;
}

static (DenseMatrix, int[], int) Read(string path)
{
    using var br = new BinaryReader(File.OpenRead(path));
    int rows = br.ReadInt32(), cols = br.ReadInt32(), k = br.ReadInt32();
    var data = new double[(long)rows * cols];
    for (long i = 0; i < data.LongLength; i++) data[i] = br.ReadDouble();
    var y = new int[rows];
    for (int i = 0; i < rows; i++) y[i] = br.ReadInt32();
    return (new DenseMatrix(rows, cols, data), y, k);
}
