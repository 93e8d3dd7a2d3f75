// Frozen-backbone ST-Net on HER2ST C2–C6, leave one section out, with timing of feature extraction.
//   dotnet run -c Release -- [backbone: pool|resnet18] [tta: 0|1]
using System.Diagnostics;
using Tessera.Methods.StNet;
using TorchSharp;
using static TorchSharp.torch;

var manifest = Path.Combine(AppContext.BaseDirectory, "../../../../../her2st_C.csv");
if (!File.Exists(manifest)) manifest = "bench/StNet/her2st_C.csv";
string which = args.Length > 0 ? args[0] : "pool";
bool tta = args.Length > 1 && args[1] == "1";
torch.set_num_threads(Environment.ProcessorCount);
var sw = Stopwatch.StartNew();
var sections = HistologyManifest.Read(manifest).Select(s => HistologySection.Load(s, Console.WriteLine)).ToList();
var genes = StNetTargets.TopGenes(sections, 250);
Console.WriteLine($"loaded {sections.Count} sections, {sections.Sum(s => s.NSpots)} spots, {sw.Elapsed.TotalSeconds:F1}s; px/array step C2 {sections[0].PixelsPerArrayStep():F1}");
IPatchFeaturizer f = which switch { _ => new PoolFeaturizer() };
var o = new StNetOptions { CacheDir = "/tmp/tessera-cache", TestTimeAugmentation = tta, Log = Console.WriteLine };
sw.Restart();
var prep = StNetFrozen.Prepare(sections, f, genes, o);
double tFeat = sw.Elapsed.TotalSeconds;
Console.WriteLine($"prepared {prep.Sum(p => p.Targets.Rows)} patches in {tFeat:F1}s ({prep.Sum(p => p.Targets.Rows) / tFeat:F1} patches/s incl. decode)");
var res = StNetFrozen.CrossValidate(prep, genes, Console.WriteLine);
var top50 = res.Summary.Take(50).ToArray();
Console.WriteLine($"mean Pearson top-50 genes: {top50.Average(s => s.MeanPearson):F3} (colour {top50.Average(s => s.BaselineMeanPearson):F3}); all 250: {res.Summary.Average(s => s.MeanPearson):F3} (colour {res.Summary.Average(s => s.BaselineMeanPearson):F3})");
Console.WriteLine($"beats colour on {res.Summary.Count(s => s.BeatsBaseline)}/250; positive r in all 5 sections: {res.Summary.Count(s => s.PositiveSections == s.Sections && s.Sections == 5)}");
foreach (var s in res.Summary.Take(8)) Console.WriteLine($"{s.Gene}: r {s.MeanPearson:F3} (colour {s.BaselineMeanPearson:F3}) pos {s.PositiveSections}/{s.Sections}");

sealed class PoolFeaturizer : IPatchFeaturizer
{
    public string Name => "pool4";
    public int FeatureDim => 48;
    public Tensor Features(Tensor rgb) => nn.functional.adaptive_avg_pool2d(rgb / 255, [4, 4]).flatten(1);
}
