# scanpy 1.10 flavor="seurat" with batch_key on Fixtures.Counts60x40 (batch = spot index parity), n_top_genes = 10
import sys, numpy as np, pandas as pd
sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else '.')
from common import seurat
N, G = 60, 40
c = np.zeros((N, G))
for i in range(N):
    for j in range(G):
        v = (i*i*3 + j*7 + i*j) % 17
        if (i + 2*j) % 3 == 0: v = 0
        c[i, j] = v * (j % 4 + 1)
c[:, 39] = 0; c[:, 38] = 2
X = c.astype(np.float32); Xl = np.log1p((X / (X.sum(1) / 1e4)[:, None]).astype(np.float32))
batches = np.where(np.arange(N) % 2 == 0, 'a', 'b')
dfs = []
for b in ['a', 'b']:
    sub = Xl[batches == b]
    filt = (sub > 0).sum(0) >= 1
    r = seurat(sub[:, filt], 10)
    df = pd.DataFrame(dict(gene=np.flatnonzero(filt), means=r['means'], dispersions=r['disp'], dispersions_norm=r['dn'], highly_variable=r['mask']))
    miss = pd.DataFrame(dict(gene=np.flatnonzero(~filt), means=0.0, dispersions=0.0, dispersions_norm=0.0, highly_variable=False))
    dfs.append(pd.concat([df, miss], ignore_index=True))
df = pd.concat(dfs); df['highly_variable'] = df['highly_variable'].astype(int)
df = df.groupby('gene').agg(dict(means='mean', dispersions='mean', dispersions_norm='mean', highly_variable='sum'))
df['nb'] = df['highly_variable']
order = df.sort_values(['nb', 'dispersions_norm'], ascending=False, na_position='last').index
mask = np.zeros(G, bool); mask[order[:10]] = True
fmt = lambda a: ', '.join('double.NaN' if np.isnan(x) else repr(float(x)) for x in a)
print('means', fmt(df['means'])); print('dn', fmt(df['dispersions_norm'])); print('nb', df['nb'].tolist()); print('sel', np.flatnonzero(mask).tolist())
