// Spotscape DLPFC bench: reads inputs written by prep_dlpfc.py, trains, writes the embedding, prints timing and memory.
using System.Diagnostics;
using Tessera.Methods.Spotscape;
using Tessera.Nn;

if (args.Length >= 1 && args[0] == "synthetic")
{
    // Scaling: synthetic Visium-like tissue of about N spots x G genes, all genes as HVGs, a few full-batch epochs.
    int nTarget = int.Parse(args[1]), genes = int.Parse(args[2]), ep = int.Parse(args[3]);
    // median UMIs per spot: 700 gives ~13 % non-zeros over 5000 genes, DLPFC's density (the sparse ops scale with non-zeros)
    double umis = args.Length > 4 ? double.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture) : 700;
    int rows = (int)Math.Round(Math.Sqrt(nTarget / 0.785));
    var swg = Stopwatch.StartNew();
    var tissue = Tessera.Simulate.SyntheticTissue.Generate(new Tessera.Simulate.SyntheticTissueOptions { Rows = rows, Cols = 2 * rows, Genes = genes, MedianUmis = umis, Seed = 0 });
    Console.WriteLine($"synthetic tissue {tissue.NObs} spots x {tissue.NVars} genes, {100.0 * tissue.X.Nnz / ((double)tissue.NObs * tissue.NVars):F1} % non-zero, in {swg.Elapsed.TotalSeconds:F1}s");
    swg.Restart();
    var log = new Progress<Tessera.Progress>(p => { if (p.Message != null) Console.WriteLine(p.Message); });
    var prep = SpotscapeTrainer.Prepare([tissue], ["synthetic"], new SpotscapeOptions { Clusters = 6, Hvg = genes }, log);
    Console.WriteLine($"prepared in {swg.Elapsed.TotalSeconds:F1}s; peak RSS so far {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB");
    swg.Restart();
    // BatchSpots = 0: this bench measures the full-batch path (above 10,000 spots the default would train in mini-batches)
    using var m = SpotscapeTrainer.Fit(prep.Input, new SpotscapeOptions { Seed = 0, Epochs = ep, Clusters = 6, BatchSpots = 0 });
    var es = m.Result!.Training!.History.EpochSeconds;
    Console.WriteLine($"N {tissue.NObs}: {ep} epochs in {swg.Elapsed.TotalSeconds:F1}s, s/epoch {string.Join(" ", es.Select(v => v.ToString("F2")))}, peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB");
    return 0;
}
if (args.Length < 5)
{
    Console.Error.WriteLine("usage: <prepdir> <seed> <epochs> <threads> <out.f32> [sparse|dense]");
    return 2;
}
string dir = args[0];
int seed = int.Parse(args[1]), epochs = int.Parse(args[2]), threads = int.Parse(args[3]);
string outPath = args[4];
var meta = File.ReadAllText(Path.Combine(dir, "meta.txt")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
int n = meta[0], g = meta[1];
float[] x = ReadArray<float>(Path.Combine(dir, "x.f32"));
int[] src = ReadArray<int>(Path.Combine(dir, "src.i32")), dst = ReadArray<int>(Path.Combine(dir, "dst.i32"));
var input = new SpotscapeInput(x, n, g, src, dst);
var opts = new SpotscapeOptions { Seed = seed, Epochs = epochs, Threads = threads };
TimeSpan? trainingCpu = null;
var progress = new SyncProgress(p =>
{
    // process CPU when the last epoch is reported (synchronously, on the training thread): training only, as the peer times
    if (p.Values is not null && p.Done == p.Total) trainingCpu = Process.GetCurrentProcess().TotalProcessorTime;
    if (p.Message is { } note) Console.WriteLine(note);
    else if (p.Values is not null && (p.Done % 50 == 0 || p.Done <= 3))
        Console.WriteLine($"epoch {p.Done}/{p.Total} loss {p.Loss:F5} re {p.Values!["reconstruction"]:F5} sc {p.Values!["telescope"]:F6} elapsed {p.Elapsed.TotalSeconds:F1}s");
});
var proc = Process.GetCurrentProcess();
var cpu0 = proc.TotalProcessorTime;
var sw = Stopwatch.StartNew();
using var model = SpotscapeTrainer.Fit(input, opts, progress);
var fit = sw.Elapsed.TotalSeconds;
proc.Refresh();
var cpuPerEpoch = (proc.TotalProcessorTime - cpu0).TotalSeconds / Math.Max(1, epochs);
var emb = model.Result!.Embedding.ToFloatArray();
var secs = model.Result.Training!.History.EpochSeconds;
var median = secs.OrderBy(s => s).ElementAt(secs.Count / 2);
Console.WriteLine($"fit {fit:F1}s, mean {model.Result.Training.SecondsPerEpoch:F3} s/epoch, median {median:F3} s/epoch, threads {threads}, process CPU {cpuPerEpoch:F3} s/epoch (≈ wall on {threads} idle cores: {cpuPerEpoch / threads:F3} s), peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB");
// SPOTSCAPE_ROW=1: the bench/peers.sh row (ROW|task|data|side|wall s|CPU s|peak MiB|quality) against
// spotscape_torch.py (the same net and single-slice losses in PyTorch) on the same prepared files: seconds per epoch,
// final loss, k-means ARI (7 clusters, 10 restarts) of the labelled spots, as the peer computes them.
if (Environment.GetEnvironmentVariable("SPOTSCAPE_ROW") is not null)
{
    var labels = File.ReadAllLines(Path.Combine(dir, "labels.txt")).Where(l => l.Length > 0).ToArray();
    var keep = Enumerable.Range(0, n).Where(i => labels[i] != "NA").ToArray();
    var sub = new Tessera.Data.DenseMatrix(keep.Length, model.EmbeddingDim, keep.SelectMany(i => Enumerable.Range(0, model.EmbeddingDim).Select(j => (double)emb[(long)i * model.EmbeddingDim + j])).ToArray());
    var pred = SpotscapeTrainer.Cluster(sub, Tessera.Analysis.ClusterMethod.KMeans, 7, seed);
    var ari = Tessera.Analysis.Metrics.AdjustedRandIndex(keep.Select(i => labels[i]).ToArray(), pred.Select(p => (string?)p.ToString()).ToArray());
    var h = model.Result.Training.History;
    double trainWall = secs.Sum() / Math.Max(1, epochs), trainCpu = ((trainingCpu ?? proc.TotalProcessorTime) - cpu0).TotalSeconds / Math.Max(1, epochs);
    Console.WriteLine($"ROW|spotscape-epoch|DLPFC {n} spots x {g} genes, {epochs} epochs, {threads} thread(s)|Tessera|{trainWall:F4}|{trainCpu:F4}|"
        + $"{Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0}|loss {h.Total[^1]:F5}, ARI {ari:F4}");
}
using (var fs = File.Create(outPath))
    fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(emb.AsSpan()));
return 0;

static T[] ReadArray<T>(string path) where T : struct
{
    var bytes = File.ReadAllBytes(path);
    return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
}

sealed class SyncProgress(Action<Tessera.Progress> report) : IProgress<Tessera.Progress>
{
    public void Report(Tessera.Progress value) => report(value);
}
