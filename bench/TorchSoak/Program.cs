// Soak test for native-handle lifetime races: trains Spotscape on the demo tissue for many epochs while an optional
// background thread allocates garbage (forcing GCs at arbitrary moments, as parallel tests or thread-pool threads do).
//   dotnet run -c Release -- [epochs] [garbage: 0 none, 1 flat out, 2 ~40 MB/s, 3 ~150 MB/s] [threads]
using System.Diagnostics;
using Tessera.Methods.Spotscape;
using Tessera.Simulate;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 300;
int garbage = args.Length > 1 ? int.Parse(args[1]) : 0; // 0 none, 1 flat out, 2 about 40 MB/s
int threads = args.Length > 2 ? int.Parse(args[2]) : 2;
var raw = SyntheticTissue.Generate(new SyntheticTissueOptions { Seed = 0 });
var prep = SpotscapeTrainer.Prepare([raw], ["s"], new SpotscapeOptions { Hvg = 200, Radius = 150, Clusters = 6 });
using var stop = new CancellationTokenSource();
long allocated = 0;
var bg = new Thread(() =>
{
    var keep = new object[64];
    int i = 0;
    while (!stop.IsCancellationRequested) { keep[i++ & 63] = new byte[4096 + (i & 1023)]; allocated++; if (garbage == 2 && (i & 7) == 0 || garbage == 3 && (i & 31) == 0) Thread.Sleep(1); }
}) { IsBackground = true };
if (garbage > 0) bg.Start();
var sw = Stopwatch.StartNew();
var progress = new Progress<Tessera.Progress>(p => { if (p.Done % 50 == 0) Console.WriteLine($"epoch {p.Done} loss {p.Loss:F4} {sw.Elapsed.TotalSeconds:F0}s gc0={GC.CollectionCount(0)}"); });
using (var model = SpotscapeTrainer.Fit(prep.Input, new SpotscapeOptions { Epochs = epochs, Threads = threads, LearningRate = 1e-3, Seed = 1, Clusters = 6 }, progress))
    Console.WriteLine($"done {epochs} epochs in {sw.Elapsed.TotalSeconds:F1} s, gen0 GCs {GC.CollectionCount(0)}, gen2 {GC.CollectionCount(2)}");
stop.Cancel();
