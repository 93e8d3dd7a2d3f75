"""The authors' evaluation clustering on saved Spotscape runs: faiss.Kmeans(d, k, niter=20, nredo=10) on the labelled
spots (5 faiss seeds) next to sklearn KMeans(k, n_init=10) (5 seeds). Needs `apt-get install python3-faiss`.
Usage: /usr/bin/python3 faiss_eval.py RUN_DIR [RUN_DIR ...]   (each holds the result.h5ad of `tessera domains`)"""
import sys
import anndata as ad
import faiss
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score as ari

for d in sys.argv[1:]:
    a = ad.read_h5ad(d + '/result.h5ad')
    X = np.ascontiguousarray(a.obsm['X_spotscape'].astype(np.float32))
    col = next(c for c in a.obs.columns if 'layer' in c)
    truth = a.obs[col]
    keep = ~pd.isna(truth.values) & (truth.astype(str).values != 'nan')
    Xk, y = X[keep], truth.astype(str).values[keep]
    k = len(set(y))
    fa = []
    for s in range(5):
        km = faiss.Kmeans(X.shape[1], k, niter=20, nredo=10, seed=1234 + s)
        km.train(Xk)
        fa.append(ari(y, km.index.search(Xk, 1)[1][:, 0]))
    sk = [ari(y, KMeans(k, n_init=10, random_state=s).fit_predict(Xk)) for s in range(5)]
    print(f'{d}: faiss ARI {np.round(fa, 4)} mean {np.mean(fa):.4f} | sklearn {np.round(sk, 4)} mean {np.mean(sk):.4f}')
