#!/usr/bin/env python3
"""ST-Net backbone feature pass in torchvision, next to Tessera's (bench/peers.sh rows stnet-densenet121 / stnet-resnet18).
  /usr/bin/python3 bench/StNet/stnet_torch.py make DIR N        # DenseNet-121 weights (torchvision init, seed 0) + N patches
  /usr/bin/python3 bench/StNet/stnet_torch.py row TASK DIR N    # torchvision's feature pass, same threads, batch 32, no_grad
Patches are N x 3 x 224 x 224 float32 (already ImageNet-normalised), little-endian raw in DIR/patches_N.f32.
The DenseNet row compares the features with Tessera's (DIR/feat_tessera_densenet121_N.f32, written by its row first);
the ResNet-18 row times the same architecture as Tessera's shipped network (the CNTK ResNet-18 of ML.NET's featurizer, which
has [2, 2, 2, 3] basic blocks: one more in the last stage than torchvision's resnet18, built here with torchvision's ResNet
class), but Tessera ships its own ImageNet weights, so only time is compared."""
import os, resource, sys, time
import numpy as np
import torch, torchvision


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make(d, n):
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    w = os.path.join(d, "densenet121_seed0.pt")
    if not os.path.exists(w):
        torch.save(torchvision.models.densenet121().state_dict(), w)
    g = np.random.default_rng(0)
    p = os.path.join(d, f"patches_{n}.f32")
    if not os.path.exists(p):
        g.standard_normal((n, 3, 224, 224), dtype=np.float32).tofile(p)


def row(task, d, n):
    threads = int(os.environ.get("TORCH_THREADS", os.cpu_count()))
    torch.set_num_threads(threads)
    x = torch.from_numpy(np.fromfile(os.path.join(d, f"patches_{n}.f32"), dtype=np.float32).reshape(n, 3, 224, 224))
    if task == "stnet-densenet121":
        m = torchvision.models.densenet121()
        m.load_state_dict(torch.load(os.path.join(d, "densenet121_seed0.pt")))
        feats = lambda b: torch.flatten(torch.nn.functional.adaptive_avg_pool2d(torch.relu(m.features(b)), 1), 1)
    else:
        m = torchvision.models.resnet.ResNet(torchvision.models.resnet.BasicBlock, [2, 2, 2, 3])
        m.fc = torch.nn.Identity()
        feats = m
    m.eval()
    with torch.no_grad():
        feats(x[:2])  # warm-up
        t, c = time.perf_counter(), time.process_time()
        out = torch.cat([feats(x[s:s + 32]) for s in range(0, n, 32)])
        el, cpu = time.perf_counter() - t, time.process_time() - c
    quality = f"{out.shape[1]}-d features"
    if task == "stnet-densenet121":
        f = os.path.join(d, f"feat_tessera_densenet121_{n}.f32")
        if os.path.exists(f):
            t_feat = np.fromfile(f, dtype=np.float32).reshape(n, -1)
            rel = np.abs(t_feat - out.numpy()).max() / np.abs(out.numpy()).max()
            quality += f", max abs difference to Tessera's features {rel:.1e} of max abs feature"
    else:
        quality += " (blocks [2, 2, 2, 3] as Tessera's; torchvision init weights where Tessera uses its ImageNet weights: time only)"
    data = f"{n} patches 224x224, batch 32, {threads} threads"
    print(f"ROW|{task}|{data}|torchvision {torchvision.__version__} (torch {torch.__version__})|{el:.3f}|{cpu:.3f}|{peak_mib():.0f}|{quality}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        row(sys.argv[2], sys.argv[3], int(sys.argv[4]))
