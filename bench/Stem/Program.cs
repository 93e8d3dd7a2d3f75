// Usage: StemBench merfish [epochs] [plane] [tangramEpochs] [sigma] | scale CELLS EPOCHS | protocol merfish|seqfish tiled|authors [epochs] [tangramEpochs]
// Environment: STEM_SEED (training seed), STEM_BATCH_SPOTS (0 full batch, N mini-batch tiles; merfish mode only),
// STEM_BATCH_CELLS (cells per mini-batch step).
// Prints seconds/epoch, peak working set, and STEM / correlation / Tangram-style metrics side by side.
using System.Diagnostics;
using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.Stem;
using Tessera.Simulate;
using TorchSharp;

// STEM_HEAP=mmap sets the stricter NativeHeap.LimitFragmentation (the training loop trims the heap every 10 epochs regardless).
if (Environment.GetEnvironmentVariable("STEM_HEAP") == "mmap") Tessera.Nn.NativeHeap.LimitFragmentation();
var data = Environment.GetEnvironmentVariable("TESSERA_SHARED_DATA") ?? "/work/shared/data";
string which = args.Length > 0 ? args[0] : "merfish";
bool protocol = which == "protocol"; // its arguments are read by Protocol.Run
int epochs = args.Length > 1 && !protocol ? int.Parse(args[1]) : 400;
int tangramEpochs = args.Length > 3 && !protocol ? int.Parse(args[3]) : 1000;
double? sigma = args.Length > 4 && !protocol ? double.Parse(args[4]) : null;
torch.set_num_threads(int.Parse(Environment.GetEnvironmentVariable("STEM_THREADS") ?? "2"));
// STEM_TARGET=T normalises SC and ST to the same total (the authors' evaluation notebook used 1e4) instead of each median.
double? target = Environment.GetEnvironmentVariable("STEM_TARGET") is { } ts ? double.Parse(ts) : null;
SpatialData cells; string typeCol;
if (protocol)
{
    Protocol.Run(data, args[1], args[2], args.Length > 3 ? int.Parse(args[3]) : 400, args.Length > 4 ? int.Parse(args[4]) : 1000,
        Environment.GetEnvironmentVariable("STEM_OUT") ?? $"/tmp/stem-protocol-{args[1]}-{args[2]}");
    return;
}
if (which == "merfish")
{
    cells = MerfishPlane(args.Length > 2 ? double.Parse(args[2]) : 0.26);
    typeCol = "Cell_class";
}
else if (which == "scale")
{
    // Cell scaling: the MERFISH Bregma 0.26 pseudo-spots with the SC side resampled to CELLS cells (whole permutations of
    // the 5,584 cells, so copies repeat; names made unique), EPOCHS epochs with the cycle term on from the first epoch.
    int nCells = int.Parse(args[1]), scaleEpochs = int.Parse(args[2]);
    var plane26 = MerfishPlane(0.26);
    var simS = PseudoSpots.Simulate(plane26, new PseudoSpotOptions { CellTypeColumn = "Cell_class", Seed = 0 });
    var rng = new Random(0);
    var parts = new List<SpatialData>();
    for (int left = nCells; left > 0; left -= simS.Sc.NObs)
        parts.Add(simS.Sc.Subset(Enumerable.Range(0, simS.Sc.NObs).OrderBy(_ => rng.Next()).Take(Math.Min(left, simS.Sc.NObs)).ToArray(), null));
    var sc = parts.Count == 1 ? parts[0] : SpatialData.Concat(parts, Enumerable.Range(0, parts.Count).Select(i => $"r{i}").ToArray());
    Console.WriteLine($"scale: {sc.NObs} cells (resampled from {simS.Sc.NObs}) x {simS.St.NObs} spots, {scaleEpochs} epochs, cycle term from epoch 0");
    var swS = Stopwatch.StartNew();
    var printerS = new Printer(5);
    using var m = StemTrainer.Fit(new StemData(sc, simS.St), new StemOptions { Epochs = scaleEpochs, CycleStart = 0 }, printerS);
    // Fit trains, then maps the training cells; the training stage's own clock splits the two.
    double fitS = printerS.Training.TotalSeconds, mapSeconds = swS.Elapsed.TotalSeconds - fitS;
    Process.GetCurrentProcess().Refresh();
    Console.WriteLine($"scale {sc.NObs} cells: fit {fitS:F1} s = {fitS / scaleEpochs:F3} s/epoch; map (top-k, coordinates, cell graph) {mapSeconds:F1} s, adjacency nnz {m.Result!.Adjacency.Nnz}; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB");
    return;
}
else throw new ArgumentException(which);
Console.WriteLine($"{which}: {cells.NObs} cells x {cells.NVars} genes");
// STEM_GRID=XxY changes the 30x40 grid (e.g. 15x20: ~4x the cells per spot).
var grid = (Environment.GetEnvironmentVariable("STEM_GRID") ?? "30x40").Split('x').Select(int.Parse).ToArray();
var sim = PseudoSpots.Simulate(cells, new PseudoSpotOptions { CellTypeColumn = typeCol, Seed = 0, GridX = grid[0], GridY = grid[1] });
Console.WriteLine($"pseudo-spots: {sim.St.NObs} spots; mean cells/spot {sim.St.Obs.Get<NumericColumn>("n_captured").Values.Average():F2}");
// STEM_EXPORT=DIR writes the simulated inputs (sc.h5ad, st.h5ad) for a cross-check against an independent implementation.
if (Environment.GetEnvironmentVariable("STEM_EXPORT") is { } exportDir)
{
    Directory.CreateDirectory(exportDir);
    H5ad.Write(sim.Sc, Path.Combine(exportDir, "sc.h5ad"));
    H5ad.Write(sim.St, Path.Combine(exportDir, "st.h5ad"));
    Console.WriteLine($"exported {exportDir}/sc.h5ad, st.h5ad");
    if (epochs == 0) return;
}
var sw = Stopwatch.StartNew();
var stemData = new StemData(sim.Sc, sim.St);
var printer = new Printer(10);
// STEM_SEED: training seed (default 2022); STEM_BATCH_SPOTS: 0 = full batch, N = mini-batches of tiles of ~N spots (issue 17's fidelity check)
var stemOptions = new StemOptions { Epochs = epochs, Sigma = sigma, TargetSumSc = target, TargetSumSt = target };
if (Environment.GetEnvironmentVariable("STEM_SEED") is { } seedText) stemOptions = stemOptions with { Seed = int.Parse(seedText) };
if (Environment.GetEnvironmentVariable("STEM_BATCH_SPOTS") is { } batchText) stemOptions = stemOptions with { BatchSpots = int.Parse(batchText) };
// STEM_BATCH_CELLS: cells per mini-batch step (default the library's: all cells up to FullBatchMaxCells)
if (Environment.GetEnvironmentVariable("STEM_BATCH_CELLS") is { } cellsText) stemOptions = stemOptions with { BatchCells = int.Parse(cellsText) };
// STEM_STEP_SIZE / STEM_CYCLE_START: the StepLR step and the cycle ramp's start in optimiser steps (defaults 200 / 50; a
// mini-batch run at equal passes over the spots scales them by the tiles, as it scales the steps)
if (Environment.GetEnvironmentVariable("STEM_STEP_SIZE") is { } stepText) stemOptions = stemOptions with { StepSize = int.Parse(stepText) };
if (Environment.GetEnvironmentVariable("STEM_CYCLE_START") is { } cycleText) stemOptions = stemOptions with { CycleStart = int.Parse(cycleText) };
// STEM_MINIBATCH_EPOCH=pass: an epoch is one pass over the spot tiles (StemOptions.MiniBatchEpoch; default step)
if (Environment.GetEnvironmentVariable("STEM_MINIBATCH_EPOCH") == "pass") stemOptions = stemOptions with { MiniBatchEpoch = MiniBatchEpoch.Pass };
var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
using var model = StemTrainer.Fit(stemData, stemOptions, printer);
double fit = printer.Training.TotalSeconds;
Process.GetCurrentProcess().Refresh();
Console.WriteLine($"STEM fit {fit:F1} s = {fit / epochs:F3} s/epoch (then mapping {sw.Elapsed.TotalSeconds - fit:F1} s); peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB");
var truth = sim.Sc.Obsm[PseudoSpots.TrueCoordsKey];
var types = sim.Sc.Obs.Labels(typeCol);
var props = sim.St.Obsm[PseudoSpots.ProportionsKey];
var spotXy = sim.St.Spatial;
MappingScores Show(string name, CellSpotProbabilities p)
{
    var s = MappingEvaluation.Evaluate(p, spotXy, truth, types, props, sim.Types);
    Console.WriteLine($"{name,-12} pearson {s.PearsonMean:F4} kl {s.KlMean:F4} hit10 {s.Hit10:F4} hit30 {s.Hit30:F4} hit50 {s.Hit50:F4} err10 {s.CoordError10:F2} err30 {s.CoordError30:F2} err50 {s.CoordError50:F2} errAll {s.CoordErrorAll:F2}");
    return s;
}
var stemScores = Show("stem", model.Result!.DenseProbabilities());
// STEM_ROW=1: the bench/peers.sh row (ROW|task|data|side|wall s|CPU s|peak MiB|quality): seconds per training epoch, wall
// and process CPU, against bench/Stem/crosscheck.py (the same net and losses in PyTorch) on the exported inputs.
if (Environment.GetEnvironmentVariable("STEM_ROW") is not null)
    Console.WriteLine($"ROW|stem-epoch|MERFISH 0.26 pseudo-spots {sim.Sc.NObs} cells x {sim.St.NObs} spots, {epochs} epochs, {torch.get_num_threads()} thread(s)|Tessera|" +
        $"{fit / epochs:F4}|{(printer.TrainingCpu - cpuStart).TotalSeconds / epochs:F4}|{Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0}|" +
        $"hit10 {stemScores.Hit10:F4}, error (all) {stemScores.CoordErrorAll:F1}, pearson {stemScores.PearsonMean:F3}");
Console.WriteLine($"adjacency nnz {model.Result.Adjacency.Nnz}");
if (tangramEpochs == 0) return;
var stemInputs = model.Prepare(stemData);
Show("correlation", MappingBaselines.Correlation(stemInputs));
sw.Restart();
Show("tangram", MappingBaselines.Tangram(stemInputs, new TangramOptions { Epochs = tangramEpochs }, new Printer(200)));
Console.WriteLine($"tangram {sw.Elapsed.TotalSeconds:F1} s");
sw.Restart();
var ig = model.IntegratedGradients(stemData, 50);
var sdg = SpatialGenes.Test(ig, model.Genes, types);
Console.WriteLine($"IG + SDG {sw.Elapsed.TotalSeconds:F1} s");
foreach (var g in sdg.GroupBy(r => r.Group)) Console.WriteLine($"SDG {g.Key}: {string.Join(", ", g.Take(6).Select(r => $"{r.Gene}({r.Z:F1})"))}");
Process.GetCurrentProcess().Refresh();
Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB");

SpatialData MerfishPlane(double plane) => Protocol.MerfishPlane(data, plane);

/// <summary>
/// Issue 21: STEM and the Tangram-style mapping (and the correlation baseline) on MERFISH or seqFISH pseudo-spots of either
/// design; the standard metrics, hit curves K = 1..200 in both definitions (authors: self at rank 0, a count; ours: self
/// excluded, a fraction), STEM's embedding-neighbour hit, and metrics split by cells in a spot vs in none.
/// </summary>
static class Protocol
{
    /// <summary>MERFISH animal 1 cells of one Bregma plane, coordinates sdimx/sdimy.</summary>
    public static SpatialData MerfishPlane(string data, double plane)
    {
        var dir = Path.Combine(data, "merfish_hypothalamus_animal1");
        var all = DataReader.Read(Path.Combine(dir, "expression.csv.gz"), new ReadOptions { ObsFile = Path.Combine(dir, "cells.csv.gz"), Coords = ["sdimx", "sdimy"] });
        var z = all.Obs.Get<NumericColumn>("sdimz").Values;
        return all.SubsetObs(z.Select(v => Math.Abs(v - plane) < 1e-9).ToArray());
    }

    public static void Run(string data, string dataset, string design, int epochs, int tangramEpochs, string outDir)
    {
        Directory.CreateDirectory(outDir);
        SpatialData cells; string typeCol; bool zscored = dataset == "seqfish";
        if (dataset == "merfish") { cells = MerfishPlane(data, 0.26); typeCol = "Cell_class"; }
        else if (dataset == "seqfish")
        {
            var dir = Path.Combine(data, "seqfish_visualcortex");
            cells = DataReader.Read(Path.Combine(dir, "expression_zscored.csv.gz"),
                new ReadOptions { ObsFile = Path.Combine(dir, "cells.csv.gz"), Coords = ["sdimx", "sdimy"], AllowNegative = true });
            typeCol = "domain";
        }
        else throw new ArgumentException(dataset);
        var baseOptions = design switch { "tiled" => new PseudoSpotOptions(), "authors" => PseudoSpotOptions.Authors, _ => throw new ArgumentException(design) };
        // z-scores do not add up: a spot is the mean of its cells (as the seqFISH rows of RESULTS.md); MERFISH counts are summed.
        var sim = PseudoSpots.Simulate(cells, baseOptions with { CellTypeColumn = typeCol, Seed = 0, Aggregate = zscored ? SpotAggregate.Mean : SpotAggregate.Sum });
        var inSpotNames = sim.Sc.Obs.Get<StringColumn>("pseudo_spot").Values;
        var inSpot = Enumerable.Range(0, sim.Sc.NObs).Where(i => inSpotNames[i] != null).ToArray();
        var outSpot = Enumerable.Range(0, sim.Sc.NObs).Where(i => inSpotNames[i] == null).ToArray();
        Console.WriteLine($"{dataset} {design}: {cells.NObs} cells x {cells.NVars} genes; {sim.St.NObs} spots of {sim.St.Obs.Get<NumericColumn>("n_captured").Values.Average():F2} captured cells; " +
                          $"{inSpot.Length} cells in a spot ({100.0 * inSpot.Length / cells.NObs:F1} %), {outSpot.Length} in none");
        var stemData = new StemData(sim.Sc, sim.St) { CellTypeColumn = typeCol };
        var sw = Stopwatch.StartNew();
        var printer = new Printer(50);
        using var model = StemTrainer.Fit(stemData, new StemOptions { Epochs = epochs, Normalize = !zscored, Baselines = false }, printer);
        Console.WriteLine($"STEM fit {printer.Training.TotalSeconds:F1} s ({epochs} epochs, sigma {model.Sigma:G6}, dropout {model.Dropout:G4}); with mapping {sw.Elapsed.TotalSeconds:F1} s");
        sw.Restart();
        var tangram = TangramMapper.Fit(stemData with { CellTypeColumn = null }, new TangramOptions { Epochs = tangramEpochs, Normalize = !zscored }, new Printer(250));
        Console.WriteLine($"Tangram {tangramEpochs} epochs: {sw.Elapsed.TotalSeconds:F1} s");
        var truth = sim.Sc.Obsm[PseudoSpots.TrueCoordsKey];
        var labels = sim.Sc.Obs.Labels(typeCol);
        var props = sim.St.Obsm[PseudoSpots.ProportionsKey];
        var spotXy = sim.St.Spatial;
        var methods = new List<(string Name, CellSpotProbabilities P)>
        {
            ("STEM", model.Result!.DenseProbabilities()),
            ("correlation", MappingBaselines.Correlation(model.Prepare(stemData))),
            ("Tangram", tangram.DenseProbabilities()),
        };
        int kMax = Math.Min(200, cells.NObs - 1);
        var trueIn = MappingEvaluation.NeighboursByDistance(truth, kMax, true);
        var trueEx = MappingEvaluation.NeighboursByDistance(truth, kMax, false);
        var curves = new Dictionary<string, double[]>();
        var table = new List<string> { "| method | pearson_mean | kl_mean | hit10 | hit30 | hit50 | err top10 | err top30 | err top50 | err all |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |" };
        var split = new List<string> { "| method | cells | hit10 | hit50 | err top10 | err all |", "| --- | --- | --- | --- | --- | --- |" };
        int[] ks = [1, 10, 30, 50, 100, 200];
        void Curves(string name, Tessera.Analysis.KnnResult predIn, Tessera.Analysis.KnnResult predEx)
        {
            curves[name + " (authors)"] = MappingEvaluation.HitCounts(predIn, trueIn);
            curves[name + " (ours)"] = MappingEvaluation.HitCounts(predEx, trueEx).Select((v, k) => v / (k + 1)).ToArray();
        }
        void Split(string name, Tessera.Analysis.KnnResult predEx, DenseMatrix? top10, DenseMatrix? all)
        {
            var e10 = top10 is null ? null : MappingEvaluation.CellErrors(top10, truth);
            var eAll = all is null ? null : MappingEvaluation.CellErrors(all, truth);
            foreach (var (what, rows) in new[] { ("in a spot", inSpot), ("in no spot", outSpot) })
            {
                if (rows.Length == 0) continue;
                var h = MappingEvaluation.HitCounts(predEx, trueEx, rows);
                string err10 = e10 is null ? "–" : rows.Average(i => e10[i]).ToString("F2");
                string errAll = eAll is null ? "–" : rows.Average(i => eAll[i]).ToString("F2");
                split.Add($"| {name} | {what} ({rows.Length}) | {h[9] / 10:F4} | {h[49] / 50:F4} | {err10} | {errAll} |");
            }
        }
        foreach (var (name, p) in methods)
        {
            var s = MappingEvaluation.Evaluate(p, spotXy, truth, labels, props, sim.Types);
            table.Add($"| {name} | {s.PearsonMean:F4} | {s.KlMean:F4} | {s.Hit10:F4} | {s.Hit30:F4} | {s.Hit50:F4} | {s.CoordError10:F2} | {s.CoordError30:F2} | {s.CoordError50:F2} | {s.CoordErrorAll:F2} |");
            var all = p.Coordinates(spotXy);
            var predEx = MappingEvaluation.NeighboursByDistance(all, kMax, false);
            Curves(name, MappingEvaluation.NeighboursByDistance(all, kMax, true), predEx);
            Split(name, predEx, p.Coordinates(spotXy, 10), all);
        }
        var emb = model.Result!.ScEmbedding;
        var embEx = MappingEvaluation.NeighboursByInnerProduct(emb, kMax, false);
        Curves("STEM embedding", MappingEvaluation.NeighboursByInnerProduct(emb, kMax, true), embEx);
        Split("STEM embedding", embEx, null, null);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        CsvTable.Write(Path.Combine(outDir, "hit_curves.csv"), ["K", .. curves.Keys],
            Enumerable.Range(0, kMax).Select(k => (IReadOnlyList<string>)[(k + 1).ToString(inv), .. curves.Values.Select(v => v[k].ToString("G6", inv))]));
        foreach (var def in new[] { "authors", "ours" })
        {
            var series = curves.Where(kv => kv.Key.EndsWith($"({def})")).ToDictionary(kv => kv.Key, kv => kv.Value);
            Tessera.Plotting.Figures.SavePng(Tessera.Plotting.CurvePlot.Lines($"{dataset}, {design} pseudo-spots: hit curve ({(def == "authors" ? "authors: self at rank 0, count" : "ours: self excluded, fraction")})",
                "K", series, def == "authors" ? "mean hits (count)" : "hit rate"), Path.Combine(outDir, $"hit_curve_{def}.png"), 1000, 650);
        }
        var curveTable = new List<string> { "| method | definition | " + string.Join(" | ", ks.Where(k => k <= kMax).Select(k => $"K={k}")) + " |",
            "| --- | --- | " + string.Join(" | ", ks.Where(k => k <= kMax).Select(_ => "---")) + " |" };
        foreach (var (key, v) in curves)
        {
            int paren = key.LastIndexOf(" (", StringComparison.Ordinal);
            curveTable.Add($"| {key[..paren]} | {key[(paren + 2)..^1]} | " + string.Join(" | ", ks.Where(k => k <= kMax).Select(k => v[k - 1].ToString(key.EndsWith("(ours)") ? "F4" : "F3", inv))) + " |");
        }
        var report = string.Join("\n", [$"### {dataset}, {design} pseudo-spots", "", .. table, "", .. curveTable, "", .. split, ""]);
        Console.WriteLine(report);
        File.WriteAllText(Path.Combine(outDir, "tables.md"), report + "\n");
        Process.GetCurrentProcess().Refresh();
        Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB; outputs in {outDir}");
    }
}

/// <summary>Prints the library's messages and every n-th step (with the loss and its named parts); keeps the training stage's time.</summary>
sealed class Printer(int every) : IProgress<Tessera.Progress>
{
    public TimeSpan Training { get; private set; }
    /// <summary>Process CPU time at the last training step (for the peers row's CPU seconds per epoch).</summary>
    public TimeSpan TrainingCpu { get; private set; }

    public void Report(Tessera.Progress p)
    {
        if (p.Message is { } m) { Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {p.Stage}: {m}"); return; }
        if (p.Stage == "STEM training") { Training = p.Elapsed; TrainingCpu = Process.GetCurrentProcess().TotalProcessorTime; }
        if ((p.Done - 1) % every != 0 && p.Done != p.Total) return;
        var parts = p.Values is { } v ? " (" + string.Join(", ", v.Select(kv => $"{kv.Key} {kv.Value:F4}")) + ")" : "";
        Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {p.Stage} {p.Done}/{p.Total}: loss {p.Loss:F4}{parts} {p.Elapsed.TotalSeconds:F1} s");
    }
}
