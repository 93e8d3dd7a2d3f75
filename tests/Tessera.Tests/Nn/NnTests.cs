using Tessera.Data;
using Tessera.Methods.Spotscape;
using Tessera.Nn;
using TorchSharp;
using Tessera.Tests.Support;
using static TorchSharp.torch;

namespace Tessera.Tests.Nn;

public class GraphOpsTests
{
    private static float[,] Dense(Tensor sparse)
    {
        using var d = sparse.to_dense();
        var n = (int)d.shape[0];
        var a = d.data<float>().ToArray();
        var r = new float[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) r[i, j] = a[i * n + j];
        return r;
    }

    [Fact]
    public void GcnNorm_PathGraph_MatchesHandComputation()
    {
        // path 0-1-2 plus self-loops: degrees 2, 3, 2; Â[i,j] = 1/sqrt(d_i d_j)
        using var adj = GraphOps.GcnNorm([0, 1, 1, 2], [1, 0, 2, 1], 3);
        var a = Dense(adj);
        double s6 = 1 / Math.Sqrt(6);
        double[,] expected = { { 0.5, s6, 0 }, { s6, 1.0 / 3, s6 }, { 0, s6, 0.5 } };
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) Assert.Equal(expected[i, j], a[i, j], 6);
    }

    [Fact]
    public void GcnNorm_DirectedEdge_UsesInDegreeAtTarget_AndReaddsSelfLoops()
    {
        // 0 -> 1 only: in-degrees (with self-loops) 1, 2, 1; message 0->1 lands at row 1, column 0 with 1/sqrt(1*2)
        using var ei = tensor(new long[] { 0, 1, 1, 1 }, [2, 2]); // edge 0->1 and an existing self-loop 1->1
        using var adj = GraphOps.GcnNorm(ei, 3);
        var a = Dense(adj);
        Assert.Equal(1.0, a[0, 0], 6);
        Assert.Equal(1 / Math.Sqrt(2), a[1, 0], 6);
        Assert.Equal(0.5, a[1, 1], 6);
        Assert.Equal(0.0, a[0, 1], 6);
        Assert.Equal(1.0, a[2, 2], 6);
    }

    [Fact]
    public void EdgeValidation_ExactMessages()
    {
        Assert.Equal("edge source has 2 entries but edge target has 1",
            Assert.Throws<TesseraException>(() => GraphOps.GcnNorm([0, 1], [1], 3)).Message);
        Assert.Equal("edge 1 has target 3 outside [0, 3)",
            Assert.Throws<TesseraException>(() => GraphOps.GcnNorm([0, 1], [1, 3], 3)).Message);
    }
}

public class AugmentTests
{
    [Fact]
    public void DropEdges_KeepsAbout80Percent_AndIsSeeded()
    {
        using var ei = stack([arange(100000L), arange(100000L)]);
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        using var a = Augment.DropEdges(ei, 0.2, g1);
        using var b = Augment.DropEdges(ei, 0.2, g2);
        double kept = a.shape[1] / 100000.0;
        Assert.InRange(kept, 0.79, 0.81);
        Assert.True(a.eq(b).all().item<bool>());
        using var g3 = new Generator(8);
        using var c = Augment.DropEdges(ei, 0.2, g3);
        Assert.False(a.shape[1] == c.shape[1] && a.eq(c).all().item<bool>());
    }

    [Fact]
    public void MaskColumns_ZeroesWholeColumns_AtRate()
    {
        using var x = ones(5, 20000);
        using var g = new Generator(3);
        using var m = Augment.MaskColumns(x, 0.2, g);
        using var colSums = m.sum(dim: 0);
        var cs = colSums.data<float>().ToArray();
        Assert.All(cs, v => Assert.True(v == 0 || v == 5));
        double dropped = cs.Count(v => v == 0) / 20000.0;
        Assert.InRange(dropped, 0.19, 0.21);
        Assert.Equal("p must be in [0, 1) but is 1", Assert.Throws<TesseraException>(() => Augment.ColumnKeepMask(3, 1.0)).Message);
    }
}

public class LossTests
{
    [Fact]
    public void TelescopeGramFormEqualsTheDirectMseAndItsGradient()
    {
        torch.manual_seed(3);
        var z1a = torch.randn(37, 5, requires_grad: true);
        var z2a = torch.randn(37, 5, requires_grad: true);
        var direct = Losses.SimilarityTelescope(Losses.CosineSimilarity(z1a, z2a));
        direct.backward();
        var z1b = z1a.detach().clone().requires_grad_(true);
        var z2b = z2a.detach().clone().requires_grad_(true);
        var gram = Losses.SimilarityTelescopeGram(z1b, z2b);
        gram.backward();
        Assert.True(direct.item<float>() > 1e-3f); // not trivially zero
        Assert.Equal(direct.item<float>(), gram.item<float>(), 5);
        Assert.True(torch.allclose(z1a.grad!, z1b.grad!, rtol: 1e-4, atol: 1e-6));
        Assert.True(torch.allclose(z2a.grad!, z2b.grad!, rtol: 1e-4, atol: 1e-6));
        // symmetric similarity (same view twice) has zero telescope loss in both forms
        Assert.Equal(0f, Losses.SimilarityTelescopeGram(z1a.detach(), z1a.detach()).item<float>(), 6);
    }

    [Fact]
    public void Telescope_IsZeroForSymmetric_AndMatchesHand()
    {
        using var sym = tensor(new float[] { 1, 2, 2, 5 }, [2, 2]);
        Assert.Equal(0.0, Losses.SimilarityTelescope(sym).item<float>(), 7);
        // S = [[1,2],[3,4]]: S - Sᵀ has two off-diagonal ±1 -> 2/4
        using var s = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        Assert.Equal(0.5, Losses.SimilarityTelescope(s).item<float>(), 6);
        // z1 = I, z2 = [[1,1],[0,1]] -> S = [[1/√2, 0], [1/√2, 1]] -> (0.5 + 0.5) / 4
        using var z1 = tensor(new float[] { 1, 0, 0, 1 }, [2, 2]);
        using var z2 = tensor(new float[] { 1, 1, 0, 1 }, [2, 2]);
        Assert.Equal(0.25, Losses.SimilarityTelescope(z1, z2).item<float>(), 6);
        using var rows = tensor(new long[] { 1 });
        Assert.Equal(0.0, Losses.SimilarityTelescope(z1, z2, rows).item<float>(), 7);
    }

    private static Tensor S4() => tensor(new float[] { .9f, .5f, .2f, .1f, .4f, .8f, .3f, .6f, .1f, .2f, .7f, .5f, .3f, 0f, .6f, .9f }, [4, 4]);

    [Fact]
    public void ScaleMatching_IntraVsInter_MatchesHand()
    {
        // slice 0 rows: intra (no diagonal) top1 [.5,.4] vs inter [.2,.6] -> .065; slice 1: [.5,.6] vs [.2,.3] -> .09
        using var s = S4();
        using var sl = tensor(new long[] { 0, 0, 1, 1 });
        Assert.Equal(0.155, Losses.SimilarityScaleMatching(s, sl, 1).item<float>(), 5);
    }

    [Fact]
    public void ScaleMatching_AuthorsQuirk_MatchesHand()
    {
        // boolean-equality masks: inside = diagonal blocks (diagonal included), outside = off blocks, zeros fill.
        // top1 inside [.9,.8,.7,.9] vs outside [.2,.6,.2,.3] -> 1.14/4 = .285, same for both ordered pairs.
        using var s = S4();
        using var sl = tensor(new long[] { 0, 0, 1, 1 });
        Assert.Equal(0.57, Losses.SimilarityScaleMatchingAuthors(s, sl, 1).item<float>(), 5);
    }

    [Fact]
    public void Prototypical_MatchesHand()
    {
        using var z = tensor(new float[] { 3, 0 }, [1, 2]);
        using var c = tensor(new float[] { 1, 0, 0, 2 }, [2, 2]);
        using var y = tensor(new long[] { 0 });
        // logits [1/0.5, 0] -> -log(e^2/(e^2+1)) = log(1+e^-2)
        Assert.Equal(Math.Log(1 + Math.Exp(-2)), Losses.PrototypicalContrastive(z, c, y, 0.5).item<float>(), 5);
    }

    [Fact]
    public void LinearReconstructionMse_EqualsDirectMse_ValueAndGradients()
    {
        manual_seed(11);
        var rng = new Random(5);
        int n = 30, g = 12, h = 5;
        var x = new float[n * g];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() < 0.7 ? 0 : (float)(rng.NextDouble() * 3);
        var op = new CsrOperand(x, n, g);
        using var xt = tensor(x, [n, g]);
        var hid = randn(n, h).requires_grad_(true);
        var w = randn(g, h).requires_grad_(true);
        var b = randn(g).requires_grad_(true);
        var l1 = Losses.LinearReconstructionMse(hid, w, b, op);
        l1.backward();
        var (gh, gw, gb) = (hid.grad!.clone(), w.grad!.clone(), b.grad!.clone());
        hid.grad!.zero_(); w.grad!.zero_(); b.grad!.zero_();
        var l2 = nn.functional.mse_loss(nn.functional.linear(hid, w, b), xt);
        l2.backward();
        Assert.Equal(l2.item<float>(), l1.item<float>(), 4);
        Assert.True(gh.allclose(hid.grad!, 1e-4, 1e-5));
        Assert.True(gw.allclose(w.grad!, 1e-4, 1e-5));
        Assert.True(gb.allclose(b.grad!, 1e-4, 1e-5));
    }
}

public class CsrOperandTests
{
    [Fact]
    public void Products_MatchDense_WithGradients()
    {
        var csr = CsrMatrix.FromDense(new float[,] { { 1, 0, 2 }, { 0, 3, 0 } });
        var op = new CsrOperand(csr);
        using var dense = op.ToDense();
        var b = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [3, 2]).requires_grad_(true);
        var r = op.Matmul(b);
        Assert.Equal(new float[] { 11, 14, 9, 12 }, r.data<float>().ToArray());
        r.sum().backward();
        // ∂/∂B sum(A·B) = Aᵀ·1 = column sums of A per row of B
        Assert.Equal(new float[] { 1, 1, 3, 3, 2, 2 }, b.grad!.data<float>().ToArray());
        var h = tensor(new float[] { 1, 2 }, [2, 1]).requires_grad_(true);
        var rt = op.TransposeMatmul(h);
        Assert.Equal(new float[] { 1, 6, 2 }, rt.data<float>().ToArray());
        Assert.Equal(14.0, op.SumSquares, 9);
        Assert.Equal(new double[] { 1, 3, 2 }, op.ColumnSums);
    }

    [Fact]
    public void Products_AreIdenticalForAnyThreadCount()
    {
        var rng = new Random(1);
        int n = 300, g = 200, k = 37;
        var x = new float[n * g];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() < 0.8 ? 0 : (float)rng.NextDouble();
        var op = new CsrOperand(x, n, g);
        manual_seed(2);
        using var b = randn(g, k);
        int before = get_num_threads();
        try
        {
            set_num_threads(1);
            var r1 = op.Matmul(b).data<float>().ToArray();
            set_num_threads(2);
            var r2 = op.Matmul(b).data<float>().ToArray();
            Assert.Equal(r1, r2);
            using var expected = tensor(x, [n, g]).mm(b);
            using var got = tensor(r1, [n, k]);
            Assert.True(got.allclose(expected, 1e-4, 1e-4));
        }
        finally { set_num_threads(before); }
    }

    [Fact]
    public void Products_ReadAViewAtItsOffsetAndANonFloatOperand()
    {
        var op = new CsrOperand(CsrMatrix.FromDense(new float[,] { { 1, 0, 2 }, { 0, 3, 0 } }));
        // rows 1..3 of a 5×2 tensor: contiguous, but its storage starts two floats earlier
        using var big = tensor(new float[] { 9, 9, 1, 2, 3, 4, 5, 6, 9, 9 }, [5, 2]);
        using var view = big.narrow(0, 1, 3);
        Assert.Equal(2, view.storage_offset());
        Assert.Equal(new float[] { 11, 14, 9, 12 }, op.Matmul(view).data<float>().ToArray());
        using var dbl = tensor(new double[] { 1, 2, 3, 4, 5, 6 }, [3, 2]);
        Assert.Equal(new float[] { 11, 14, 9, 12 }, op.Matmul(dbl).data<float>().ToArray());
    }
}

public class TorchGuardTests
{
    [Fact]
    public void Run_HoldsOffCollections_NestsAndRestoresTheLatencyMode()
    {
        var mode = System.Runtime.GCSettings.LatencyMode;
        int gen0 = -1, after = -1;
        var inner = TorchGuard.Run(() =>
        {
            Assert.Equal(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);
            gen0 = GC.CollectionCount(0);
            var keep = new List<byte[]>();
            for (int i = 0; i < 1000; i++) keep.Add(new byte[8192]); // 8 MB, well inside the budget
            after = GC.CollectionCount(0);
            return TorchGuard.Run(() => System.Runtime.GCSettings.LatencyMode);
        });
        Assert.Equal(gen0, after);
        Assert.Equal(System.Runtime.GCLatencyMode.NoGCRegion, inner);
        Assert.Equal(mode, System.Runtime.GCSettings.LatencyMode);
    }

    [Fact]
    public void Run_OverBudget_LetsTheCollectorRunAndDoesNotThrow()
    {
        long total = TorchGuard.Run(() =>
        {
            long sum = 0;
            for (int i = 0; i < 200; i++) sum += new byte[1 << 20].Length; // 200 MB through a 64 MB budget
            return sum;
        });
        Assert.Equal(200L << 20, total);
        Assert.NotEqual(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);
        Assert.Throws<InvalidOperationException>(() => TorchGuard.Run(() => throw new InvalidOperationException("body")));
        Assert.NotEqual(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);
    }
}

public class TrainingLoopTests
{
    [Fact]
    public void Run_RecordsHistory_ReportsProgress_AndConverges()
    {
        manual_seed(0);
        var lin = nn.Linear(1, 1);
        using var x = tensor(new float[] { 0, 1, 2, 3 }, [4, 1]);
        using var y = tensor(new float[] { 1, 3, 5, 7 }, [4, 1]);
        var opt = optim.SGD(lin.parameters(), 0.05);
        var reports = new List<Tessera.Progress>();
        var progress = new SyncProgress(reports.Add);
        var h = TrainingLoop.Run(lin, opt, 300, _ =>
        {
            var l = nn.functional.mse_loss(lin.forward(x), y);
            return new StepLoss(l, new Dictionary<string, Tensor> { ["mse"] = l });
        }, progress);
        Assert.Equal(300, h.Count);
        Assert.Equal(300, reports.Count);
        Assert.Equal(300, reports[^1].Done);
        Assert.Equal(300, reports[^1].Total);
        Assert.Equal(h.Total[^1], reports[^1].Loss);
        Assert.Equal(h.Total[^1], reports[^1].Values!["mse"]);
        Assert.Equal(h.Total, h.Components["mse"]);
        Assert.True(h.Total[^1] < 1e-3 && h.Total[^1] < h.Total[0]);
    }

    [Fact]
    public void Run_NonFiniteLoss_Throws()
    {
        var lin = nn.Linear(1, 1);
        var opt = optim.SGD(lin.parameters(), 0.1);
        var e = Assert.Throws<TesseraException>(() => TrainingLoop.Run(lin, opt, 3, _ =>
            new StepLoss(lin.weight!.sum() * double.NaN, new Dictionary<string, Tensor>())));
        Assert.Equal("training diverged: loss is NaN at epoch 1; lower the learning rate", e.Message);
    }
}
