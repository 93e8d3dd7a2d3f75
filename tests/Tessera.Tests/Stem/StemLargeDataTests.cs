using Tessera.Data;
using Tessera.Methods.Stem;
using Tessera.Simulate;
using TorchSharp;

namespace Tessera.Tests.Stem;

/// <summary>STEM above the full-batch limits (issue 17): the sparse target, the mini-batch training and the large-data outputs.</summary>
public class StemLargeDataTests
{
    /// <summary>3,000 Xenium-like cells (100 genes) and the ~300 tiled pseudo-spots aggregated from them, with the truth.</summary>
    private static readonly Lazy<StemData> Data = new(() =>
    {
        var cells = PlatformTissue.Generate(new PlatformTissueOptions { Spots = 3000, Platform = TissuePlatform.Xenium, Genes = 100, Domains = 5, Seed = 3 });
        var sim = PseudoSpots.Simulate(cells, new PseudoSpotOptions { GridX = 20, GridY = 15, CellTypeColumn = "layer", Seed = 1 });
        return new StemData(sim.Sc, sim.St) { CellTypeColumn = "layer" };
    });

    private static readonly StemOptions Common = new() { Epochs = 60, CycleStart = 20, StepSize = 30, MmdBatch = 200, IgSteps = 4, Baselines = false, Threads = 1 };

    /// <summary>Training in tiles of ~100 spots and every step after it on the large-data path (the limits forced low).</summary>
    private static readonly StemOptions Large = Common with { FullBatchMaxCells = 1000, FullBatchMaxSpots = 100, BatchSpots = 100, BatchCells = 512 };

    private static readonly Lazy<StemResult> FullResult = new(() => { using var m = StemTrainer.Fit(Data.Value, Common); return m.Result!; });
    private static readonly Lazy<StemResult> LargeResult = new(() => { using var m = StemTrainer.Fit(Data.Value, Large); return m.Result!; });

    [Fact]
    public void SparseTargetIsTheGaussianOverPairsWithinTheCutoffHandWorked()
    {
        // Points at 0, 1 and 10 on a line, σ = 1: the cut-off is 6.44, so 0 and 1 pair up (and with themselves) and 10 is alone.
        var coords = new DenseMatrix(3, 2, [0, 0, 1, 0, 10, 0]);
        var t = StemTrainer.SparseSpatialTarget(coords, 1);
        double e = Math.Exp(-0.5);
        Assert.Equal([0, 2, 4, 5], t.IndPtr);
        Assert.Equal([0, 1, 0, 1, 2], t.Indices);
        Assert.Equal(1 / (1 + e), t.Data[0], 6);
        Assert.Equal(e / (1 + e), t.Data[1], 6);
        Assert.Equal(e / (1 + e), t.Data[2], 6);
        Assert.Equal(1, t.Data[4], 6);
        // σ = 0: the identity, as the dense target.
        Assert.Equal(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, StemTrainer.SparseSpatialTarget(coords, 0).ToDenseArray());
    }

    [Fact]
    public void SparseTargetEqualsTheDenseTargetRestrictedToTheCutoff()
    {
        var rng = new Random(5);
        int n = 400;
        var xy = new double[n * 2];
        for (int i = 0; i < xy.Length; i++) xy[i] = rng.NextDouble() * 100;
        var coords = new DenseMatrix(n, 2, xy);
        double sigma = 3;
        var sparse = StemTrainer.SparseSpatialTarget(coords, sigma).ToDenseArray();
        using var dense = StemTrainer.SpatialTarget(torch.tensor(coords.ToFloatArray(), [n, 2]), sigma);
        var d = dense.data<float>().ToArray();
        double cutoff = sigma * Math.Sqrt(2 * Math.Log(1e9));
        // A naive dense computation in double: the full Gaussian row, normalised over every spot.
        double Dist(int i, int j) => Math.Sqrt(Math.Pow(xy[2 * i] - xy[2 * j], 2) + Math.Pow(xy[2 * i + 1] - xy[2 * j + 1], 2));
        int inside = 0;
        for (int i = 0; i < n; i++)
        {
            var k = Enumerable.Range(0, n).Select(j => Math.Exp(-Dist(i, j) * Dist(i, j) / (2 * sigma * sigma))).ToArray();
            double sum = k.Sum();
            for (int j = 0; j < n; j++)
            {
                if (Dist(i, j) <= cutoff)
                {
                    inside++;
                    Assert.Equal(k[j] / sum, sparse[i * n + j], 1e-6 * k[j] / sum + 1e-9);
                    // the library's dense target is float32 from float32 distances: agreement to its precision
                    Assert.Equal(d[i * n + j], sparse[i * n + j], 1e-3 * d[i * n + j] + 1e-7);
                }
                else
                {
                    Assert.Equal(0f, sparse[i * n + j]);
                    Assert.True(d[i * n + j] < 1e-8 && k[j] / sum < 1e-9, $"target ({i}, {j}) = {d[i * n + j]} beyond the cut-off");
                }
            }
        }
        Assert.InRange(inside, 3 * n, n * n / 4); // the cut-off matters: far fewer pairs than n², more than self pairs
    }

    [Fact]
    public void MiniBatchModeIsChosenAboveTheLimitsAndLogged()
    {
        var o = new StemOptions();
        Assert.Equal(0, o.ResolveBatchSpots(5000, 20000));
        Assert.Equal(StemOptions.DefaultBatchSpots, o.ResolveBatchSpots(5001, 100));
        Assert.Equal(StemOptions.DefaultBatchSpots, o.ResolveBatchSpots(100, 20001));
        Assert.Equal(0, (o with { BatchSpots = 0 }).ResolveBatchSpots(100000, 1000000));
        Assert.Equal(64, (o with { BatchSpots = 64 }).ResolveBatchSpots(10, 10));
        Assert.Throws<TesseraException>(() => (o with { BatchSpots = -1 }).Validate());
        Assert.Throws<TesseraException>(() => (o with { BatchCells = 0 }).Validate());
        // cells per step: all of them while they fit the full-batch limit, the default sample above, an explicit count capped
        Assert.Equal(20000, o.ResolveBatchCells(20000));
        Assert.Equal(StemOptions.DefaultBatchCells, o.ResolveBatchCells(20001));
        Assert.Equal(512, (o with { BatchCells = 512 }).ResolveBatchCells(5000));
        Assert.Equal(300, (o with { BatchCells = 512 }).ResolveBatchCells(300));

        var notes = new List<Progress>();
        using var m = StemTrainer.Fit(Data.Value, Large with { Epochs = 3, CycleStart = 1 }, new Support.SyncProgress(notes.Add));
        var messages = notes.Select(p => p.Message ?? "").ToList();
        Assert.Contains(messages, s => s.Contains("mini-batch: forced by BatchSpots = 100"));
        Assert.Contains(messages, s => s.Contains("cell graph by k-d tree"));
        Assert.Contains(messages, s => s.Contains("512 sampled cells per step"));
        notes.Clear();
        using (StemTrainer.Fit(Data.Value, Large with { Epochs = 2, CycleStart = 1, BatchCells = null, FullBatchMaxCells = 100000 }, new Support.SyncProgress(notes.Add)))
            Assert.Contains(notes, p => (p.Message ?? "").Contains($"all {Data.Value.Sc.NObs} cells per step"));

        // an epoch as one pass over the tiles: Epochs × tiles optimiser steps, said in the log
        notes.Clear();
        using var pass = StemTrainer.Fit(Data.Value, Large with { Epochs = 2, CycleStart = 1, MiniBatchEpoch = MiniBatchEpoch.Pass }, new Support.SyncProgress(notes.Add));
        var line = notes.Select(p => p.Message ?? "").Single(s => s.Contains(" tiles of <= "));
        int tiles = int.Parse(System.Text.RegularExpressions.Regex.Match(line, @"(\d+) tiles of <= ").Groups[1].Value);
        Assert.True(tiles > 1, line);
        Assert.Contains($"2 epochs of {tiles} optimiser steps (one pass over the tiles) = {2 * tiles} steps, 2.0 passes over the spots", line);
        Assert.Equal(2 * tiles, pass.History.Total.Count);
        Assert.Equal(3, m.History.Total.Count);
        Assert.All(m.History.Total, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void MiniBatchSameSeedTwiceIsIdentical()
    {
        using var again = StemTrainer.Fit(Data.Value, Large);
        StemTrainerTests.AssertSameResult(LargeResult.Value, again.Result!);
        using var other = StemTrainer.Fit(Data.Value, Large with { Seed = 7 });
        Assert.NotEqual(LargeResult.Value.ScEmbedding.Data, other.Result!.ScEmbedding.Data);
    }

    [Fact]
    public void MiniBatchMapsAsWellAsFullBatch()
    {
        var full = FullResult.Value.Scores!;
        var mini = LargeResult.Value.Scores!;
        // Same kind of result: neighbourhoods and positions recovered about as well as with the full batch (same epochs)...
        Assert.True(mini.CoordErrorAll < 1.25 * full.CoordErrorAll, $"error {mini.CoordErrorAll} vs full batch {full.CoordErrorAll}");
        Assert.True(mini.Hit10 > 0.6 * full.Hit10, $"hit10 {mini.Hit10} vs full batch {full.Hit10}");
        Assert.True(mini.PearsonMean > full.PearsonMean - 0.1, $"pearson {mini.PearsonMean} vs full batch {full.PearsonMean}");
        // ...and far better than placing every cell at the centre of the spots.
        var d = Data.Value;
        var truth = d.Sc.Obsm[PseudoSpots.TrueCoordsKey];
        var centre = Enumerable.Range(0, 2).Select(c => Enumerable.Range(0, d.St.NObs).Average(s => d.St.Spatial[s, c])).ToArray();
        var centred = new DenseMatrix(truth.Rows, 2, Enumerable.Range(0, truth.Rows).SelectMany(_ => centre).ToArray());
        double baseline = MappingEvaluation.CellErrors(centred, truth).Average();
        Assert.True(mini.CoordErrorAll < 0.8 * baseline, $"error {mini.CoordErrorAll} vs centre {baseline}");
    }

    [Fact]
    public void LargeDataOutputsMatchTheirDenseDefinitions()
    {
        var r = LargeResult.Value;
        var d = Data.Value;
        // Blocked evaluation = the dense evaluation of the same mapping.
        var labels = d.Sc.Obs.Labels("layer");
        var types = ((string?[])d.St.Uns[PseudoSpots.ProportionTypesKey]).Select(t => t!).ToArray();
        var dense = MappingEvaluation.Evaluate(r.DenseProbabilities(), d.St.Spatial, d.Sc.Obsm[PseudoSpots.TrueCoordsKey], labels,
            d.St.Obsm[PseudoSpots.ProportionsKey], types);
        var s = r.Scores!;
        Assert.Equal(dense.Hit10, s.Hit10, 12);
        Assert.Equal(dense.Hit50, s.Hit50, 12);
        Assert.Equal(dense.PearsonMean, s.PearsonMean, 4);
        Assert.Equal(dense.KlMean, s.KlMean, 3);
        Assert.Equal(dense.CoordError10, s.CoordError10, 2);
        Assert.Equal(dense.CoordErrorAll, s.CoordErrorAll, 2);
        // The cell graph: each cell's 15 nearest other cells by predicted coordinates (brute force), closer = heavier.
        var p = r.PredictedCoordinates;
        var adj = r.Adjacency;
        for (int i = 0; i < p.Rows; i += 97)
        {
            double Dist(int j) => Math.Sqrt(Math.Pow(p[i, 0] - p[j, 0], 2) + Math.Pow(p[i, 1] - p[j, 1], 2));
            var expected = Enumerable.Range(0, p.Rows).Where(j => j != i).OrderBy(Dist).ThenBy(j => j).Take(15).Order().ToArray();
            var row = adj.Indices[adj.IndPtr[i]..adj.IndPtr[i + 1]];
            Assert.Equal(expected, row);
            var w = adj.Data[adj.IndPtr[i]..adj.IndPtr[i + 1]];
            var byDist = row.Select((j, k) => (Dist(j), w[k])).OrderBy(t => t.Item1).Select(t => t.Item2).ToArray();
            for (int k = 1; k < byDist.Length; k++) Assert.True(byDist[k] <= byDist[k - 1]);
        }
        // Top-k mapping and coordinates: each cell's 10 spots, as the dense probabilities' top 10.
        var probs = r.DenseProbabilities();
        for (int i = 0; i < r.CellNames.Length; i += 131)
        {
            var top = Enumerable.Range(0, probs.Spots).OrderByDescending(j => probs.CellToSpot[(long)i * probs.Spots + j]).Take(10).Order().ToArray();
            Assert.Equal(top, r.CellToSpot.Indices[r.CellToSpot.IndPtr[i]..r.CellToSpot.IndPtr[i + 1]]);
        }
        Assert.Equal(probs.Coordinates(d.St.Spatial).Data, r.PredictedCoordinates.Data, (a, b) => Math.Abs(a - b) < 1e-2);
    }
}
