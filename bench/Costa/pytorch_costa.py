"""Independent PyTorch + umap-learn + sklearn CoSTA (written from ../shared/docs/methods-reference.md §1, not the authors'
code) for cross-checking Tessera on the same gene images:

    COSTA_EXPORT=/tmp/sim06.f32 dotnet bin/Release/net10.0/linux-x64/Costa.dll sim 0.6 2000 10 0 scale noregress rawonly
    /usr/bin/python3 pytorch_costa.py /tmp/sim06.f32 [EPOCHS] [K] [center] [SEED] [row [THREADS]]

`row` (bench/peers.sh, after `Costa.dll epoch 10000 FILE`): stop after epoch 1 and print the costa-epoch ROW line, the
seconds of epoch 1 (training steps + feature pass + UMAP + GMM) as Tessera's line measures them.

Images: float32 genes x 48 x 48, true pattern per gene in FILE.labels. Per epoch: random 70 % of genes, batches of 128
(last partial dropped), bi-tempered loss (t1 0.8, t2 1.2, 5 fixed-point iterations, escort-probability gradient), SGD
0.01 / 0.9, optional center loss 0.01; features of all genes (train-mode BatchNorm, chunks of 1,024 as Tessera) ->
UMAP(K-d, n_neighbors 20, min_dist 0) -> GMM(K) -> soft targets p ∝ q²/f with q = softmax(1/distance to label means);
targets re-aligned to the previous labels (Hungarian, Tessera's default). Final: UMAP 5-d + GMM(5, 10 starts) NMI.
"""
import resource, sys, time
import numpy as np, torch, umap
from costa_torch import ConvNet, bi_tempered
from scipy.optimize import linear_sum_assignment
from sklearn.mixture import GaussianMixture
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score as nmi

path = sys.argv[1]
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
K = int(sys.argv[3]) if len(sys.argv) > 3 else 30
center = len(sys.argv) > 4 and sys.argv[4] == "center"
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
row = len(sys.argv) > 6 and sys.argv[6] == "row"
if len(sys.argv) > 7:
    torch.set_num_threads(int(sys.argv[7]))
torch.manual_seed(seed); rng = np.random.default_rng(seed)
truth = np.loadtxt(path + ".labels", dtype=int)
n = len(truth)
x = torch.from_numpy(np.fromfile(path, dtype=np.float32).reshape(n, 1, 48, 48))


order = rng.permutation(n)


def features(net):
    out = np.empty((n, 128), np.float32)
    with torch.no_grad():
        for s in range(0, n, 1024):
            idx = order[s:s + 1024]
            out[idx] = net.feat(x[idx]).numpy()
    return out


def targets(f, ep):
    e = umap.UMAP(n_neighbors=20, min_dist=0.0, n_components=K, random_state=seed * 1000 + ep).fit_transform(f)
    lab = GaussianMixture(K, random_state=seed * 1000 + ep).fit(e).predict(e)
    c = np.stack([e[lab == j].mean(0) if (lab == j).any() else np.full(e.shape[1], np.inf) for j in range(K)])
    d = np.linalg.norm(e[:, None, :] - c[None], axis=2)
    q = np.exp(1 / np.maximum(d, 1e-12) - (1 / np.maximum(d, 1e-12)).max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    p = q ** 2 / q.sum(0)
    return (p / p.sum(1, keepdims=True)).astype(np.float32), lab


net = ConvNet(K); net.train()
centers = torch.nn.Parameter(torch.randn(K, 128))
opt = torch.optim.SGD(list(net.parameters()) + ([centers] if center else []), lr=0.01, momentum=0.9)
t0 = time.time()
f = features(net)
p, lab = targets(f, 0)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime


for ep in range(1, epochs + 1):
    te, ce = time.time(), cpu()
    perm = rng.permutation(n)[: round(0.7 * n)]
    pt = torch.from_numpy(p)
    tot = 0.0
    for b in range(len(perm) // 128):
        idx = torch.from_numpy(perm[b * 128:(b + 1) * 128])
        fe = net.feat(x[idx]); y = pt[idx]
        loss = bi_tempered(net.fc(fe), y)
        if center:
            loss = loss + 0.01 * (fe - centers[y.argmax(1)]).pow(2).sum(1).clamp(1e-12, 1e12).mean()
        opt.zero_grad(); loss.backward(); opt.step(); tot += loss.item()
    f = features(net)
    pn, ln = targets(f, ep)
    m = nmi(lab, ln)
    cm = np.zeros((K, K)); np.add.at(cm, (lab, ln), 1)
    r, c = linear_sum_assignment(-cm)
    new_to_old = np.empty(K, int); new_to_old[c] = r
    p = np.empty_like(pn); p[:, new_to_old] = pn; lab = new_to_old[ln]
    print(f"epoch {ep}: loss {tot / (len(perm) // 128):.4f} NMI(prev) {m:.3f} NMI(labels, truth) {nmi(truth, lab):.3f} ({time.time() - t0:.0f}s)", flush=True)
    if row:
        print(f"ROW|costa-epoch|{n} genes x 48x48 (MOB sim sigma2 0.4), K {K}, {torch.get_num_threads()} threads, epoch 1|"
              f"PyTorch {torch.__version__} + umap-learn + sklearn|{time.time() - te:.3f}|{cpu() - ce:.3f}|"
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}|loss {tot / (len(perm) // 128):.4f}, "
              f"NMI(GMM{K} labels, truth) {nmi(truth, lab):.4f}", flush=True)
        sys.exit(0)

km = KMeans(5, n_init=10, random_state=0).fit_predict(f)
e5 = umap.UMAP(n_neighbors=20, min_dist=0.0, n_components=5, random_state=0).fit_transform(f)
g5 = GaussianMixture(5, n_init=10, random_state=0).fit(e5).predict(e5)
print(f"final: k-means(5) NMI {nmi(truth, km):.4f}; UMAP-5 + GMM(5) NMI {nmi(truth, g5):.4f}")
