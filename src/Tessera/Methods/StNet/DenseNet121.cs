using System.Collections;
using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Tessera.Methods.StNet;

/// <summary>
/// DenseNet-121 (Huang et al. 2017), layer for layer torchvision 0.14's <c>torchvision.models.densenet121</c>: growth rate
/// 32, block config (6, 12, 24, 16), bottleneck size 4, 64 initial features, no dropout, memory-efficient checkpointing
/// off. Parameter and buffer names are torchvision's (<c>features.conv0.weight</c>,
/// <c>features.denseblock1.denselayer1.norm1.running_mean</c>, <c>features.transition1.conv.weight</c>,
/// <c>features.norm5.bias</c>, <c>classifier.weight</c>...), so a PyTorch state dict loads by name (<see cref="Load"/>).
/// ST-Net uses it as the image backbone. Inputs are N×3×H×W images normalised the way the weights were trained
/// (ImageNet weights: mean 0.485/0.456/0.406, std 0.229/0.224/0.225); the model does not normalise.
/// torchvision's ReLUs are in place (a memory saving only); here they are not, which gives the same numbers.
/// </summary>
public sealed class DenseNet121 : Module<Tensor, Tensor>
{
    /// <summary>Length of the pooled feature vector returned by <see cref="Features"/> (channels after <c>norm5</c>).</summary>
    public const int FeatureDim = 1024;

    private const int GrowthRate = 32, BnSize = 4, NumInitFeatures = 64;
    private static readonly int[] BlockConfig = [6, 12, 24, 16];

    private readonly Sequential features;
    private readonly Linear classifier;

    /// <summary>Number of outputs of the classifier head (1000 for ImageNet weights; e.g. the gene count for ST-Net).</summary>
    public int NumClasses { get; }

    /// <summary>
    /// Builds the network with torchvision's initialisation (Kaiming-normal convolutions, BatchNorm weight 1 and bias 0,
    /// classifier bias 0) drawn from torch's global generator: call <c>Seeding.SeedTorch</c> first for a reproducible init.
    /// </summary>
    /// <param name="numClasses">Outputs of the classifier head (at least 1).</param>
    public DenseNet121(int numClasses = 1000) : base("DenseNet")
    {
        if (numClasses < 1) throw new TesseraException($"DenseNet-121 needs at least 1 class but numClasses is {numClasses}");
        NumClasses = numClasses;

        var layers = new List<(string, Module<Tensor, Tensor>)>
        {
            ("conv0", Conv2d(3, NumInitFeatures, 7, stride: 2, padding: 3, bias: false)),
            ("norm0", BatchNorm2d(NumInitFeatures)),
            ("relu0", ReLU(inplace: true)),
            ("pool0", MaxPool2d(3, stride: 2, padding: 1)),
        };
        long channels = NumInitFeatures;
        for (int b = 0; b < BlockConfig.Length; b++)
        {
            layers.Add(($"denseblock{b + 1}", new DenseBlock(BlockConfig[b], channels, BnSize, GrowthRate)));
            channels += BlockConfig[b] * GrowthRate;
            if (b != BlockConfig.Length - 1)
            {
                layers.Add(($"transition{b + 1}", Transition(channels, channels / 2)));
                channels /= 2;
            }
        }
        layers.Add(("norm5", BatchNorm2d(channels)));
        features = Sequential(layers.ToArray());
        classifier = Linear(channels, numClasses);
        RegisterComponents();

        using (no_grad())
        {
            foreach (var m in modules())
            {
                switch (m)
                {
                    case Conv2d c: init.kaiming_normal_(c.weight!); break;
                    case BatchNorm2d bn: init.ones_(bn.weight!); init.zeros_(bn.bias!); break;
                    case Linear l: init.zeros_(l.bias!); break;
                }
            }
        }
    }

    // torchvision's _Transition is an nn.Sequential of norm, relu, conv, pool.
    private static Sequential Transition(long inChannels, long outChannels) => Sequential(
        ("norm", BatchNorm2d(inChannels)),
        ("relu", ReLU(inplace: true)),
        ("conv", Conv2d(inChannels, outChannels, 1, stride: 1, bias: false)),
        ("pool", AvgPool2d(2, stride: 2)));

    /// <summary>The 1024-d image features: <c>features</c> → ReLU → global average pool → flatten (N×1024), before the classifier.</summary>
    public Tensor Features(Tensor x)
    {
        using var xc = Nn.ChannelsLast.Of(x);
        using var f = features.call(xc);
        using var r = functional.relu(f, inplace: true);
        using var p = functional.adaptive_avg_pool2d(r, [1, 1]);
        return p.flatten(1);
    }

    /// <summary>Classifier outputs (N×<see cref="NumClasses"/>) for N×3×H×W images, as torchvision's forward.</summary>
    public override Tensor forward(Tensor x)
    {
        using var h = Features(x);
        return classifier.call(h);
    }

    private static readonly Regex LegacyLayerKey =
        new(@"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$", RegexOptions.CultureInvariant);

    /// <summary>
    /// Loads a PyTorch DenseNet-121 state dict saved with <c>torch.save(model.state_dict(), path)</c> (zip format, PyTorch ≥ 1.6)
    /// or a <c>.safetensors</c> file, building the classifier head with the number of outputs stored in
    /// <c>classifier.weight</c> (so a 250-gene ST-Net head loads as it is). The model is returned in evaluation mode;
    /// call <c>train()</c> to fine-tune it.
    /// </summary>
    /// <remarks>
    /// As torchvision does, keys of the pre-0.4 layout (<c>denselayer1.norm.1.weight</c>) are renamed to today's
    /// (<c>denselayer1.norm1.weight</c>), a <c>module.</c> prefix on every key (nn.DataParallel) is dropped, and missing
    /// BatchNorm <c>num_batches_tracked</c> counters stay 0. Every other key must be present with torchvision's shape.
    /// Weights are cast to float32.
    /// </remarks>
    /// <exception cref="TesseraException">The file is missing or unreadable, or a key is missing, unexpected or of the wrong shape.</exception>
    public static DenseNet121 Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new TesseraException($"DenseNet-121 weights file not found: {path}");
        var state = ReadStateDict(path);
        DenseNet121? model = null;
        try
        {
            state = Normalise(path, state);
            int numClasses = 1000;
            if (state.TryGetValue("classifier.weight", out var head))
            {
                if (head.dim() != 2 || head.shape[1] != FeatureDim || head.shape[0] < 1)
                    throw new TesseraException($"{path}: key 'classifier.weight' has shape {Shape(head.shape)} but DenseNet-121 needs [classes, {FeatureDim}]");
                numClasses = checked((int)head.shape[0]);
            }
            model = new DenseNet121(numClasses);
            var target = model.state_dict();
            var missing = target.Keys.Where(k => !state.ContainsKey(k) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).ToList();
            var unexpected = state.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
            {
                var parts = new List<string>();
                if (missing.Count > 0) parts.Add(KeyList("missing", missing));
                if (unexpected.Count > 0) parts.Add(KeyList("unexpected", unexpected));
                throw new TesseraException($"{path}: not a DenseNet-121 state dict: {string.Join("; ", parts)}");
            }
            foreach (var (key, dst) in target)
            {
                if (!state.TryGetValue(key, out var src)) continue;
                if (!src.shape.SequenceEqual(dst.shape))
                    throw new TesseraException($"{path}: key '{key}' has shape {Shape(src.shape)} but DenseNet-121 needs {Shape(dst.shape)}");
            }
            using (no_grad())
                foreach (var (key, dst) in target)
                    if (state.TryGetValue(key, out var src)) dst.copy_(src);
            model.eval();
            var loaded = model;
            model = null;
            return loaded;
        }
        finally
        {
            model?.Dispose();
            foreach (var t in state.Values) t.Dispose();
        }
    }

    private static Dictionary<string, Tensor> ReadStateDict(string path)
    {
        bool safetensors = path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
        string format = safetensors ? "safetensors" : "torch.save";
        try
        {
            if (safetensors) return Safetensors.LoadStateDict(path);
            using (var fs = File.OpenRead(path))
            {
                Span<byte> magic = stackalloc byte[2];
                if (fs.Read(magic) < 2 || magic[0] != (byte)'P' || magic[1] != (byte)'K')
                    throw new TesseraException($"{path} is not a zip-format torch.save file (saved by PyTorch < 1.6 or not a state dict); " +
                                               "re-save it in Python with torch.save(torch.load(old), new), or as .safetensors");
            }
            var table = PyTorchUnpickler.UnpickleStateDict(path);
            var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var fail = (string?)null;
            foreach (DictionaryEntry e in table)
            {
                if (e.Value is Tensor t) dict[(string)e.Key] = t;
                else fail ??= $"{path}: entry '{e.Key}' is not a tensor; save the model's weights with torch.save(model.state_dict(), path)";
            }
            if (fail is not null)
            {
                foreach (var t in dict.Values) t.Dispose();
                throw new TesseraException(fail);
            }
            return dict;
        }
        catch (Exception ex) when (ex is not TesseraException)
        {
            throw new TesseraException($"cannot read {path} as a {format} state dict: {ex.Message}", ex);
        }
    }

    // DataParallel prefix and the pre-0.4 layer-key layout, renamed as torchvision's _load_state_dict does.
    private static Dictionary<string, Tensor> Normalise(string path, Dictionary<string, Tensor> state)
    {
        bool dataParallel = state.Count > 0 && state.Keys.All(k => k.StartsWith("module.", StringComparison.Ordinal));
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var source = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in state.Keys.Order(StringComparer.Ordinal))
        {
            var k = dataParallel ? key["module.".Length..] : key;
            var m = LegacyLayerKey.Match(k);
            if (m.Success) k = m.Groups[1].Value + m.Groups[2].Value;
            if (!source.TryAdd(k, key))
                throw new TesseraException($"{path}: keys '{source[k]}' and '{key}' both name '{k}'");
            result[k] = state[key];
        }
        return result;
    }

    private static string KeyList(string what, List<string> keys)
    {
        var shown = string.Join(", ", keys.Take(3).Select(k => $"'{k}'"));
        return keys.Count == 1 ? $"{what} key {shown}"
            : $"{what} keys {shown}" + (keys.Count > 3 ? $" and {keys.Count - 3} more" : "");
    }

    private static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    // torchvision's _DenseLayer: BN → ReLU → 1×1 conv to bn_size·growth channels → BN → ReLU → 3×3 conv to growth channels.
    // torchvision passes the list of earlier outputs and concatenates inside; the block passes them already concatenated.
    private sealed class DenseLayer : Module<Tensor, Tensor>
    {
        private readonly BatchNorm2d norm1, norm2;
        private readonly ReLU relu1, relu2;
        private readonly Conv2d conv1, conv2;

        public DenseLayer(long inChannels, int growthRate, int bnSize) : base("_DenseLayer")
        {
            norm1 = BatchNorm2d(inChannels);
            relu1 = ReLU(inplace: true);
            conv1 = Conv2d(inChannels, bnSize * growthRate, 1, stride: 1, bias: false);
            norm2 = BatchNorm2d(bnSize * growthRate);
            relu2 = ReLU(inplace: true);
            conv2 = Conv2d(bnSize * growthRate, growthRate, 3, stride: 1, padding: 1, bias: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor concatenated)
        {
            using var n1 = norm1.call(concatenated);
            using var r1 = relu1.call(n1);
            using var bottleneck = conv1.call(r1);
            using var n2 = norm2.call(bottleneck);
            using var r2 = relu2.call(n2);
            return conv2.call(r2);
        }
    }

    // torchvision's _DenseBlock is an nn.ModuleDict of denselayer1..n; each layer sees every earlier output.
    private sealed class DenseBlock : Module<Tensor, Tensor>
    {
        private readonly DenseLayer[] layers;

        public DenseBlock(int numLayers, long inChannels, int bnSize, int growthRate) : base("_DenseBlock")
        {
            layers = new DenseLayer[numLayers];
            for (int i = 0; i < numLayers; i++)
            {
                layers[i] = new DenseLayer(inChannels + i * growthRate, growthRate, bnSize);
                register_module($"denselayer{i + 1}", layers[i]);
            }
        }

        public override Tensor forward(Tensor x)
        {
            Tensor current = x;
            foreach (var layer in layers)
            {
                using var added = layer.call(current);
                var next = cat([current, added], 1);
                if (!ReferenceEquals(current, x)) current.Dispose();
                current = next;
            }
            return ReferenceEquals(current, x) ? x.alias() : current;
        }
    }
}
