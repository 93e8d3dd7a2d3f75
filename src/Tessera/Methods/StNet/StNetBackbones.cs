using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Tessera.Methods.StNet;

/// <summary>The image backbones ST-Net can use, as <see cref="IPatchFeaturizer"/>s.</summary>
public static class StNetBackbones
{
    /// <summary>Backbone names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["resnet18-imagenet", "densenet121"];

    /// <summary>
    /// <c>resnet18-imagenet</c>: the ImageNet ResNet-18 shipped with ML.NET (offline, its own BGR mean-image preprocessing);
    /// <c>densenet121</c>: DenseNet-121 with a torchvision state dict from <paramref name="weights"/> (ImageNet mean/std normalisation).
    /// </summary>
    public static IPatchFeaturizer Create(string name, string? weights = null)
    {
        var (net, dim) = Load(name, weights);
        // ResNet18Imagenet.Features checks the input shape and guards the call itself
        Func<Tensor, Tensor> features = net is ResNet18Imagenet r ? r.Features : x => Nn.TorchGuard.Run(() => net.call(x));
        return new Featurizer(name, dim, features, net);
    }

    /// <summary>A fresh, trainable copy of a backbone (RGB 0..255 in, features out, differentiable) for fine-tuning.</summary>
    public static (Module<Tensor, Tensor> Net, int Dim) CreateTrainable(string name, string? weights = null)
    {
        var (net, dim) = Load(name, weights);
        if (net is ResNet18Imagenet r) r.SetTrainable(true);
        return (net, dim);
    }

    /// <summary>Throws a <see cref="TesseraException"/> when <paramref name="name"/> is unknown or its weights setting does not fit it.</summary>
    internal static void Check(string name, string? weights)
    {
        switch (name)
        {
            case "resnet18-imagenet":
                if (weights is not null) throw new TesseraException("Weights is for densenet121; resnet18-imagenet ships its own ImageNet weights");
                break;
            case "densenet121":
                if (weights is null) throw new TesseraException("densenet121 needs Weights (a .pt or .safetensors torchvision state dict); no DenseNet weights ship with Tessera");
                break;
            default:
                throw new TesseraException($"Backbone '{name}' is unknown ({string.Join(", ", Names)})");
        }
    }

    /// <summary>The backbone as a module from RGB 0..255 to features, in eval mode (loaded frozen where the backbone has a switch).</summary>
    private static (Module<Tensor, Tensor> Net, int Dim) Load(string name, string? weights)
    {
        Check(name, weights);
        if (name == "resnet18-imagenet")
        {
            var r = ResNet18Imagenet.Load();
            return (r, r.FeatureDim);
        }
        return (new NormalisedDenseNet(DenseNet121.Load(weights!)), DenseNet121.FeatureDim);
    }

    /// <summary>DenseNet-121 features after torchvision's ImageNet normalisation, which its pretrained weights expect.</summary>
    private sealed class NormalisedDenseNet : Module<Tensor, Tensor>
    {
        private readonly DenseNet121 net;
        private readonly Tensor mean, std;

        public NormalisedDenseNet(DenseNet121 net) : base("NormalisedDenseNet")
        {
            this.net = net;
            mean = tensor(new float[] { 0.485f, 0.456f, 0.406f }).reshape(1, 3, 1, 1).DetachFromDisposeScope();
            std = tensor(new float[] { 0.229f, 0.224f, 0.225f }).reshape(1, 3, 1, 1).DetachFromDisposeScope();
            RegisterComponents();
        }

        public override Tensor forward(Tensor rgb) => net.Features((rgb / 255 - mean) / std);
    }

    /// <summary>A backbone module as a featurizer; disposing it frees the module's tensors.</summary>
    private sealed class Featurizer(string name, int dim, Func<Tensor, Tensor> features, IDisposable module) : IPatchFeaturizer, IDisposable
    {
        public string Name => name;
        public int FeatureDim => dim;
        public Tensor Features(Tensor rgb) => features(rgb);
        public void Dispose() => module.Dispose();
    }
}

/// <summary>Attributions of ST-Net predictions to patch pixels.</summary>
public static class StNetAttribution
{
    /// <summary>
    /// Integrated-gradients heat map (H × W, |attribution| summed over channels) of the frozen model's prediction of gene
    /// column <paramref name="gene"/> for one RGB patch [1, 3, H, W] (0..255), against a black patch.
    /// </summary>
    public static float[] GeneHeatmap(IPatchFeaturizer backbone, Analysis.RidgeModel head, int gene, Tensor patch, int steps = 32)
    {
        using var scope = NewDisposeScope();
        var mean = tensor(head.FeatureMean).to_type(ScalarType.Float32);
        var scale = tensor(head.FeatureScale).to_type(ScalarType.Float32);
        var w = tensor(Enumerable.Range(0, head.Coefficients.Rows).Select(j => (float)head.Coefficients[j, gene]).ToArray());
        Tensor F(Tensor x) => ((backbone.Features(x) - mean) / scale).mv(w) + (float)head.Intercept[gene];
        var ig = Tessera.Nn.IntegratedGradients.Compute(F, patch, null, steps);
        return ig.abs().sum(1L).squeeze(0).contiguous().data<float>().ToArray();
    }
}
