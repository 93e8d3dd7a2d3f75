// ST-Net benchmarks.
//   dotnet run -c Release -- speed            patches/s of feature extraction (batch 32, no TTA) and of a fine-tune step
//                                             (forward + backward + SGD, batch 32) per backbone, and peak memory
//   StNetBench row stnet-densenet121|stnet-resnet18 DIR N   one bench/peers.sh row: the feature pass over N patches
//                                             made by bench/StNet/stnet_torch.py (batch 32, no_grad, TORCH_THREADS threads)
//   dotnet run -c Release -- cv [tta 0|1]     frozen ResNet18-ImageNet + ridge on HER2ST C2–C6, leave one section out
using System.Diagnostics;
using Tessera.Methods.StNet;
using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

string mode = args.Length > 0 ? args[0] : "speed";
torch.set_num_threads(Environment.ProcessorCount);
if (mode == "row") return Row(args[1], args[2], int.Parse(args[3]));
if (mode == "speed")
{
    Console.WriteLine($"{Environment.ProcessorCount} cores, torch threads {torch.get_num_threads()}");
    Seeding.SeedTorch(0);
    using var x = rand(32, 3, 224, 224) * 255;
    foreach (var name in new[] { "resnet18-imagenet", "densenet121" })
    {
        Module<Tensor, Tensor> net = name == "resnet18-imagenet" ? ResNet18Imagenet.Load() : new DenseNet121();
        Func<Tensor, Tensor> feats = name == "resnet18-imagenet" ? ((ResNet18Imagenet)net).forward : ((DenseNet121)net).Features;
        net.eval();
        double Time(Action a, int reps) { a(); var sw = Stopwatch.StartNew(); for (int i = 0; i < reps; i++) a(); return sw.Elapsed.TotalSeconds / reps; }
        double fwd = Time(() => TorchGuard.Run(() => { using var s = NewDisposeScope(); using var ng = no_grad(); feats(x); }), 3);
        if (net is ResNet18Imagenet r) r.SetTrainable(true);
        net.train();
        var head = nn.Linear(name == "resnet18-imagenet" ? 512 : 1024, 250);
        var ps = net.parameters().Concat(head.parameters()).ToList();
        using var opt = optim.SGD(ps, 1e-6, 0.9);
        using var y = randn(32, 250);
        double step = Time(() => TorchGuard.Run(() =>
        {
            using var s = NewDisposeScope();
            opt.zero_grad();
            var loss = (head.call(feats(x)) - y).pow(2).mean([1]).sum();
            loss.backward();
            opt.step();
        }), 2);
        Console.WriteLine($"{name}: features {32 / fwd:F1} patches/s ({fwd:F2} s per batch of 32); fine-tune step {32 / step:F1} patches/s ({step:F2} s per batch); peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
    }
    return 0;
}

var manifest = "bench/StNet/her2st_C.csv";
bool tta = args.Length > 1 && args[1] == "1";
var sw0 = Stopwatch.StartNew();
var log = new LogProgress();
var sections = HistologyManifest.Read(manifest).Select(s => HistologySection.Load(s, log)).ToList();
var o = new StNetOptions { Genes = 250, CacheDir = "/tmp/tessera-cache", TestTimeAugmentation = tta };
using var model = StNetTrainer.Fit(sections, o, log);
var res = model.Result!;
Console.WriteLine($"prepared {res.Sections.Sum(p => p.Targets.Rows)} patches and cross-validated in {sw0.Elapsed.TotalSeconds:F1}s");
var top50 = res.Summary.Take(50).ToArray();
Console.WriteLine($"mean Pearson top-50 genes: {top50.Average(s => s.MeanPearson):F3} (colour {top50.Average(s => s.BaselineMeanPearson):F3}); beats colour on {res.Summary.Count(s => s.BeatsBaseline)}/250");

return 0;

// One bench/peers.sh row: Tessera's backbone feature pass over the patches that bench/StNet/stnet_torch.py made (the same
// torchvision DenseNet-121 weights; ResNet-18 is Tessera's shipped ImageNet network), batch 32, no_grad, printed as
// "ROW|task|data|side|wall s|CPU s|peak MiB|quality"; the DenseNet features go to DIR for the peer's comparison.
static int Row(string task, string dir, int n)
{
    if (Environment.GetEnvironmentVariable("TORCH_THREADS") is { } tt) torch.set_num_threads(int.Parse(tt));
    var raw = File.ReadAllBytes(Path.Combine(dir, $"patches_{n}.f32"));
    var xs = new float[raw.Length / 4];
    Buffer.BlockCopy(raw, 0, xs, 0, raw.Length);
    raw = null!;
    using var x = tensor(xs, [n, 3, 224, 224]);
    Module<Tensor, Tensor> net = task == "stnet-densenet121" ? DenseNet121.Load(Path.Combine(dir, "densenet121_seed0.pt")) : ResNet18Imagenet.Load();
    // ResNet18Imagenet takes RGB 0..255 and normalises itself; the same patches serve for its time
    Func<Tensor, Tensor> feats = net is DenseNet121 dn ? dn.Features : ((ResNet18Imagenet)net).forward;
    net.eval();
    using var heap = NativeHeap.ReuseLargeBlocks(); // as the library's feature pass (StNetFrozen.Featurize)
    Tensor Pass(Tensor input) => TorchGuard.Run(() =>
    {
        using var ng = no_grad();
        var parts = new List<Tensor>();
        for (long s = 0; s < input.shape[0]; s += 32) parts.Add(feats(input.narrow(0, s, Math.Min(32, input.shape[0] - s))));
        return cat(parts, 0).MoveToOuterDisposeScope();
    });
    using (var scope = NewDisposeScope()) Pass(x.narrow(0, 0, 2));
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    float[] f;
    using (var scope = NewDisposeScope()) f = Pass(x).contiguous().data<float>().ToArray();
    sw.Stop();
    double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
    if (net is DenseNet121)
    {
        var bytes = new byte[f.Length * 4];
        Buffer.BlockCopy(f, 0, bytes, 0, bytes.Length);
        File.WriteAllBytes(Path.Combine(dir, $"feat_tessera_densenet121_{n}.f32"), bytes);
    }
    string quality = $"{f.Length / n}-d features" + (net is DenseNet121 ? "" : " (Tessera's ImageNet weights)");
    Console.WriteLine($"ROW|{task}|{n} patches 224x224, batch 32, {torch.get_num_threads()} threads|Tessera|{sw.Elapsed.TotalSeconds:F3}|{cpu:F3}|{Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0}|{quality}");
    return 0;
}

/// <summary>Prints the library's messages.</summary>
sealed class LogProgress : IProgress<Tessera.Progress>
{
    public void Report(Tessera.Progress value) { if (value.Message is { } m) Console.WriteLine(m); }
}
