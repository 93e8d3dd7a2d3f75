#!/usr/bin/python3
"""Spotscape's single-slice training in plain PyTorch: the peer of the Spotscape epoch row of bench/peers.sh.

Written from ../shared/docs/methods-reference.md §4 (the authors' code needs torch_geometric, which Debian does not
ship): GCN auto-encoder (GCNConv 5000 -> 256 -> 64, BatchNorm momentum 0.99, ReLU; decoder 64 -> 256 -> G), two views
per epoch (each directed edge, self-loops included, dropped with p 0.2 and missing self-loops re-added, as PyG's
dropout_edge + gcn_norm; 20 % of the gene columns zeroed), loss 0.1 x reconstruction MSE + similarity telescope
MSE(S, S^T) with S the N x N cosine similarity of the two views, Adam (lr 1e-4, weight decay 1e-4), full batch. The
expression is dense and S is formed, as in the authors' code.

    /usr/bin/python3 spotscape_torch.py PREPDIR SEED EPOCHS THREADS [row]

PREPDIR is what prep_dlpfc.py writes (x.f32, src.i32, dst.i32, labels.txt, meta.txt), the same files the C# bench
(bench/Spotscape, SPOTSCAPE_ROW=1) reads. Prints seconds per epoch (wall and process CPU), the final loss and the
k-means ARI (7 clusters, 10 restarts, sklearn) of the eval-mode embedding; with `row` a bench/peers.sh ROW line.
"""
import resource, sys, time
import numpy as np, torch
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

d, seed, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
row = len(sys.argv) > 5 and sys.argv[5] == "row"
torch.set_num_threads(threads)
torch.manual_seed(seed); np.random.seed(seed)
n, g, _ = (int(v) for v in open(f"{d}/meta.txt").read().split())
x = torch.from_numpy(np.fromfile(f"{d}/x.f32", np.float32).reshape(n, g))
src = torch.from_numpy(np.fromfile(f"{d}/src.i32", np.int32).astype(np.int64))
dst = torch.from_numpy(np.fromfile(f"{d}/dst.i32", np.int32).astype(np.int64))
loops = torch.arange(n)
edges = torch.stack([torch.cat([src, loops]), torch.cat([dst, loops])])  # the graph with weight-1 self-loops
labels = [l.strip() for l in open(f"{d}/labels.txt")]


def gcn_adj(e):
    """D^-1/2 (A + I) D^-1/2 as a sparse N x N matrix (rows = targets), self-loops re-added where dropped."""
    has_loop = torch.zeros(n, dtype=torch.bool)
    has_loop[e[0][e[0] == e[1]]] = True
    missing = torch.nonzero(~has_loop).squeeze(1)
    e = torch.cat([e, torch.stack([missing, missing])], 1)
    deg = torch.zeros(n).index_add_(0, e[1], torch.ones(e.shape[1]))
    w = deg[e[0]].rsqrt() * deg[e[1]].rsqrt()
    return torch.sparse_coo_tensor(torch.stack([e[1], e[0]]), w, (n, n)).coalesce()


class GCNConv(torch.nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(i, o))
        self.bias = torch.nn.Parameter(torch.zeros(o))
        torch.nn.init.xavier_uniform_(self.weight)  # PyG glorot

    def forward(self, h, adj):
        return torch.sparse.mm(adj, h @ self.weight) + self.bias


class GAE(torch.nn.Module):
    def __init__(self, g):
        super().__init__()
        self.c1, self.b1 = GCNConv(g, 256), torch.nn.BatchNorm1d(256, momentum=0.99)
        self.c2, self.b2 = GCNConv(256, 64), torch.nn.BatchNorm1d(64, momentum=0.99)
        self.d1, self.db = torch.nn.Linear(64, 256), torch.nn.BatchNorm1d(256, momentum=0.99)
        self.d2 = torch.nn.Linear(256, g)

    def forward(self, h, adj):
        z = torch.relu(self.b2(self.c2(torch.relu(self.b1(self.c1(h, adj))), adj)))
        return self.d2(torch.relu(self.db(self.d1(z)))), z


def view():
    keep = torch.rand(edges.shape[1]) >= 0.2
    cols = (torch.rand(g) >= 0.2).float()
    return x * cols, gcn_adj(edges[:, keep])


net = GAE(g)
opt = torch.optim.Adam(net.parameters(), lr=1e-4, weight_decay=1e-4)
proc0, wall0 = time.process_time(), time.perf_counter()
for epoch in range(epochs):
    net.train()
    (x1, a1), (x2, a2) = view(), view()
    r1, z1 = net(x1, a1)
    r2, z2 = net(x2, a2)
    re = (torch.nn.functional.mse_loss(r1, x) + torch.nn.functional.mse_loss(r2, x)) / 2
    s = torch.nn.functional.normalize(z1, dim=1) @ torch.nn.functional.normalize(z2, dim=1).t()
    sc = torch.nn.functional.mse_loss(s, s.t())
    loss = 0.1 * re + sc
    opt.zero_grad(); loss.backward(); opt.step()
wall = (time.perf_counter() - wall0) / max(1, epochs)
cpu = (time.process_time() - proc0) / max(1, epochs)
net.eval()
with torch.no_grad():
    z = net(x, gcn_adj(edges))[1].numpy()
keep = [i for i, l in enumerate(labels) if l != "NA"]
pred = KMeans(7, n_init=10, random_state=seed).fit_predict(z[keep])
ari = adjusted_rand_score([labels[i] for i in keep], pred)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{epochs} epochs: {wall:.4f} s/epoch wall, {cpu:.4f} s CPU, loss {loss.item():.5f} (re {re.item():.5f}, sc {sc.item():.6f}), "
      f"ARI {ari:.4f}, peak {peak:.0f} MiB, torch {torch.__version__}, {threads} thread(s)")
if row:
    print(f"ROW|spotscape-epoch|DLPFC {n} spots x {g} genes, {epochs} epochs, {threads} thread(s)|PyTorch {torch.__version__} "
          f"(spotscape_torch.py)|{wall:.4f}|{cpu:.4f}|{peak:.0f}|loss {loss.item():.5f}, ARI {ari:.4f}")
