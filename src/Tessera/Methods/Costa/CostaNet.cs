using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Tessera.Methods.Costa;

/// <summary>
/// CoSTA's ConvNet: 3 × (Conv → BatchNorm → ReLU (3rd block Tanh by default) → MaxPool 2), 128 channels; flatten →
/// L2-normalise is the gene embedding; a linear head to K logits is used only for training.
/// Kernels adapt to the image size: ≥ 64 px the authors' MERFISH net (11/7/5, first stride 2), 41–63 px their Slide-seq
/// net (5/5/5, first stride 2), smaller images (at least 22 px) their MNIST net (5/5/5, stride 1); padding 1 throughout.
/// </summary>
public sealed class CostaNet : Module<Tensor, Tensor>
{
    private readonly Sequential layer1, layer2, layer3;
    private readonly Linear fc;

    /// <summary>Length of the embedding (128 × the spatial size left after the third block).</summary>
    public int FeatureDim { get; }

    /// <summary>Builds the net for size×size (height×width) single-channel images; conv weights Xavier-uniform as the authors.</summary>
    public CostaNet(int height, int width, int outDim, bool tanhLast = true, int channels = 128) : base("ConvNet")
    {
        var (k, s1) = Kernels(Math.Min(height, width));
        var (fh, fw) = (OutSize(height, k, s1), OutSize(width, k, s1));
        if (fh < 1 || fw < 1) throw new TesseraException($"images of {height}x{width} are too small for the CoSTA ConvNet (need at least 22x22)");
        FeatureDim = channels * fh * fw;
        layer1 = Sequential(("0", Conv2d(1, channels, k[0], stride: s1, padding: 1)), ("1", BatchNorm2d(channels)), ("2", ReLU(inplace: true)), ("3", MaxPool2d(2)));
        layer2 = Sequential(("0", Conv2d(channels, channels, k[1], stride: 1, padding: 1)), ("1", BatchNorm2d(channels)), ("2", ReLU(inplace: true)), ("3", MaxPool2d(2)));
        layer3 = Sequential(("0", Conv2d(channels, channels, k[2], stride: 1, padding: 1)), ("1", BatchNorm2d(channels)),
            ("2", tanhLast ? Tanh() : ReLU(inplace: true)), ("3", MaxPool2d(2)));
        fc = Linear(FeatureDim, outDim);
        RegisterComponents();
        using (no_grad())
            foreach (var l in new[] { layer1, layer2, layer3 })
                init.xavier_uniform_(((Conv2d)l.children().First()).weight!);
    }

    private static (long[] K, long Stride) Kernels(int size) =>
        size >= 64 ? ([11, 7, 5], 2) : size >= 41 ? ([5, 5, 5], 2) : ([5, 5, 5], 1);

    private static int OutSize(int n, long[] k, long s1)
    {
        long x = (n + 2 - k[0]) / s1 + 1; x /= 2;
        x = x + 2 - k[1] + 1; x /= 2;
        x = x + 2 - k[2] + 1; x /= 2;
        return (int)Math.Max(x, 0);
    }

    /// <summary>The L2-normalised embedding (the authors' forward_feature).</summary>
    public Tensor Features(Tensor x)
    {
        using var xc = Nn.ChannelsLast.Of(x);
        using var h = Run(layer3, Run(layer2, Run(layer1, xc, false), true), true);
        using var flat = h.flatten(1);
        return functional.normalize(flat, p: 2, dim: 1);
    }

    // Runs a block (conv, BatchNorm, activation, max-pool) op by op and releases each intermediate as soon as the next
    // exists (autograd keeps its own references to what the backward needs). Sequential.call would hold all four until the
    // caller's dispose scope ends: for a 1,024-gene feature chunk at 48×48 that is four 277 MB tensors at once instead of two.
    // A ReLU runs after the pool instead of before: the two commute exactly (relu(max(a, b)) = max(relu(a), relu(b)), the
    // same window maximum is picked, the same gradient flows), and after the pool it touches a quarter of the elements.
    // Tanh keeps the authors' order (monotone too, but its float rounding need not be).
    private static Tensor Run(Sequential block, Tensor input, bool disposeInput)
    {
        var ops = block.children().Cast<Module<Tensor, Tensor>>().ToArray();
        if (ops[2] is ReLU) (ops[2], ops[3]) = (ops[3], ops[2]);
        var h = input;
        foreach (var op in ops)
        {
            var next = op.call(h);
            if (!ReferenceEquals(h, input) || disposeInput) h.Dispose();
            h = next;
        }
        return h;
    }

    /// <summary>Logits of the training head.</summary>
    public override Tensor forward(Tensor x)
    {
        using var f = Features(x);
        return fc.call(f);
    }

    /// <summary>Embedding and logits from one pass (used by the center-loss option).</summary>
    public (Tensor Features, Tensor Logits) ForwardBoth(Tensor x)
    {
        var f = Features(x);
        return (f, fc.call(f));
    }
}
