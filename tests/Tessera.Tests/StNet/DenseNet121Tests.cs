using System.Runtime.InteropServices;
using Tessera.Methods.StNet;
using Tessera.Nn;
using Tessera.Tests.Support;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Tessera.Tests.StNet;

public class DenseNet121Tests
{
    // torchvision 0.14's densenet121 with non-trivial BatchNorm statistics and affine parameters (fixed seeds), saved both
    // with torch.save and as .safetensors; the safetensors file is written by the format's spec (8-byte little-endian
    // header length, JSON header, raw little-endian data) unless the safetensors package is present.
    private const string ReferenceScript = """
        import json, os, struct, sys
        import numpy as np, torch, torchvision
        out = sys.argv[1]
        torch.manual_seed(0)
        m = torchvision.models.densenet121(weights=None)
        g = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for mod in m.modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    mod.running_mean.copy_(torch.randn(mod.running_mean.shape, generator=g) * 0.1)
                    mod.running_var.copy_(torch.rand(mod.running_var.shape, generator=g) + 0.5)
                    mod.weight.copy_(torch.rand(mod.weight.shape, generator=g) + 0.5)
                    mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.1)
                    mod.num_batches_tracked.fill_(7)
            m.classifier.bias.copy_(torch.randn(m.classifier.bias.shape, generator=g) * 0.1)
        m.eval()
        sd = m.state_dict()
        torch.save(sd, os.path.join(out, "densenet121.pt"))
        try:
            from safetensors.torch import save_file
            save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(out, "densenet121.safetensors"))
        except ImportError:
            header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
            for k, v in sd.items():
                a = v.detach().cpu().contiguous().numpy()
                dtype = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[a.dtype]
                b = a.astype(a.dtype.newbyteorder("<")).tobytes()
                header[k] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
                blobs.append(b); offset += len(b)
            h = json.dumps(header).encode()
            h += b" " * (-len(h) % 8)
            with open(os.path.join(out, "densenet121.safetensors"), "wb") as fh:
                fh.write(struct.pack("<Q", len(h))); fh.write(h)
                for b in blobs: fh.write(b)
        torch.manual_seed(2)
        x = torch.randn(2, 3, 224, 224)
        with torch.no_grad():
            f = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(torch.nn.functional.relu(m.features(x)), (1, 1)), 1)
            y = m(x)
        x.numpy().astype("<f4").tofile(os.path.join(out, "x.bin"))
        y.numpy().astype("<f4").tofile(os.path.join(out, "logits.bin"))
        f.numpy().astype("<f4").tofile(os.path.join(out, "features.bin"))
        print(len(sd))
        """;

    private static float[] ReadF32(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    private static float MaxAbsDiff(Tensor a, float[] expected)
    {
        Assert.Equal(expected.Length, (int)a.numel());
        var got = a.contiguous().data<float>().ToArray();
        float max = 0;
        for (int i = 0; i < got.Length; i++) max = Math.Max(max, Math.Abs(got[i] - expected[i]));
        return max;
    }

    [SkippableFact]
    public void MatchesTorchvisionDenseNet121OnTheSameWeightsAndInput()
    {
        Python.RequireModules("torch", "torchvision");
        using var dir = new TempDir();
        var (code, stdout, err) = Python.Run(ReferenceScript.Replace("sys.argv[1]", $"r'{dir.Path}'"));
        Assert.True(code == 0, err);
        Assert.Equal("727", stdout.Trim()); // 242 parameters + 485 buffers (running mean/var, num_batches_tracked)

        var expectedLogits = ReadF32(dir.File("logits.bin"));
        var expectedFeatures = ReadF32(dir.File("features.bin"));
        using var x = tensor(ReadF32(dir.File("x.bin")), [2, 3, 224, 224]);

        using var model = DenseNet121.Load(dir.File("densenet121.pt"));
        Assert.Equal(1000, model.NumClasses);
        Assert.False(model.training);
        TorchGuard.Run(() =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var logits = model.call(x);
            var features = model.Features(x);
            Assert.Equal([2L, 1000L], logits.shape);
            Assert.Equal([2L, DenseNet121.FeatureDim], features.shape);
            float dLogits = MaxAbsDiff(logits, expectedLogits), dFeatures = MaxAbsDiff(features, expectedFeatures);
            Console.WriteLine($"DenseNet121 vs torchvision: max |logits diff| = {dLogits:E2}, max |features diff| = {dFeatures:E2}");
            Assert.True(dLogits < 1e-4f, $"logits differ from torchvision by {dLogits}");
            Assert.True(dFeatures < 1e-4f, $"features differ from torchvision by {dFeatures}");
        });

        // The same weights through the safetensors reader: every parameter and buffer identical to the torch.save load.
        using var fromSafetensors = DenseNet121.Load(dir.File("densenet121.safetensors"));
        var a = model.state_dict();
        var b = fromSafetensors.state_dict();
        Assert.Equal(727, a.Count);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (key, t) in a)
            Assert.True(t.dtype == b[key].dtype && t.allclose(b[key], rtol: 0, atol: 0), key);
        Assert.Equal(7L, b["features.denseblock3.denselayer24.norm2.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void LoadRebuildsTheHeadSizeAndAcceptsDataParallelAndLegacyKeys()
    {
        using var dir = new TempDir();
        Seeding.SeedTorch(5);
        using var original = new DenseNet121(250);
        using (no_grad())
            foreach (var (name, buffer) in original.named_buffers())
                if (name.EndsWith("running_var", StringComparison.Ordinal)) buffer.uniform_(0.5, 1.5);
        original.eval();

        // nn.DataParallel's "module." prefix plus torchvision's pre-0.4 layer keys ("denselayer1.norm.1.weight"); files of
        // that age have no num_batches_tracked counters.
        var legacy = new Dictionary<string, Tensor>();
        foreach (var (key, t) in original.state_dict())
        {
            if (key.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            var k = System.Text.RegularExpressions.Regex.Replace(key, @"(denselayer\d+\.(?:norm|conv))([12])\.", "$1.$2.");
            legacy["module." + k] = t;
        }
        Assert.Contains("module.features.denseblock1.denselayer1.norm.1.weight", legacy.Keys);
        var legacyPath = dir.File("legacy.pt");
        PyTorchPickler.PickleStateDict(legacyPath, legacy);

        Seeding.SeedTorch(6);
        using var x = randn(1, 3, 64, 64);
        TorchGuard.Run(() =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var expected = original.call(x);
            using var loaded = DenseNet121.Load(legacyPath);
            Assert.Equal(250, loaded.NumClasses);
            var got = loaded.call(x);
            Assert.Equal([1L, 250L], got.shape);
            Assert.True(expected.allclose(got, rtol: 0, atol: 0));
            Assert.True(original.Features(x).allclose(loaded.Features(x), rtol: 0, atol: 0));
        });
    }

    [Fact]
    public void TorchvisionNamesAndSizes()
    {
        using var model = new DenseNet121();
        var sd = model.state_dict();
        Assert.Equal([64L, 3, 7, 7], sd["features.conv0.weight"].shape);
        Assert.Equal([128L, 64, 1, 1], sd["features.denseblock1.denselayer1.conv1.weight"].shape);
        Assert.Equal([32L, 128, 3, 3], sd["features.denseblock1.denselayer1.conv2.weight"].shape);
        Assert.Equal([224L], sd["features.denseblock1.denselayer6.norm1.running_var"].shape);
        Assert.Equal([128L, 256, 1, 1], sd["features.transition1.conv.weight"].shape);
        Assert.Equal([992L], sd["features.denseblock4.denselayer16.norm1.weight"].shape); // 512 + 15·32
        Assert.Equal([1024L], sd["features.norm5.running_mean"].shape);
        Assert.Equal([1000L, 1024], sd["classifier.weight"].shape);
        Assert.True(sd.ContainsKey("features.norm0.num_batches_tracked"));
        Assert.Equal(7_978_856L, model.parameters().Sum(p => p.numel())); // torchvision's densenet121 parameter count
        Assert.Equal(727, sd.Count);
    }

    [Fact]
    public void MissingFileIsReported()
    {
        using var dir = new TempDir();
        var path = dir.File("nope.pt");
        var ex = Assert.Throws<TesseraException>(() => DenseNet121.Load(path));
        Assert.Equal($"DenseNet-121 weights file not found: {path}", ex.Message);
    }

    private static string SaveModified(TempDir dir, string name, Action<Dictionary<string, Tensor>> edit)
    {
        using var model = new DenseNet121(3);
        var sd = new Dictionary<string, Tensor>(model.state_dict());
        edit(sd);
        var path = dir.File(name);
        PyTorchPickler.PickleStateDict(path, sd);
        return path;
    }

    [Fact]
    public void WrongKeyIsReported()
    {
        using var dir = new TempDir();
        var path = SaveModified(dir, "renamed.pt", sd =>
        {
            sd["features.norm0.gamma"] = sd["features.norm0.weight"];
            sd.Remove("features.norm0.weight");
        });
        var ex = Assert.Throws<TesseraException>(() => DenseNet121.Load(path));
        Assert.Equal($"{path}: not a DenseNet-121 state dict: missing key 'features.norm0.weight'; unexpected key 'features.norm0.gamma'", ex.Message);
    }

    [Fact]
    public void ManyMissingKeysAreCounted()
    {
        using var dir = new TempDir();
        var path = SaveModified(dir, "partial.pt", sd =>
        {
            foreach (var k in sd.Keys.Where(k => k.StartsWith("features.denseblock4.denselayer16.", StringComparison.Ordinal)).ToList()) sd.Remove(k);
        });
        var ex = Assert.Throws<TesseraException>(() => DenseNet121.Load(path));
        Assert.Equal($"{path}: not a DenseNet-121 state dict: missing keys 'features.denseblock4.denselayer16.conv1.weight', " +
                     "'features.denseblock4.denselayer16.conv2.weight', 'features.denseblock4.denselayer16.norm1.bias' and 7 more", ex.Message);
    }

    [Fact]
    public void LegacyAndCurrentNamesForTheSameKeyAreReported()
    {
        using var dir = new TempDir();
        var path = dir.File("both.pt");
        PyTorchPickler.PickleStateDict(path, new Dictionary<string, Tensor>
        {
            ["features.denseblock1.denselayer1.norm1.weight"] = ones(64),
            ["features.denseblock1.denselayer1.norm.1.weight"] = ones(64),
        });
        var ex = Assert.Throws<TesseraException>(() => DenseNet121.Load(path));
        Assert.Equal($"{path}: keys 'features.denseblock1.denselayer1.norm.1.weight' and 'features.denseblock1.denselayer1.norm1.weight' " +
                     "both name 'features.denseblock1.denselayer1.norm1.weight'", ex.Message);
    }

    [Fact]
    public void WrongShapeIsReported()
    {
        using var dir = new TempDir();
        var path = SaveModified(dir, "shape.pt", sd => sd["features.conv0.weight"] = zeros(64, 3, 3, 3));
        var ex = Assert.Throws<TesseraException>(() => DenseNet121.Load(path));
        Assert.Equal($"{path}: key 'features.conv0.weight' has shape [64, 3, 3, 3] but DenseNet-121 needs [64, 3, 7, 7]", ex.Message);
    }

    [Fact]
    public void WrongClassifierWidthIsReported()
    {
        using var dir = new TempDir();
        var path = SaveModified(dir, "head.pt", sd => sd["classifier.weight"] = zeros(3, 512));
        var ex = Assert.Throws<TesseraException>(() => DenseNet121.Load(path));
        Assert.Equal($"{path}: key 'classifier.weight' has shape [3, 512] but DenseNet-121 needs [classes, 1024]", ex.Message);
    }

    [Fact]
    public void NonZipFileIsReported()
    {
        using var dir = new TempDir();
        var path = dir.File("legacy.pth");
        File.WriteAllBytes(path, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc]); // the pickle protocol-2 magic of pre-1.6 torch.save
        var ex = Assert.Throws<TesseraException>(() => DenseNet121.Load(path));
        Assert.Equal($"{path} is not a zip-format torch.save file (saved by PyTorch < 1.6 or not a state dict); " +
                     "re-save it in Python with torch.save(torch.load(old), new), or as .safetensors", ex.Message);
    }

    [Fact]
    public void CorruptSafetensorsIsWrapped()
    {
        using var dir = new TempDir();
        var path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, [4, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'x']);
        var ex = Assert.Throws<TesseraException>(() => DenseNet121.Load(path));
        Assert.StartsWith($"cannot read {path} as a safetensors state dict: ", ex.Message);
        Assert.NotNull(ex.InnerException);
    }
}
