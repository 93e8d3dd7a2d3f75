using Onnx;
using Tessera.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Tessera.Methods.StNet;

/// <summary>
/// ImageNet-pretrained ResNet-18 image featurizer for ST-Net: the network of ML.NET's DnnImageFeaturizer.ResNet18
/// (<c>ResNet18.onnx</c>, exported from CNTK 2.6) rebuilt as a TorchSharp module, with its weights read from the ONNX
/// initializers, ending at the global-average-pooled 512-d vector (ONNX output <c>Pooling395_Output_0</c>, the layer
/// before the 1000-way classifier and the vector ML.NET's featurizer returns).
/// <para>
/// Graph as exported (checked node by node on load): stem Conv 7×7/2 → BatchNorm → ReLU → MaxPool 3×3/2; four stages of
/// basic residual blocks with 64, 128, 256, 512 channels and <b>[2, 2, 2, 3]</b> blocks (the CNTK model has one more block
/// in the last stage than torchvision's resnet18); a 1×1/2 conv + BatchNorm shortcut opens stages 2–4; 7×7 average pool.
/// BatchNorm is explicit (spatial, eps 1e-5) and runs on its stored statistics. CNTK's padding is asymmetric: the stem
/// pads 3 before and 2 after, the max pool and the strided 3×3 convs pad 1 before and 0 after. On the fixed 224 × 224
/// input each of these ops gives the same windows with symmetric padding of the leading amount (same output size, and the
/// extra trailing pad is never read), so the module lets the op pad itself there; a pad for which that does not hold is
/// applied exactly by an explicit <c>F.pad</c> before an unpadded op.
/// </para>
/// <para>
/// Preprocessing (<see cref="Preprocess"/>) is that of <c>ResNetPreprocess.onnx</c> from the same package: RGB → BGR, then
/// subtract its 224×224 per-pixel mean image (BGR, 0–255 scale). Input is therefore RGB in 0..255, 224×224.
/// </para>
/// Loaded frozen and in eval mode; <see cref="SetTrainable"/> unfreezes it for fine-tuning (BatchNorm keeps its stored
/// statistics unless <c>train()</c> is called).
/// </summary>
public sealed class ResNet18Imagenet : Module<Tensor, Tensor>
{
    /// <summary>Folder, next to the assembly, into which the NuGet package copies its models.</summary>
    public const string ModelFolder = "DnnImageModels";

    /// <summary>The network, relative to <see cref="ModelFolder"/>.</summary>
    public static readonly string NetworkFile = Path.Combine("ResNet18Onnx", "ResNet18.onnx");

    /// <summary>The preprocessing graph holding the mean image, relative to <see cref="ModelFolder"/>.</summary>
    public static readonly string PreprocessFile = Path.Combine("ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>Side of the square input image in pixels (fixed by the mean image).</summary>
    public const int ImageSize = 224;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1, layer2, layer3, layer4;
#pragma warning disable IDE1006 // PyTorch buffer name
    private readonly Tensor mean_bgr;
#pragma warning restore IDE1006
    private readonly long[]? stemPad, poolPad;
    private readonly long poolKernel, poolStride, poolPadding;

    /// <summary>Length of the feature vector.</summary>
    public int FeatureDim => 512;

    /// <summary>Residual blocks per stage as read from the graph ([2, 2, 2, 3] for the shipped model).</summary>
    public IReadOnlyList<int> BlocksPerStage { get; }

    private ResNet18Imagenet(ResNetSpec g, float[] meanBgr) : base("ResNet18Imagenet")
    {
        long size = ImageSize;
        (conv1, stemPad) = MakeConv(g.Stem, ref size);
        bn1 = MakeBn(g.StemBn);
        poolKernel = g.PoolKernel; poolStride = g.PoolStride;
        var pp = g.PoolPads ?? [0, 0, 0, 0];
        // max_pool2d pads with −∞ itself, but only up to half the kernel
        if (OpPadding(pp, poolKernel, poolKernel, poolStride, size) is { } opPad && opPad.H == opPad.W && 2 * opPad.H <= poolKernel)
            (poolPadding, poolPad) = (opPad.H, null);
        else (poolPadding, poolPad) = (0, pp);
        size = OutSide(size, pp[0] + pp[2], poolKernel, poolStride);
        var stages = new List<Sequential>();
        foreach (var stage in g.Stages)
            stages.Add(Sequential(stage.Select((b, i) => (i.ToString(), (Module<Tensor, Tensor>)new BasicBlock(b, ref size))).ToArray()));
        if (stages.Count != 4)
            throw new TesseraException($"ResNet18.onnx has {stages.Count} residual stages; expected 4");
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        BlocksPerStage = g.Stages.Select(s => s.Count).ToArray();
        mean_bgr = torch.tensor(meanBgr, [1, 3, ImageSize, ImageSize]);
        RegisterComponents();
        using (no_grad())
        {
            Copy(conv1.weight!, g.Stem.Weight);
            CopyBn(bn1, g.StemBn);
        }
        SetTrainable(false);
        eval();
    }

    /// <summary>
    /// Loads the network from <c>DnnImageModels/</c> next to the running application (<see cref="AppContext.BaseDirectory"/>)
    /// or, failing that, next to Tessera.dll. The NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 puts the
    /// files there in every project that references Tessera.
    /// </summary>
    /// <exception cref="TesseraException">The .onnx files are missing or not the expected graph.</exception>
    public static ResNet18Imagenet Load()
    {
        string primary = Path.Combine(AppContext.BaseDirectory, ModelFolder);
        if (!File.Exists(Path.Combine(primary, NetworkFile)))
        {
            string? asmDir = Path.GetDirectoryName(typeof(ResNet18Imagenet).Assembly.Location);
            if (!string.IsNullOrEmpty(asmDir) && File.Exists(Path.Combine(asmDir, ModelFolder, NetworkFile)))
                return Load(Path.Combine(asmDir, ModelFolder));
        }
        return Load(primary);
    }

    /// <summary>Loads the network from a folder laid out as the package's <c>DnnImageModels/</c>
    /// (<c>ResNet18Onnx/ResNet18.onnx</c> and <c>ResNetPrepOnnx/ResNetPreprocess.onnx</c>).</summary>
    /// <exception cref="TesseraException">A file is missing or not the expected graph.</exception>
    public static ResNet18Imagenet Load(string modelFolder)
    {
        ArgumentNullException.ThrowIfNull(modelFolder);
        string net = Path.Combine(modelFolder, NetworkFile), prep = Path.Combine(modelFolder, PreprocessFile);
        foreach (var p in new[] { net, prep })
            if (!File.Exists(p))
                throw new TesseraException($"pretrained ResNet-18 file not found: {p} (it ships in the NuGet package " +
                    "Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, which copies it to DnnImageModels/ in the build output)");
        var meanBgr = OnnxResNet.ReadMeanImage(prep);
        var graph = OnnxResNet.Read(net);
        return new ResNet18Imagenet(graph, meanBgr);
    }

    /// <summary>Freezes (default after loading) or unfreezes every parameter for fine-tuning.</summary>
    public void SetTrainable(bool trainable)
    {
        foreach (var p in parameters()) p.requires_grad = trainable;
    }

    /// <summary>
    /// The network's input: <paramref name="rgb"/> (float32 [B, 3, 224, 224], RGB, 0..255) with its channels reversed to
    /// BGR and the package's mean image (BGR) subtracted, exactly as <c>ResNetPreprocess.onnx</c>.
    /// </summary>
    public Tensor Preprocess(Tensor rgb)
    {
        CheckInput(rgb);
        using var bgr = rgb.flip(1);
        return bgr - mean_bgr;
    }

    /// <summary>
    /// 512-d ImageNet features of RGB 0..255 images (float32 [B, 3, 224, 224]) → [B, 512]. Runs inside
    /// <see cref="TorchGuard.Run{T}"/>. Records gradients only where autograd would: the input requires grad, or
    /// <see cref="SetTrainable"/>(true) was called (and grad mode is on).
    /// </summary>
    /// <exception cref="TesseraException">The input is not float32 [B, 3, 224, 224].</exception>
    public Tensor Features(Tensor rgb)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        CheckInput(rgb);
        return TorchGuard.Run(() => forward(rgb));
    }

    /// <summary>Same as <see cref="Features"/> without the guard (for use inside a guarded training step).</summary>
    public override Tensor forward(Tensor rgb)
    {
        using var scope = NewDisposeScope();
        var x = Nn.ChannelsLast.Of(Preprocess(rgb));
        // ReLUs and the residual sum in place, as torchvision's ResNet (fewer passes over the activations)
        x = functional.relu(bn1.call(conv1.call(Pad(x, stemPad, 0))), inplace: true);
        x = functional.max_pool2d(Pad(x, poolPad, double.NegativeInfinity), [poolKernel, poolKernel], [poolStride, poolStride], [poolPadding, poolPadding]);
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        // AveragePool 7×7 over the 7×7 map (no padding): the global mean.
        return x.mean([2L, 3L]).MoveToOuterDisposeScope();
    }

    private static void CheckInput(Tensor rgb)
    {
        var s = rgb.shape;
        if (rgb.dtype != ScalarType.Float32 || s.Length != 4 || s[1] != 3 || s[2] != ImageSize || s[3] != ImageSize)
            throw new TesseraException($"ResNet-18 input must be float32 [B, 3, {ImageSize}, {ImageSize}] (RGB, 0..255); " +
                $"got {rgb.dtype} [{string.Join(", ", s)}]");
    }

    /// <summary>Applies the ONNX pads [top, left, bottom, right] the op cannot apply itself (null: nothing to do).</summary>
    private static Tensor Pad(Tensor x, long[]? pads, double value) =>
        pads is null ? x : functional.pad(x, [pads[1], pads[3], pads[0], pads[2]], PaddingModes.Constant, value);

    /// <summary>
    /// The op's own symmetric padding (leading amounts) equivalent to the ONNX pads [top, left, bottom, right] on a square
    /// input of side <paramref name="size"/>, or null. Equivalent when each trailing pad is at most the leading one and the
    /// output size is the same: the windows then start at the same places and the last one ends within the graph's own
    /// trailing pad, so the extra padding of the symmetric op is never read.
    /// </summary>
    private static (long H, long W)? OpPadding(long[] p, long kernelH, long kernelW, long stride, long size)
    {
        bool ok = p[2] <= p[0] && p[3] <= p[1]
            && OutSide(size, p[0] + p[2], kernelH, stride) == OutSide(size, 2 * p[0], kernelH, stride)
            && OutSide(size, p[1] + p[3], kernelW, stride) == OutSide(size, 2 * p[1], kernelW, stride);
        return ok ? (p[0], p[1]) : null;
    }

    // Output side of a conv or pool (floor mode) over a side of `size` with `pads` padding in all.
    private static long OutSide(long size, long pads, long kernel, long stride) => (size + pads - kernel) / stride + 1;

    // A conv on a square input of side size (updated to the output side); the pads the op cannot apply itself are returned.
    private static (Conv2d Conv, long[]? ExplicitPad) MakeConv(ConvSpec c, ref long size)
    {
        var p = c.Pads;
        var opPad = OpPadding(p, c.Shape[2], c.Shape[3], c.Stride, size);
        var conv = Conv2d(c.Shape[1], c.Shape[0], (c.Shape[2], c.Shape[3]), stride: (c.Stride, c.Stride),
            padding: opPad ?? (0, 0), bias: false);
        size = OutSide(size, p[0] + p[2], c.Shape[2], c.Stride);
        return (conv, opPad is null ? p : null);
    }

    private static BatchNorm2d MakeBn(BnSpec b) => BatchNorm2d(b.Scale.Length, eps: b.Epsilon);

    private static void Copy(Tensor target, float[] values)
    {
        using var src = torch.tensor(values, target.shape);
        target.copy_(src);
    }

    private static void CopyBn(BatchNorm2d bn, BnSpec b)
    {
        Copy(bn.weight!, b.Scale);
        Copy(bn.bias!, b.Bias);
        Copy(bn.running_mean!, b.Mean);
        Copy(bn.running_var!, b.Var);
    }

    /// <summary>torchvision-style basic block: conv3×3 → BN → ReLU → conv3×3 → BN, plus the (projected) input, ReLU.</summary>
    private sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1, conv2;
        private readonly BatchNorm2d bn1, bn2;
        private readonly Sequential? downsample;
        private readonly long[]? pad1, pad2, padDown;

        public BasicBlock(BlockSpec b, ref long size) : base("BasicBlock")
        {
            long input = size;
            (conv1, pad1) = MakeConv(b.Conv1, ref size);
            bn1 = MakeBn(b.Bn1);
            (conv2, pad2) = MakeConv(b.Conv2, ref size);
            bn2 = MakeBn(b.Bn2);
            Conv2d? down = null;
            if (b.Down is { } d)
            {
                (down, padDown) = MakeConv(d.Conv, ref input);
                downsample = Sequential(("0", down), ("1", MakeBn(d.Bn)));
            }
            RegisterComponents();
            using (no_grad())
            {
                Copy(conv1.weight!, b.Conv1.Weight);
                CopyBn(bn1, b.Bn1);
                Copy(conv2.weight!, b.Conv2.Weight);
                CopyBn(bn2, b.Bn2);
                if (b.Down is { } dd)
                {
                    Copy(down!.weight!, dd.Conv.Weight);
                    CopyBn((BatchNorm2d)downsample!.children().ElementAt(1), dd.Bn);
                }
            }
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var identity = downsample is null ? x : downsample.call(Pad(x, padDown, 0));
            var o = functional.relu(bn1.call(conv1.call(Pad(x, pad1, 0))), inplace: true);
            o = bn2.call(conv2.call(Pad(o, pad2, 0)));
            return functional.relu(o.add_(identity), inplace: true).MoveToOuterDisposeScope();
        }
    }
}

internal sealed record ConvSpec(string Node, long[] Shape, long Stride, long[] Pads, float[] Weight);

internal sealed record BnSpec(string Node, float Epsilon, float[] Scale, float[] Bias, float[] Mean, float[] Var);

internal sealed record DownSpec(ConvSpec Conv, BnSpec Bn);

internal sealed record ResNetSpec(ConvSpec Stem, BnSpec StemBn, long PoolKernel, long PoolStride, long[]? PoolPads,
    List<List<BlockSpec>> Stages);

internal sealed record BlockSpec(ConvSpec Conv1, BnSpec Bn1, ConvSpec Conv2, BnSpec Bn2, DownSpec? Down);

/// <summary>
/// The CNTK ResNet graph read with OnnxSharp and checked node by node: every node must sit where a ResNet puts it, and
/// every node of the graph must be used, so a different or modified file fails loudly instead of loading wrong weights.
/// </summary>
internal sealed class OnnxResNet
{
    private readonly string file;
    private readonly Dictionary<string, TensorProto> inits;
    private readonly Dictionary<string, List<NodeProto>> consumers = [];
    private readonly HashSet<NodeProto> used = [];

    private OnnxResNet(string file, GraphProto g)
    {
        this.file = file;
        inits = g.Initializer.ToDictionary(t => t.Name);
        foreach (var n in g.Node)
            foreach (var i in n.Input)
            {
                if (!consumers.TryGetValue(i, out var l)) consumers[i] = l = [];
                l.Add(n);
            }
    }

    private static ModelProto Parse(string path)
    {
        try { return ModelProto.Parser.ParseFromFile(path); }
        catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or IOException)
        {
            throw new TesseraException($"{path} is not a readable ONNX model: {e.Message}", e);
        }
    }

    /// <summary>The mean image of ResNetPreprocess.onnx (Split RGB → Concat B,G,R → Sub MeanImage), [3×224×224] BGR.</summary>
    public static float[] ReadMeanImage(string path)
    {
        var g = Parse(path).Graph;
        var ops = string.Join(",", g.Node.Select(n => n.OpType));
        if (ops != "Split,Concat,Sub")
            throw new TesseraException($"{path}: expected the nodes Split,Concat,Sub of ML.NET's ResNet preprocessing; found {ops}");
        var split = g.Node[0]; var concat = g.Node[1]; var sub = g.Node[2];
        // Concat must take Split's outputs in reverse order (R,G,B → B,G,R) and Sub must subtract the initializer.
        if (!split.Output.Reverse().SequenceEqual(concat.Input) || sub.Input[0] != concat.Output[0])
            throw new TesseraException($"{path}: the preprocessing is not the RGB → BGR channel swap followed by a mean subtraction");
        var mean = g.Initializer.SingleOrDefault(t => t.Name == sub.Input[1])
            ?? throw new TesseraException($"{path}: the mean image {sub.Input[1]} is not among the initializers");
        var data = Floats(path, mean);
        if (data.Length != 3 * ResNet18Imagenet.ImageSize * ResNet18Imagenet.ImageSize)
            throw new TesseraException($"{path}: the mean image has {data.Length} values; expected 3x224x224");
        return data;
    }

    public static ResNetSpec Read(string path)
    {
        var g = Parse(path).Graph;
        return new OnnxResNet(path, g).Walk(g);
    }

    private ResNetSpec Walk(GraphProto g)
    {
        var input = g.Input.Select(i => i.Name).Where(n => !inits.ContainsKey(n)).ToArray();
        if (input.Length != 1) throw Fail($"expected one image input, found {input.Length}");
        var conv = Next(input[0], "Conv");
        var stem = ConvOf(conv);
        var bn = Next(conv.Output[0], "BatchNormalization");
        var relu = Next(bn.Output[0], "Relu");
        var pool = Next(relu.Output[0], "MaxPool");
        var k = Ints(pool, "kernel_shape", [1, 1]); var s = Ints(pool, "strides", [1, 1]);
        var pp = Ints(pool, "pads", [0, 0, 0, 0]);
        if (k[0] != k[1] || s[0] != s[1] || Str(pool, "auto_pad", "NOTSET") != "NOTSET" || Int(pool, "ceil_mode", 0) != 0)
            throw Fail($"unsupported MaxPool {pool.Name}");
        string current = pool.Output[0];
        var stages = new List<List<BlockSpec>>();
        while (true)
        {
            var next = consumers.GetValueOrDefault(current) ?? [];
            if (next.Count == 1 && next[0].OpType == "AveragePool") break;
            var (block, output) = Block(current);
            if (block.Down is not null || stages.Count == 0) stages.Add([]);
            stages[^1].Add(block);
            current = output;
        }
        var avg = Next(current, "AveragePool");
        used.Add(avg);
        var ak = Ints(avg, "kernel_shape", [1, 1]);
        if (ak[0] != 7 || ak[1] != 7 || Ints(avg, "pads", [0, 0, 0, 0]).Any(v => v != 0))
            throw Fail($"AveragePool {avg.Name} is not the 7x7 global pool");
        if (g.Output.Count != 1 || g.Output[0].Name != avg.Output[0])
            throw Fail($"the graph output is not the pooled feature {avg.Output[0]}");
        var unused = g.Node.Where(n => !used.Contains(n)).Select(n => n.Name).ToArray();
        if (unused.Length > 0) throw Fail($"nodes outside the ResNet pattern: {string.Join(", ", unused.Take(5))}");
        return new ResNetSpec(stem, BnOf(bn), k[0], s[0], pp.All(v => v == 0) ? null : pp, stages);
    }

    /// <summary>One residual block starting at tensor <paramref name="x"/>: returns it and the tensor after its final ReLU.</summary>
    private (BlockSpec Block, string Output) Block(string x)
    {
        var convs = (consumers.GetValueOrDefault(x) ?? []).Where(n => n.OpType == "Conv").ToList();
        if (convs.Count is < 1 or > 2) throw Fail($"tensor {x} feeds {convs.Count} convolutions; a residual block has 1 or 2");
        // The shortcut projection is the conv whose BatchNorm feeds the Add directly.
        NodeProto? downConv = null;
        if (convs.Count == 2)
        {
            downConv = convs.Single(c => Next(Next(c.Output[0], "BatchNormalization").Output[0], null).OpType == "Add");
            convs.Remove(downConv);
        }
        var c1 = convs[0];
        used.Add(c1);
        if (downConv is not null) used.Add(downConv);
        var b1 = Next(c1.Output[0], "BatchNormalization");
        var r1 = Next(b1.Output[0], "Relu");
        var c2 = Next(r1.Output[0], "Conv");
        var b2 = Next(c2.Output[0], "BatchNormalization");
        var add = Next(b2.Output[0], "Add");
        DownSpec? down = null;
        string shortcut = add.Input[0] == b2.Output[0] ? add.Input[1] : add.Input[0];
        if (downConv is null)
        {
            if (shortcut != x) throw Fail($"Add {add.Name} does not add the block input {x}");
        }
        else
        {
            var db = Next(downConv.Output[0], "BatchNormalization");
            if (shortcut != db.Output[0]) throw Fail($"Add {add.Name} does not add the shortcut {db.Output[0]}");
            down = new DownSpec(ConvOf(downConv), BnOf(db));
        }
        var relu = Next(add.Output[0], "Relu");
        return (new BlockSpec(ConvOf(c1), BnOf(b1), ConvOf(c2), BnOf(b2), down), relu.Output[0]);
    }

    /// <summary>The single consumer of <paramref name="tensor"/>, of the given op type (any when null); marks it used.</summary>
    private NodeProto Next(string tensor, string? op)
    {
        var c = consumers.GetValueOrDefault(tensor) ?? [];
        var m = c.Where(n => op is null || n.OpType == op).ToList();
        if (m.Count != 1)
            throw Fail($"expected one {op ?? "node"} reading {tensor}, found {m.Count} ({string.Join(", ", c.Select(n => n.OpType))})");
        if (op is not null) used.Add(m[0]);
        return m[0];
    }

    private ConvSpec ConvOf(NodeProto n)
    {
        if (n.Input.Count != 2) throw Fail($"Conv {n.Name} has {n.Input.Count} inputs; expected data and weight (no bias)");
        var w = Init(n, 1);
        var shape = w.Dims.ToArray();
        var k = Ints(n, "kernel_shape", [shape[2], shape[3]]);
        var s = Ints(n, "strides", [1, 1]);
        var p = Ints(n, "pads", [0, 0, 0, 0]);
        if (shape.Length != 4 || k[0] != shape[2] || k[1] != shape[3] || s[0] != s[1] || Int(n, "group", 1) != 1
            || Ints(n, "dilations", [1, 1]).Any(d => d != 1) || Str(n, "auto_pad", "NOTSET") != "NOTSET" || p.Length != 4)
            throw Fail($"unsupported Conv {n.Name}");
        return new ConvSpec(n.Name, shape, s[0], p, Floats(file, w));
    }

    private BnSpec BnOf(NodeProto n)
    {
        if (n.Input.Count != 5 || Int(n, "spatial", 1) != 1)
            throw Fail($"unsupported BatchNormalization {n.Name} (expected spatial=1 with scale, bias, mean, var)");
        float eps = n.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
        var v = Enumerable.Range(1, 4).Select(i => Floats(file, Init(n, i))).ToArray();
        if (v.Any(a => a.Length != v[0].Length)) throw Fail($"BatchNormalization {n.Name} has parameters of different lengths");
        return new BnSpec(n.Name, eps, v[0], v[1], v[2], v[3]);
    }

    private TensorProto Init(NodeProto n, int input) =>
        inits.TryGetValue(n.Input[input], out var t) ? t
            : throw Fail($"{n.OpType} {n.Name}: input {n.Input[input]} is not an initializer");

    private static long[] Ints(NodeProto n, string name, long[] dflt) =>
        n.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.Ints.ToArray() : dflt;

    private static long Int(NodeProto n, string name, long dflt) =>
        n.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : dflt;

    private static string Str(NodeProto n, string name, string dflt) =>
        n.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.S.ToStringUtf8() : dflt;

    internal static float[] Floats(string file, TensorProto t)
    {
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw new TesseraException($"{file}: initializer {t.Name} is not float32 (ONNX type {t.DataType})");
        long n = t.Dims.Aggregate(1L, (a, b) => a * b);
        float[] v;
        if (t.FloatData.Count > 0) v = t.FloatData.ToArray();
        else
        {
            var raw = t.RawData.Span;
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian");
            v = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).ToArray();
        }
        if (v.Length != n) throw new TesseraException($"{file}: initializer {t.Name} has {v.Length} values for shape [{string.Join(", ", t.Dims)}]");
        return v;
    }

    private TesseraException Fail(string what) => new($"{file}: not the expected ResNet graph: {what}");
}
