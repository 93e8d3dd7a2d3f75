"""The CoSTA training step and feature pass in Debian PyTorch, the same work as `Costa.dll step|features` (bench/peers.sh
rows costa-step and costa-features, "ROW|task|data|side|wall s|CPU s|peak MiB|quality"):

    /usr/bin/python3 pytorch_step.py [THREADS] [STEPS] [GENES] [step|features|both]

The ConvNet at 48x48 (5/5/5, first stride 2), K 30, SGD 0.01/0.9, the bi-tempered loss (t1 0.8, t2 1.2, 5 fixed-point
iterations, escort gradient) on one fixed batch of 128 random images, 3 warm-up steps then STEPS timed; the feature pass
over GENES random images in train mode, chunks of 1,024, under no_grad (as the authors' code)."""
import resource, sys, time
import torch
from costa_torch import ConvNet, bi_tempered

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
genes = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
what = sys.argv[4] if len(sys.argv) > 4 else "both"
torch.set_num_threads(threads)
torch.manual_seed(0)


def cpu(): r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime


def row(task, data, wall, cpus, quality):
    print(f"ROW|{task}|{data}|PyTorch {torch.__version__}|{wall:.3f}|{cpus:.3f}|{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}|{quality}", flush=True)


net = ConvNet(30); net.train()
if what in ("step", "both"):
    opt = torch.optim.SGD(net.parameters(), 0.01, 0.9)
    x = torch.randn(128, 1, 48, 48); y = torch.softmax(torch.randn(128, 30), 1)

    def step():
        loss = bi_tempered(net(x), y); opt.zero_grad(); loss.backward(); opt.step(); return loss.item()
    for i in range(3): step()
    c, t = cpu(), time.time()
    mean = sum(step() for _ in range(steps)) / steps
    wall, cpus = (time.time() - t) / steps, (cpu() - c) / steps
    with torch.no_grad(): last = bi_tempered(net(x), y).item()
    row("costa-step", f"batch 128 x 48x48, K 30, {threads} threads (s per step, mean of {steps})", wall, cpus,
        f"bi-tempered loss {last:.4f} after {steps + 3} steps (mean over the timed steps {mean:.4f})")
if what in ("features", "both"):
    xb = torch.randn(genes, 1, 48, 48)
    order = torch.randperm(genes)
    out = torch.empty(genes, 128)
    with torch.no_grad():
        net.feat(xb[:1024])
        c, t = cpu(), time.time()
        for s in range(0, genes, 1024):
            idx = order[s:s + 1024]
            out[idx] = net.feat(xb[idx])
        wall, cpus = time.time() - t, cpu() - c
    row("costa-features", f"{genes} genes x 48x48, chunks of 1024, {threads} threads", wall, cpus, f"mean abs feature {out.abs().mean().item():.5f}")
