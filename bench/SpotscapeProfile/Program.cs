// Profiles the pieces of one Spotscape training step on the demo tissue (1 torch thread): dotnet run -c Release
using System.Diagnostics;
using Tessera.Methods.Spotscape;
using Tessera.Nn;
using Tessera.Simulate;
using TorchSharp;
using static TorchSharp.torch;

var raw = SyntheticTissue.Generate(new SyntheticTissueOptions { Seed = 0 });
var prep = SpotscapeTrainer.Prepare([raw], ["s"], new SpotscapeOptions { Hvg = 200, Radius = 150, Clusters = 6 });
torch.set_num_threads(1);
var input = prep.Input;
var X = input.Sparse != null ? new CsrOperand(input.Sparse) : new CsrOperand(input.Dense!, input.NSpots, input.NGenes);
var EI = GraphOps.WithSelfLoops(GraphOps.EdgeIndex(input.EdgeSrc, input.EdgeDst, input.NSpots), input.NSpots);
int n = input.NSpots;
var sw = Stopwatch.StartNew();
void T(string name, Action a, int reps = 20) { a(); sw.Restart(); for (int i = 0; i < reps; i++) a(); Console.WriteLine($"{name}: {sw.Elapsed.TotalMilliseconds / reps:F2} ms"); }
using var gen = new Generator(1);
T("DropEdges", () => { using var s = NewDisposeScope(); Augment.DropEdges(EI, 0.2, gen); });
T("GcnNorm", () => { using var s = NewDisposeScope(); GraphOps.GcnNorm(Augment.DropEdges(EI, 0.2, gen), n); });
T("ColumnKeepMask", () => { using var s = NewDisposeScope(); Augment.ColumnKeepMask(input.NGenes, 0.2, gen); });
var net = new SpotscapeNet(input.NGenes, [256, 64], 0.99);
T("Encode", () => { using var s = NewDisposeScope(); var adj = GraphOps.GcnNorm(EI, n); net.Encode(X, adj, null); });
T("Encode+backward", () => { using var s = NewDisposeScope(); var adj = GraphOps.GcnNorm(EI, n); var z = net.Encode(X, adj, null); z.sum().backward(); });
T("Sim+telescope", () => { using var s = NewDisposeScope(); var z = randn(n, 64, requires_grad: true); var S = Losses.CosineSimilarity(z, z); Losses.SimilarityTelescope(S).backward(); });
T("Xmatmul", () => { using var s = NewDisposeScope(); var w = randn(input.NGenes, 256, requires_grad: true); var y = X.Matmul(w); y.sum().backward(); });
T("sparse adj mm", () => { using var s = NewDisposeScope(); var adj = GraphOps.GcnNorm(EI, n); var h = randn(n, 256, requires_grad: true); var y = adj.matmul(h); y.sum().backward(); });
T("recon", () => { using var s = NewDisposeScope(); var h = randn(n, 256, requires_grad: true); var (w, b) = net.OutputLayer; Losses.LinearReconstructionMse(h, w, b, X).backward(); });
T("Encode(mask)+backward", () => { using var s = NewDisposeScope(); var adj = GraphOps.GcnNorm(EI, n); var m = Augment.ColumnKeepMask(input.NGenes, 0.2, gen); var z = net.Encode(X, adj, m); z.sum().backward(); });
T("DecodeHidden+backward", () => { using var s = NewDisposeScope(); var z = randn(n, 64, requires_grad: true); net.DecodeHidden(z).sum().backward(); });
sw.Restart();
using (var model = SpotscapeTrainer.Fit(input, new SpotscapeOptions { Epochs = 10, Threads = 1, LearningRate = 1e-3, Clusters = 6 }))
    Console.WriteLine($"Fit 10 epochs: {sw.Elapsed.TotalMilliseconds / 10:F1} ms/epoch");
