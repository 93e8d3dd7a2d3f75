using System.Security.Cryptography;
using Tessera.IO;
using Tessera.Tests.Support;

namespace Tessera.Tests.IO;

/// <summary>Bad h5ad input: one clear TesseraException naming the file, and the input left untouched.</summary>
public class H5adErrorTests
{
    private static string Hash(string p) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)));

    [Fact]
    public void MissingFile()
    {
        using var dir = new TempDir();
        var p = dir.File("missing.h5ad");
        var ex = Assert.Throws<TesseraException>(() => H5ad.Read(p));
        Assert.Equal($"cannot read h5ad file '{p}': the file does not exist", ex.Message);
    }

    [Fact]
    public void FolderInsteadOfFile()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<TesseraException>(() => H5ad.Read(dir.Path));
        Assert.Equal($"cannot read h5ad file '{dir.Path}': it is a folder, not a file", ex.Message);
    }

    [Fact]
    public void TextFileRenamedH5ad()
    {
        using var dir = new TempDir();
        var p = dir.File("table.h5ad");
        File.WriteAllText(p, "barcode,x,y\nAAAC-1,1,2\n");
        var before = Hash(p);
        var ex = Assert.Throws<TesseraException>(() => H5ad.Read(p));
        Assert.Equal($"cannot read h5ad file '{p}': not an HDF5 file (no HDF5 signature)", ex.Message);
        Assert.Equal(before, Hash(p));
    }

    [Fact]
    public void TruncatedFile()
    {
        using var dir = new TempDir();
        var src = H5adReadTests.Fixture("anndata_small.h5ad");
        long full = new FileInfo(src).Length;
        var p = dir.File("cut.h5ad");
        File.Copy(src, p);
        using (var s = new FileStream(p, FileMode.Open)) s.SetLength(full / 2);
        var before = Hash(p);
        var ex = Assert.Throws<TesseraException>(() => H5ad.Read(p));
        Assert.Equal($"cannot read h5ad file '{p}': the file is truncated ({full / 2} bytes, but its HDF5 superblock declares {full})", ex.Message);
        Assert.Equal(before, Hash(p));
    }

    [Fact]
    public void FileCutInsideTheSuperblock()
    {
        using var dir = new TempDir();
        var p = dir.File("cut.h5ad");
        File.WriteAllBytes(p, File.ReadAllBytes(H5adReadTests.Fixture("anndata_small.h5ad"))[..20]);
        var ex = Assert.Throws<TesseraException>(() => H5ad.Read(p));
        Assert.Equal($"cannot read h5ad file '{p}': the file is truncated (20 bytes, too short for its HDF5 superblock)", ex.Message);
    }

    [Fact]
    public void CorruptedContentIsReportedNotLeaked()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(H5adReadTests.Fixture("anndata_small.h5ad"));
        // keep the superblock, scramble everything after it (object headers, heaps, B-trees)
        var rng = new Random(7);
        for (int i = 96; i < bytes.Length; i++) bytes[i] = (byte)rng.Next(256);
        var p = dir.File("scrambled.h5ad");
        File.WriteAllBytes(p, bytes);
        var before = Hash(p);
        var ex = Assert.Throws<TesseraException>(() => H5ad.Read(p));
        Assert.StartsWith($"cannot read h5ad file '{p}': the file is corrupt", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.Equal(before, Hash(p));
    }

    [Fact]
    public void MissingX()
    {
        using var dir = new TempDir();
        var p = dir.File("nox.h5ad");
        new PureHDF.H5File { ["obs"] = new PureHDF.H5Group() }.Write(p);
        var ex = Assert.Throws<TesseraException>(() => H5ad.Read(p));
        Assert.Equal($"cannot read h5ad file '{p}': it has no X matrix", ex.Message);
    }

    [Fact]
    public void ObsLengthMismatch()
    {
        using var dir = new TempDir();
        var p = dir.File("short_obs.h5ad");
        new PureHDF.H5File
        {
            ["X"] = new float[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } },
            ["obs"] = new PureHDF.H5Group { ["_index"] = new[] { "a", "b" }, Attributes = new() { ["_index"] = "_index" } },
        }.Write(p);
        var ex = Assert.Throws<TesseraException>(() => H5ad.Read(p));
        Assert.Equal($"cannot read h5ad file '{p}': X is declared 3 x 2 but obs has 2 names (X must be observations x genes)", ex.Message);
    }

    [Fact]
    public void DuplicateObsNames()
    {
        using var dir = new TempDir();
        var p = dir.File("dup.h5ad");
        new PureHDF.H5File
        {
            ["X"] = new float[,] { { 1 }, { 2 } },
            ["obs"] = new PureHDF.H5Group { ["_index"] = new[] { "a", "a" }, Attributes = new() { ["_index"] = "_index" } },
        }.Write(p);
        var ex = Assert.Throws<TesseraException>(() => H5ad.Read(p));
        Assert.Equal($"cannot read h5ad file '{p}': duplicate observation name 'a'", ex.Message);
    }

    [Fact]
    public void BadSparseStructure()
    {
        using var dir = new TempDir();
        var p = dir.File("badcsr.h5ad");
        new PureHDF.H5File
        {
            ["X"] = new PureHDF.H5Group
            {
                ["data"] = new float[] { 1, 2 },
                ["indices"] = new int[] { 0, 5 },
                ["indptr"] = new int[] { 0, 1, 2 },
                Attributes = new() { ["encoding-type"] = "csr_matrix", ["shape"] = new long[] { 2, 3 } },
            },
        }.Write(p);
        var ex = Assert.Throws<TesseraException>(() => H5ad.Read(p));
        Assert.Equal($"cannot read h5ad file '{p}': X is not a valid sparse matrix: column index 5 in row 1 is outside 0..2", ex.Message);
    }
}
