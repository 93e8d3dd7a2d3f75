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
        Assert.Equal("integrated gradients take one input (leading dimension 1), got 2",
            Assert.Throws<TesseraException>(() => IntegratedGradients.Compute(p => p.sum(1), ones(2, 1))).Message);
    }
}
