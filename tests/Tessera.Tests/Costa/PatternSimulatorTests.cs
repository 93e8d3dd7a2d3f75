using Tessera.Data;
using Tessera.IO;
using Tessera.Simulate;
using Tessera.Tests.Support;

namespace Tessera.Tests.Costa;

public class PatternSimulatorTests
{
    [SkippableFact]
    public void MobPatternsAreRealRegionsAndGenesFollowThem()
    {
        var dir = SharedData.Require("mob_rep11");
        var mob = DataReader.Read(Path.Combine(dir, "Rep11_MOB_counts.csv.gz"));
        var sim = PatternSimulator.Simulate(mob, new PatternSimulatorOptions { GenesPerPattern = 20, Noise = 0.2, NonSeRatio = 0.5, Seed = 2 });
        Assert.Equal(262, sim.NObs);
        Assert.Equal(150, sim.NVars);
        var pattern = (CategoricalColumn)sim.Var["pattern"];
        Assert.Equal(["pattern1", "pattern2", "pattern3", "pattern4", "pattern5", "none"], pattern.Categories);
        Assert.Equal(50, pattern.Codes.Count(c => c == 5));
        var region = ((CategoricalColumn)sim.Obs["pattern_region"]).Codes;
        var sizes = Enumerable.Range(0, 5).Select(k => region.Count(r => r == k)).ToArray();
        Assert.All(sizes, s => Assert.True(s >= 15, string.Join(",", sizes)));
        Assert.True(sizes.SequenceEqual(sizes.OrderByDescending(s => s)));
        Assert.True(sim.HasSpatial);
        // Patterned genes are higher inside their region (fold change 3); single low-count genes can miss by chance.
        var dense = sim.X.ToDenseArray();
        var totals = sim.X.RowSums();
        int higher = 0; double ratioSum = 0;
        for (int g = 0; g < 100; g++)
        {
            int k = pattern.Codes[g];
            double inside = 0, outside = 0; int ni = 0, no = 0;
            for (int s = 0; s < 262; s++)
            {
                double v = dense[s * 150 + g];
                if (region[s] == k) { inside += v; ni++; } else { outside += v; no++; }
            }
            if (inside / ni > outside / no) higher++;
            ratioSum += (inside / ni + 0.01) / (outside / no + 0.01);
        }
        Assert.True(higher >= 95, $"{higher} of 100 genes are higher in their region");
        Assert.InRange(ratioSum / 100, 1.8, 6.0);
        // Same seed → same counts.
        var again = PatternSimulator.Simulate(mob, new PatternSimulatorOptions { GenesPerPattern = 20, Noise = 0.2, NonSeRatio = 0.5, Seed = 2 });
        Assert.Equal(sim.X.Data, again.X.Data);
    }

    [Fact]
    public void BadOptionsHaveClearMessages()
    {
        var d = new SpatialData(CsrMatrix.FromDense(new float[20, 3]), new Table(Enumerable.Range(0, 20).Select(i => $"s{i}").ToArray()), new Table(["a", "b", "c"]));
        Assert.Equal("Noise must be a variance >= 0 but is -1",
            Assert.Throws<TesseraException>(() => PatternSimulator.Simulate(d, new PatternSimulatorOptions { Noise = -1 })).Message);
        Assert.Equal("the base data has 20 spots, too few for 10 patterns",
            Assert.Throws<TesseraException>(() => PatternSimulator.Simulate(d, new PatternSimulatorOptions { Patterns = 10 })).Message);
        Assert.Equal("the base data has no variable gene",
            Assert.Throws<TesseraException>(() => PatternSimulator.Simulate(d)).Message);
    }
}
