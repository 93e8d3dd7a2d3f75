using System.Diagnostics;
using Tessera.Examples;

// Runs the README's library programs (one per method) in a working folder, on data made here (Spotscape, CoSTA, STEM)
// or on the HER2ST sections beside the repository (ST-Net; skipped with a message where they are absent).
// Usage: Tessera.Examples WORKDIR [spotscape|costa|stem|stnet ...]
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: Tessera.Examples WORKDIR [spotscape|costa|stem|stnet ...]");
    return 2;
}
var work = Path.GetFullPath(args[0]);
var which = args.Length > 1 ? args[1..] : ["spotscape", "costa", "stem", "stnet"];
Directory.CreateDirectory(work);
string? her2st = ExampleData.FindHer2st();
Directory.SetCurrentDirectory(work);
ExampleData.Write(her2st);
foreach (var method in which)
{
    var sw = Stopwatch.StartNew();
    string summary = method switch
    {
        "spotscape" => SpotscapeExample.Run(),
        "costa" => CostaExample.Run(),
        "stem" => StemExample.Run(),
        "stnet" => her2st is null ? "skipped: the HER2ST sections (../shared/data/her2st) are not here" : StNetExample.Run(),
        _ => throw new ArgumentException($"unknown example '{method}'"),
    };
    Console.WriteLine($"{method}: {summary} ({sw.Elapsed.TotalSeconds:F1} s)");
}
return 0;
