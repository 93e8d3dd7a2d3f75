# DLPFC 151673 parity references (DlpfcParityTests.cs)
import sys, gzip, numpy as np, scipy.io
sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else '.')
from common import *
from sklearn.decomposition import PCA
D = '/work/shared/data/dlpfc/151673/'
X = scipy.io.mmread(gzip.open(D + 'matrix.mtx.gz')).T.tocsr().astype(np.float64)
genes = [l.strip() for l in gzip.open(D + 'features.tsv.gz', 'rt')]
res = {k: seurat_v3(X, 3000, s, kind=t) for k, s, t in [('ds', 'direct', 'stable'), ('dq', 'direct', 'quicksort'), ('is', 'interpolate', 'stable'), ('iq', 'interpolate', 'quicksort')]}
for a in res:
    print(a, 'overlap with ds', (res[a]['mask'] & res['ds']['mask']).sum())
ds = res['ds']; sel = np.flatnonzero(ds['mask'])
print('ds sum idx', sel.sum(), 'sumsq', (sel.astype(np.int64)**2).sum())
for j in [0, 1, 2, 100, 4999]: print('gene', j, genes[j], repr(ds['vn'][j]), repr(ds['means'][j]), repr(ds['variances'][j]), repr(ds['rank'][j]))
print('only ds vs iq', [genes[j] for j in np.flatnonzero(ds['mask'] & ~res['iq']['mask'])])
print('only iq vs ds', [genes[j] for j in np.flatnonzero(~ds['mask'] & res['iq']['mask'])])
nc = ds['variances'] > 0
d = np.abs(ds['est'] - res['is']['est'])[nc]
print('loess direct vs interpolate |diff| max', d.max(), 'median', np.median(d), 'y range', np.ptp(np.log10(ds['variances'][nc])))
o = np.argsort(-ds['vn'], kind='stable'); v = ds['vn'][o]
print('tie group at 3000:', (ds['vn'] == v[2999]).sum())
np.save('vn_ds.npy', ds['vn'])
iS = res['is']; sel = np.flatnonzero(iS['mask'])
print('is sum idx', sel.sum(), 'sumsq', (sel.astype(np.int64)**2).sum())
for j in [0, 1, 2, 100, 4999]: print('is gene', j, repr(iS['vn'][j]), repr(iS['rank'][j]))
print('is vs iq overlap', (iS['mask'] & res['iq']['mask']).sum())
import base64
for k in ['ds', 'iq', 'is']: print('mask64', k, base64.b64encode(np.packbits(res[k]['mask'])).decode())
Xl = normalize_log(X)
s = seurat(Xl, 2000); sel = np.flatnonzero(s['mask'])
print('seurat 2000 sum idx', sel.sum(), 'sumsq', (sel.astype(np.int64)**2).sum(), 'single bins', s['single_bins'])
for j in [0, 100, 4999]: print('seurat gene', j, repr(s['means'][j]), repr(s['disp'][j]), repr(s['dn'][j]))
A = Xl[:, ds['mask']].toarray().astype(np.float64)
p = PCA(n_components=50, svd_solver='full').fit(A); S = p.transform(A)
print('evr[:6]', p.explained_variance_ratio_[:6].tolist(), 'sum50', p.explained_variance_ratio_.sum())
print('scores[0:3,0:3]', S[:3, :3].tolist())
