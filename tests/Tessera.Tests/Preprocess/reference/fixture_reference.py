# References for Fixtures.Counts60x40 (HighlyVariableGenesTests, PcaScaleTests, QcNormalizeTests).
# numpy re-implementation of scanpy 1.10 seurat_v3 / seurat, sklearn 1.2.1 PCA; R loess via Rscript (surface="direct").
import numpy as np, scipy.sparse as sp, pandas as pd, subprocess
from sklearn.decomposition import PCA
N,G=60,40
c = np.zeros((N,G))
for i in range(N):
    for j in range(G):
        v = (i*i*3 + j*7 + i*j) % 17
        if (i + 2*j) % 3 == 0: v = 0
        c[i,j] = v * (j % 4 + 1)
c[:,39] = 0; c[:,38] = 2
def fmt(a): return ', '.join(repr(float(x)) if not np.isnan(x) else 'double.NaN' for x in a)
def mean_var(X):
    n = X.shape[0]; m = X.mean(0); v = X.var(0, ddof=1); return m, v
import sys
SURFACE = sys.argv[1] if len(sys.argv) > 1 else 'direct'
def loess_R(x, y):
    np.savetxt('xy.txt', np.c_[x,y], fmt='%.17g')
    subprocess.run(['Rscript','-e','d<-read.table("xy.txt"); f<-loess(V2~V1,data=d,span=0.3,degree=2,surface="'+SURFACE+'"); write.table(sprintf("%.17g",fitted(f)),"fit.txt",row.names=F,col.names=F,quote=F)'],check=True)
    return np.loadtxt('fit.txt')
def v3(X, n_top, batches):
    nvs=[]
    for b in np.unique(batches):
        Xb = X[batches==b]; mean,var = mean_var(Xb); nc = var>0
        est = np.zeros(G); est[nc] = loess_R(np.log10(mean[nc]), np.log10(var[nc]))
        rs = np.sqrt(10**est); Nb = Xb.shape[0]; clip = rs*np.sqrt(Nb)+mean
        Xd = np.minimum(Xb, clip[None,:])
        nvs.append(1/((Nb-1)*rs**2)*(Nb*mean**2 + (Xd**2).sum(0) - 2*Xd.sum(0)*mean))
    nvs=np.array(nvs)
    ranked = np.argsort(np.argsort(-nvs, axis=1, kind='stable'), axis=1, kind='stable').astype(np.float32)
    nb = (ranked < n_top).sum(0); ranked[ranked>=n_top]=np.nan
    med = np.ma.median(np.ma.masked_invalid(ranked), axis=0).filled(np.nan)
    df = pd.DataFrame(dict(r=med, nb=nb))
    idx = df.sort_values(['r','nb'], ascending=[True,False], na_position='last', kind='stable').index
    mask = np.zeros(G,bool); mask[idx[:n_top]]=True
    return nvs.mean(0), med, nb, mask
m, v = mean_var(c)
print('means', fmt(m)); print('vars', fmt(v))
vn, med, nb, mask = v3(c, 10, np.zeros(N,int))
print('v3 vn', fmt(vn)); print('v3 rank', fmt(med)); print('v3 sel', np.flatnonzero(mask).tolist())
vn, med, nb, mask = v3(c, 10, np.arange(N)%2)
print('v3b vn', fmt(vn)); print('v3b rank', fmt(med)); print('v3b nb', nb.tolist()); print('v3b sel', np.flatnonzero(mask).tolist())
X = c.astype(np.float32); tot = X.sum(1)
Xn = (X / (tot/1e4)[:,None]).astype(np.float32); Xl = np.log1p(Xn)
print('log row0', fmt(Xl[0,:8]))
def seurat(Xl, ntop):
    Xe = np.expm1(Xl).astype(np.float64); n=Xe.shape[0]
    mean = Xe.mean(0); var = Xe.var(0, ddof=1)
    mean[mean==0]=1e-12; disp=var/mean; disp[disp==0]=np.nan; disp=np.log(disp); mean=np.log1p(mean)
    df = pd.DataFrame(dict(means=mean, dispersions=disp)); df['mean_bin']=pd.cut(df['means'], bins=20)
    st = df.groupby('mean_bin')['dispersions'].agg(avg='mean', dev='std'); one = st['dev'].isnull()
    st.loc[one,'dev']=st.loc[one,'avg']; st.loc[one,'avg']=0
    st = st.loc[df['mean_bin']].set_index(df.index)
    dn = ((df['dispersions']-st['avg'])/st['dev']).to_numpy()
    x = dn[~np.isnan(dn)].copy(); x[::-1].sort(); cut = x[min(ntop,len(x))-1]
    return mean, disp, dn, np.nan_to_num(dn, nan=-np.inf) >= cut, int(one.sum())
mean, disp, dn, hv, ones = seurat(Xl, 10)
print('seurat means', fmt(mean)); print('seurat disp', fmt(disp)); print('seurat dn', fmt(dn)); print('seurat sel', np.flatnonzero(hv).tolist(), 'single bins', ones)
A = Xl.astype(np.float64)
p = PCA(n_components=5, svd_solver='full').fit(A); S = p.transform(A)
print('pca evr', fmt(p.explained_variance_ratio_)); print('pca ev', fmt(p.explained_variance_))
print('pca scores rows0-2', fmt(S[:3].ravel()))
print('pca comp0[:5]', fmt(p.components_[0,:5]))
Z = (A - A.mean(0))/np.where(A.std(0,ddof=1)==0,1,A.std(0,ddof=1)); Z = np.clip(Z, -2.5, 2.5)
p2 = PCA(n_components=3, svd_solver='full').fit(Z.astype(np.float32).astype(np.float64))
print('scaled row0[:6]', fmt(Z[0,:6])); print('scaled pca evr', fmt(p2.explained_variance_ratio_))
