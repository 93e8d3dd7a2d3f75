#!/usr/bin/env python3
"""Reference timings for bench/EmbedBench: umap-learn / pynndescent / sklearn on the files the C# bench writes.

File format (written by EmbedBench): int32 n, int32 d, then n*d float32, row-major, little endian.
Usage: python3 bench/embed_python.py umap FILE [n_components] [min_dist] | knn FILE
Install first (Debian): apt-get install -y umap-learn python3-sklearn libopenblas0-pthread
"""
import resource
import sys
import time

import numpy as np


def load(path):
    with open(path, "rb") as f:
        n, d = np.frombuffer(f.read(8), dtype="<i4")
        x = np.frombuffer(f.read(), dtype="<f4").reshape(n, d)
    return x


def peak():
    return f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"


def main():
    mode, path = sys.argv[1], sys.argv[2]
    x = load(path)
    n, d = x.shape
    if mode == "umap":
        import umap
        nc = int(sys.argv[3]) if len(sys.argv) > 3 else 2
        md = float(sys.argv[4]) if len(sys.argv) > 4 else 0.1
        # warm the numba JIT on a small sample so the timing is the algorithm, not compilation
        umap.UMAP(n_components=nc, min_dist=md, random_state=0, n_epochs=5).fit_transform(x[:500])
        for seeded in (True, False):
            t = time.time()
            umap.UMAP(n_neighbors=15, n_components=nc, min_dist=md, random_state=0 if seeded else None).fit_transform(x)
            print(f"umap-learn {n}x{d} -> {nc} ({'random_state=0, single-threaded' if seeded else 'no seed, parallel'}): "
                  f"{time.time() - t:.2f} s; {peak()}", flush=True)
    elif mode == "knn":
        from sklearn.neighbors import NearestNeighbors
        t = time.time()
        exact = NearestNeighbors(n_neighbors=16, algorithm="brute").fit(x).kneighbors(x, return_distance=False)[:, 1:]
        print(f"sklearn brute kNN {n}x{d} k=15: {time.time() - t:.2f} s; {peak()}", flush=True)
        from pynndescent import NNDescent
        t = time.time()
        idx, _ = NNDescent(x, n_neighbors=16, random_state=0).neighbor_graph
        el = time.time() - t
        approx = idx[:, 1:]
        recall = np.mean([len(set(a) & set(b)) / 15 for a, b in zip(approx, exact)])
        print(f"pynndescent {n}x{d} k=15: {el:.2f} s (includes numba JIT), recall {recall:.4f}; {peak()}", flush=True)
    else:
        raise SystemExit("usage: embed_python.py umap|knn FILE")


if __name__ == "__main__":
    main()
