using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;

namespace Tessera.Tests.IO;

/// <summary>
/// The streamed reading paths of issue 16's scale work: slab reads of HDF5 numbers, the Xenium control split while the
/// 10x h5 is read, the in-place column split, and the one keyed-row match.
/// </summary>
public class StreamingReadTests
{
    /// <summary>
    /// A 10x h5 with more stored values than one slab (1,048,576), int64 indices/indptr and int32 data in chunked,
    /// compressed datasets (as Xenium writes them), three of its 40 features controls. h5py + numpy give the expected
    /// totals, computed in Python from the arrays it wrote.
    /// </summary>
    [SkippableFact]
    public void LargeXeniumMatrixSplitsControlsWhileReadingAndMatchesH5py()
    {
        Python.RequireModules("h5py", "numpy");
        using var dir = new TempDir();
        var h5 = Path.Combine(dir.Path, "cell_feature_matrix.h5");
        var (code, output, err) = Python.Run($$"""
import h5py, numpy as np
rng = np.random.default_rng(7)
cells, feats = 60000, 40
ptr = [0]; idx = []; val = []
for c in range(cells):
    k = rng.integers(15, 26)
    cols = np.sort(rng.choice(feats, size=k, replace=False))
    idx.append(cols); val.append(rng.integers(1, 6, size=k))
    ptr.append(ptr[-1] + k)
idx = np.concatenate(idx).astype(np.int64); val = np.concatenate(val).astype(np.int32); ptr = np.array(ptr, dtype=np.int64)
types = ['Gene Expression'] * feats
for j in (3, 17, 39): types[j] = 'Negative Control Probe' if j != 17 else 'Unassigned Codeword'
with h5py.File('{{h5}}', 'w') as f:
    m = f.create_group('matrix')
    m.create_dataset('barcodes', data=np.array([f'c{i}-1' for i in range(cells)], dtype='S'))
    m.create_dataset('data', data=val, chunks=(80000,), compression='gzip')
    m.create_dataset('indices', data=idx, chunks=(80000,), compression='gzip')
    m.create_dataset('indptr', data=ptr)
    m.create_dataset('shape', data=np.array([feats, cells], dtype=np.int32))
    g = m.create_group('features')
    g.create_dataset('id', data=np.array([f'g{j}' for j in range(feats)], dtype='S'))
    g.create_dataset('name', data=np.array([f'G{j}' for j in range(feats)], dtype='S'))
    g.create_dataset('feature_type', data=np.array(types, dtype='S'))
rows = np.repeat(np.arange(cells), np.diff(ptr))
neg = np.isin(idx, [3, 39]); un = idx == 17; genes = ~(neg | un)
print(len(idx), int(val[genes].sum()), int(genes.sum()), int(val[neg].sum()), int(val[un].sum()),
      int(val[neg & (rows == 123)].sum()), int(val[genes & (rows == 59999)].sum()))
""");
        Assert.True(code == 0, err);
        var e = output.Split(' ', StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        Assert.True(e[0] > 1 << 20, "the matrix must span several slabs");

        // the plain read (slabs converted straight into the final arrays) holds every feature
        var all = TenXH5.Read(h5);
        Assert.Equal(e[0], all.X.Nnz);
        Assert.Equal(40, all.X.Cols);

        // the split read: controls leave X while it is read
        var (m, sums) = TenXH5.Read(h5, null, (ids, names, types) => types!.Select(t => t == "Gene Expression" ? -1 : t == "Unassigned Codeword" ? 1 : 0).ToArray());
        Assert.Equal(37, m.X.Cols);
        Assert.Equal(e[2], m.X.Nnz);
        Assert.Equal(e[1], (long)m.X.Data.Sum(v => (double)v));
        Assert.DoesNotContain("G3", m.FeatureNames);
        Assert.Equal("G4", m.FeatureNames[3]);
        Assert.Equal(e[3], (long)sums[0].Sum());
        Assert.Equal(e[4], (long)sums[1].Sum());
        Assert.Equal(e[5], (long)sums[0][123]);
        Assert.Equal(e[6], (long)m.X.RowSums()[59999]);

        // the same through the Xenium reader (cells.csv in the matrix's order, so the identity match is taken)
        File.WriteAllLines(Path.Combine(dir.Path, "cells.csv"),
            new[] { "cell_id,x_centroid,y_centroid" }.Concat(Enumerable.Range(0, 60000).Select(i => $"c{i}-1,{i % 300},{i / 300}")));
        var data = Xenium.Read(dir.Path);
        Assert.Equal(37, data.NVars);
        Assert.Equal(e[3], (long)((NumericColumn)data.Obs["qc_negative_control_probe"]).Values.Sum());
        Assert.Equal(e[4], (long)((NumericColumn)data.Obs["qc_unassigned_codeword"]).Values.Sum());
        Assert.Equal(123.0 % 300, data.Spatial[123, 0]);
    }

    [Fact]
    public void SplitColumnsInPlaceKeepsTheOtherColumnsAndSumsTheGroups()
    {
        // 3 x 5:  [1 0 2 0 3]   groups: col 1 -> 0, col 3 -> 1, col 4 -> 0
        //         [0 4 0 5 0]
        //         [6 0 0 0 7]
        var x = CsrMatrix.FromDense(new float[,] { { 1, 0, 2, 0, 3 }, { 0, 4, 0, 5, 0 }, { 6, 0, 0, 0, 7 } });
        var sums = new[] { new double[3], new double[3] };
        var kept = x.SplitColumnsInPlace([-1, 0, -1, 1, 0], sums);
        Assert.Equal(2, kept.Cols);
        Assert.Equal(new float[,] { { 1, 2 }, { 0, 0 }, { 6, 0 } }, ToDense(kept));
        Assert.Equal(new[] { 3.0, 4, 7 }, sums[0]);
        Assert.Equal(new[] { 0.0, 5, 0 }, sums[1]);
        Assert.Equal(3, kept.Nnz);
        Assert.Equal(3, kept.Indices.Length); // trimmed to the kept entries
    }

    private static float[,] ToDense(CsrMatrix m)
    {
        var d = new float[m.Rows, m.Cols];
        for (int r = 0; r < m.Rows; r++) for (int c = 0; c < m.Cols; c++) d[r, c] = m[r, c];
        return d;
    }

    [Fact]
    public void KeyedRowsMatchesInOrderWithoutADictionaryAndOtherwiseByName()
    {
        string[] cells = ["a", "b", "c"];
        var same = KeyedRows.Find(cells, ["a", "b", "c"], "t.csv", "cell id", (i, j) => $"rows {i + 1} and {j + 1}");
        Assert.Equal(new[] { 0, 1, 2 }, same.Rows);
        Assert.Equal(0, same.Missing);
        var shuffled = KeyedRows.Find(cells, ["c", "x", "a"], "t.csv", "cell id", (i, j) => $"rows {i + 1} and {j + 1}");
        Assert.Equal(new[] { 2, -1, 0 }, shuffled.Rows);
        Assert.Equal(1, shuffled.Missing);
        Assert.Equal("b", shuffled.FirstMissing);
        var ex = Assert.Throws<TesseraException>(() => KeyedRows.Find(cells, ["c", "a", "c"], "t.csv", "cell id", (i, j) => $"rows {i + 1} and {j + 1}"));
        Assert.Equal("t.csv: duplicate cell id 'c' (rows 1 and 3)", ex.Message);
        var nul = Assert.Throws<TesseraException>(() => KeyedRows.Find(cells, ["c", null, "a"], "t.csv", "cell id", (i, j) => ""));
        Assert.Equal("t.csv row 2: the cell id is missing", nul.Message);
    }
}

/// <summary>Graph radii given in µm (issue 16): converted with each slice's µm per coordinate unit.</summary>
public class MicronRadiusTests
{
    [Fact]
    public void RadiusInMicronsIsDividedByTheSlicesMicronsPerUnit()
    {
        var data = Tessera.Simulate.SyntheticTissue.Generate(new Tessera.Simulate.SyntheticTissueOptions { Rows = 10, Cols = 12, Genes = 100, Seed = 1 });
        data.Uns["microns_per_unit"] = 0.5; // 138 units between spots = 69 µm
        var options = new Tessera.Methods.Spotscape.SpotscapeOptions { RadiusMicrons = 100, Hvg = 0 };
        var prepared = Tessera.Methods.Spotscape.SpotscapeTrainer.Prepare([data], options: options);
        Assert.Equal(200.0, prepared.Radii[0]);
        // the same graph as the radius in coordinate units
        var units = Tessera.Methods.Spotscape.SpotscapeTrainer.Prepare([data], options: options with { RadiusMicrons = null, Radius = 200 });
        Assert.Equal(units.Input.EdgeSrc, prepared.Input.EdgeSrc);
        Assert.Equal(units.Input.EdgeDst, prepared.Input.EdgeDst);

        data.Uns.Remove("microns_per_unit");
        var ex = Assert.Throws<TesseraException>(() => Tessera.Methods.Spotscape.SpotscapeTrainer.Prepare([data], options: options));
        Assert.StartsWith("RadiusMicrons needs the µm per coordinate unit of slice 'slice0'", ex.Message);
        Assert.Throws<TesseraException>(() => (options with { Radius = 3 }).Validate());
    }

    [Theory]
    [InlineData("150", 150.0, null)]
    [InlineData("50um", null, 50.0)]
    [InlineData("12.5 µm", null, 12.5)]
    [InlineData("40UM", null, 40.0)]
    public void RadiusFlagTakesUnitsOrMicrons(string text, double? units, double? microns)
    {
        var (u, m) = Tessera.Cli.Commands.DomainsCommand.RadiusValue(text);
        Assert.Equal(units, u);
        Assert.Equal(microns, m);
    }
}
