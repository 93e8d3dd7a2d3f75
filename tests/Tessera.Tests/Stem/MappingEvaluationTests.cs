using Tessera.Data;
using Tessera.Methods.Stem;

namespace Tessera.Tests.Stem;

public class MappingEvaluationTests
{
    [Fact]
    public void ProportionScoresMatchScipy()
    {
        // Cells × spots, columns sum to 1; numbers from scipy.stats.pearsonr and Σ p log(p/q) (/usr/bin/python3).
        float[] st2scT = [0.6f, 0.2f, 0.1f, 0.3f, 0.3f, 0.2f, 0.1f, 0.5f, 0.7f];
        var map = new CellSpotProbabilities(3, 3, st2scT, st2scT);
        var truth = new DenseMatrix(3, 2, [1, 0, 0.4, 0.6, 0.25, 0.75]);
        var (r, kl, types) = MappingEvaluation.ProportionScores(map, ["A", "A", "B"], truth, ["A", "B"]);
        Assert.Equal(["A", "B"], types);
        Assert.Equal(0.9897433186107871, r[0], 5);
        Assert.Equal(0.989743318610787, r[1], 5);
        Assert.Equal(0.011987936442804752, kl[0], 5);
        Assert.Equal(0.08162084808499424, kl[1], 5);
    }

    [Fact]
    public void PerfectMappingScoresPerfectly()
    {
        // 4 cells sitting exactly on 4 spots; mapping one-hot.
        var xy = new DenseMatrix(4, 2, [0, 0, 1, 0, 0, 3, 5, 5]);
        float[] eye = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
        var map = new CellSpotProbabilities(4, 4, eye, eye);
        var props = new DenseMatrix(4, 2, [1, 0, 0, 1, 1, 0, 0, 1]);
        var s = MappingEvaluation.Evaluate(map, xy, xy, ["A", "B", "A", "B"], props, ["A", "B"]);
        Assert.Equal(1.0, s.PearsonMean, 12);
        Assert.Equal(0.0, s.KlMean, 12);
        Assert.Equal(1.0, s.Hit10); // k capped at n - 1 = 3
        Assert.Equal(0.0, s.CoordErrorAll, 12);
        Assert.Equal(0.0, s.CoordError10, 12);
    }

    [Fact]
    public void HitRateCountsSharedNeighbours()
    {
        var truth = new DenseMatrix(4, 1, [0, 1, 2, 10]);
        var pred = new DenseMatrix(4, 1, [0, 1, 10, 2]); // cells 2 and 3 swapped
        // k = 1: true NN 0→1, 1→0, 2→1, 3→2; predicted 0→1, 1→0, 2→3, 3→1 → hits 1, 1, 0, 0
        Assert.Equal(0.5, MappingEvaluation.HitRate(pred, truth, 1), 12);
    }

    [Fact]
    public void TopKCoordinatesRenormaliseWeights()
    {
        var map = new CellSpotProbabilities(1, 3, [0.5f, 0.3f, 0.2f], [1, 1, 1]);
        var c = map.Coordinates(new DenseMatrix(3, 1, [0, 10, 100]), 2);
        Assert.Equal(3.75, c[0, 0], 5); // (0.5 * 0 + 0.3 * 10) / 0.8
        Assert.Equal(23.0, map.Coordinates(new DenseMatrix(3, 1, [0, 10, 100]))[0, 0], 4);
        Assert.Equal("cell→spot matrix has 2 values but 1 x 3 were expected",
            Assert.Throws<TesseraException>(() => new CellSpotProbabilities(1, 3, [1, 2], [1, 2, 3])).Message);
    }

    [Fact]
    public void BaselinesPreferMatchingSpots()
    {
        var (sc, st, types, cellXy) = StemTests.Tissue();
        var inputs = new StemInputs(sc, st);
        var corr = MappingBaselines.Correlation(inputs);
        var tangram = MappingBaselines.Tangram(inputs, new TangramOptions { Epochs = 150 });
        foreach (var p in new[] { corr, tangram })
        {
            var s = MappingEvaluation.Evaluate(p, st.Spatial, cellXy, types, new DenseMatrix(12, 2, Enumerable.Range(0, 12).SelectMany(i => i % 4 < 2 ? new double[] { 1, 0 } : [0, 1]).ToArray()), ["A", "B"]);
            Assert.True(s.PearsonMean > 0.8, $"pearson {s.PearsonMean}");
            for (int c = 0; c < 60; c++) Assert.Equal(1.0, Enumerable.Range(0, 12).Sum(j => (double)p.CellToSpot[c * 12 + j]), 4);
        }
    }

    [Fact]
    public void SdgTableRanksTheGroupSpecificGene()
    {
        // gene "m" is high in group a only; "h" is the same everywhere.
        var rows = 8;
        var att = new DenseMatrix(rows, 2, Enumerable.Range(0, rows).SelectMany(i => new double[] { i < 4 ? 5 + i : i * 0.1, 1 + 0.01 * i }).ToArray());
        var sdg = SpatialGenes.Test(att, ["m", "h"], ["a", "a", "a", "a", "b", "b", "b", "b"]);
        Assert.Equal(4, sdg.Length);
        Assert.Equal(("a", "m", 1), (sdg[0].Group, sdg[0].Gene, sdg[0].Rank));
        Assert.True(sdg[0].Z > 0 && sdg[0].P < 0.05 && sdg[0].PAdj >= sdg[0].P);
        Assert.Equal(6.5, sdg[0].MeanInGroup, 12);
        var bm = sdg.Single(r => r.Group == "b" && r.Gene == "m");
        Assert.True(bm.Z < 0);
    }

    [Fact]
    public void HitCountsByHand()
    {
        // 3 cells, K = 3. Cell 0: predicted 1, 2, 0 vs true 2, 1, 0 -> K=1: 0, K=2: 2 ({1,2}), K=3: 3.
        // Cell 1: predicted 0, 2, 1 vs true 0, 1, 2 -> K=1: 1, K=2: 1, K=3: 3. Cell 2: predicted 2, 0, 1 vs true 1, 2, 0 -> 0, 1, 3.
        var pred = new Tessera.Analysis.KnnResult(3, 3, [1, 2, 0, 0, 2, 1, 2, 0, 1], new float[9], false);
        var truth = new Tessera.Analysis.KnnResult(3, 3, [2, 1, 0, 0, 1, 2, 1, 2, 0], new float[9], false);
        var all = MappingEvaluation.HitCounts(pred, truth);
        Assert.Equal(1 / 3.0, all[0], 12); Assert.Equal(4 / 3.0, all[1], 12); Assert.Equal(3, all[2], 12);
        Assert.Equal([0.0, 2, 3], MappingEvaluation.HitCounts(pred, truth, [0]));
        Assert.Equal([0.5, 1.5, 3], MappingEvaluation.HitCounts(pred, truth, [0, 1]));
    }

    [Fact]
    public void HitCountsOverKAreOurHitRateTimesKAndTheAuthorsCountAddsSelf()
    {
        var rng = new Random(3);
        int n = 80;
        var truth = new DenseMatrix(n, 2, Enumerable.Range(0, 2 * n).Select(_ => rng.NextDouble() * 100).ToArray());
        var pred = new DenseMatrix(n, 2, truth.Data.Select(v => v + rng.NextDouble() * 30).ToArray());
        var ours = MappingEvaluation.HitCounts(MappingEvaluation.NeighboursByDistance(pred, 30, false), MappingEvaluation.NeighboursByDistance(truth, 30, false));
        Assert.Equal(MappingEvaluation.HitRate(pred, truth, 10), ours[9] / 10, 12);
        Assert.Equal(MappingEvaluation.HitRate(pred, truth, 30), ours[29] / 30, 12);
        var authors = MappingEvaluation.HitCounts(MappingEvaluation.NeighboursByDistance(pred, 30, true), MappingEvaluation.NeighboursByDistance(truth, 30, true));
        Assert.Equal(1, authors[0]); // self at rank 0 in both lists
        // Self-included lists of length K are self + the first K − 1 others: hits(K) = 1 + ours(K − 1).
        for (int k = 2; k <= 30; k++) Assert.Equal(1 + ours[k - 2], authors[k - 1], 12);
    }

    [Fact]
    public void InnerProductNeighboursMatchANaiveRanking()
    {
        var rng = new Random(5);
        int n = 37, d = 4;
        var e = new DenseMatrix(n, d, Enumerable.Range(0, n * d).Select(_ => (double)rng.Next(-3, 4)).ToArray());
        foreach (bool self in new[] { true, false })
        {
            var got = MappingEvaluation.NeighboursByInnerProduct(e, 12, self, blockSize: 5);
            for (int i = 0; i < n; i++)
            {
                var ip = Enumerable.Range(0, n).Select(j => Enumerable.Range(0, d).Sum(c => e[i, c] * e[j, c])).ToArray();
                var expected = Enumerable.Range(0, n).Where(j => self || j != i).OrderByDescending(j => Math.Round(ip[j], 9)).ThenBy(j => j).Take(12).ToArray();
                Assert.Equal(expected, Enumerable.Range(0, 12).Select(r => got.Index(i, r)).ToArray());
                Assert.Equal(-ip[expected[0]], got.Distance(i, 0), 4);
            }
        }
        Assert.Equal("cannot rank 37 neighbours among 37 cells (self excluded)",
            Assert.Throws<TesseraException>(() => MappingEvaluation.NeighboursByInnerProduct(e, 37, false)).Message);
    }
}
