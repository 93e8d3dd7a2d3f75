using System.Globalization;
using System.IO.Compression;
using Tessera.Data;
using Tessera.Graphs;
using Tessera.Tests.Support;

namespace Tessera.Tests.Graphs;

public class DlpfcGraphTests
{
    /// <summary>In-tissue spots of tissue_positions_list (Space Ranger v1, no header): array row/col and full-res (x = col px, y = row px).</summary>
    internal static (string[] Barcodes, int[] Row, int[] Col, DenseMatrix FullRes) ReadPositions(string path)
    {
        var bc = new List<string>(); var r = new List<int>(); var c = new List<int>(); var xy = new List<double>();
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var rd = new StreamReader(gz);
        for (string? line; (line = rd.ReadLine()) != null;)
        {
            var f = line.Split(',');
            if (f[1] != "1") continue;
            bc.Add(f[0]); r.Add(int.Parse(f[2], CultureInfo.InvariantCulture)); c.Add(int.Parse(f[3], CultureInfo.InvariantCulture));
            xy.Add(double.Parse(f[5], CultureInfo.InvariantCulture)); xy.Add(double.Parse(f[4], CultureInfo.InvariantCulture));
        }
        return (bc.ToArray(), r.ToArray(), c.ToArray(), new DenseMatrix(bc.Count, 2, xy.ToArray()));
    }

    [SkippableFact]
    public void HexGridEqualsRadius150AndHasTheExpectedDegrees()
    {
        var path = SharedData.Require("dlpfc/151673/spatial/tissue_positions_list.csv.gz");
        var (_, row, col, xy) = ReadPositions(path);
        Assert.Equal(3639, row.Length);
        var hex = VisiumGrid.Build(row, col);
        // numbers from python (dict lookup of the 6 offsets; sklearn radius_neighbors_graph(xy, 150))
        Assert.Equal(21124, hex.NumEdges);
        var hist = new int[7];
        foreach (var d in hex.Degrees) hist[d]++;
        Assert.Equal(new[] { 1, 9, 13, 80, 141, 85, 3310 }, hist);
        var radius = RadiusGraph.Build(xy, 150);
        Assert.Equal(hex.Src, radius.Src);
        Assert.Equal(hex.Dst, radius.Dst);
        // hex-neighbour spacing is 137-139 full-res px and the second ring starts at 238 px, so 150 is unambiguous
        Assert.Equal(1.5 * 137.00364958642524, RadiusGraph.AutoRadius(xy), 9);
        Assert.Equal(hex.NumEdges, RadiusGraph.Build(xy, RadiusGraph.AutoRadius(xy)).NumEdges);
    }
}
