#!/usr/bin/env python3
"""Reference timings for bench/EmbedBench: umap-learn / pynndescent / sklearn on the files the C# bench writes.

File format (written by EmbedBench): int32 n, int32 d, then n*d float32, row-major, little endian.
Usage: python3 bench/embed_python.py umap FILE [n_components] [min_dist] | knn FILE
       python3 bench/embed_python.py row knn-exact|knn-approx|umap|leiden FILE   (bench/peers.sh rows; prints ROW lines)
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


def row_line(task, data, side, seconds, quality, cpu=float("nan")):
    print(f"ROW|{task}|{data}|{side}|{seconds:.3f}|{cpu:.3f}|{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}|{quality}",
          flush=True)


def recall(idx, gt_path, n):
    """Mean |approx_i ∩ exact_i| / 15 against the exact neighbours EmbedBench's knn-exact row wrote."""
    try:
        gt = np.fromfile(gt_path, "<i4").reshape(n, 15)
    except (OSError, ValueError):
        return float("nan")
    return float(np.mean([len(set(a) & set(b)) / 15 for a, b in zip(idx, gt)]))


def drop_self(idx, k=15):
    """Rows of k+1 neighbours of each point among all points → k neighbours without the point itself."""
    out = np.empty((idx.shape[0], k), np.int64)
    for i, r in enumerate(idx):
        r = r[r != i]
        out[i] = r[:k]
    return out


def row(task, path):
    """One peers row per peer, on the file EmbedBench wrote; the same settings as EmbedBench's row mode."""
    x = load(path)
    n, d = x.shape
    gt_path = path[:-4] + ".gt15"
    truth = np.arange(n) % 20
    if task == "knn-exact":
        import sklearn
        from sklearn.neighbors import NearestNeighbors
        t, c = time.perf_counter(), time.process_time()
        idx = NearestNeighbors(n_neighbors=16, algorithm="brute").fit(x).kneighbors(x, return_distance=False)
        el, cpu = time.perf_counter() - t, time.process_time() - c
        row_line(task, f"{n}x{d} k=15", f"sklearn {sklearn.__version__} brute", el, f"recall@15 {recall(drop_self(idx), gt_path, n):.4f}", cpu)
        try:
            import faiss
        except ImportError:
            print(f"ROW|{task}|{n}x{d} k=15|faiss IndexFlatL2||||peer missing (apt-get install python3-faiss)", flush=True)
            return
        t, c = time.perf_counter(), time.process_time()
        index = faiss.IndexFlatL2(d)
        index.add(x)
        _, idx = index.search(x, 16)
        el, cpu = time.perf_counter() - t, time.process_time() - c
        row_line(task, f"{n}x{d} k=15", f"faiss {faiss.__version__} IndexFlatL2", el, f"recall@15 {recall(drop_self(idx), gt_path, n):.4f}", cpu)
    elif task == "knn-approx":
        try:
            import faiss
        except ImportError:
            print(f"ROW|{task}|{n}x{d} k=15|faiss HNSW||||peer missing (apt-get install python3-faiss)", flush=True)
            return
        # HNSW build once (M 32, efConstruction 80), then all points as queries at growing efSearch: recall vs time
        t, c = time.perf_counter(), time.process_time()
        index = faiss.IndexHNSWFlat(d, 32)
        index.hnsw.efConstruction = 80
        index.add(x)
        build, bcpu = time.perf_counter() - t, time.process_time() - c
        for ef in (32, 64, 128):
            index.hnsw.efSearch = ef
            t, c = time.perf_counter(), time.process_time()
            _, idx = index.search(x, 16)
            el, cpu = time.perf_counter() - t, time.process_time() - c
            row_line(task, f"{n}x{d} k=15", f"faiss {faiss.__version__} HNSW M32 efC80 efS{ef}", build + el,
                     f"recall@15 {recall(drop_self(idx), gt_path, n):.4f} (build {build:.1f} s)", bcpu + cpu)
    elif task == "umap":
        try:
            import umap
        except ImportError:
            print(f"ROW|{task}|{n}x{d} -> 2|umap-learn||||peer missing (apt-get install umap-learn)", flush=True)
            return
        from sklearn.manifold import trustworthiness
        umap.UMAP(random_state=0, n_epochs=5).fit_transform(x[:500])  # numba JIT outside the timing
        for seeded in (True, False):
            t, c = time.perf_counter(), time.process_time()
            emb = umap.UMAP(n_neighbors=15, random_state=0 if seeded else None).fit_transform(x)
            el, cpu = time.perf_counter() - t, time.process_time() - c
            m = min(3000, n)
            tw = trustworthiness(x[:m], emb[:m], n_neighbors=15)
            row_line(task, f"{n}x{d} -> 2", f"umap-learn {umap.__version__} " + ("seeded (1 thread)" if seeded else "unseeded (parallel)"),
                     el, f"trustworthiness@15 {tw:.4f} (first {m} points)", cpu)
    elif task == "leiden":
        try:
            import igraph as ig
            import leidenalg
            import umap.umap_ as uu
        except ImportError:
            print(f"ROW|{task}|{n}x{d}|leidenalg||||peer missing (apt-get install python3-leidenalg umap-learn)", flush=True)
            return
        from sklearn.metrics import adjusted_rand_score
        from sklearn.neighbors import NearestNeighbors
        # scanpy's pipeline: kNN with self (exact below 20k like Tessera's Auto), UMAP connectivities, Leiden (modularity,
        # resolution 1, iterate until stable)
        t, c = time.perf_counter(), time.process_time()
        if n < 20000:
            dist, idx = NearestNeighbors(n_neighbors=15, algorithm="brute").fit(x).kneighbors(x)
        else:
            idx, dist = uu.nearest_neighbors(x, 15, "euclidean", {}, False, np.random.RandomState(0))
        g, _, _ = uu.fuzzy_simplicial_set(x, 15, np.random.RandomState(0), "euclidean", knn_indices=idx, knn_dists=dist)
        g = g.tocoo()
        graph = ig.Graph(n=n, edges=list(zip(g.row.tolist(), g.col.tolist())), directed=True)
        graph.es["weight"] = g.data.tolist()
        part = leidenalg.find_partition(graph, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                        resolution_parameter=1.0, n_iterations=-1, seed=0)
        memb = np.array(part.membership)
        el, cpu = time.perf_counter() - t, time.process_time() - c
        row_line(task, f"{n}x{d} kNN 15 + fuzzy graph + Leiden res 1", f"scanpy pipeline (sklearn + umap-learn + leidenalg {leidenalg.version})",
                 el, f"ARI {adjusted_rand_score(truth, memb):.4f}, {memb.max() + 1} communities", cpu)
    else:
        raise SystemExit(f"unknown task {task}")


def main():
    if sys.argv[1] == "row":
        row(sys.argv[2], sys.argv[3])
        return
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
