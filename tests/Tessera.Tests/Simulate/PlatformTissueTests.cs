using Tessera.Data;
using Tessera.Simulate;

namespace Tessera.Tests.Simulate;

public class PlatformTissueTests
{
    [Fact]
    public void AliasTableDrawsInProportionToTheWeights()
    {
        var t = new AliasTable([1.0, 0.0, 3.0, 6.0]);
        var rng = new Random(3);
        var c = new int[4];
        const int n = 200_000;
        for (int i = 0; i < n; i++) c[t.Sample(rng)]++;
        Assert.Equal(0, c[1]);
        Assert.InRange(c[0] / (double)n, 0.097, 0.103);
        Assert.InRange(c[2] / (double)n, 0.295, 0.305);
        Assert.InRange(c[3] / (double)n, 0.595, 0.605);
        Assert.Throws<TesseraException>(() => new AliasTable([0.0, 0.0]));
    }

    [Fact]
    public void VisiumHdTissueHasTheShapeSparsityAndLayersAsked()
    {
        var o = new PlatformTissueOptions { Spots = 5000, Genes = 2000, Seed = 4 };
        var d = PlatformTissue.Generate(o);
        Assert.Equal(5000, d.NObs);
        Assert.Equal(2000, d.NVars);
        // a few hundred UMIs per bin: median library near 300, non-zeros per bin below the UMIs
        var lib = Enumerable.Range(0, d.NObs).Select(i => RowSum(d.X, i)).Order().ToArray();
        Assert.InRange(lib[lib.Length / 2], 270, 330);
        double nnzPerBin = d.X.Nnz / (double)d.NObs;
        Assert.InRange(nnzPerBin, 50, lib[lib.Length / 2]);
        // 16 µm square grid: nearest neighbours 16 µm apart
        var s = d.Spatial;
        Assert.Equal(16.0, Math.Abs(s[1, 0] - s[0, 0]), 9);
        // truth: seven layers, each present, ordered by depth (Layer1 on top, WM at the bottom)
        var layers = d.Obs.Labels("layer");
        var names = layers.Distinct().ToArray();
        Assert.Equal(7, names.Length);
        double MeanY(string l) => Enumerable.Range(0, d.NObs).Where(i => layers[i] == l).Average(i => s[i, 1]);
        Assert.True(MeanY("Layer1") < MeanY("Layer3") && MeanY("Layer3") < MeanY("WM"));
        // markers are raised in their own layer
        int m1 = d.GeneIndex("L1_marker1");
        double In(string l) => Enumerable.Range(0, d.NObs).Where(i => layers[i] == l).Average(i => Value(d.X, i, m1) / RowSum(d.X, i));
        Assert.True(In("Layer1") > 1.5 * In("WM"));
    }

    [Fact]
    public void XeniumTissueIsAPanelOfJitteredCells()
    {
        var d = PlatformTissue.Generate(new PlatformTissueOptions { Spots = 3000, Platform = TissuePlatform.Xenium, Seed = 1 });
        Assert.Equal(400, d.NVars);
        var lib = Enumerable.Range(0, d.NObs).Select(i => RowSum(d.X, i)).Order().ToArray();
        Assert.InRange(lib[lib.Length / 2], 160, 200);
        Assert.InRange(lib[(int)(0.1 * lib.Length)], 90, 180);
        Assert.NotEqual(0.0, (d.Spatial[1, 0] - d.Spatial[0, 0]) % 10.0, 6);
    }

    [Fact]
    public void SameSeedSameTissueOtherSeedOtherCounts()
    {
        var o = new PlatformTissueOptions { Spots = 800, Genes = 500, Seed = 9 };
        var a = PlatformTissue.Generate(o);
        var b = PlatformTissue.Generate(o);
        Assert.Equal(a.X.IndPtr, b.X.IndPtr);
        Assert.Equal(a.X.Indices, b.X.Indices);
        Assert.Equal(a.X.Data, b.X.Data);
        Assert.Equal(a.Obs.Labels("layer"), b.Obs.Labels("layer"));
        var c = PlatformTissue.Generate(o with { Seed = 10 });
        Assert.NotEqual(a.X.Data, c.X.Data);
    }

    [Fact]
    public void SectionsShareLayoutAndProgrammes_AndTheBatchEffectScalesGenesByItsSigma()
    {
        var o = new PlatformTissueOptions { Spots = 3000, Genes = 500, Seed = 5 };
        var s0 = PlatformTissue.Generate(o);
        var s1 = PlatformTissue.Generate(o with { Section = 1 });
        var s1b = PlatformTissue.Generate(o with { Section = 1, BatchEffect = 0.5 });
        var other = PlatformTissue.Generate(o with { Seed = 6 });
        // same layout and truth, other reads
        Assert.Equal(s0.Obs.Labels("layer"), s1.Obs.Labels("layer"));
        Assert.Equal(s0.Spatial.ToFloatArray(), s1b.Spatial.ToFloatArray());
        Assert.NotEqual(s0.X.Data, s1.X.Data);
        // the domains' programmes: mean log profile per layer correlates across sections, not across seeds
        double same = ProfileCorrelation(s0, s1), batch = ProfileCorrelation(s0, s1b), seeds = ProfileCorrelation(s0, other);
        // measured: sections 0.994, with batch effect σ 0.5 0.951, other seed 0.601 (the marker genes are the same indices)
        var msg = $"profile correlation: sections {same:F3}, with batch effect {batch:F3}, seeds {seeds:F3}";
        Assert.True(same > 0.98, msg);
        Assert.True(batch > 0.85 && batch < same, msg);
        Assert.True(seeds < 0.75, msg);
        // gene-wise log ratio of the section totals: sd ≈ σ = 0.5 with the batch effect (plus counting noise), ≈ 0 without
        Assert.InRange(LogRatioSd(s0, s1b), 0.4, 0.6);
        Assert.InRange(LogRatioSd(s0, s1), 0.0, 0.08);
    }

    [Fact]
    public void BadOptionsAreRejected()
    {
        Assert.Contains("Section", Assert.Throws<TesseraException>(() => PlatformTissue.Generate(new PlatformTissueOptions { Section = -1 })).Message);
        Assert.Contains("BatchEffect", Assert.Throws<TesseraException>(() => PlatformTissue.Generate(new PlatformTissueOptions { BatchEffect = double.NaN })).Message);
        Assert.Contains("Genes", Assert.Throws<TesseraException>(() => PlatformTissue.Generate(new PlatformTissueOptions { Genes = 50 })).Message);
        Assert.Contains("Spots", Assert.Throws<TesseraException>(() => PlatformTissue.Generate(new PlatformTissueOptions { Spots = 3 })).Message);
    }

    // mean over layers of the Pearson correlation of that layer's mean log1p(CP10k) profile in a and in b
    private static double ProfileCorrelation(SpatialData a, SpatialData b)
    {
        var pa = LayerProfiles(a); var pb = LayerProfiles(b);
        return pa.Keys.Average(l => Pearson(pa[l], pb[l]));
    }

    private static Dictionary<string, double[]> LayerProfiles(SpatialData d)
    {
        var layers = d.Obs.Labels("layer");
        var sums = new Dictionary<string, double[]>(); var counts = new Dictionary<string, int>();
        for (int r = 0; r < d.NObs; r++)
        {
            var l = layers[r]!;
            if (!sums.TryGetValue(l, out var v)) { v = sums[l] = new double[d.NVars]; counts[l] = 0; }
            counts[l]++;
            double lib = RowSum(d.X, r);
            for (int p = d.X.IndPtr[r]; p < d.X.IndPtr[r + 1]; p++) v[d.X.Indices[p]] += d.X.Data[p] / lib * 1e4;
        }
        return sums.ToDictionary(kv => kv.Key, kv => kv.Value.Select(x => Math.Log(1 + x / counts[kv.Key])).ToArray());
    }

    private static double LogRatioSd(SpatialData a, SpatialData b)
    {
        var ta = new double[a.NVars]; var tb = new double[b.NVars];
        for (int p = 0; p < a.X.Nnz; p++) ta[a.X.Indices[p]] += a.X.Data[p];
        for (int p = 0; p < b.X.Nnz; p++) tb[b.X.Indices[p]] += b.X.Data[p];
        var r = Enumerable.Range(0, a.NVars).Where(g => ta[g] >= 400 && tb[g] >= 400).Select(g => Math.Log(tb[g] / ta[g])).ToArray();
        Assert.True(r.Length >= 50, $"{r.Length} genes with enough counts");
        double m = r.Average();
        return Math.Sqrt(r.Sum(v => (v - m) * (v - m)) / (r.Length - 1));
    }

    private static double Pearson(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my); }
        return sxy / Math.Sqrt(sxx * syy);
    }

    private static double RowSum(CsrMatrix x, int r)
    {
        double s = 0;
        for (int p = x.IndPtr[r]; p < x.IndPtr[r + 1]; p++) s += x.Data[p];
        return s;
    }

    private static double Value(CsrMatrix x, int r, int c)
    {
        for (int p = x.IndPtr[r]; p < x.IndPtr[r + 1]; p++) if (x.Indices[p] == c) return x.Data[p];
        return 0;
    }
}
