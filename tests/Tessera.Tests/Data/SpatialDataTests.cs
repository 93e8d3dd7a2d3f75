using Tessera.Data;

namespace Tessera.Tests.Data;

public class SpatialDataTests
{
    private static SpatialData Slice(string[] obs, string[] genes, float start)
    {
        var dense = new float[obs.Length, genes.Length];
        for (int i = 0; i < obs.Length; i++) for (int j = 0; j < genes.Length; j++) dense[i, j] = start + i * 10 + j;
        var d = new SpatialData(CsrMatrix.FromDense(dense), new Table(obs), new Table(genes));
        d.Obs.Set("layer", CategoricalColumn.FromLabels(obs.Select((_, i) => i % 2 == 0 ? "L1" : "L2").ToArray()));
        d.SetObsm("spatial", new DenseMatrix(obs.Length, 2, obs.SelectMany((_, i) => new double[] { i, -i }).ToArray()));
        return d;
    }

    [Fact]
    public void DuplicateNamesAreRejected()
    {
        var ex = Assert.Throws<TesseraException>(() => new Table(["a", "b", "a"], "barcode"));
        Assert.Equal("duplicate barcode 'a'", ex.Message);
    }

    [Fact]
    public void SubsetCopiesEverythingAligned()
    {
        var d = Slice(["s0", "s1", "s2"], ["g0", "g1", "g2"], 1);
        var s = d.Subset([2, 0], [1]);
        Assert.Equal(["s2", "s0"], s.ObsNames);
        Assert.Equal(["g1"], s.VarNames);
        Assert.Equal([22f, 2f], s.X.ToDenseArray());
        Assert.Equal([2.0, -2.0, 0.0, -0.0], s.Spatial.Data);
        Assert.Equal(new string?[] { "L1", "L1" }, s.Obs.Labels("layer"));
        s.X.Data[0] = -1;
        Assert.Equal(22f, d.X[2, 1]); // source untouched
    }

    [Fact]
    public void ConcatIntersectsGenesAndAddsBatch()
    {
        var a = Slice(["x", "y"], ["g0", "g1", "g2"], 0);
        var b = Slice(["x", "z"], ["g2", "g0"], 100);
        var c = SpatialData.Concat([a, b], ["A", "B"]);
        Assert.Equal(["g0", "g2"], c.VarNames);
        Assert.Equal(["x-A", "y-A", "x-B", "z-B"], c.ObsNames);
        Assert.Equal(new string?[] { "A", "A", "B", "B" }, c.Obs.Labels("batch"));
        Assert.Equal(101f, c.X[2, 0]);
        Assert.Equal(100f, c.X[2, 1]);
        Assert.Equal(4, c.Spatial.Rows);
    }

    [Fact]
    public void UnknownColumnListsTheAvailableOnes()
    {
        var d = Slice(["s0"], ["g0"], 1);
        var ex = Assert.Throws<TesseraException>(() => d.Obs["cluster"]);
        Assert.Equal("unknown column 'cluster'; available: layer", ex.Message);
    }
}
