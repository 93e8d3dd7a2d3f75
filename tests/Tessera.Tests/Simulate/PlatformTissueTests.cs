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
    public void BadOptionsAreRejected()
    {
        Assert.Contains("Genes", Assert.Throws<TesseraException>(() => PlatformTissue.Generate(new PlatformTissueOptions { Genes = 50 })).Message);
        Assert.Contains("Spots", Assert.Throws<TesseraException>(() => PlatformTissue.Generate(new PlatformTissueOptions { Spots = 3 })).Message);
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
