"""sklearn side of the clustering benchmark (compare with bench/ClusterBench).

  /usr/bin/python3 bench/cluster_sklearn.py make /tmp/blobs.bin   # 50k x 30, 10 blobs, seed 0
  /usr/bin/python3 bench/cluster_sklearn.py run  /tmp/blobs.bin
File: int32 rows, int32 cols, int32 k, rows*cols float64 row-major, rows int32 labels (little-endian).
"""
import resource
import sys
import time

import numpy as np


def make(path, n=50_000, d=30, k=10, seed=0):
    from sklearn.datasets import make_blobs
    x, y = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=2.0, random_state=seed)
    with open(path, "wb") as fh:
        np.array([n, d, k], "<i4").tofile(fh)
        x.astype("<f8").tofile(fh)
        y.astype("<i4").tofile(fh)


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


if __name__ == "__main__":
    {"make": make, "run": run}[sys.argv[1]](sys.argv[2])
