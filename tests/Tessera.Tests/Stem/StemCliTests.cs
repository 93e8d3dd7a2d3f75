using System.Text.Json.Nodes;
using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;

namespace Tessera.Tests.Stem;

public class StemCliTests
{
    /// <summary>The 12-spot tissue's 60 cells with their coordinates, written to tmp/cells.h5ad.</summary>
    private static SpatialData WriteTissueCells(TempDir tmp)
    {
        var (sc, _, _, xy) = StemTests.Tissue();
        var cells = sc.Subset();
        cells.SetObsm(SpatialData.SpatialKey, xy);
        H5ad.Write(cells, tmp.File("cells.h5ad"));
        return cells;
    }

    /// <summary>The 12-spot tissue's cells (with coordinates) through `simulate pseudo-spots` into tmp/sim (4x3 grid, capture 0.6-0.8).</summary>
    private static void SimulateTissue(TempDir tmp)
    {
        WriteTissueCells(tmp);
        var sim = CliRunner.Run("simulate", "pseudo-spots", tmp.File("cells.h5ad"), "--grid", "4x3", "--capture", "0.6-0.8", "--min-cells", "2",
            "--cell-type-column", "type", "--out", tmp.File("sim"));
        Assert.True(sim.Code == 0, sim.Out + sim.Err);
        Assert.Contains("design: tiled (the default", sim.Out + sim.Err);
    }

    [Fact]
    public void SimulateDesignAuthorsCapturesEveryCellInItsWindows()
    {
        using var tmp = new TempDir();
        var cells = WriteTissueCells(tmp);
        var sim = CliRunner.Run("simulate", "pseudo-spots", tmp.File("cells.h5ad"), "--design", "authors", "--grid", "4x3", "--min-cells", "1",
            "--cell-type-column", "type", "--out", tmp.File("sim"));
        Assert.True(sim.Code == 0, sim.Out + sim.Err);
        Assert.Contains("design: authors, bin side 0.55 x step, capture 1-1", sim.Out + sim.Err);
        var st = H5ad.Read(tmp.File("sim/st.h5ad"));
        Assert.Equal(st.Obs.Get<NumericColumn>("n_cells").Values, st.Obs.Get<NumericColumn>("n_captured").Values);
        // The library's own run of the same design gives the same spots.
        var lib = Tessera.Simulate.PseudoSpots.Simulate(cells, Tessera.Simulate.PseudoSpotOptions.Authors with { GridX = 4, GridY = 3, MinCells = 1, CellTypeColumn = "type" });
        Assert.Equal(lib.St.ObsNames, st.ObsNames);
        Assert.Equal(lib.St.X.ToDenseArray(), st.X.ToDenseArray());
        var bad = CliRunner.Run("simulate", "pseudo-spots", tmp.File("cells.h5ad"), "--design", "paper", "--out", tmp.File("bad"));
        Assert.Equal(2, bad.Code);
    }

    [Fact]
    public void MapBatchSpotsForcesMiniBatchAndSaysSo()
    {
        using var tmp = new TempDir();
        SimulateTissue(tmp);
        var map = CliRunner.Run("map", "--sc", tmp.File("sim/sc.h5ad"), "--st", tmp.File("sim/st.h5ad"), "--cell-type-column", "type",
            "--epochs", "4", "--batch-spots", "6", "--batch-cells", "30", "--mmd-batch", "10", "--ig-steps", "2", "--no-baselines", "--out", tmp.File("map"));
        Assert.True(map.Code == 0, map.Out + map.Err);
        Assert.Contains("mini-batch: forced by BatchSpots = 6; 2 tiles", map.Out + map.Err);
        Assert.True(File.Exists(tmp.File("map/mapping_topk.csv")));
        var full = CliRunner.Run("map", "--sc", tmp.File("sim/sc.h5ad"), "--st", tmp.File("sim/st.h5ad"), "--epochs", "2", "--batch-spots", "0",
            "--mmd-batch", "10", "--no-baselines", "--out", tmp.File("full"));
        Assert.True(full.Code == 0, full.Out + full.Err);
        Assert.Contains("full batch (forced by BatchSpots = 0)", full.Out + full.Err);
        var bad = CliRunner.Run("map", "--sc", tmp.File("sim/sc.h5ad"), "--st", tmp.File("sim/st.h5ad"), "--batch-spots", "-1", "--out", tmp.File("bad"));
        Assert.Equal(2, bad.Code);
        Assert.Contains("--batch-spots", bad.Err);
        Assert.False(Directory.Exists(tmp.File("bad")) && Directory.EnumerateFileSystemEntries(tmp.File("bad")).Any());
    }

    [Fact]
    public void SimulateThenMapWritesResultsAndMetrics()
    {
        using var tmp = new TempDir();
        SimulateTissue(tmp);
        var st = H5ad.Read(tmp.File("sim/st.h5ad"));
        Assert.Equal(12, st.NObs);
        Assert.True(st.Obsm.ContainsKey("proportions"));
        Assert.False(H5ad.Read(tmp.File("sim/sc.h5ad")).HasSpatial);

        var map = CliRunner.Run("map", "--sc", tmp.File("sim/sc.h5ad"), "--st", tmp.File("sim/st.h5ad"), "--cell-type-column", "type",
            "--epochs", "20", "--tangram-epochs", "20", "--mmd-batch", "30", "--ig-steps", "10", "--top-k", "3", "--out", tmp.File("map"));
        Assert.True(map.Code == 0, map.Out + map.Err);
        Assert.Contains("method: stem (the default", map.Out + map.Err);
        Assert.True(File.Exists(tmp.File("map/adjacency_topk.csv")));
        var metrics = JsonNode.Parse(File.ReadAllText(tmp.File("map/metrics.json")))!.AsObject();
        Assert.Equal(["stem", "correlation", "tangram"], metrics.Select(kv => kv.Key));
        foreach (var (_, m) in metrics)
            foreach (var key in new[] { "pearson_mean", "kl_mean", "hit10", "hit30", "hit50", "coord_error_all" }) Assert.NotNull(m![key]);
        var res = H5ad.Read(tmp.File("map/result_sc.h5ad"));
        Assert.Equal(128, res.Obsm["X_stem"].Cols);
        Assert.Equal(2, res.Obsm["spatial_pred"].Cols);
        Assert.Equal(60 * 3 + 1, File.ReadAllLines(tmp.File("map/mapping_topk.csv")).Length);
        Assert.StartsWith("group,gene,rank,z,", File.ReadAllLines(tmp.File("map/sdg.csv"))[0]);
        Assert.True(File.Exists(tmp.File("map/cells_predicted.png")) && File.Exists(tmp.File("map/cells_true.png")) && File.Exists(tmp.File("map/sdg_heatmap.png")));
        var training = File.ReadAllLines(tmp.File("map/training.csv"));
        Assert.Equal("epoch,total,spatial,mmd", training[0]); // 20 epochs end before the cycle ramp (epoch 50)
        Assert.Equal(21, training.Length);
        Assert.True(File.Exists(tmp.File("map/loss.png")));

        var bad = CliRunner.Run("map", "--sc", tmp.File("sim/sc.h5ad"), "--st", tmp.File("sim/st.h5ad"), "--cell-type-column", "kind", "--out", tmp.File("bad"));
        Assert.Equal(2, bad.Code);
        Assert.Contains("SC obs column 'kind' not found; available: type, pseudo_spot", bad.Out + bad.Err);
    }

    [Fact]
    public void ZScoredInputNeedsNoNormalize()
    {
        using var tmp = new TempDir();
        var (sc, _, _, xy) = StemTests.Tissue();
        // Centre each gene: z-score-like values with negatives, as the seqFISH cortex data.
        var dense = sc.X.ToDenseArray();
        int g = sc.NVars, n = sc.NObs;
        var x = new float[n, g];
        for (int j = 0; j < g; j++)
        {
            double mean = Enumerable.Range(0, n).Average(i => dense[i * g + j]);
            for (int i = 0; i < n; i++) x[i, j] = (float)(dense[i * g + j] - mean);
        }
        var cells = new SpatialData(CsrMatrix.FromDense(x), sc.Obs, sc.Var);
        cells.SetObsm(SpatialData.SpatialKey, xy);
        H5ad.Write(cells, tmp.File("z.h5ad"));
        var sim = CliRunner.Run("simulate", "pseudo-spots", tmp.File("z.h5ad"), "--allow-negative", "--aggregate", "mean", "--grid", "4x3",
            "--capture", "1-1", "--min-cells", "2", "--cell-type-column", "type", "--out", tmp.File("sim"));
        Assert.True(sim.Code == 0, sim.Out + sim.Err);
        var st = H5ad.Read(tmp.File("sim/st.h5ad"));
        Assert.True(st.X.Data.Min() < 0);

        var bad = CliRunner.Run("map", "--sc", tmp.File("sim/sc.h5ad"), "--st", tmp.File("sim/st.h5ad"), "--epochs", "5", "--out", tmp.File("bad"));
        Assert.Equal(2, bad.Code);
        Assert.Contains("has a negative value", bad.Out + bad.Err);
        Assert.Contains("turn normalisation off (option --no-normalize)", bad.Out + bad.Err);
        Assert.DoesNotContain("   at ", bad.Out + bad.Err); // no stack trace

        var ok = CliRunner.Run("map", "--sc", tmp.File("sim/sc.h5ad"), "--st", tmp.File("sim/st.h5ad"), "--no-normalize", "--epochs", "5",
            "--mmd-batch", "20", "--out", tmp.File("map"));
        Assert.True(ok.Code == 0, ok.Out + ok.Err);
        Assert.Contains("values used as given", ok.Out + ok.Err);
    }

    [Fact]
    public void MapMethodTangramAndBothWriteTheSameOutputs()
    {
        using var tmp = new TempDir();
        SimulateTissue(tmp);
        string[] common = ["--sc", tmp.File("sim/sc.h5ad"), "--st", tmp.File("sim/st.h5ad"), "--cell-type-column", "type", "--epochs", "20",
            "--tangram-epochs", "30", "--mmd-batch", "30", "--ig-steps", "5", "--top-k", "3"];

        var t = CliRunner.Run(["map", .. common, "--method", "tangram", "--out", tmp.File("t")]);
        Assert.True(t.Code == 0, t.Out + t.Err);
        Assert.Contains("method: tangram", t.Out + t.Err);
        Assert.DoesNotContain("the default", t.Out + t.Err);
        var metrics = JsonNode.Parse(File.ReadAllText(tmp.File("t/metrics.json")))!.AsObject();
        Assert.Equal(["tangram"], metrics.Select(kv => kv.Key));
        var res = H5ad.Read(tmp.File("t/result_sc.h5ad"));
        Assert.Equal(2, res.Obsm["tangram_spatial_pred"].Cols);
        Assert.False(res.Obsm.ContainsKey("X_tangram")); // no embedding
        Assert.True(H5ad.Read(tmp.File("t/result_st.h5ad")).Obsm.ContainsKey("tangram_proportions"));
        Assert.Equal(60 * 3 + 1, File.ReadAllLines(tmp.File("t/mapping_topk.csv")).Length);
        Assert.Equal(60 * 15 + 1, File.ReadAllLines(tmp.File("t/adjacency_topk.csv")).Length);
        Assert.Equal("cell,rank,neighbour,weight", File.ReadAllLines(tmp.File("t/adjacency_topk.csv"))[0]);
        Assert.StartsWith("group,gene,rank,z,", File.ReadAllLines(tmp.File("t/sdg.csv"))[0]);
        Assert.Equal("epoch,total,gene_cosine,spot_cosine", File.ReadAllLines(tmp.File("t/training.csv"))[0]);
        Assert.True(File.Exists(tmp.File("t/cells_predicted.png")) && File.Exists(tmp.File("t/loss.png")));

        var both = CliRunner.Run(["map", .. common, "--method", "both", "--out", tmp.File("both")]);
        Assert.True(both.Code == 0, both.Out + both.Err);
        foreach (var f in new[] { "stem/result_sc.h5ad", "stem/mapping_topk.csv", "stem/metrics.json", "stem/training.csv", "tangram/result_sc.h5ad",
                     "tangram/mapping_topk.csv", "tangram/metrics.json", "tangram/training.csv", "comparison.png" })
            Assert.True(File.Exists(tmp.File("both/" + f)), f);
        // The same seed gives the same Tangram mapping in both runs.
        Assert.Equal(File.ReadAllText(tmp.File("t/mapping_topk.csv")), File.ReadAllText(tmp.File("both/tangram/mapping_topk.csv")));
        var run = JsonNode.Parse(File.ReadAllText(tmp.File("both/run.json")))!;
        Assert.Equal(["stem", "tangram"], run["metrics"]!.AsObject().Select(kv => kv.Key));

        var bad = CliRunner.Run(["map", .. common, "--method", "tangrams", "--out", tmp.File("bad")]);
        Assert.Equal(2, bad.Code);
    }
}
