using Tessera.Data;
using Tessera.Simulate;

namespace Tessera.Tests.Stem;

public class PseudoSpotsTests
{
    // 6 cells, 2 genes in a 10 x 10 box; a 2x2 grid puts cells 0-2 in bin (0,0), 3-4 in bin (1,1) and cell 5 alone in bin (0,1).
    private static SpatialData Cells()
    {
        var x = CsrMatrix.FromDense(new float[,] { { 1, 0 }, { 2, 1 }, { 0, 3 }, { 4, 4 }, { 5, 0 }, { 9, 9 } });
        var obs = new Table(["c0", "c1", "c2", "c3", "c4", "c5"]);
        obs.Set("type", new StringColumn(["A", "A", "B", "B", "A", "B"]));
        var d = new SpatialData(x, obs, new Table(["g0", "g1"]));
        d.SetObsm(SpatialData.SpatialKey, new DenseMatrix(6, 2, [0, 0, 1, 0, 0, 1, 10, 10, 9, 10, 0, 9]));
        return d;
    }

    [Fact]
    public void SumsCellsOfEachBinAndStoresTruth()
    {
        var input = Cells();
        var r = PseudoSpots.Simulate(input, new PseudoSpotOptions { GridX = 2, GridY = 2, MinCells = 2, CaptureMin = 1, CaptureMax = 1, CellTypeColumn = "type" });
        Assert.Equal(["spot_0_0", "spot_1_1"], r.St.ObsNames);
        Assert.Equal(new float[] { 3, 4, 9, 4 }, r.St.X.ToDenseArray());
        Assert.Equal(["A", "B"], r.Types);
        var p = r.St.Obsm[PseudoSpots.ProportionsKey];
        double[] expected = [2 / 3.0, 1 / 3.0, 0.5, 0.5];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], p.Data[i], 12);
        Assert.Equal(new double[] { 2.5, 2.5, 7.5, 7.5 }, r.St.Spatial.Data);
        Assert.False(r.Sc.HasSpatial);
        Assert.Equal(input.Spatial.Data, r.Sc.Obsm[PseudoSpots.TrueCoordsKey].Data);
        Assert.Equal(new string?[] { "spot_0_0", "spot_0_0", "spot_0_0", "spot_1_1", "spot_1_1", null }, r.Sc.Obs.Get<StringColumn>("pseudo_spot").Values);
        Assert.True(input.HasSpatial); // input untouched
    }

    [Fact]
    public void AuthorsDesignSumsEveryCellInsideWindowsAtLinspaceCentres()
    {
        // Field x 0..20, y 0..10; a 3x2 linspace grid puts centres at x 0, 10, 20 and y 0, 10 (step 10), windows of
        // 0.55 x 10 = 5.5 (half 2.75). By hand: c0 (0,0), c1 (2,1) in spot_0_0; c2 (3,0) 3 > 2.75 from x 0: none; c3 (10,10),
        // c4 (9,8), c5 (11,9.5) in spot_1_1; c6 (20,0) alone in spot_2_0 (dropped: 1 < 2 cells); c7 (6,5) none;
        // c8 (20,10), c9 (18,9) in spot_2_1.
        float[,] x = new float[10, 2];
        for (int i = 0; i < 10; i++) { x[i, 0] = i + 1; x[i, 1] = 1; }
        var obs = new Table(Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray());
        var d = new SpatialData(CsrMatrix.FromDense(x), obs, new Table(["g0", "g1"]));
        d.SetObsm(SpatialData.SpatialKey, new DenseMatrix(10, 2, [0, 0, 2, 1, 3, 0, 10, 10, 9, 8, 11, 9.5, 20, 0, 6, 5, 20, 10, 18, 9]));
        var r = PseudoSpots.Simulate(d, PseudoSpotOptions.Authors with { GridX = 3, GridY = 2, MinCells = 2 });
        Assert.Equal(["spot_0_0", "spot_1_1", "spot_2_1"], r.St.ObsNames);
        Assert.Equal(new double[] { 0, 0, 10, 10, 20, 10 }, r.St.Spatial.Data);
        Assert.Equal(new float[] { 3, 2, 15, 3, 19, 2 }, r.St.X.ToDenseArray());
        Assert.Equal(new double[] { 2, 3, 2 }, r.St.Obs.Get<NumericColumn>("n_captured").Values);
        Assert.Equal(r.St.Obs.Get<NumericColumn>("n_cells").Values, r.St.Obs.Get<NumericColumn>("n_captured").Values); // no random capture
        Assert.Equal(new string?[] { "spot_0_0", "spot_0_0", null, "spot_1_1", "spot_1_1", "spot_1_1", null, null, "spot_2_1", "spot_2_1" },
            r.Sc.Obs.Get<StringColumn>("pseudo_spot").Values);
        // Full capture makes the result independent of the seed.
        Assert.Equal(r.St.X.ToDenseArray(), PseudoSpots.Simulate(d, PseudoSpotOptions.Authors with { GridX = 3, GridY = 2, MinCells = 2, Seed = 9 }).St.X.ToDenseArray());
        Assert.Equal(PseudoSpotDesign.Tiled, new PseudoSpotOptions().Design);
        Assert.Equal("the authors' design places spots on a linspace grid and needs at least 2 points per axis, got 1x2",
            Assert.Throws<TesseraException>(() => PseudoSpots.Simulate(d, PseudoSpotOptions.Authors with { GridX = 1, GridY = 2 })).Message);
    }

    [Fact]
    public void MeanAggregateAveragesTheCapturedCells()
    {
        // Same bins as above: spot_0_0 = cells 0-2 (g0 1, 2, 0; g1 0, 1, 3), spot_1_1 = cells 3-4 (g0 4, 5; g1 4, 0).
        var r = PseudoSpots.Simulate(Cells(), new PseudoSpotOptions { GridX = 2, GridY = 2, MinCells = 2, CaptureMin = 1, CaptureMax = 1, Aggregate = SpotAggregate.Mean });
        var v = r.St.X.ToDenseArray();
        float[] expected = [1, 4 / 3f, 4.5f, 2];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], v[i], 5);
    }

    [Fact]
    public void CapturesAFractionDeterministically()
    {
        int n = 20;
        var x = CsrMatrix.FromDense(new float[n, 1]);
        var d = new SpatialData(x, new Table(Enumerable.Range(0, n).Select(i => $"c{i}").ToArray()), new Table(["g"]));
        d.SetObsm(SpatialData.SpatialKey, new DenseMatrix(n, 2, Enumerable.Range(0, n).SelectMany(i => new double[] { i * 0.01, 0 }).ToArray()));
        var o = new PseudoSpotOptions { GridX = 1, GridY = 1, BinFraction = 1, CaptureMin = 0.5, CaptureMax = 0.5, Seed = 3 };
        var a = PseudoSpots.Simulate(d, o);
        var b = PseudoSpots.Simulate(d, o);
        Assert.Equal(10.0, a.St.Obs.Get<NumericColumn>("n_captured").Values[0]);
        Assert.Equal(20.0, a.St.Obs.Get<NumericColumn>("n_cells").Values[0]);
        Assert.Equal(a.Sc.Obs.Get<StringColumn>("pseudo_spot").Values, b.Sc.Obs.Get<StringColumn>("pseudo_spot").Values);
        var c = PseudoSpots.Simulate(d, o with { Seed = 4 });
        Assert.NotEqual(a.Sc.Obs.Get<StringColumn>("pseudo_spot").Values, c.Sc.Obs.Get<StringColumn>("pseudo_spot").Values);
    }

    [Fact]
    public void BadInputsHaveClearMessages()
    {
        var d = Cells();
        Assert.Equal("cell-type column 'celltype' not found; available: type",
            Assert.Throws<TesseraException>(() => PseudoSpots.Simulate(d, new PseudoSpotOptions { CellTypeColumn = "celltype" })).Message);
        Assert.Equal("no bin of the 2x2 grid holds at least 4 cells; use a coarser grid",
            Assert.Throws<TesseraException>(() => PseudoSpots.Simulate(d, new PseudoSpotOptions { GridX = 2, GridY = 2, MinCells = 4 })).Message);
        Assert.Equal("CaptureMax must be in [0.8, 1] but is 0.6",
            Assert.Throws<TesseraException>(() => PseudoSpots.Simulate(d, new PseudoSpotOptions { CaptureMin = 0.8, CaptureMax = 0.6 })).Message);
        d.Obsm.Remove(SpatialData.SpatialKey);
        Assert.Equal("pseudo-spot simulation needs cell coordinates (obsm 'spatial')",
            Assert.Throws<TesseraException>(() => PseudoSpots.Simulate(d)).Message);
    }
}
