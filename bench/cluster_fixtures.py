"""Produces the reference numbers pasted into tests/Tessera.Tests/Analysis/*Tests.cs.

Run with Debian's /usr/bin/python3 (numpy, scipy, sklearn). Data come from the same 64-bit LCG as the C# tests
(ClusterTestData in KMeansTests.cs), so both sides see bit-identical inputs.
"""
import numpy as np
from scipy import stats
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as skm
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.manifold import trustworthiness

M64 = (1 << 64) - 1


class Lcg:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & M64
        return (self.s >> 11) * (1.0 / 9007199254740992.0)

    def normal(self):
        t = 0.0
        for _ in range(12):
            t += self.next()
        return t - 6.0

    def int(self, m):
        return int(self.next() * m)


def blobs(n, d, k, spread, seed):
    r = Lcg(seed)
    centers = [[10.0 * (r.next() - 0.5) for _ in range(d)] for _ in range(k)]
    x = np.zeros((n, d))
    y = np.zeros(n, dtype=int)
    for i in range(n):
        c = i % k
        y[i] = c
        for j in range(d):
            x[i, j] = centers[c][j] + spread * r.normal()
    return x, y


def labels(n, kt, kp, noise, seed):
    r = Lcg(seed)
    t = np.array([r.int(kt) for _ in range(n)])
    p = np.array([(ti * 3 + 1) % kp if r.next() > noise else r.int(kp) for ti in t])
    return t, p


def f(v):
    return repr(float(v))


print("== KMeans fixed init (blobs 300x4 k=4 spread 1.5 seed 11; init rows 0,1,2,5)")
x, y = blobs(300, 4, 4, 1.5, 11)
init = x[[0, 1, 2, 5]]
km = KMeans(4, init=init, n_init=1, algorithm="lloyd").fit(x)
print("inertia", f(km.inertia_), "n_iter", km.n_iter_, "labels[:12]", list(km.labels_[:12]))
print("centers", [f(v) for v in km.cluster_centers_.ravel()])
print("== KMeans++ well separated (blobs 400x5 k=5 spread 0.3 seed 3)")
x2, y2 = blobs(400, 5, 5, 0.3, 3)
km2 = KMeans(5, n_init=10, random_state=0).fit(x2)
print("inertia", f(km2.inertia_), "ari", skm.adjusted_rand_score(y2, km2.labels_))
print("== KMeans++ overlapping (blobs 300x4 k=4 spread 1.5 seed 11), n_init=10")
km3 = KMeans(4, n_init=10, random_state=0).fit(x)
print("inertia", f(km3.inertia_))

print("== GMM from fixed resp (blobs 300x3 k=3 spread 1.2 seed 5; resp label = truth except i%7==0 -> (i//7)%3)")
xg, yg = blobs(300, 3, 3, 1.2, 5)
lab = np.array([yg[i] if i % 7 else (i // 7) % 3 for i in range(300)])
resp0 = np.zeros((300, 3)); resp0[np.arange(300), lab] = 1


class FixedInit(GaussianMixture):
    def _initialize_parameters(self, X, random_state):
        self._initialize(X, resp0.copy())


for ct in ["full", "diag", "tied", "spherical"]:
    g = FixedInit(3, covariance_type=ct, tol=1e-3, max_iter=100).fit(xg)
    print(ct, "lb", f(g.lower_bound_), "n_iter", g.n_iter_, "conv", g.converged_, "score", f(g.score(xg)),
          "bic", f(g.bic(xg)), "aic", f(g.aic(xg)), "w", [f(v) for v in g.weights_],
          "cov0", f(np.ravel(g.covariances_)[0]), "proba00", f(g.predict_proba(xg)[0, 0]))
for ct in ["full", "diag", "tied", "spherical"]:
    g = FixedInit(3, covariance_type=ct, tol=1e-10, max_iter=5).fit(xg)
    print(ct, "5 iters lb", f(g.lower_bound_), "score", f(g.score(xg)))

print("== metrics labels n=200 kt=5 kp=7 noise=0.35 seed 21")
t, p = labels(200, 5, 7, 0.35, 21)
print("truth[:10]", list(t[:10]), "pred[:10]", list(p[:10]))
print("ari", f(skm.adjusted_rand_score(t, p)))
print("nmi", f(skm.normalized_mutual_info_score(t, p)))
print("ami", f(skm.adjusted_mutual_info_score(t, p)))
h, c, v = skm.homogeneity_completeness_v_measure(t, p)
print("h", f(h), "c", f(c), "v", f(v), "v2", f(skm.v_measure_score(t, p, beta=2.0)))
C = skm.cluster.contingency_matrix(t, p)
ri, ci = linear_sum_assignment(-C)
print("acc", f(C[ri, ci].sum() / len(t)), "purity", f(C.max(axis=0).sum() / len(t)))
mp = -np.ones(C.shape[1], dtype=int); mp[ci] = ri
pm = mp[p]
print("macroF1", f(skm.f1_score(t, pm, average="macro")), "microF1", f(skm.f1_score(t, pm, average="micro")))
print("== metrics labels n=150 kt=6 kp=4 noise=0.2 seed 8 (fewer clusters than classes)")
t2, p2 = labels(150, 6, 4, 0.2, 8)
print("ari", f(skm.adjusted_rand_score(t2, p2)), "ami", f(skm.adjusted_mutual_info_score(t2, p2)),
      "nmi", f(skm.normalized_mutual_info_score(t2, p2)))
C2 = skm.cluster.contingency_matrix(t2, p2)
ri, ci = linear_sum_assignment(-C2)
mp = -np.ones(C2.shape[1], dtype=int); mp[ci] = ri
pm2 = mp[p2]
print("acc", f(C2[ri, ci].sum() / len(t2)), "macroF1", f(skm.f1_score(t2, pm2, average="macro")),
      "microF1", f(skm.f1_score(t2, pm2, average="micro")), "purity", f(C2.max(axis=0).sum() / len(t2)))

print("== silhouette / trustworthiness on blobs 300x4 (seed 11) labels = truth")
print("sil", f(skm.silhouette_score(x, y)))
print("sil kmeans-fixed", f(skm.silhouette_score(x, km.labels_)))
r = Lcg(99)
low = np.array([[x[i, 0] + 2 * r.normal(), x[i, 1] * 0.5 + r.normal()] for i in range(300)])
print("tw5", f(trustworthiness(x, low, n_neighbors=5)), "tw12", f(trustworthiness(x, low, n_neighbors=12)))

print("== correlations")
a = np.array([1.0, 2, 2, 3, 5, 5, 5, 8, 9, 10, 4, 4])
b = np.array([2.0, 1, 3, 3, 6, 5, 7, 9, 8, 12, 4, 3])
print("pearson", f(stats.pearsonr(a, b)[0]), "spearman", f(stats.spearmanr(a, b)[0]),
      "rmse", f(np.sqrt(skm.mean_squared_error(a, b))))
yt = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1])
sc = np.array([0.9, 0.1, 0.4, 0.4, 0.4, 0.2, 0.8, 0.4, 0.3, 0.7, 0.1, 0.6])
print("auroc", f(skm.roc_auc_score(yt, sc)))
jt = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 0], bool)
jp = np.array([1, 1, 1, 0, 0, 0, 1, 0, 0, 1], bool)
print("jaccard", f(skm.jaccard_score(jt, jp)))

print("== hungarian")
r = Lcg(5)
cm = np.array([[r.int(20) for _ in range(8)] for _ in range(5)], float)
ri, ci = linear_sum_assignment(cm)
print("5x8 min", cm[ri, ci].sum(), list(ci))
ri, ci = linear_sum_assignment(cm.T, maximize=True)
print("8x5 max", cm.T[ri, ci].sum(), list(ri))

print("== statistics")
print("zscore", [f(v) for v in stats.zscore([1.0, 2, 4, 7, 11])], "ddof1", f(stats.zscore([1.0, 2, 4, 7, 11], ddof=1)[0]))
for k, n, pp in [(5, 20, 0.1), (60, 100, 0.3), (1, 10, 0.5), (900, 1000, 0.5), (3000, 10000, 0.25)]:
    print("binom", k, n, pp, f(stats.binom.sf(k - 1, n, pp)), f(stats.binom.logsf(k - 1, n, pp)))
pv = np.array([0.01, 0.04, 0.03, 0.2, 0.04, 0.5, 0.001, 0.9, 0.03, 0.07])


def p_adjust(p, method):
    # R's p.adjust, transcribed from src/library/stats/R/p.adjust.R
    n = len(p)
    if method == "holm":
        o = np.argsort(p, kind="stable"); ro = np.argsort(o, kind="stable")
        return np.minimum(1, np.maximum.accumulate((n - np.arange(n)) * p[o]))[ro]
    o = np.argsort(-p, kind="stable"); ro = np.argsort(o, kind="stable")
    i = np.arange(n, 0, -1)
    return np.minimum(1, np.minimum.accumulate(n / i * p[o]))[ro]


print("holm", [f(v) for v in p_adjust(pv, "holm")])
print("bh", [f(v) for v in p_adjust(pv, "BH")])
mx = np.array([1.1, 2.2, 2.2, 3.5, 4.0, 5.5, 6.1, 2.2])
my = np.array([0.5, 1.0, 2.2, 2.2, 1.7, 0.9, 3.3, 0.2, 1.1, 2.2])
res = stats.mannwhitneyu(mx, my, use_continuity=True, alternative="two-sided", method="asymptotic")
print("mwu", f(res.statistic), f(res.pvalue))
res = stats.mannwhitneyu(my, mx, use_continuity=True, alternative="two-sided", method="asymptotic")
print("mwu rev", f(res.statistic), f(res.pvalue))
vals = np.concatenate([mx, my]); grp = np.array([0] * 8 + [1] * 4 + [2] * 6)
for gi in range(3):
    res = stats.mannwhitneyu(vals[grp == gi], vals[grp != gi], use_continuity=True, alternative="two-sided", method="asymptotic")
    print("ovr", gi, f(res.statistic), f(res.pvalue))

print("== string labels: truth missing where i % 10 == 0 (n=200 seed 21 set)")
keep = np.arange(200) % 10 != 0
print("ari", f(skm.adjusted_rand_score(t[keep], p[keep])), "ami", f(skm.adjusted_mutual_info_score(t[keep], p[keep])))
print("== larger AMI n=3000 kt=8 kp=10 noise 0.5 seed 77")
t3, p3 = labels(3000, 8, 10, 0.5, 77)
print("ami", f(skm.adjusted_mutual_info_score(t3, p3)), "ari", f(skm.adjusted_rand_score(t3, p3)), "nmi", f(skm.normalized_mutual_info_score(t3, p3)))
print("== edge cases")
print("ami single vs many", f(skm.adjusted_mutual_info_score([0, 0, 0, 0], [0, 1, 2, 3])), "nmi", f(skm.normalized_mutual_info_score([0, 0, 0, 0], [0, 1, 2, 3])),
      "ari", f(skm.adjusted_rand_score([0, 0, 0, 0], [0, 1, 2, 3])), "h", f(skm.homogeneity_score([0, 0, 0, 0], [0, 1, 2, 3])),
      "c", f(skm.completeness_score([0, 0, 0, 0], [0, 1, 2, 3])))
