using Tessera.Methods.Costa;
using Tessera.Nn;
using Tessera.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Tests.Costa;

/// <summary>
/// CostaNet against the authors' ConvNet written in PyTorch (conv → BatchNorm → activation → max-pool, NCHW, train mode)
/// on the same weights and images: the embedding, the logits and every parameter's gradient. Tessera runs its convs on
/// channels-last inputs and the ReLU after the pool; neither may change the numbers beyond float rounding.
/// </summary>
public class CostaNetTorchTests
{
    private const string Script = """
        import sys, os, json, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
        out, size = sys.argv[1], int(sys.argv[2])
        torch.manual_seed(5)
        k, s1, last, dim, K = ((11, 7, 5), 2, nn.ReLU(), 512, 10) if size >= 64 else ((5, 5, 5), 2, nn.Tanh(), 128, 30)
        def block(i, kk, s, act):
            return nn.Sequential(nn.Conv2d(i, 128, kk, stride=s, padding=1), nn.BatchNorm2d(128), act, nn.MaxPool2d(2))
        class ConvNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.layer1 = block(1, k[0], s1, nn.ReLU()); self.layer2 = block(128, k[1], 1, nn.ReLU()); self.layer3 = block(128, k[2], 1, last)
                self.fc = nn.Linear(dim, K)
            def forward_feature(self, x):
                return F.normalize(torch.flatten(self.layer3(self.layer2(self.layer1(x))), 1), p=2, dim=1)
        net = ConvNet().train()
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.copy_(torch.rand(128) + 0.5); m.weight[::7] *= -1; m.bias.copy_(torch.randn(128) * 0.1)
        x = torch.randn(6, 1, size, size) * 2
        r = torch.randn(6, K)
        f = net.forward_feature(x); logits = net.fc(f)
        (logits * r).sum().backward()
        names = [n for n, _ in net.named_parameters()]
        np.concatenate([p.detach().numpy().ravel() for _, p in net.named_parameters()]).astype(np.float32).tofile(os.path.join(out, "w.bin"))
        np.concatenate([p.grad.numpy().ravel() for _, p in net.named_parameters()]).astype(np.float32).tofile(os.path.join(out, "g.bin"))
        for name, t in (("x", x), ("r", r), ("f", f), ("logits", logits)): t.detach().numpy().astype(np.float32).tofile(os.path.join(out, name + ".bin"))
        print(json.dumps(names))
        """;

    [SkippableTheory]
    [InlineData(48)] // the Slide-seq net: Tanh last, 128-d embedding
    [InlineData(85)] // the MERFISH net: ReLU last, 128 × 2 × 2 = 512-d embedding (flatten of a channels-last map)
    public void MatchesTheAuthorsNetInPyTorch(int size)
    {
        Python.RequireModules("torch", "numpy");
        using var dir = new TempDir();
        var (code, stdout, err) = Python.Run(Script.Replace("sys.argv[1]", $"r'{dir.Path}'").Replace("int(sys.argv[2])", size.ToString()));
        Assert.True(code == 0, err);
        var names = System.Text.Json.JsonSerializer.Deserialize<string[]>(stdout.Trim())!;
        int k = size >= 64 ? 10 : 30;
        var w = Read(dir.File("w.bin"));
        var g = Read(dir.File("g.bin"));
        using var net = new CostaNet(size, size, k, tanhLast: size < 64);
        net.train();
        var ps = net.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(names.Order(), ps.Keys.Order());
        long off = 0;
        using (no_grad())
            foreach (var name in names)
            {
                var p = ps[name];
                p.copy_(tensor(w.AsSpan((int)off, (int)p.numel()).ToArray(), p.shape));
                off += p.numel();
            }
        Assert.Equal(w.Length, off);
        TorchGuard.Run(() =>
        {
            using var scope = NewDisposeScope();
            using var x = tensor(Read(dir.File("x.bin")), [6, 1, size, size]);
            using var r = tensor(Read(dir.File("r.bin")), [6, k]);
            var (f, logits) = net.ForwardBoth(x);
            (logits * r).sum().backward();
            Assert.Equal(net.FeatureDim, f.shape[1]);
            Assert.True(MaxRel(f, Read(dir.File("f.bin"))) < 1e-4, "embedding");
            Assert.True(MaxRel(logits, Read(dir.File("logits.bin"))) < 1e-4, "logits");
            long o = 0;
            var gradScale = new Dictionary<string, double>();
            foreach (var name in names)
            {
                var p = ps[name];
                var expected = g.AsSpan((int)o, (int)p.numel()).ToArray();
                o += p.numel();
                if (name.EndsWith(".0.bias", StringComparison.Ordinal))
                {
                    // A conv bias before train-mode BatchNorm is subtracted again with the batch mean: its gradient is zero
                    // up to rounding on both sides (checked against the conv weight's gradient scale).
                    double scale = gradScale[name.Replace(".bias", ".weight")];
                    Assert.True(p.grad!.abs().max().item<float>() < 1e-4 * scale, $"{name}: gradient not ~0");
                    Assert.True(expected.Max(Math.Abs) < 1e-4 * scale, $"{name}: PyTorch's gradient not ~0");
                    continue;
                }
                gradScale[name] = expected.Max(Math.Abs);
                double d = MaxRel(p.grad!, expected);
                Assert.True(d < 1e-3, $"gradient of {name} differs by {d:E2} (relative to its largest entry)");
            }
        });
    }

    private static float[] Read(string path)
    {
        var b = File.ReadAllBytes(path);
        var f = new float[b.Length / 4];
        Buffer.BlockCopy(b, 0, f, 0, b.Length);
        return f;
    }

    // Largest absolute difference over the largest absolute expected value (logical element order).
    private static double MaxRel(Tensor actual, float[] expected)
    {
        var a = actual.detach().contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, a.Length);
        double d = 0, m = 0;
        for (int i = 0; i < a.Length; i++) { d = Math.Max(d, Math.Abs(a[i] - expected[i])); m = Math.Max(m, Math.Abs(expected[i])); }
        return d / m;
    }
}
