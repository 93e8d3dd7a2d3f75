"""sklearn side of the clustering benchmark (compare with bench/ClusterBench).

  /usr/bin/python3 bench/cluster_sklearn.py make /tmp/blobs.bin   # 50k x 30, 10 blobs, seed 0
  /usr/bin/python3 bench/cluster_sklearn.py run  /tmp/blobs.bin
  /usr/bin/python3 bench/cluster_sklearn.py make FILE N D K       # other sizes (bench/peers.sh)
  /usr/bin/python3 bench/cluster_sklearn.py make-pca FILE N G C   # low-rank + noise matrix, C components wanted
  /usr/bin/python3 bench/cluster_sklearn.py row TASK FILE         # one bench/peers.sh row (kmeans, gmm-<cov>, pca)
File: int32 rows, int32 cols, int32 k, rows*cols float64 row-major, rows int32 labels (little-endian).
"""
import resource
import sys
import time

import numpy as np


def make(path, n=50_000, d=30, k=10, seed=0):
    from sklearn.datasets import make_blobs
    x, y = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=2.0, random_state=seed)
    write(path, x, y, k)


def write(path, x, y, k):
    with open(path, "wb") as fh:
        np.array([x.shape[0], x.shape[1], k], "<i4").tofile(fh)
        x.astype("<f8").tofile(fh)
        y.astype("<i4").tofile(fh)


def make_pca(path, n, g, comps, seed=0):
    """Rank-100 signal with a decaying spectrum plus unit noise (a flat tail, as log-expression), float32-exact values."""
    rng = np.random.default_rng(seed)
    r = 100
    u = rng.standard_normal((n, r)) * (10.0 / np.sqrt(1 + np.arange(r)))
    x = (u @ rng.standard_normal((r, g)) / np.sqrt(r) + rng.standard_normal((n, g))).astype(np.float32)
    write(path, x.astype(np.float64), np.zeros(n, np.int32), comps)


def read(path):
    with open(path, "rb") as fh:
        n, d, k = np.fromfile(fh, "<i4", 3)
        x = np.fromfile(fh, "<f8", n * d).reshape(n, d)
        y = np.fromfile(fh, "<i4", n)
    return x, y, int(k)


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(path):
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score
    from sklearn.mixture import GaussianMixture
    x, y, k = read(path)
    print(f"data {x.shape[0]}x{x.shape[1]}, k={k}")
    t = time.perf_counter()
    km = KMeans(k, n_init=10, random_state=0, algorithm="lloyd").fit(x)
    print(f"kmeans   n_init=10  wall {time.perf_counter() - t:.3f} s  inertia {km.inertia_!r}  n_iter {km.n_iter_}  "
          f"ARI {adjusted_rand_score(y, km.labels_):.6f}  peak RSS {peak_mib():.0f} MiB")
    t = time.perf_counter()
    gm = GaussianMixture(k, covariance_type="full", random_state=0).fit(x)
    gl = gm.predict(x)
    print(f"gmm full n_init=1   wall {time.perf_counter() - t:.3f} s  lower_bound {gm.lower_bound_!r}  n_iter {gm.n_iter_}  "
          f"ARI {adjusted_rand_score(y, gl):.6f}  peak RSS {peak_mib():.0f} MiB")
    t = time.perf_counter()
    gd = GaussianMixture(k, covariance_type="diag", random_state=0).fit(x)
    print(f"gmm diag n_init=1   wall {time.perf_counter() - t:.3f} s  lower_bound {gd.lower_bound_!r}  n_iter {gd.n_iter_}  "
          f"peak RSS {peak_mib():.0f} MiB")
    small = x[:4000]
    t = time.perf_counter()
    for rep in range(20):
        lb = GaussianMixture(7, covariance_type="full", random_state=rep).fit(small).lower_bound_
    print(f"gmm full 4000x30 K=7, 20 fits: {(time.perf_counter() - t) / 20 * 1000:.1f} ms per fit (last lower_bound {lb:.6f})")


def row(task, path):
    """One bench/peers.sh row: same data and settings as ClusterBench's row mode, printed as a ROW line."""
    import sklearn
    from sklearn.metrics import adjusted_rand_score
    x, y, k = read(path)
    data = f"{x.shape[0]}x{x.shape[1]}"
    if task == "kmeans":
        from sklearn.cluster import KMeans
        KMeans(2, n_init=1, random_state=0).fit(x[:1000])
        t, c = time.perf_counter(), time.process_time()
        km = KMeans(k, n_init=10, random_state=0, algorithm="lloyd").fit(x)
        el, cpu = time.perf_counter() - t, time.process_time() - c
        quality = f"inertia {km.inertia_:.10g}, ARI {adjusted_rand_score(y, km.labels_):.4f}"
        data += f" K={k} n_init=10"
    elif task.startswith("gmm-"):
        from sklearn.mixture import GaussianMixture
        cov = task[4:]
        GaussianMixture(2, covariance_type=cov, random_state=0).fit(x[:1000])
        t, c = time.perf_counter(), time.process_time()
        gm = GaussianMixture(k, covariance_type=cov, random_state=0).fit(x)
        lab = gm.predict(x)
        el, cpu = time.perf_counter() - t, time.process_time() - c
        quality = f"lower bound {gm.lower_bound_:.6f}, n_iter {gm.n_iter_}, ARI {adjusted_rand_score(y, lab):.4f}"
        data += f" K={k}"
    elif task == "pca":
        from sklearn.decomposition import PCA
        # Tessera's randomized defaults (10 power iterations, 50 oversamples) so both sides do the same work
        PCA(5, svd_solver="randomized", random_state=0).fit(x[:1000])
        t, c = time.perf_counter(), time.process_time()
        p = PCA(k, svd_solver="randomized", iterated_power=10, n_oversamples=50, random_state=0)
        p.fit_transform(x)  # Tessera's fit also returns the scores
        el, cpu = time.perf_counter() - t, time.process_time() - c
        quality = f"explained variance ratio (sum of {k}) {p.explained_variance_ratio_.sum():.6f}"
        data += f" {k} PCs, 10 power it., 50 oversamples"
    else:
        raise SystemExit(f"unknown task {task}")
    print(f"ROW|{task}|{data}|sklearn {sklearn.__version__}|{el:.3f}|{cpu:.3f}|{peak_mib():.0f}|{quality}", flush=True)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], *map(int, sys.argv[3:6]))
    elif cmd == "make-pca":
        make_pca(sys.argv[2], *map(int, sys.argv[3:6]))
    elif cmd == "row":
        row(sys.argv[2], sys.argv[3])
    else:
        run(sys.argv[2])
