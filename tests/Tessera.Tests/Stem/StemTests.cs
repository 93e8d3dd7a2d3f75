using Tessera.Data;
using Tessera.Methods.Stem;
using TorchSharp;

namespace Tessera.Tests.Stem;

public class StemTests
{
    /// <summary>12 spots on a 4 × 3 grid (spacing 10); left half type A (markers g0, g1), right half type B (g2, g3); 5 cells per spot.</summary>
    internal static (SpatialData Sc, SpatialData St, string[] Types, DenseMatrix CellXy) Tissue(int seed = 1)
    {
        var rng = new Random(seed);
        int spots = 12, per = 5, genes = 6;
        var cell = new float[spots * per, genes];
        var spot = new float[spots, genes];
        var types = new string[spots * per];
        var sxy = new double[spots * 2]; var cxy = new double[spots * per * 2];
        for (int s = 0; s < spots; s++)
        {
            int gx = s % 4, gy = s / 4;
            sxy[2 * s] = gx * 10; sxy[2 * s + 1] = gy * 10;
            bool a = gx < 2;
            for (int c = 0; c < per; c++)
            {
                int i = s * per + c;
                types[i] = a ? "A" : "B";
                cxy[2 * i] = gx * 10 + rng.NextDouble() * 4 - 2; cxy[2 * i + 1] = gy * 10 + rng.NextDouble() * 4 - 2;
                for (int g = 0; g < genes; g++)
                {
                    double mean = g switch { 0 or 1 => a ? 8 + 2 * gx : 1, 2 or 3 => a ? 1 : 6 + 2 * gx, _ => 4 + gy };
                    cell[i, g] = (float)Math.Round(mean * (0.5 + rng.NextDouble()));
                    spot[s, g] += cell[i, g];
                }
            }
        }
        var geneNames = Enumerable.Range(0, genes).Select(g => $"g{g}").ToArray();
        var obs = new Table(Enumerable.Range(0, spots * per).Select(i => $"cell{i}").ToArray());
        obs.Set("type", new StringColumn(types));
        var sc = new SpatialData(CsrMatrix.FromDense(cell), obs, new Table(geneNames));
        var st = new SpatialData(CsrMatrix.FromDense(spot), new Table(Enumerable.Range(0, spots).Select(i => $"spot{i}").ToArray()), new Table(geneNames));
        st.SetObsm(SpatialData.SpatialKey, new DenseMatrix(spots, 2, sxy));
        return (sc, st, types, new DenseMatrix(spots * per, 2, cxy));
    }

    [Fact]
    public void MmdMatchesReferenceBroadcastFormula()
    {
        // Values from the reference MMD_loss formula (numpy, (n+m)^2 x d broadcast), /usr/bin/python3.
        using var x = torch.tensor(new float[] { 0, 0, 1, 0, 0, 2 }, [3, 2]);
        using var y = torch.tensor(new float[] { 1, 1, 2, 2 }, [2, 2]);
        using var m = StemTrainer.Mmd(x, y);
        Assert.Equal(2.686027375501806, m.item<float>(), 5);
        using var x2 = torch.tensor(new float[] { 0.5f, -1, 2, 1, 0, 0.3f, 0, 2, 1, -1, -1, -1 }, [4, 3]);
        using var y2 = torch.tensor(new float[] { 1, 1, 0, 2, 2, 2, 0, 0, 0.5f }, [3, 3]);
        using var m2 = StemTrainer.Mmd(x2, y2);
        Assert.Equal(1.0501102657298835, m2.item<float>(), 5);
    }

    [Fact]
    public void SpatialTargetAndDefaultSigma()
    {
        using var c = torch.tensor(new float[] { 0, 0, 2, 0, 0, 3 }, [3, 2]);
        Assert.Equal(1.0, StemTrainer.DefaultSigma(c), 6); // nearest distances 2, 2, 2 → median 2, half = 1
        using var t = StemTrainer.SpatialTarget(c, 1.0);
        var v = t.data<float>().ToArray();
        double e4 = Math.Exp(-2), e9 = Math.Exp(-4.5), e13 = Math.Exp(-6.5);
        Assert.Equal(1 / (1 + e4 + e9), v[0], 5);
        Assert.Equal(e4 / (1 + e4 + e9), v[1], 5);
        Assert.Equal(e13 / (e9 + e13 + 1), v[7], 5);
        using var id = StemTrainer.SpatialTarget(c, 0);
        Assert.Equal(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, id.data<float>().ToArray());
    }

    [Fact]
    public void TiledCycleLossMatchesDenseReferenceFormula()
    {
        // 30 x 30 jittered grid (spacing 1), sigma 0.5: the cutoff (6.44 sigma) tiles the spots, so only nearby pairs are
        // evaluated. Loss and gradients must equal the reference's dense kl_div(log(st2sc sc2st + 1e-7), t).sum(1).mean().
        var rng = new Random(3);
        int n = 900, cells = 40;
        var xy = new float[n * 2];
        for (int i = 0; i < n; i++) { xy[2 * i] = i % 30 + (float)(rng.NextDouble() * 0.2); xy[2 * i + 1] = i / 30 + (float)(rng.NextDouble() * 0.2); }
        using var coords = torch.tensor(xy, [n, 2]);
        using var target = StemTrainer.SpatialTarget(coords, 0.5);
        using var loss = new CycleLoss(coords, target, 0.5, StemTrainer.MedianNearestDistance(coords));
        Assert.True(loss.Tiles > 1, $"expected tiles, got {loss.Tiles}");
        Assert.True(loss.Pairs < (long)n * n / 4, $"{loss.Pairs} pairs");

        var gen = new torch.Generator(7);
        using var logits = (torch.randn([n, cells], generator: gen) * 3).requires_grad_(true);
        using var tiled = loss.Forward(torch.nn.functional.softmax(logits, 1), torch.nn.functional.softmax(logits, 0));
        tiled.backward();
        var gTiled = logits.grad!.clone();
        logits.grad!.zero_();
        var st2sc = torch.nn.functional.softmax(logits, 1);
        var sc2st = torch.nn.functional.softmax(logits.t(), 1);
        var dense = torch.nn.functional.kl_div(torch.log(st2sc.mm(sc2st) + 1e-7f), target, reduction: torch.nn.Reduction.None, log_target: false).sum(1).mean();
        dense.backward();
        Assert.Equal(dense.item<float>(), tiled.item<float>(), 4);
        double maxDiff = (gTiled - logits.grad!).abs().max().item<float>(), scale = logits.grad!.abs().max().item<float>();
        Assert.True(maxDiff < 1e-4 * scale, $"gradient differs by {maxDiff} (scale {scale})");
    }

    [Fact]
    public void InputsIntersectGenesAndDeriveDropout()
    {
        var sc = new SpatialData(CsrMatrix.FromDense(new float[,] { { 1, 0, 3 }, { 0, 0, 2 }, { 1, 1, 0 } }), new Table(["a", "b", "c"]), new Table(["g1", "g2", "gx"]));
        var st = new SpatialData(CsrMatrix.FromDense(new float[,] { { 5, 5 }, { 2, 0 } }), new Table(["s1", "s2"]), new Table(["g2", "g1"]));
        var inp = new StemInputs(sc, st);
        Assert.Equal(["g2", "g1"], inp.Genes);
        Assert.Equal(1, inp.DroppedScGenes);
        Assert.Equal(0, inp.DroppedStGenes);
        Assert.Equal(1.5, inp.TargetSumSc); // SC totals over shared genes 1, 0, 2: scanpy takes the median of the positive ones
        Assert.Equal(6.0, inp.TargetSumSt); // ST totals 10, 2
        Assert.Equal(1 - 1.0 / 1.5, inp.DefaultDropout, 12); // medians of detected genes: SC 1, ST 1.5
        Assert.Equal((float)Math.Log(1 + 3.0), inp.St[0], 5); // 5 / 10 * 6 = 3
        Assert.Equal(0f, inp.Sc[2]); // zero-total cell stays zero
        var other = new SpatialData(CsrMatrix.FromDense(new float[,] { { 1 }, { 2 } }), new Table(["s1", "s2"]), new Table(["zz"]));
        Assert.Equal("SC (3 genes, e.g. g1, g2, gx) and ST (1 genes, e.g. zz) share no gene names",
            Assert.Throws<TesseraException>(() => new StemInputs(sc, other)).Message);
    }

    [Fact]
    public void InputsUsedAsGivenWhenNotNormalising()
    {
        // z-scored values: negative entries are data, not errors, when normalisation is off; with it on they are rejected.
        var sc = new SpatialData(CsrMatrix.FromDense(new float[,] { { -1.5f, 0.5f }, { 2, -0.25f } }), new Table(["a", "b"]), new Table(["g1", "g2"]));
        var st = new SpatialData(CsrMatrix.FromDense(new float[,] { { 0.25f, -2 }, { 1, 1 } }), new Table(["s1", "s2"]), new Table(["g1", "g2"]));
        var inp = new StemInputs(sc, st, normalize: false);
        Assert.False(inp.Normalized);
        Assert.Equal(new float[] { -1.5f, 0.5f, 2, -0.25f }, inp.Sc);
        Assert.Equal(new float[] { 0.25f, -2, 1, 1 }, inp.St);
        Assert.True(double.IsNaN(inp.TargetSumSc));
        Assert.Equal("SC data: 'a' has a negative value (-1.5); STEM normalises counts — for z-scored or normalised input turn normalisation off (option Normalize)",
            Assert.Throws<TesseraException>(() => new StemInputs(sc, st)).Message);
    }

    [Fact]
    public void SameSeedGivesIdenticalMappingAndOutputsAreConsistent()
    {
        var (sc, st, types, _) = Tissue();
        var o = new StemOptions { Epochs = 60, CycleStart = 20, TopK = 4, CoordTopK = 3, AdjacencyK = 5, MmdBatch = 30 };
        using var a = StemTrainer.Fit(new StemData(sc, st), o);
        using var b = StemTrainer.Fit(new StemData(sc, st), o);
        using var c = StemTrainer.Fit(new StemData(sc, st), o with { Seed = 7 });
        Assert.Equal(a.Result!.ScEmbedding.Data, b.Result!.ScEmbedding.Data);
        Assert.NotEqual(a.Result.ScEmbedding.Data, c.Result!.ScEmbedding.Data);
        Assert.Equal(128, a.Result.ScEmbedding.Cols);
        Assert.Equal(5.0, a.Sigma, 6); // half the 10-unit spacing
        var spatialLoss = a.History.Components["spatial"];
        Assert.True(spatialLoss[^1] < spatialLoss[0], "spatial loss must decrease");
        Assert.True(double.IsNaN(a.History.Components["cycle"][20]), "no cycle term before the ramp"); // weight 0 at epoch 20
        Assert.True(a.History.Components["cycle"][21] > 0); // weight 1/40
        Assert.Equal(1.0 / 40, StemTrainer.CycleWeight(21, o), 12);
        Assert.Equal(39.0 / 40, StemTrainer.CycleWeight(59, o), 12); // the reference's ramp ends one step short of 1

        var m = a.Result;
        Assert.Equal(m.CellToSpot.ToDenseArray(), b.Result.CellToSpot.ToDenseArray());
        Assert.Equal(Enumerable.Repeat(4, 60), m.CellToSpot.RowNnz());
        Assert.Equal(Enumerable.Repeat(5, 60), m.Adjacency.RowNnz());
        for (int i = 0; i < 60; i++)
        {
            Assert.DoesNotContain(i, m.Adjacency.Indices[m.Adjacency.IndPtr[i]..m.Adjacency.IndPtr[i + 1]]);
            Assert.InRange(m.PredictedCoordinates[i, 0], 0, 30); Assert.InRange(m.PredictedCoordinatesTopK[i, 1], 0, 20);
        }
        // Dense evaluation path agrees with the sparse top-k and the coordinates.
        var p = m.DenseProbabilities();
        var best = Enumerable.Range(0, 60).Select(i => Enumerable.Range(0, 12).MaxBy(s => p.CellToSpot[i * 12 + s])).ToArray();
        Assert.Equal(best, m.BestSpot);
        var all = p.Coordinates(st.Spatial);
        for (int i = 0; i < all.Data.Length; i++) Assert.Equal(all.Data[i], m.PredictedCoordinates.Data[i], 3);
        for (int s = 0; s < 12; s++) Assert.Equal(1.0, Enumerable.Range(0, 60).Sum(i => (double)p.SpotToCellT[i * 12 + s]), 4);
        // Cells go to their own half of the tissue far more often than chance (50 %).
        int right = Enumerable.Range(0, 60).Count(i => (st.Spatial[m.BestSpot[i], 0] < 15) == (types[i] == "A"));
        Assert.True(right >= 54, $"{right}/60 cells mapped to their half");
    }

    [Fact]
    public void IntegratedGradientsSatisfyCompleteness()
    {
        var (sc, st, _, _) = Tissue();
        var data = new StemData(sc, st);
        using var model = StemTrainer.Fit(data, new StemOptions { Epochs = 20, MmdBatch = 30 });
        var ig = model.IntegratedGradients(data, 300);
        using var est = torch.tensor(model.Result!.StEmbedding.ToFloatArray(), [12, 128]);
        using var x = torch.tensor(model.Prepare(data).Sc, [60, 6]);
        using var probs = torch.nn.functional.softmax(model.Encoder.forward(x).mm(est.t()), 1);
        using var zero = torch.nn.functional.softmax(model.Encoder.forward(torch.zeros(60, 6)).mm(est.t()), 1);
        var best = probs.argmax(1).data<long>().ToArray();
        for (int i = 0; i < 60; i += 7)
        {
            double f = probs[i, best[i]].item<float>(), f0 = zero[i, best[i]].item<float>();
            double sum = Enumerable.Range(0, 6).Sum(g => ig[i, g]);
            Assert.True(Math.Abs(f - f0 - sum) < 0.005, $"cell {i}: f(x) - f(0) = {f - f0}, sum of attributions {sum}");
        }
    }

    [Fact]
    public void BadOptionsAreRejected()
    {
        var (sc, st, _, _) = Tissue();
        Assert.Equal("Dropout must be in [0, 1) but is 1", Assert.Throws<TesseraException>(() => StemTrainer.Fit(new StemData(sc, st), new StemOptions { Dropout = 1 })).Message);
        Assert.Equal("Epochs must be at least 1 but is 0", Assert.Throws<TesseraException>(() => StemTrainer.Fit(new StemData(sc, st), new StemOptions { Epochs = 0 })).Message);
        Assert.Equal("ST data has no spot coordinates (obsm 'spatial')",
            Assert.Throws<TesseraException>(() => StemTrainer.Fit(new StemData(sc, sc), new StemOptions())).Message);
        // Duplicate spot coordinates: no default sigma can be derived, but a given sigma works.
        st.SetObsm(SpatialData.SpatialKey, new DenseMatrix(st.NObs, 2, new double[st.NObs * 2]));
        Assert.Equal("cannot derive sigma: median nearest-spot distance is 0 (duplicate spot coordinates?); set Sigma",
            Assert.Throws<TesseraException>(() => StemTrainer.Fit(new StemData(sc, st), new StemOptions { Epochs = 2 })).Message);
        using var m = StemTrainer.Fit(new StemData(sc, st), new StemOptions { Epochs = 2, Sigma = 5, MmdBatch = 10 });
        Assert.Equal(5, m.Sigma);
    }
}
