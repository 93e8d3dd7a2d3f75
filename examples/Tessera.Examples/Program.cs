using Tessera.Methods.StNet;
using TorchSharp;

var x = torch.ones(3, 3);
Console.WriteLine($"torch ok: {(x.sum().item<float>())}");
using var r = ResNet18Imagenet.Load();
Console.WriteLine("resnet ok");
