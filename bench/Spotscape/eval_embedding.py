#!/usr/bin/python3
"""Evaluates an embedding (float32 N x D row-major) against labels: KMeans(k, n_init=10) -> ARI, NMI (NA dropped)."""
import sys, numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score as ari, normalized_mutual_info_score as nmi
emb_path, labels_path, d = sys.argv[1], sys.argv[2], int(sys.argv[3])
k = int(sys.argv[4]) if len(sys.argv) > 4 else 7
lab = np.array([l.strip() for l in open(labels_path)])
Z = np.fromfile(emb_path, np.float32).reshape(len(lab), d)
keep = lab != "NA"
res = []
for s in range(int(sys.argv[5]) if len(sys.argv) > 5 else 1):
    pred = KMeans(k, n_init=10, random_state=s).fit_predict(Z[keep])
    res.append((ari(lab[keep], pred), nmi(lab[keep], pred)))
r = np.array(res).mean(0)
print(f"ARI {r[0]:.4f} NMI {r[1]:.4f}")
