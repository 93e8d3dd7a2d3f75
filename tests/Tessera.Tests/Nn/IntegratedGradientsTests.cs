using Tessera.Nn;
using static TorchSharp.torch;

namespace Tessera.Tests.Nn;

public class IntegratedGradientsTests
{
    [Fact]
    public void LinearModel_AttributionIsWeightTimesInput_AndCompletenessHolds()
    {
        // f(x) = w·x: IG is exactly w ⊙ (x − x′) for any number of steps
        using var w = tensor(new float[] { 2, -1, 0.5f });
        using var x = tensor(new float[] { 1, 3, -2 }).reshape(1, 3);
        var ig = IntegratedGradients.Compute(p => p.mv(w), x, steps: 3, chunk: 2);
        Assert.Equal(new float[] { 2, -3, -1 }, ig.data<float>().ToArray());
    }

    [Fact]
    public void Quadratic_RiemannSumByHand()
    {
        // f(x) = x², baseline 0, steps 4: grad 2αx at α = ¼, ½, ¾, 1 → mean 2x·(10/16); IG = x · 2x · 0.625 = 1.25 x²
        using var x = tensor(new float[] { 2 }).reshape(1, 1);
        var ig = IntegratedGradients.Compute(p => p.pow(2).sum(1), x, steps: 4, chunk: 3);
        Assert.Equal(5.0f, ig.item<float>(), 5);
        // many steps: → x² − 0² = 4 (completeness)
        Assert.Equal(4.0f, IntegratedGradients.Compute(p => p.pow(2).sum(1), x, steps: 2000, chunk: 500).item<float>(), 2);
        Assert.Equal("integrated gradients need at least 1 path point per pass, got 0",
            Assert.Throws<TesseraException>(() => IntegratedGradients.Compute(p => p.sum(1), ones(2, 1), chunk: 0)).Message);
    }

    [Fact]
    public void BatchRowsAreAttributedIndependently()
    {
        // Rows 2 and −3 with f = x² (steps 4, chunk 3 so the last pass is shorter): each row gets 1.25 x², as alone.
        using var x = tensor(new float[] { 2, -3 }).reshape(2, 1);
        var seen = new List<long>();
        var ig = IntegratedGradients.Compute(p => { seen.Add(p.shape[0]); return p.pow(2).sum(1); }, x, steps: 4, chunk: 3);
        Assert.Equal(new[] { 5.0f, 11.25f }, ig.data<float>().ToArray());
        Assert.Equal(new long[] { 6, 2 }, seen); // 3 then 1 path points per input, input-major
        // A score that depends on the row's input index (as STEM's per-cell target): rows 0..m-1 belong to input 0.
        var ig2 = IntegratedGradients.Compute(p => p.sum(1) * tensor(new float[] { 1, 1, 1, 10, 10, 10 }[..(int)p.shape[0]]), x, steps: 3, chunk: 3);
        Assert.Equal(new[] { 2.0f, -30.0f }, ig2.data<float>().ToArray());
    }
}
