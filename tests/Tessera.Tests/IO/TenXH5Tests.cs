using Tessera.IO;
using Tessera.Tests.Support;

namespace Tessera.Tests.IO;

/// <summary>10x HDF5 reader on scanpy's Visium fixtures; expected numbers come from h5py + scipy (csc → .T.tocsr()).</summary>
public class TenXH5Tests
{
    [SkippableFact]
    public void ReadsSpaceRanger1FilteredMatrix()
    {
        var p = SharedData.Require("visium_scanpy_testdata/1.0.0/filtered_feature_bc_matrix.h5");
        var m = TenXH5.Read(p);
        Assert.Equal(100, m.X.Rows);
        Assert.Equal(100, m.X.Cols);
        Assert.Equal(656, m.X.Nnz);
        Assert.Equal(932.0, m.X.Data.Sum(v => (double)v));
        Assert.Equal("AAACAAGTATCTCCCA-1", m.Barcodes[0]);
        Assert.Equal("AACCTTTACGACGTCT-1", m.Barcodes[^1]);
        Assert.Equal("ENSG00000243485", m.FeatureIds[0]);
        Assert.Equal("ENSG00000197921", m.FeatureIds[^1]);
        Assert.Equal("ENSG00000243485", m.FeatureNames[0]); // this truncated fixture stores ids as names
        Assert.NotNull(m.FeatureTypes);
        Assert.All(m.FeatureTypes!, t => Assert.Equal("Gene Expression", t));
        Assert.Equal(1f, m.X[0, 39]);
        Assert.Equal(1f, m.X[0, 40]);
        Assert.Equal(0f, m.X[0, 41]);
        Assert.Equal(1f, m.X[14, 24]);
        Assert.Equal(2f, m.X[99, 78]);
        Assert.Equal(9f, m.X[75, 53]); // the largest count
        var rs = m.X.RowSums();
        Assert.Equal(10.0, rs[0]);
        Assert.Equal(5.0, rs[^1]);
        Assert.Equal(27.0, rs[21]);
        var cs = m.X.ColSums();
        Assert.Equal(0.0, cs[0]);
        Assert.Equal(198.0, cs[53]);
    }

    [SkippableFact]
    public void ReadsSpaceRanger21ProbeMatrix()
    {
        var p = SharedData.Require("visium_scanpy_testdata/2.1.0/raw_probe_bc_matrix.h5");
        var m = TenXH5.Read(p);
        // shape attribute is [1000 features, 4987 barcodes]
        Assert.Equal(4987, m.X.Rows);
        Assert.Equal(1000, m.X.Cols);
        Assert.Equal(858, m.X.Nnz);
        Assert.Equal(3372.0, m.X.Data.Sum(v => (double)v));
        Assert.Equal("AACACCTACTATCGAA-1", m.Barcodes[0]);
        Assert.Equal("TGTTGGCCTACACGTG-1", m.Barcodes[^1]);
        Assert.Equal("DEPRECATED_ENSMUSG00000000157|Itgb2l|2ef1e7b", m.FeatureIds[0]);
        Assert.Equal("ENSMUSG00000004356|Utp20|6221d37", m.FeatureIds[^1]);
        Assert.Equal("Itgb2l|2ef1e7b", m.FeatureNames[0]);
        Assert.Equal("Utp20|6221d37", m.FeatureNames[^1]);
        Assert.Equal("Gene Expression", m.FeatureTypes![0]);
        Assert.Equal(1f, m.X[7, 974]);
        Assert.Equal(1f, m.X[17, 867]);
        Assert.Equal(2f, m.X[567, 788]);
        Assert.Equal(1f, m.X[4984, 62]);
        Assert.Equal(88f, m.X[1525, 516]);
        Assert.Equal(89.0, m.X.RowSums()[1525]);
        Assert.Equal(257.0, m.X.ColSums()[516]);
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        using var dir = new TempDir();
        var p = dir.File("nope.h5");
        var ex = Assert.Throws<TesseraException>(() => TenXH5.Read(p));
        Assert.Equal($"cannot read 10x HDF5 file '{p}': the file does not exist", ex.Message);
    }

    [Fact]
    public void AnH5adIsNotA10xMatrix()
    {
        var p = H5adReadTests.Fixture("anndata_dense.h5ad");
        var ex = Assert.Throws<TesseraException>(() => TenXH5.Read(p));
        Assert.Equal($"cannot read 10x HDF5 file '{p}': it has neither a 'matrix' group (format v3) nor a genome group (format v2)", ex.Message);
    }

    [Fact]
    public void ReadsFormatV2GenomeGroup()
    {
        // Cell Ranger 2 layout written with PureHDF: 2 genes x 3 barcodes, CSC over barcodes
        using var dir = new TempDir();
        var p = dir.File("v2.h5");
        new PureHDF.H5File
        {
            ["mm10"] = new PureHDF.H5Group
            {
                ["barcodes"] = new[] { "AAA-1", "CCC-1", "GGG-1" },
                ["genes"] = new[] { "ENSMUSG1", "ENSMUSG2" },
                ["gene_names"] = new[] { "Xkr4", "Rp1" },
                ["data"] = new int[] { 5, 1, 7 },
                ["indices"] = new long[] { 1, 0, 1 },
                ["indptr"] = new long[] { 0, 1, 1, 3 },
                ["shape"] = new int[] { 2, 3 },
            },
        }.Write(p);
        var m = TenXH5.Read(p);
        Assert.Equal(["AAA-1", "CCC-1", "GGG-1"], m.Barcodes);
        Assert.Equal(["ENSMUSG1", "ENSMUSG2"], m.FeatureIds);
        Assert.Equal(["Xkr4", "Rp1"], m.FeatureNames);
        Assert.Null(m.FeatureTypes);
        Assert.Equal([0f, 5f, 0f, 0f, 1f, 7f], m.X.ToDenseArray());
    }
}
