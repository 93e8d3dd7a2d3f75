# Regenerates the h5ad fixtures with Debian's python3-anndata 0.8.0 (/usr/bin/python3 make_fixtures.py).
# The values are asserted literally in H5adReadTests.cs; keep the two in sync.
import h5py
import numpy as np
import pandas as pd
import anndata as ad
from scipy import sparse

assert ad.__version__.startswith("0.8"), ad.__version__

# --- anndata_small.h5ad: 7 obs x 5 vars, CSR X, every obs column kind ---
dense = np.array([
    [1.0, 0, 0, 2.5, 0],
    [0, 0, 3.0, 0, 0],
    [0, 0, 0, 0, 0],
    [4.0, 5.0, 0, 0, 6.0],
    [0, 0.5, 0, 0, 0],
    [7.0, 0, 8.0, 0, 9.0],
    [0, 0, 0, 10.0, 0.25],
], dtype=np.float32)
obs = pd.DataFrame(index=[f"cell{i}" for i in range(7)])
obs["cluster"] = pd.Categorical(["a", "b", np.nan, "a", "c", "b", "a"], categories=["a", "b", "c"])
obs["grade"] = pd.Categorical(["low", "high", "mid", "low", "mid", "high", "low"], categories=["low", "mid", "high"], ordered=True)
obs["n_counts"] = np.array([3, 1, 0, 15, 1, 24, 10], dtype=np.int64)
obs["score"] = np.array([0.5, -1.25, np.nan, 3.0, 1e-3, 2.0, 100.0])
obs["in_tissue"] = np.array([True, False, True, True, False, True, False])
obs["note"] = ["x", "hello world", "", "ß", "a,b", "z", "q"]
var = pd.DataFrame(index=["GeneA", "GeneB", "GeneC", "GeneD", "GeneE"])
var["gene_ids"] = ["ENSG1", "ENSG2", "ENSG3", "ENSG4", "ENSG5"]
var["highly_variable"] = np.array([True, False, False, True, True])
a = ad.AnnData(X=sparse.csr_matrix(dense), obs=obs, var=var, dtype=np.float32)
a.obsm["spatial"] = np.array([[10, 20], [11, 21], [12, 22], [13, 23], [14, 24], [15, 25], [16.5, 26.5]], dtype=np.float64)
a.obsm["X_pca"] = (np.arange(21, dtype=np.float32).reshape(7, 3) / 4).astype(np.float32)
a.obsm["meta"] = pd.DataFrame({"q": np.arange(7)}, index=obs.index)
a.layers["counts"] = sparse.csr_matrix((dense * 2).astype(np.int64))
hires = np.zeros((4, 6, 3), dtype=np.uint8)
hires[..., 0] = np.arange(24, dtype=np.uint8).reshape(4, 6) * 10
hires[..., 1] = 7
hires[..., 2] = 255
lowres = np.full((2, 3, 4), 0.5, dtype=np.float32)
lowres[0, 0, :3] = [1.0, 0.0, 0.25]
a.uns = {
    "title": "hello",
    "n": 42,
    "ratio": 0.125,
    "flag": True,
    "arr": np.array([0.1, 0.2, 0.3]),
    "ints": np.array([3, 1, 2], dtype=np.int32),
    "names": np.array(["x", "y"], dtype=object),
    "nested": {"a": 1, "b": "text", "c": {"d": np.array([1.5, 2.5])}},
    "spatial": {"lib1": {
        "images": {"hires": hires, "lowres": lowres},
        "scalefactors": {"tissue_hires_scalef": 0.5, "tissue_lowres_scalef": 0.125, "spot_diameter_fullres": 89.4},
        "metadata": {"chemistry_description": "Visium", "software_version": "spaceranger-1.0.0"},
    }},
}
a.write_h5ad("anndata_small.h5ad")

# --- anndata_dense.h5ad: 3 x 4 dense int32 X, index stored under "barcode", pandas nullable columns ---
obs2 = pd.DataFrame(index=pd.Index(["s1", "s2", "s3"], name="barcode"))
obs2["total"] = np.array([1.5, 2.5, 3.5])
obs2["nint"] = pd.array([4, None, -2], dtype="Int64")      # pandas nullable integer
obs2["nbool"] = pd.array([True, None, False], dtype="boolean")  # pandas nullable boolean with NA
obs2["nbool_full"] = pd.array([False, True, True], dtype="boolean")
b = ad.AnnData(X=np.array([[1, 0, 2, 0], [0, 0, 0, 3], [4, 5, 0, 6]], dtype=np.int32),
               obs=obs2, var=pd.DataFrame(index=["g1", "g2", "g3", "g4"]), dtype=np.int32)
b.write_h5ad("anndata_dense.h5ad")

# --- anndata_csc.h5ad: 4 x 3 CSC float64 X; obs rewritten to the anndata 0.7 dataframe layout
# (encoding-version 0.1.0, categorical as codes + obs/__categories/<col>, referenced by an attribute)
# plus an anndata 0.6-style categorical "batch" ---
dense3 = np.array([[0, 1.5, 0], [2, 0, 0], [0, 0, 3], [4, 0, 5.5]], dtype=np.float64)
obs3 = pd.DataFrame(index=["c0", "c1", "c2", "c3"])
obs3["region"] = pd.Categorical(["r2", "r1", "r2", "r1"], categories=["r1", "r2"])
obs3["depth"] = np.array([7, 8, 9, 10], dtype=np.int32)
c = ad.AnnData(X=sparse.csc_matrix(dense3), obs=obs3, var=pd.DataFrame(index=["h1", "h2", "h3"]), dtype=np.float64)
c.write_h5ad("anndata_csc.h5ad")
with h5py.File("anndata_csc.h5ad", "r+") as f:
    g = f["obs"]
    codes = g["region/codes"][()]
    cats = g["region/categories"][()]
    del g["region"]
    cg = g.create_group("__categories")
    cd = cg.create_dataset("region", data=cats, dtype=h5py.string_dtype())
    cd.attrs["ordered"] = False
    d = g.create_dataset("region", data=codes)
    d.attrs["categories"] = cd.ref
    g.attrs["encoding-version"] = "0.1.0"
    # anndata 0.7 stored the index under a dataset named "index"
    idx = g["_index"][()]
    del g["_index"]
    g.create_dataset("index", data=idx, dtype=h5py.string_dtype())
    g.attrs["_index"] = "index"
    # anndata 0.6 kept categorical codes in the column and the labels in uns["<col>_categories"]
    g.create_dataset("batch", data=np.array([0, 1, 1, 0], dtype=np.int8))
    f["uns"].create_dataset("batch_categories", data=["b0", "b1"], dtype=h5py.string_dtype())
    g.attrs["column-order"] = ["region", "depth", "batch"]

for p in ["anndata_small.h5ad", "anndata_dense.h5ad", "anndata_csc.h5ad"]:
    r = ad.read_h5ad(p)
    print(p, r)
    print(r.obs)
    print(r.obs.dtypes)
