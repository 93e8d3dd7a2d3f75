using Tessera.Data;
using Tessera.Simulate;

namespace Tessera.Tests.Simulate;

public class SimulateTests
{
    [Theory]
    [InlineData(3.0, 2.0)]
    [InlineData(40.0, 5.0)]
    [InlineData(0.5, 1.5)]
    public void NegativeBinomialHasItsMeanAndVariance(double mu, double theta)
    {
        var rng = new Random(7);
        const int n = 100_000;
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) { double x = Distributions.NegativeBinomial(rng, mu, theta); s += x; s2 += x * x; }
        double mean = s / n, variance = s2 / n - mean * mean, expectedVar = mu + mu * mu / theta;
        Assert.InRange(mean, mu * 0.98, mu * 1.02);
        Assert.InRange(variance, expectedVar * 0.95, expectedVar * 1.05);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(9.5)]
    [InlineData(120.0)]
    public void PoissonHasItsMeanAndVariance(double lambda)
    {
        var rng = new Random(11);
        const int n = 100_000;
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) { double x = Distributions.Poisson(rng, lambda); s += x; s2 += x * x; }
        double mean = s / n, variance = s2 / n - mean * mean;
        Assert.InRange(mean, lambda * 0.98, lambda * 1.02);
        Assert.InRange(variance, lambda * 0.95, lambda * 1.05);
    }

    [Fact]
    public void SyntheticTissueIsLayeredDeterministicAndOnAVisiumGrid()
    {
        var a = SyntheticTissue.Generate(new SyntheticTissueOptions { Seed = 3 });
        var b = SyntheticTissue.Generate(new SyntheticTissueOptions { Seed = 3 });
        var c = SyntheticTissue.Generate(new SyntheticTissueOptions { Seed = 4 });
        Assert.Equal(a.X.Data, b.X.Data);
        Assert.NotEqual(a.X.Data, c.X.Data);
        var domains = a.Obs.Get<CategoricalColumn>("layer");
        Assert.Equal(["Layer1", "Layer2", "Layer3", "Layer4", "Layer5", "WM"], domains.Categories);
        // every domain is populated
        Assert.All(Enumerable.Range(0, 6), d => Assert.Contains(d, domains.Codes));
        // hex grid: array_row + array_col is even, adjacent spots are exactly one spacing apart
        var rows = a.Obs.Get<NumericColumn>("array_row").Values; var cols = a.Obs.Get<NumericColumn>("array_col").Values;
        Assert.All(Enumerable.Range(0, a.NObs), i => Assert.Equal(0, ((int)rows[i] + (int)cols[i]) % 2));
        var xy = a.Spatial;
        Assert.Equal(138.0, xy[1, 0] - xy[0, 0], 6);
        // markers are higher in their own layer: mean of L1 markers in Layer1 spots > in WM spots
        var rowSums = a.X.RowSums();
        double Mean(int domain)
        {
            double s = 0; int n = 0;
            for (int i = 0; i < a.NObs; i++) if (domains.Codes[i] == domain) { for (int g = 0; g < 12; g++) s += a.X[i, g] / rowSums[i]; n++; }
            return s / n;
        }
        Assert.True(Mean(0) > 1.8 * Mean(5), $"Layer1 markers {Mean(0)} vs WM {Mean(5)}");
        // median library size near the requested median
        var lib = a.X.RowSums().Order().ToArray();
        Assert.InRange(lib[lib.Length / 2], 2000, 3100);
    }
}
