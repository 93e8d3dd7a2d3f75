using System.Globalization;
using System.IO.Compression;
using Tessera.Data;

namespace Tessera.Tests.Preprocess;

/// <summary>Test inputs shared by the preprocessing tests.</summary>
internal static class Fixtures
{
    /// <summary>
    /// 60 spots × 40 genes of synthetic counts, the same formula as the python/R reference scripts:
    /// v = (3i² + 7j + ij) mod 17, zero when (i + 2j) mod 3 = 0, times (j mod 4 + 1); gene 38 is 2 everywhere, gene 39 all zero.
    /// </summary>
    public static SpatialData Counts60x40()
    {
        const int n = 60, g = 40;
        var d = new float[n, g];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < g; j++)
            {
                int v = (i * i * 3 + j * 7 + i * j) % 17;
                if ((i + 2 * j) % 3 == 0) v = 0;
                d[i, j] = v * (j % 4 + 1);
                if (j == 38) d[i, j] = 2;
                if (j == 39) d[i, j] = 0;
            }
        var data = new SpatialData(CsrMatrix.FromDense(d),
            new Table(Enumerable.Range(0, n).Select(i => $"spot{i}").ToArray()),
            new Table(Enumerable.Range(0, g).Select(j => $"g{j}").ToArray()));
        data.Obs.Set("batch", CategoricalColumn.FromLabels(Enumerable.Range(0, n).Select(i => i % 2 == 0 ? "a" : "b").ToArray()));
        return data;
    }

    /// <summary>Reads a 10x MatrixMarket folder (genes × spots) into spots × genes; test-only reader (the IO reader lives on another branch).</summary>
    public static SpatialData ReadTenX(string folder)
    {
        static IEnumerable<string> Lines(string path)
        {
            using var s = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
            while (s.ReadLine() is { } l) yield return l;
        }
        var genes = Lines(Path.Combine(folder, "features.tsv.gz")).Select(l => l.Split('\t')[0]).ToArray();
        var barcodes = Lines(Path.Combine(folder, "barcodes.tsv.gz")).Select(l => l.Split('\t')[0]).ToArray();
        var rows = new List<int>(); var cols = new List<int>(); var vals = new List<float>();
        bool header = false;
        foreach (var l in Lines(Path.Combine(folder, "matrix.mtx.gz")))
        {
            if (l.StartsWith('%')) continue;
            if (!header) { header = true; continue; }
            var p = l.Split(' ');
            cols.Add(int.Parse(p[0], CultureInfo.InvariantCulture) - 1);
            rows.Add(int.Parse(p[1], CultureInfo.InvariantCulture) - 1);
            vals.Add(float.Parse(p[2], CultureInfo.InvariantCulture));
        }
        var x = CsrMatrix.FromTriplets(barcodes.Length, genes.Length, rows, cols, vals);
        return new SpatialData(x, new Table(barcodes, "barcode"), new Table(genes, "gene name"));
    }

    private static SpatialData? _dlpfc;
    private static readonly object Lock = new();

    /// <summary>DLPFC 151673 counts (cached per test run); skips when the shared data is absent.</summary>
    public static SpatialData Dlpfc151673()
    {
        var folder = Support.SharedData.Require("dlpfc/151673");
        lock (Lock) return _dlpfc ??= ReadTenX(folder);
    }
}
