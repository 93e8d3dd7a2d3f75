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
    public static IPatchFeaturizer Create(string name, string? weights = null) => name switch
    {
        "resnet18-imagenet" => weights is null ? new ResNet18Featurizer(ResNet18Imagenet.Load())
            : throw new TesseraException("--weights is for densenet121; resnet18-imagenet ships its own ImageNet weights"),
        "densenet121" => weights is null
            ? throw new TesseraException("densenet121 needs --weights FILE (.pt or .safetensors, a torchvision state dict); no DenseNet weights ship with Tessera")
            : new DenseNetFeaturizer(DenseNet121.Load(weights)),
        _ => throw new TesseraException($"backbone '{name}' is unknown ({string.Join(", ", Names)})"),
    };

    /// <summary>A fresh, trainable copy of a backbone (RGB 0..255 in, features out, differentiable) for fine-tuning.</summary>
    public static (Module<Tensor, Tensor> Net, int Dim) CreateTrainable(string name, string? weights = null)
    {
        switch (name)
        {
            case "resnet18-imagenet":
                var r = ResNet18Imagenet.Load();
                r.SetTrainable(true);
                return (r, r.FeatureDim);
            case "densenet121":
                if (weights is null) throw new TesseraException("densenet121 needs --weights FILE (.pt or .safetensors, a torchvision state dict)");
                return (new NormalisedDenseNet(DenseNet121.Load(weights)), DenseNet121.FeatureDim);
            default:
                throw new TesseraException($"backbone '{name}' is unknown ({string.Join(", ", Names)})");
        }
    }

    private sealed class NormalisedDenseNet : Module<Tensor, Tensor>
    {
        private readonly DenseNet121 net;
        private readonly Tensor mean, std;

        public NormalisedDenseNet(DenseNet121 net) : base("NormalisedDenseNet")
        {
            this.net = net;
            mean = tensor(new float[] { 0.485f, 0.456f, 0.406f }).reshape(1, 3, 1, 1);
            std = tensor(new float[] { 0.229f, 0.224f, 0.225f }).reshape(1, 3, 1, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor rgb) => net.Features((rgb / 255 - mean) / std);
    }

    private sealed class ResNet18Featurizer(ResNet18Imagenet net) : IPatchFeaturizer
    {
        public string Name => "resnet18-imagenet";
        public int FeatureDim => net.FeatureDim;
        public Tensor Features(Tensor rgb) => net.Features(rgb);
    }

    private sealed class DenseNetFeaturizer(DenseNet121 net) : IPatchFeaturizer
    {
        // torchvision's ImageNet normalisation, which its pretrained DenseNet weights expect
        private readonly Tensor mean = tensor(new float[] { 0.485f, 0.456f, 0.406f }).reshape(1, 3, 1, 1).DetachFromDisposeScope();
        private readonly Tensor std = tensor(new float[] { 0.229f, 0.224f, 0.225f }).reshape(1, 3, 1, 1).DetachFromDisposeScope();
        public string Name => "densenet121";
        public int FeatureDim => DenseNet121.FeatureDim;
        public Tensor Features(Tensor rgb) => net.Features((rgb / 255 - mean) / std);
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
