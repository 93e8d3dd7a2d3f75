using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tessera.Methods.StNet;
using Tessera.Nn;
using Tessera.Tests.Support;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Tessera.Tests.StNet;

/// <summary>Loads the 64 MB network once for all tests of the class.</summary>
public sealed class ResNet18Fixture : IDisposable
{
    /// <summary>The pretrained network as shipped in DnnImageModels/ of the test output.</summary>
    public ResNet18Imagenet Net { get; } = ResNet18Imagenet.Load();
    public void Dispose() => Net.Dispose();
}

public class ResNet18Tests(ResNet18Fixture fixture, ITestOutputHelper output) : IClassFixture<ResNet18Fixture>
{
    private ResNet18Imagenet Net => fixture.Net;

    private static string ModelDir => Path.Combine(AppContext.BaseDirectory, ResNet18Imagenet.ModelFolder);

    /// <summary>[n, 3, 224, 224] uniform noise in 0..255 from System.Random (independent of torch's generator).</summary>
    private static float[] Noise(int n, int seed)
    {
        var rng = Seeding.Rng(seed, "resnet-parity");
        var v = new float[n * 3 * 224 * 224];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 255);
        return v;
    }

    /// <summary>
    /// An H&amp;E-like 224×224 RGB image (0..255): pink stroma with a left-to-right shading, a dense band of purple nuclei
    /// in the left third and scattered nuclei elsewhere, pixel noise — deliberately not mirror-symmetric.
    /// </summary>
    internal static float[] Tissue(int seed)
    {
        const int S = 224;
        var rng = Seeding.Rng(seed, "resnet-tissue");
        var img = new float[3 * S * S];
        var nuclei = new List<(double X, double Y, double Rx, double Ry)>();
        for (int i = 0; i < 60; i++)
            nuclei.Add((rng.NextDouble() * 70, rng.NextDouble() * S, 3 + rng.NextDouble() * 4, 3 + rng.NextDouble() * 3));
        for (int i = 0; i < 25; i++)
            nuclei.Add((70 + rng.NextDouble() * 154, rng.NextDouble() * S, 4 + rng.NextDouble() * 5, 3 + rng.NextDouble() * 4));
        float[] stroma = [235, 170, 200], nucleus = [85, 55, 140];
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                double w = 0;
                foreach (var (nx, ny, rx, ry) in nuclei)
                {
                    double d = (x - nx) * (x - nx) / (rx * rx) + (y - ny) * (y - ny) / (ry * ry);
                    if (d < 2) w = Math.Max(w, Math.Clamp(2 - d, 0, 1));
                }
                double shade = 1 - 0.25 * x / S;
                for (int c = 0; c < 3; c++)
                {
                    double v = (stroma[c] * (1 - w) + nucleus[c] * w) * shade + (rng.NextDouble() - 0.5) * 20;
                    img[(c * S + y) * S + x] = (float)Math.Clamp(v, 0, 255);
                }
            }
        return img;
    }

    private static double Pearson(float[] a, float[] b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }

    private float[][] Features(float[] images, int n)
    {
        using var x = torch.tensor(images, [n, 3, 224, 224]);
        using var f = Net.Features(x);
        Assert.Equal(new long[] { n, 512 }, f.shape);
        var all = f.data<float>().ToArray();
        return Enumerable.Range(0, n).Select(i => all.AsSpan(i * 512, 512).ToArray()).ToArray();
    }

    [Fact]
    public void Graph_IsTheCntkResNet18_WithItsWeights()
    {
        // Read from the graph: the CNTK model has 3 blocks in its last stage (torchvision's resnet18 has 2).
        Assert.Equal(new[] { 2, 2, 2, 3 }, Net.BlocksPerStage);
        Assert.Equal(512, Net.FeatureDim);
        var p = Net.named_parameters().ToDictionary(t => t.name, t => t.parameter);
        var b = Net.named_buffers().ToDictionary(t => t.name, t => t.buffer);
        // Parameter counts from python3-onnx over the initializers: 15,897,152 conv + BN affine, 11,648 BN statistics.
        Assert.Equal(15_897_152L, p.Values.Sum(t => t.numel()));
        Assert.Equal(11_648L, b.Where(kv => kv.Key.EndsWith("running_mean") || kv.Key.EndsWith("running_var")).Sum(kv => kv.Value.numel()));
        Assert.Contains("layer2.0.downsample.0.weight", p.Keys);
        Assert.Contains("layer4.2.conv2.weight", p.Keys);
        Assert.DoesNotContain("layer4.3.conv1.weight", p.Keys);
        Assert.Equal(new long[] { 1, 3, 224, 224 }, b["mean_bgr"].shape);
        Assert.All(p.Values, t => Assert.False(t.requires_grad)); // frozen after Load
        // Spot values read with python3-onnx (numpy_helper.to_array) from the same file.
        Assert.Equal(-0.020473214f, p["conv1.weight"][0, 0, 0, 0].item<float>());
        Assert.Equal(-0.0058155437f, p["conv1.weight"][63, 2, 6, 6].item<float>());
        Assert.Equal(0.000116578754f, p["layer4.2.conv2.weight"][511, 511, 2, 2].item<float>());
        Assert.Equal(1.0591034f, p["bn1.weight"][5].item<float>());
        Assert.Equal(1.5275143f, p["bn1.bias"][5].item<float>());
        Assert.Equal(-0.041600745f, b["bn1.running_mean"][5].item<float>());
        Assert.Equal(1923.8452f, b["bn1.running_var"][5].item<float>());
        Assert.Equal(1.7054105f, b["layer2.0.downsample.1.running_var"][7].item<float>());
    }

    [Fact]
    public void Preprocess_SwapsToBgr_AndSubtractsTheMeanImage()
    {
        // Constant R=10, G=20, B=30 except one pixel (100, 100) = (200, 150, 50).
        var img = new float[3 * 224 * 224];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 224 * 224; i++) img[c * 224 * 224 + i] = 10 * (c + 1);
        img[(0 * 224 + 100) * 224 + 100] = 200; img[(1 * 224 + 100) * 224 + 100] = 150; img[(2 * 224 + 100) * 224 + 100] = 50;
        using var x = torch.tensor(img, [1, 3, 224, 224]);
        using var p = TorchGuard.Run(() => Net.Preprocess(x));
        // Mean image (BGR) read with python3-onnx from ResNetPreprocess.onnx: at (0,0) [114.4211, 123.8862, 125.1021],
        // at (100,100) [100.4373, 113.5191, 124.3287].
        Assert.Equal(30 - 114.4211f, p[0, 0, 0, 0].item<float>(), 1e-3f);
        Assert.Equal(20 - 123.8862f, p[0, 1, 0, 0].item<float>(), 1e-3f);
        Assert.Equal(10 - 125.1021f, p[0, 2, 0, 0].item<float>(), 1e-3f);
        Assert.Equal(50 - 100.4373f, p[0, 0, 100, 100].item<float>(), 1e-3f);
        Assert.Equal(150 - 113.5191f, p[0, 1, 100, 100].item<float>(), 1e-3f);
        Assert.Equal(200 - 124.3287f, p[0, 2, 100, 100].item<float>(), 1e-3f);
        Assert.Equal(10f, x[0, 0, 0, 0].item<float>()); // input untouched
    }

    [SkippableFact]
    public void Features_MatchOnnxRuntime_OnTheOriginalGraphs()
    {
        const int n = 2;
        var images = Noise(n, 7);
        for (int i = 0; i < 224 * 224; i++) images[3 * 224 * 224 + i] = 255 - images[3 * 224 * 224 + i] / 4; // 2nd: reddish
        InferenceSession prep, net;
        try
        {
            prep = new InferenceSession(Path.Combine(ModelDir, ResNet18Imagenet.PreprocessFile));
            net = new InferenceSession(Path.Combine(ModelDir, ResNet18Imagenet.NetworkFile));
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            Skip.If(true, $"ONNX Runtime's native library does not load here: {e.Message}");
            return;
        }
        using var _p = prep; using var _n = net;
        var reference = new float[n][];
        for (int b = 0; b < n; b++)
        {
            var one = new DenseTensor<float>(images.AsMemory(b * 3 * 224 * 224, 3 * 224 * 224), [1, 3, 224, 224]);
            using var pre = prep.Run([NamedOnnxValue.CreateFromTensor("OriginalInput", one)]);
            var bgr = pre.Single(v => v.Name == "PreprocessedInput").AsTensor<float>().ToDenseTensor();
            using var feat = net.Run([NamedOnnxValue.CreateFromTensor("Input247", bgr)]);
            reference[b] = feat.Single(v => v.Name == "Pooling395_Output_0").AsTensor<float>().ToArray();
            Assert.Equal(512, reference[b].Length);
        }
        var ours = Features(images, n);
        double maxDiff = 0, scale = 0;
        for (int b = 0; b < n; b++)
            for (int j = 0; j < 512; j++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(ours[b][j] - reference[b][j]));
                scale = Math.Max(scale, Math.Abs(reference[b][j]));
            }
        output.WriteLine($"max |torch - onnxruntime| = {maxDiff:E3}, max |feature| = {scale:F4}, relative = {maxDiff / scale:E3}");
        Assert.True(scale > 0.1, $"features are degenerate (max {scale})");
        Assert.True(maxDiff < 1e-3 * scale, $"max abs diff {maxDiff:E3} vs scale {scale:F4}");
        // The two images give clearly different features (the comparison is not between two constant vectors).
        Assert.True(ours[0].Zip(ours[1]).Max(t => Math.Abs(t.First - t.Second)) > 0.05 * scale);
    }

    [Fact]
    public void Features_OfAFlippedTissueImage_DifferButStayHighlyCorrelated()
    {
        var img = Tissue(3);
        var flipped = new float[img.Length];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 224; y++)
                for (int x = 0; x < 224; x++)
                    flipped[(c * 224 + y) * 224 + x] = img[(c * 224 + y) * 224 + 223 - x];
        var noise = Noise(1, 11);
        var f = Features([.. img, .. flipped, .. noise], 3);
        double rFlip = Pearson(f[0], f[1]), rNoise = Pearson(f[0], f[2]);
        double maxDiff = f[0].Zip(f[1]).Max(t => Math.Abs(t.First - t.Second)), scale = f[0].Max(Math.Abs);
        output.WriteLine($"r(image, flipped) = {rFlip:F4}, r(image, noise) = {rNoise:F4}, max diff {maxDiff:F4} of scale {scale:F4}");
        Assert.True(rFlip > 0.9, $"r(image, flipped) = {rFlip:F4}");
        Assert.True(rFlip > rNoise + 0.1, $"r(image, flipped) = {rFlip:F4} vs r(image, noise) = {rNoise:F4}");
        Assert.True(maxDiff > 0.01 * scale, $"flipping changed the features by only {maxDiff} (scale {scale})");
        Assert.All(f.SelectMany(v => v), v => Assert.True(v >= 0 && float.IsFinite(v))); // mean of ReLU outputs
    }

    [Fact]
    public void Features_AreDifferentiable_WhenAskedFor()
    {
        var img = Tissue(5);
        using var x = torch.tensor(img, [1, 3, 224, 224]).requires_grad_();
        using (var f = Net.Features(x))
        {
            Assert.True(f.requires_grad);
            using var loss = f.pow(2).sum();
            TorchGuard.Run(() => loss.backward());
        }
        Assert.NotNull(x.grad);
        float g = x.grad!.abs().sum().item<float>();
        Assert.True(g > 0 && float.IsFinite(g));

        using (var y = torch.tensor(img, [1, 3, 224, 224]))
        using (var frozen = Net.Features(y))
            Assert.False(frozen.requires_grad); // frozen by default: no graph is recorded

        Net.SetTrainable(true);
        try
        {
            using var y = torch.tensor(img, [1, 3, 224, 224]);
            using var f = Net.Features(y);
            using var loss = f.sum();
            TorchGuard.Run(() => loss.backward());
            var w = Net.named_parameters().Single(t => t.name == "layer1.0.conv1.weight").parameter;
            Assert.NotNull(w.grad);
            Assert.True(w.grad!.abs().sum().item<float>() > 0);
        }
        finally
        {
            foreach (var p in Net.parameters()) p.grad?.zero_();
            Net.SetTrainable(false);
        }
    }

    [Fact]
    public void Features_RejectsAWrongShape()
    {
        using var x = torch.zeros(2, 3, 100, 100);
        var e = Assert.Throws<TesseraException>(() => Net.Features(x));
        Assert.Equal("ResNet-18 input must be float32 [B, 3, 224, 224] (RGB, 0..255); got Float32 [2, 3, 100, 100]", e.Message);
    }

    [Fact]
    public void Load_NamesTheMissingFile()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<TesseraException>(() => ResNet18Imagenet.Load(dir.Path));
        Assert.Equal($"pretrained ResNet-18 file not found: {Path.Combine(dir.Path, "ResNet18Onnx", "ResNet18.onnx")} " +
            "(it ships in the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, which copies it to DnnImageModels/ in the build output)",
            e.Message);
    }

    [Fact]
    public void Load_RejectsAGraphThatIsNotTheResNet()
    {
        // The preprocessing graph put where the network belongs.
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "ResNet18Onnx"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "ResNetPrepOnnx"));
        var prep = Path.Combine(ModelDir, ResNet18Imagenet.PreprocessFile);
        File.Copy(prep, Path.Combine(dir.Path, ResNet18Imagenet.NetworkFile));
        File.Copy(prep, Path.Combine(dir.Path, ResNet18Imagenet.PreprocessFile));
        var e = Assert.Throws<TesseraException>(() => ResNet18Imagenet.Load(dir.Path));
        Assert.Equal($"{Path.Combine(dir.Path, ResNet18Imagenet.NetworkFile)}: not the expected ResNet graph: expected one Conv reading OriginalInput, found 0 (Split)",
            e.Message);
    }
}
