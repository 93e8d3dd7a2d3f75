using Tessera.Data;
using Tessera.Methods.Stem;
using Tessera.Simulate;

namespace Tessera.Tests.Stem;

/// <summary>The Tangram-style mapping as a method: TangramMapper.Fit → TangramResult (STEM's outputs without an embedding).</summary>
public class TangramTests
{
    private static readonly TangramOptions Small = new() { Epochs = 150, TopK = 3, CoordTopK = 2, AdjacencyK = 4 };

    private static StemData Simulated() => StemTrainerTests.Simulated();

    [Fact]
    public void SpotsThatAreSingleCellsAreMappedBackToThoseCells()
    {
        // Hand-worked: 4 cells with disjoint marker genes, each spot is exactly one cell (spot j = cell 3 − j). The per-gene and
        // per-spot cosines both reach 1 only for the permutation mapping, so every cell must go to its own spot.
        var x = new float[4, 8];
        for (int i = 0; i < 4; i++) { x[i, 2 * i] = 10; x[i, 2 * i + 1] = 4; }
        var y = new float[4, 8];
        for (int j = 0; j < 4; j++) for (int g = 0; g < 8; g++) y[j, g] = x[3 - j, g];
        var genes = new Table(Enumerable.Range(0, 8).Select(g => $"g{g}").ToArray());
        var sc = new SpatialData(CsrMatrix.FromDense(x), new Table(["c0", "c1", "c2", "c3"]), genes);
        var st = new SpatialData(CsrMatrix.FromDense(y), new Table(["s0", "s1", "s2", "s3"]), genes.Clone());
        st.SetObsm(SpatialData.SpatialKey, new DenseMatrix(4, 2, [0, 0, 10, 0, 0, 10, 10, 10]));
        var res = TangramMapper.Fit(new StemData(sc, st), Small with { Epochs = 300 });
        Assert.Equal([3, 2, 1, 0], res.BestSpot);
        var p = res.DenseProbabilities();
        for (int i = 0; i < 4; i++) Assert.True(p.CellToSpot[i * 4 + 3 - i] > 0.95, $"cell {i}: {p.CellToSpot[i * 4 + 3 - i]}");
        // Predicted coordinates are those of the cell's spot (within the leftover 5 % of mass × 10 units).
        double[] spotXy = [0, 0, 10, 0, 0, 10, 10, 10];
        for (int i = 0; i < 4; i++)
            for (int d = 0; d < 2; d++) Assert.Equal(spotXy[2 * (3 - i) + d], res.PredictedCoordinates[i, d], 0.5);
        Assert.Equal(-2, res.FinalLoss, 0.02); // both cosine terms at 1
        Assert.Null(res.Scores);
        Assert.Null(res.SpatiallyDominantGenes);
    }

    [Fact]
    public void OutputsFollowFromTheDenseMappingAsWorkedByHand()
    {
        var data = Simulated();
        var res = TangramMapper.Fit(data, Small);
        var p = res.DenseProbabilities();
        int nc = p.Cells, ns = p.Spots;
        Assert.Equal(data.Sc.NObs, nc); Assert.Equal(data.St.NObs, ns);
        var coords = data.St.Spatial;
        for (int i = 0; i < nc; i++)
        {
            double rowSum = 0, x = 0, yv = 0; int best = 0;
            for (int j = 0; j < ns; j++)
            {
                double v = p.CellToSpot[i * ns + j];
                rowSum += v; x += v * coords[j, 0]; yv += v * coords[j, 1];
                if (v > p.CellToSpot[i * ns + best]) best = j;
            }
            Assert.Equal(1, rowSum, 4);
            Assert.Equal(x, res.PredictedCoordinates[i, 0], 2);
            Assert.Equal(yv, res.PredictedCoordinates[i, 1], 2);
            Assert.Equal(best, res.BestSpot[i]);
            Assert.Equal(3, res.CellToSpot.IndPtr[i + 1] - res.CellToSpot.IndPtr[i]);
            // The top-2 coordinates: the two largest probabilities, renormalised.
            var top = Enumerable.Range(0, ns).OrderByDescending(j => p.CellToSpot[i * ns + j]).Take(2).ToArray();
            double w0 = p.CellToSpot[i * ns + top[0]], w1 = p.CellToSpot[i * ns + top[1]];
            Assert.Equal((w0 * coords[top[0], 0] + w1 * coords[top[1], 0]) / (w0 + w1), res.PredictedCoordinatesTopK[i, 0], 2);
        }
        // Spot → cell: P normalised per spot; the proportions sum it per type.
        for (int j = 0; j < ns; j++)
        {
            double col = 0, a = 0;
            for (int i = 0; i < nc; i++) col += p.CellToSpot[i * ns + j];
            for (int i = 0; i < nc; i++)
            {
                Assert.Equal(p.CellToSpot[i * ns + j] / col, p.SpotToCellT[i * ns + j], 4);
                if (data.Sc.Obs.Labels("type")[i] == "A") a += p.CellToSpot[i * ns + j] / col;
            }
            Assert.Equal(a, res.Proportions![j, Array.IndexOf(res.Types!, "A")], 4);
        }
        // Cell graph: each cell's 4 largest entries of (sc2st · st2sc) without itself, by a naive product.
        var adj = res.Adjacency.ToDenseArray();
        for (int i = 0; i < nc; i++)
        {
            var w = new double[nc];
            for (int c = 0; c < nc; c++) for (int j = 0; j < ns; j++) w[c] += p.CellToSpot[i * ns + j] * (double)p.SpotToCellT[c * ns + j];
            var expected = Enumerable.Range(0, nc).Where(c => c != i).OrderByDescending(c => w[c]).Take(4).ToArray();
            var got = Enumerable.Range(0, nc).Where(c => adj[i * nc + c] != 0).ToArray();
            Assert.Equal(4, got.Length);
            Assert.Equal(expected.Order(), got);
            foreach (var c in got) Assert.Equal(w[c], adj[i * nc + c], 4);
        }
        // Scores are those of the dense mapping against the truth; metrics.json holds them under "tangram".
        Assert.NotNull(res.Scores);
        Assert.Equal(["tangram"], res.MetricsJson()!.Select(kv => kv.Key));
        Assert.Equal(2, res.SpatiallyDominantGenes!.Select(s => s.Group).Distinct().Count());
    }

    [Fact]
    public void SameSeedSameMappingAndStemsBaselineIsTheSameMapping()
    {
        var data = Simulated();
        var a = TangramMapper.Fit(data, Small);
        var b = TangramMapper.Fit(data, Small);
        Assert.Equal(a.CellToSpot.ToDenseArray(), b.CellToSpot.ToDenseArray());
        Assert.Equal(a.PredictedCoordinates.Data, b.PredictedCoordinates.Data);
        Assert.Equal(a.Adjacency.ToDenseArray(), b.Adjacency.ToDenseArray());
        Assert.Equal(a.SpatiallyDominantGenes, b.SpatiallyDominantGenes);
        Assert.Equal(a.MetricsJson()!.ToJsonString(), b.MetricsJson()!.ToJsonString());
        var c = TangramMapper.Fit(data, Small with { Seed = 5 });
        Assert.NotEqual(a.PredictedCoordinates.Data, c.PredictedCoordinates.Data);
        // STEM's Tangram-style baseline trains the same mapping on the same inputs: identical scores.
        var baseline = MappingBaselines.Tangram(new StemInputs(data.Sc, data.St), Small);
        var s = MappingEvaluation.Evaluate(baseline, data.St.Spatial, data.Sc.Obsm[PseudoSpots.TrueCoordsKey], data.Sc.Obs.Labels("type"),
            data.St.Obsm[PseudoSpots.ProportionsKey], (string[])data.St.Uns[PseudoSpots.ProportionTypesKey]);
        Assert.Equal(s, a.Scores! with { Types = s.Types, Pearson = s.Pearson, Kl = s.Kl });
        Assert.Equal(s.Pearson, a.Scores!.Pearson);
    }

    [Fact]
    public void CosineAttributionsSumToTheCellsCosineWithItsBestSpot()
    {
        var data = Simulated();
        var inputs = new StemInputs(data.Sc, data.St);
        var best = Enumerable.Range(0, inputs.NCells).Select(i => i % inputs.NSpots).ToArray();
        var att = TangramMapper.CosineAttributions(inputs, best);
        int g = inputs.Genes.Length;
        for (int i = 0; i < inputs.NCells; i++)
        {
            double dot = 0, nx = 0, ny = 0;
            for (int k = 0; k < g; k++)
            {
                double x = inputs.Sc[i * g + k], y = inputs.St[best[i] * g + k];
                dot += x * y; nx += x * x; ny += y * y;
            }
            Assert.Equal(dot / Math.Sqrt(nx * ny), Enumerable.Range(0, g).Sum(k => att[i, k]), 6);
        }
        Assert.Equal("best spots have 2 entries but the inputs have 60 cells",
            Assert.Throws<TesseraException>(() => TangramMapper.CosineAttributions(inputs, [0, 1])).Message);
    }

    [Fact]
    public void AddToWritesPrefixedKeysBesideStems()
    {
        var data = Simulated();
        var res = TangramMapper.Fit(data, Small with { Epochs = 20 });
        var sc = data.Sc.Subset(); var st = data.St.Subset();
        res.AddTo(new StemData(sc, st));
        Assert.Equal(res.PredictedCoordinates.Data, sc.Obsm["tangram_spatial_pred"].Data);
        Assert.True(sc.Obsm.ContainsKey("tangram_spatial_pred_top2"));
        Assert.False(sc.Obsm.ContainsKey("spatial_pred")); // STEM's key stays free
        Assert.Equal(data.St.ObsNames[res.BestSpot[0]], sc.Obs.Labels("tangram_best_spot")[0]);
        Assert.Equal(res.Proportions!.Data, st.Obsm["tangram_proportions"].Data);
        Assert.Equal("the data have 3 cells but the mapping has 60",
            Assert.Throws<TesseraException>(() => res.AddTo(data.Sc.Subset([0, 1, 2], null))).Message);
        Assert.Equal("AdjacencyK must be at least 1 but is 0", Assert.Throws<TesseraException>(() => TangramMapper.Fit(data, Small with { AdjacencyK = 0 })).Message);
    }
}
