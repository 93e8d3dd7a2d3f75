#!/usr/bin/python3
"""Prepares DLPFC slice inputs for the Spotscape bench (until the shared IO/HVG/graph code lands).
Writes <out>/x.f32 (N x G float32 row-major, normalize_total 1e4 + log1p over all 5000 genes),
<out>/src.i32, <out>/dst.i32 (radius 150 full-res px, max 50 neighbours, no self-loops, both directions),
<out>/labels.txt (layer_guess_reordered, 'NA' for missing), <out>/meta.txt ("N G E")."""
import sys, os, gzip, numpy as np, scipy.io, csv
from sklearn.neighbors import NearestNeighbors
d = sys.argv[1]; out = sys.argv[2]; os.makedirs(out, exist_ok=True)
X = scipy.io.mmread(gzip.open(os.path.join(d, "matrix.mtx.gz"))).T.tocsr().astype(np.float64)  # spots x genes
bc = [l.strip() for l in gzip.open(os.path.join(d, "barcodes.tsv.gz"), "rt")]
rows = list(csv.DictReader(gzip.open(os.path.join(d, "spots.csv.gz"), "rt")))
assert [r["barcode"] for r in rows] == bc
labels = [r["layer_guess_reordered"] or "NA" for r in rows]
pos = {}
for r in csv.reader(gzip.open(os.path.join(d, "spatial", "tissue_positions_list.csv.gz"), "rt")):
    pos[r[0]] = (float(r[5]), float(r[4]))  # (pxl_col, pxl_row) full-res, as obsm['spatial']
coords = np.array([pos[b] for b in bc])
s = np.asarray(X.sum(1)).ravel(); s[s == 0] = 1
Xn = np.log1p(X.multiply(1e4 / s[:, None]).toarray()).astype(np.float32)
nn = NearestNeighbors(n_neighbors=51, algorithm="ball_tree").fit(coords)
dist, idx = nn.kneighbors(coords)
src, dst = [], []
for i in range(len(bc)):
    for dd, j in zip(dist[i], idx[i]):
        if j != i and dd < 150: src.append(i); dst.append(j)
src = np.array(src, np.int32); dst = np.array(dst, np.int32)
Xn.tofile(os.path.join(out, "x.f32")); src.tofile(os.path.join(out, "src.i32")); dst.tofile(os.path.join(out, "dst.i32"))
open(os.path.join(out, "labels.txt"), "w").write("\n".join(labels) + "\n")
open(os.path.join(out, "meta.txt"), "w").write(f"{Xn.shape[0]} {Xn.shape[1]} {len(src)}\n")
print(Xn.shape, len(src), "edges; sym:", len(set(zip(src.tolist(), dst.tolist())) ^ set(zip(dst.tolist(), src.tolist()))) == 0,
      "zero frac", float((Xn == 0).mean()))
