// ST-Net benchmarks.
//   dotnet run -c Release -- speed            patches/s of feature extraction (batch 32, no TTA) and of a fine-tune step
//                                             (forward + backward + SGD, batch 32) per backbone, and peak memory
//   dotnet run -c Release -- cv [tta 0|1]     frozen ResNet18-ImageNet + ridge on HER2ST C2–C6, leave one section out
using System.Diagnostics;
using Tessera.Methods.StNet;
using Tessera.Nn;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

string mode = args.Length > 0 ? args[0] : "speed";
torch.set_num_threads(Environment.ProcessorCount);
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
    return;
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

/// <summary>Prints the library's messages.</summary>
sealed class LogProgress : IProgress<Tessera.Progress>
{
    public void Report(Tessera.Progress value) { if (value.Message is { } m) Console.WriteLine(m); }
}
