# numpy re-implementation of scanpy 1.10's highly_variable_genes (seurat, seurat_v3) with R's loess; used to
# generate the literals in the Preprocess tests. Run from a scratch folder: /usr/bin/python3 <script> (needs Rscript).
import numpy as np, pandas as pd, subprocess, scipy.sparse as sp

def mean_var(X):
    # scanpy _get_mean_var: float64 sums and sums of squares, ddof=1
    X = sp.csr_matrix(X, dtype=np.float64)
    n = X.shape[0]
    m = np.asarray(X.sum(0)).ravel() / n
    X2 = X.copy(); X2.data **= 2
    v = (np.asarray(X2.sum(0)).ravel() / n - m**2) * (n / (n - 1))  # scanpy: var *= n / (n - 1)
    return m, v

def loess_R(x, y, surface):
    np.savetxt('xy.txt', np.c_[x, y], fmt='%.17g')
    subprocess.run(['Rscript', '-e', f'd<-read.table("xy.txt"); f<-loess(V2~V1,data=d,span=0.3,degree=2,surface="{surface}"); '
                    'write.table(sprintf("%.17g",fitted(f)),"fit.txt",row.names=F,col.names=F,quote=F)'], check=True)
    return np.loadtxt('fit.txt')

def seurat_v3(X, n_top, surface='direct', batches=None, kind='stable'):
    """kind='stable' breaks ties by gene order (as Tessera); kind='quicksort' is numpy's default used by scanpy."""
    X = sp.csr_matrix(X, dtype=np.float64)
    N, G = X.shape
    means, variances = mean_var(X)
    if batches is None: batches = np.zeros(N, int)
    nvs, ests = [], []
    for b in np.unique(batches):
        Xb = X[batches == b]
        mean, var = mean_var(Xb)
        nc = var > 0
        est = np.zeros(G)
        est[nc] = loess_R(np.log10(mean[nc]), np.log10(var[nc]), surface)
        reg_std = np.sqrt(10**est)
        Nb = Xb.shape[0]
        clip = reg_std * np.sqrt(Nb) + mean
        Xd = np.minimum(Xb.toarray(), clip[None, :])
        nvs.append(1 / ((Nb - 1) * reg_std**2) * (Nb * mean**2 + (Xd**2).sum(0) - 2 * Xd.sum(0) * mean))
        ests.append(est)
    nvs = np.array(nvs)
    ranked = np.argsort(np.argsort(-nvs, axis=1, kind=kind), axis=1, kind=kind).astype(np.float32)
    nb = (ranked < n_top).sum(0)
    ranked[ranked >= n_top] = np.nan
    med = np.ma.median(np.ma.masked_invalid(ranked), axis=0).filled(np.nan)
    df = pd.DataFrame(dict(r=med, nb=nb))
    idx = df.sort_values(['r', 'nb'], ascending=[True, False], na_position='last', kind='stable').index
    mask = np.zeros(G, bool); mask[idx[:n_top]] = True
    return dict(means=means, variances=variances, vn=nvs.mean(0), rank=med, nb=nb, mask=mask, est=ests[0])

def seurat(Xl, ntop):
    Xe = np.expm1(np.asarray(Xl.todense() if sp.issparse(Xl) else Xl, dtype=np.float32)).astype(np.float64)
    m, var = mean_var(Xe)
    m[m == 0] = 1e-12
    disp = var / m; disp[disp == 0] = np.nan; disp = np.log(disp); mean = np.log1p(m)
    df = pd.DataFrame(dict(means=mean, dispersions=disp)); df['mean_bin'] = pd.cut(df['means'], bins=20)
    st = df.groupby('mean_bin')['dispersions'].agg(avg='mean', dev='std'); one = st['dev'].isnull()
    st.loc[one, 'dev'] = st.loc[one, 'avg']; st.loc[one, 'avg'] = 0
    st = st.loc[df['mean_bin']].set_index(df.index)
    dn = ((df['dispersions'] - st['avg']) / st['dev']).to_numpy()
    x = dn[~np.isnan(dn)].copy(); x[::-1].sort(); cut = x[min(ntop, len(x)) - 1]
    return dict(means=mean, disp=disp, dn=dn, mask=np.nan_to_num(dn, nan=-np.inf) >= cut, single_bins=int(one.sum()))

def normalize_log(X):
    X = sp.csr_matrix(X, dtype=np.float32)
    tot = np.asarray(X.sum(1), dtype=np.float64).ravel()
    Xn = X.copy(); Xn.data = (Xn.data / np.repeat(tot / 1e4, np.diff(X.indptr))).astype(np.float32)
    Xn.data = np.log1p(Xn.data)
    return Xn
