using System.Diagnostics;
using System.IO.Compression;
using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;
using static Tessera.Tests.IO.IoTestUtil;

namespace Tessera.Tests.IO;

public class MatrixMarketTests
{
    private const string Small = "%%MatrixMarket matrix coordinate integer general\n%comment\n3 4 5\n1 1 2\n3 1 7\n2 4 1\n1 3 5\n3 4 10\n";

    [Fact]
    public void ReadsIntegerGeneral()
    {
        using var t = new TempDir();
        var m = MatrixMarket.Read(Write(t.File("m.mtx"), Small));
        Assert.Equal((3, 4, 5), (m.Rows, m.Cols, m.Nnz));
        Assert.Equal(new float[] { 2, 0, 5, 0, 0, 0, 0, 1, 7, 0, 0, 10 }, m.ToDenseArray());
        Assert.Equal(new[] { 0, 2, 3, 5 }, m.IndPtr);
        Assert.Equal(new[] { 0, 2, 3, 0, 3 }, m.Indices);
    }

    [Fact]
    public void ReadsTransposedGzipWithCrlfAndSumsDuplicates()
    {
        using var t = new TempDir();
        var p = Write(t.File("m.mtx.gz"), "%%MatrixMarket matrix coordinate real general\r\n2 3 3\r\n1 2 0.5\r\n2 3 1.25\r\n1 2 2\r\n");
        var m = MatrixMarket.Read(p, transpose: true);
        Assert.Equal((3, 2), (m.Rows, m.Cols));
        Assert.Equal(new float[] { 0, 0, 2.5f, 0, 0, 1.25f }, m.ToDenseArray());
        Assert.Equal(2, m.Nnz);
    }

    [Fact]
    public void ReadsSymmetricAndPattern()
    {
        using var t = new TempDir();
        var s = MatrixMarket.Read(Write(t.File("s.mtx"), "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 4\n3 1 2\n3 2 1.5\n"));
        Assert.Equal(new float[] { 4, 0, 2, 0, 0, 1.5f, 2, 1.5f, 0 }, s.ToDenseArray());
        var p = MatrixMarket.Read(Write(t.File("p.mtx"), "%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 2\n2 1\n"));
        Assert.Equal(new float[] { 0, 1, 1, 0 }, p.ToDenseArray());
    }

    [Fact]
    public void WriteRoundTripsIntegerAndReal()
    {
        using var t = new TempDir();
        var m = CsrMatrix.FromDense(new float[,] { { 0, 3, 0 }, { 1, 0, 2 } });
        MatrixMarket.Write(m, t.File("a.mtx.gz"), transpose: true);
        var back = MatrixMarket.Read(t.File("a.mtx.gz"), transpose: true);
        Assert.Equal(m.ToDenseArray(), back.ToDenseArray());
        var text = new StreamReader(new GZipStream(File.OpenRead(t.File("a.mtx.gz")), CompressionMode.Decompress)).ReadToEnd();
        Assert.StartsWith("%%MatrixMarket matrix coordinate integer general\n", text);
        Assert.Contains("\n3 2 3\n", text);
        var r = CsrMatrix.FromDense(new float[,] { { 0.1f, 0 }, { 0, 1e-7f } });
        MatrixMarket.Write(r, t.File("r.mtx"));
        Assert.Equal(r.ToDenseArray(), MatrixMarket.Read(t.File("r.mtx")).ToDenseArray());
        Assert.StartsWith("%%MatrixMarket matrix coordinate real general\n", File.ReadAllText(t.File("r.mtx")));
    }

    [Theory]
    [InlineData("hello\n1 1 1\n", "m.mtx: not a MatrixMarket file (the first line must start with %%MatrixMarket)")]
    [InlineData("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n", "m.mtx: unsupported MatrixMarket header '%%MatrixMarket matrix array real general': Tessera reads 'matrix coordinate' with real, integer or pattern values and general or symmetric storage")]
    [InlineData("%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n", "m.mtx: unsupported MatrixMarket header '%%MatrixMarket matrix coordinate complex general': Tessera reads 'matrix coordinate' with real, integer or pattern values and general or symmetric storage")]
    [InlineData("%%MatrixMarket matrix coordinate integer general\n3 x 2\n", "m.mtx line 2: expected the size line 'rows columns entries', got '3 x 2'")]
    [InlineData("%%MatrixMarket matrix coordinate integer general\n%only comments\n", "m.mtx: the file ends before the size line 'rows columns entries'")]
    [InlineData("%%MatrixMarket matrix coordinate integer general\n3 4 2\n1 1 1\n4 1 2\n", "m.mtx line 4: entry (4, 1) is outside the declared 3 x 4 matrix")]
    [InlineData("%%MatrixMarket matrix coordinate integer general\n3 4 2\n1 5 1\n", "m.mtx line 3: entry (1, 5) is outside the declared 3 x 4 matrix")]
    [InlineData("%%MatrixMarket matrix coordinate integer general\n3 4 2\n0 1 1\n", "m.mtx line 3: entry (0, 1) is outside the declared 3 x 4 matrix")]
    [InlineData("%%MatrixMarket matrix coordinate integer general\n3 4 3\n1 1 1\n2 2 2\n", "m.mtx: the size line declares 3 entries but the file has 2")]
    [InlineData("%%MatrixMarket matrix coordinate integer general\n3 4 1\n1 1 1\n2 2 2\n", "m.mtx line 4: more entries than the 1 declared in the size line")]
    [InlineData("%%MatrixMarket matrix coordinate integer general\n3 4 2\n1 1 1\n2 2 -3\n", "m.mtx line 4: negative count -3")]
    [InlineData("%%MatrixMarket matrix coordinate real general\n3 4 2\n1 1 nan\n2 2 1\n", "m.mtx line 3: NaN count")]
    [InlineData("%%MatrixMarket matrix coordinate real general\n3 4 2\n1 1 1\n2 2 Inf\n", "m.mtx line 4: infinite count Inf")]
    [InlineData("%%MatrixMarket matrix coordinate real general\n3 4 1\n1 1 abc\n", "m.mtx line 3: value 'abc' is not a number")]
    [InlineData("%%MatrixMarket matrix coordinate real general\n3 4 1\n1 1\n", "m.mtx line 3: expected 3 fields 'row column value', got '1 1'")]
    [InlineData("%%MatrixMarket matrix coordinate pattern general\n3 4 1\n1 1 1\n", "m.mtx line 3: expected 2 fields 'row column', got '1 1 1'")]
    [InlineData("%%MatrixMarket matrix coordinate real general\n3 4 1\n1.5 1 1\n", "m.mtx line 3: row and column must be positive integers, got '1.5 1 1'")]
    [InlineData("%%MatrixMarket matrix coordinate real symmetric\n3 4 1\n1 1 1\n", "m.mtx: a symmetric matrix must be square, but the size line says 3 x 4")]
    public void BadInputFailsWithExactMessage(string text, string message)
    {
        using var t = new TempDir();
        var p = Write(t.File("m.mtx"), text);
        Fails(p, message, () => MatrixMarket.Read(p));
    }

    [Fact]
    public void GzippedNegativeCountNamesTheGzFile()
    {
        using var t = new TempDir();
        var lines = string.Concat(Enumerable.Range(1, 1240).Select(i => $"{i} 1 {(i == 1232 ? -3 : 1)}\n"));
        var p = Write(t.File("matrix.mtx.gz"), "%%MatrixMarket matrix coordinate integer general\n1240 1 1240\n" + lines);
        Fails(p, "matrix.mtx.gz line 1234: negative count -3", () => MatrixMarket.Read(p));
    }

    [Fact]
    public void TruncatedGzipIsReported()
    {
        using var t = new TempDir();
        var lines = string.Concat(Enumerable.Range(1, 20000).Select(i => $"{i} {i % 7 + 1} {i % 13 + 1}\n"));
        var full = Write(t.File("full.mtx.gz"), "%%MatrixMarket matrix coordinate integer general\n20000 7 20000\n" + lines);
        Assert.Equal(20000, MatrixMarket.Read(full).Nnz);
        var bytes = File.ReadAllBytes(full);
        foreach (var cut in new[] { bytes.Length - 3, bytes.Length / 2 })
        {
            var p = t.File($"cut{cut}.mtx.gz");
            File.WriteAllBytes(p, bytes[..cut]);
            Fails(p, $"cut{cut}.mtx.gz: the gzip file is truncated (it ends before its compressed data does)", () => MatrixMarket.Read(p));
        }
    }

    [SkippableFact]
    public void WrittenFileReadsBackInScipy()
    {
        Python.RequireModules("scipy.io", "numpy");
        using var t = new TempDir();
        var dense = new float[50, 30];
        var rng = new Random(7);
        for (int i = 0; i < 50; i++) for (int j = 0; j < 30; j++) if (rng.NextDouble() < 0.2) dense[i, j] = rng.Next(1, 100);
        dense[3, 4] = 0.125f;
        var m = CsrMatrix.FromDense(dense);
        var path = t.File("w.mtx.gz");
        MatrixMarket.Write(m, path, transpose: true);
        var (code, output, err) = Python.Run($"import scipy.io, numpy as np\nm = scipy.io.mmread('{path}').tocsr()\nprint(m.shape[0], m.shape[1], m.nnz, repr(float(m.sum())), repr(float(m[4, 3])))\n");
        Assert.True(code == 0, err);
        double sum = m.Data.Sum(v => (double)v);
        Assert.Equal($"30 50 {m.Nnz} {sum.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} 0.125", output.Trim().Replace(".0 ", " "));
    }

    [SkippableFact]
    public void ReadsDlpfc151673()
    {
        var p = Path.Combine(SharedData.Require("dlpfc/151673"), "matrix.mtx.gz");
        var m = MatrixMarket.Read(p);
        // scipy.io.mmread(...).tocsr(): shape (5000, 3639), nnz 2396621, sum 4919405, m[1,0] = 7, max 610
        Assert.Equal((5000, 3639, 2396621), (m.Rows, m.Cols, m.Nnz));
        Assert.Equal(4919405.0, m.Data.Sum(v => (double)v));
        Assert.Equal(7f, m[1, 0]);
        Assert.Equal(610f, m.Data.Max());
    }
}
