"""Independent PyTorch implementation of STEM (written from ../shared/docs/methods-reference.md §3, not the authors'
code) and of its evaluation, run on the pseudo-spots the C# bench exports (STEM_EXPORT=DIR ... merfish 0 0.26 0).

    /usr/bin/python3 crosscheck.py DIR [EPOCHS] [SEED]          # STEM
    /usr/bin/python3 crosscheck.py DIR tangram LAMBDA_G2 [EPOCHS]  # Tangram "cells" mode: gene-wise cosine + LAMBDA_G2 x spot-wise

Prints the same metrics as the bench for STEM and for a Tangram-style mapping, so Tessera's numbers can be told apart
from the method's own behaviour on this task. Needs Debian's python3-torch, python3-anndata, python3-scipy.
"""
import os, sys, time
import numpy as np, scipy.spatial, scipy.special, torch, anndata as ad

d = sys.argv[1]
tangram = len(sys.argv) > 2 and sys.argv[2] == "tangram"
epochs = int(sys.argv[2]) if len(sys.argv) > 2 and not tangram else 400
seed = int(sys.argv[3]) if len(sys.argv) > 3 and not tangram else 0
torch.manual_seed(seed); np.random.seed(seed)
torch.set_num_threads(int(os.environ.get("STEM_THREADS", "2")))  # as StemBench: the same thread count on both sides
sc = ad.read_h5ad(f"{d}/sc.h5ad"); st = ad.read_h5ad(f"{d}/st.h5ad")


def dense(x):
    return np.asarray(x.todense() if hasattr(x, "todense") else x, dtype=np.float64)


def prep(x):
    tot = x.sum(1, keepdims=True)
    return np.log1p(x / np.where(tot > 0, tot, 1) * np.median(tot))  # normalize_total (median target) + log1p


xs_raw, xt_raw = dense(sc.X), dense(st.X)
xs, xt = prep(xs_raw), prep(xt_raw)
det_sc, det_st = np.median((xs_raw > 0).sum(1)), np.median((xt_raw > 0).sum(1))
dp = float(np.clip(1 - det_sc / det_st, 0, 0.95))
coord = st.obsm["spatial"].astype(np.float64)
dist = scipy.spatial.distance.cdist(coord, coord)
nn = np.sort(dist, 1)[:, 1]
sigma = np.median(nn) / 2
target = np.exp(-dist ** 2 / (2 * sigma ** 2))
target = target / target.sum(1, keepdims=True)
print(f"cells {xs.shape[0]}, spots {xt.shape[0]}, genes {xs.shape[1]}, dropout {dp:.4f}, sigma {sigma:.4f}")

G = xs.shape[1]


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = torch.nn.Dropout(dp)
        self.l1, self.n1 = torch.nn.Linear(G, 512), torch.nn.LayerNorm(512)
        self.l2, self.n2 = torch.nn.Linear(512, 256), torch.nn.LayerNorm(256)
        self.l3 = torch.nn.Linear(256, 128)

    def forward(self, x, drop=False):
        if drop:
            x = self.drop(x)
        x = torch.relu(self.n1(self.l1(x)))
        x = torch.relu(self.n2(self.l2(x)))
        return self.l3(x)


def mmd(a, b):
    # biased multi-kernel MMD, 5 kernels, multiplier 2, bandwidth from the detached mean pairwise squared distance / 4
    z = torch.cat([a, b])
    sq = (z * z).sum(1)
    dd = (sq[:, None] + sq[None, :] - 2 * z @ z.T).clamp_min(0)
    n = z.shape[0]
    bw = dd.detach().sum() / (n * n - n) / 4
    k = sum(torch.exp(-dd / (bw * 2 ** i)) for i in range(5))
    na = a.shape[0]
    return k[:na, :na].mean() + k[na:, na:].mean() - k[:na, na:].mean() - k[na:, :na].mean()


truth = sc.obsm["spatial_true"].astype(np.float64)
types = np.asarray(sc.obs["Cell_class"].astype(str))
props = st.obsm["proportions"].astype(np.float64)
tnames = [str(t) for t in st.uns["proportion_types"]]
true_nn = np.argsort(scipy.spatial.distance.cdist(truth, truth), 1)[:, 1:51]  # self excluded, as Tessera


def evaluate(name, mapping, type_mapping):
    """mapping: cells x spots, rows sum to 1 (coordinates); type_mapping: cells x spots mass for proportions."""
    pr, kl = [], []
    for t, tn in enumerate(tnames):
        m = type_mapping[types == tn].sum(0)
        y = props[:, t]
        if y.sum() <= 0:
            continue  # a type no spot holds (as Tessera: skipped)
        pr.append(np.corrcoef(y, m)[0, 1] if m.std() > 0 and y.std() > 0 else 0.0)
        kl.append(scipy.special.kl_div(y / y.sum(), m / m.sum() + 1e-15).sum())
    pred = mapping @ coord
    pnn = np.argsort(scipy.spatial.distance.cdist(pred, pred), 1)[:, 1:51]
    hits = [np.mean([len(set(pnn[i, :k]) & set(true_nn[i, :k])) for i in range(len(pred))]) / k for k in (10, 30, 50)]
    errs = []
    for k in (10, 30, 50):
        top = np.argsort(-mapping, 1)[:, :k]
        w = np.take_along_axis(mapping, top, 1)
        w = w / w.sum(1, keepdims=True)
        errs.append(np.linalg.norm((w[:, :, None] * coord[top]).sum(1) - truth, axis=1).mean())
    errs.append(np.linalg.norm(pred - truth, axis=1).mean())
    print(f"{name:<10} pearson {np.nanmean(pr):.4f} kl {np.mean(kl):.4f} hit10 {hits[0]:.4f} hit30 {hits[1]:.4f} hit50 {hits[2]:.4f} "
          f"err10 {errs[0]:.2f} err30 {errs[1]:.2f} err50 {errs[2]:.2f} errAll {errs[3]:.2f}", flush=True)
    return dict(pearson=np.nanmean(pr), hit10=hits[0], err_all=errs[3])


if tangram:
    # Tangram (Biancalani et al. 2021), "cells" mode, no density term: M cells x spots, softmax over spots,
    # maximise mean gene-wise cosine of M^T X_sc vs X_st (+ lambda_g2 x mean spot-wise cosine); Adam lr 0.1.
    lg2 = float(sys.argv[3]); tep = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    ts, tt = torch.tensor(xs, dtype=torch.float32), torch.tensor(xt, dtype=torch.float32)
    m = torch.randn(xs.shape[0], xt.shape[0], requires_grad=True)
    opt = torch.optim.Adam([m], lr=0.1)
    for ep in range(tep):
        p = torch.softmax(m, 1)
        pred = p.T @ ts
        loss = -torch.nn.functional.cosine_similarity(pred, tt, 0).mean() - lg2 * torch.nn.functional.cosine_similarity(pred, tt, 1).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad():
        p = torch.softmax(m, 1).double().numpy()
    evaluate(f"tangram-py lambda_g2={lg2}", p, p / p.sum(0, keepdims=True))
    sys.exit(0)

net = Encoder()
opt = torch.optim.AdamW(net.parameters(), lr=0.002)
sched = torch.optim.lr_scheduler.StepLR(opt, 200, 0.5)
ts, tt, tgt = torch.tensor(xs, dtype=torch.float32), torch.tensor(xt, dtype=torch.float32), torch.tensor(target, dtype=torch.float32)
t0, c0 = time.time(), time.process_time()
for ep in range(epochs):
    net.train()
    est, esc = net(tt, drop=True), net(ts)
    lpred = torch.nn.functional.cross_entropy(est @ est.T, tgt)
    idx = torch.randint(0, esc.shape[0], (1000,))
    lmmd = mmd(est, esc[idx])
    st2sc = torch.softmax(est @ esc.T, 1)
    sc2st = torch.softmax(esc @ est.T, 1)
    lcyc = torch.nn.functional.kl_div(torch.log(st2sc @ sc2st + 1e-7), tgt, reduction="none").sum(1).mean()
    ratio = max((ep - 50) / (epochs - 50), 0)
    loss = lpred + 0.8 * lmmd + ratio * lcyc
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    if ep % 50 == 0 or ep == epochs - 1:
        print(f"epoch {ep} loss {loss.item():.4f} pred {lpred.item():.4f} mmd {lmmd.item():.4f} cyc {lcyc.item():.4f} ({time.time() - t0:.0f}s)", flush=True)

train_wall, train_cpu = time.time() - t0, time.process_time() - c0
net.eval()
with torch.no_grad():
    est, esc = net(tt), net(ts)
    sc2st = torch.softmax(esc @ est.T, 1).double().numpy()
    st2sc = torch.softmax(est @ esc.T, 1).double().numpy()

q = evaluate("stem-py", sc2st, st2sc.T)
if os.environ.get("STEM_ROW"):
    # bench/peers.sh row: seconds per training epoch (wall, process CPU), same inputs and epochs as StemBench's row
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ROW|stem-epoch|MERFISH 0.26 pseudo-spots {xs.shape[0]} cells x {xt.shape[0]} spots, {epochs} epochs, {torch.get_num_threads()} thread(s)|"
          f"PyTorch {torch.__version__} (crosscheck.py)|{train_wall / epochs:.4f}|{train_cpu / epochs:.4f}|{peak:.0f}|"
          f"hit10 {q['hit10']:.4f}, error (all) {q['err_all']:.1f}, pearson {q['pearson']:.3f}", flush=True)
