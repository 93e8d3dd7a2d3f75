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
var progress = new Progress<Tessera.Progress>(p =>
{
    if (p.Done % 50 == 0 || p.Done <= 3)
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
using (var fs = File.Create(outPath))
    fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(emb.AsSpan()));
return 0;

static T[] ReadArray<T>(string path) where T : struct
{
    var bytes = File.ReadAllBytes(path);
    return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
}
