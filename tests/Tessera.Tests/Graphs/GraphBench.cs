using System.Diagnostics;
using Tessera.Graphs;
using Xunit.Abstractions;

namespace Tessera.Tests.Graphs;

/// <summary>
/// Scale benchmark, skipped by default: run with
/// <c>TESSERA_BENCH=1 dotnet test tests/Tessera.Tests -c Release --filter "Category=Bench"</c>.
/// </summary>
public class GraphBench(ITestOutputHelper output)
{
    [SkippableFact]
    [Trait("Category", "Bench")]
    public void RadiusGraphOnAMillionUniformPoints()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("TESSERA_BENCH") == "1", "benchmark; set TESSERA_BENCH=1 to run");
        const int n = 1_000_000;
        // density 1 per unit²: radius 1.4 gives an expected degree of π·1.4² ≈ 6.16 (Visium-like)
        var x = GraphFixtures.Points(2024, n, 2, 1000.0);
        GC.Collect();
        long before = GC.GetTotalMemory(true);
        var proc = Process.GetCurrentProcess();
        var cpu0 = proc.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var g = RadiusGraph.Build(x, 1.4);
        sw.Stop();
        proc.Refresh();
        var cpu = proc.TotalProcessorTime - cpu0;
        long after = GC.GetTotalMemory(false);
        output.WriteLine($"radius graph: {g}, {sw.Elapsed.TotalSeconds:F2} s wall, {cpu.TotalSeconds:F2} s CPU on {Environment.ProcessorCount} cores, managed heap +{(after - before) / 1e6:F0} MB, peak working set {proc.PeakWorkingSet64 / 1e6:F0} MB");
        Assert.InRange(g.MeanDegree, 6.0, 6.3);
        sw.Restart();
        var k = KnnGraph.Build(x, 6);
        output.WriteLine($"kNN graph (k=6): {k}, {sw.Elapsed.TotalSeconds:F2} s");
        sw.Restart();
        double r = RadiusGraph.AutoRadius(x);
        output.WriteLine($"AutoRadius: {r:F4} in {sw.Elapsed.TotalSeconds:F2} s");
        sw.Restart();
        var capped = RadiusGraph.Build(x, 3.0, maxNeighbors: 6);
        output.WriteLine($"radius 3 capped at 6: {capped}, {sw.Elapsed.TotalSeconds:F2} s");
        Assert.True(capped.IsSymmetric);
    }
}
