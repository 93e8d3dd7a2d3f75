using Tessera.Data;

namespace Tessera.Tests.Graphs;

/// <summary>Deterministic coordinates shared with the python script that produced the sklearn reference numbers.</summary>
internal static class GraphFixtures
{
    /// <summary>splitmix64 uniforms in [0, 1) × scale, identical to the python generator used for the literals.</summary>
    public static DenseMatrix Points(ulong seed, int n, int d, double scale)
    {
        var data = new double[n * d];
        ulong s = seed;
        for (int i = 0; i < data.Length; i++)
        {
            unchecked
            {
                s += 0x9E3779B97F4A7C15UL;
                ulong z = s;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                data[i] = (z >> 11) * (1.0 / (1UL << 53)) * scale;
            }
        }
        return new DenseMatrix(n, d, data);
    }

    /// <summary>(edge count, Σ key, Σ key·2654435761 mod 1e9+7) with key = src·N + dst, as computed in python.</summary>
    public static (int Count, long Sum, long Hash) Checksum(Tessera.Graphs.SpatialGraph g)
    {
        long sum = 0, hash = 0;
        for (int e = 0; e < g.NumEdges; e++)
        {
            long key = (long)g.Src[e] * g.NumNodes + g.Dst[e];
            sum += key;
            hash += (long)((ulong)key * 2654435761UL % 1000000007UL);
        }
        return (g.NumEdges, sum, hash);
    }

    public static DenseMatrix Coords(params double[][] rows) =>
        new(rows.Length, rows[0].Length, rows.SelectMany(r => r).ToArray());

    public static (int, int)[] Edges(Tessera.Graphs.SpatialGraph g) =>
        Enumerable.Range(0, g.NumEdges).Select(e => (g.Src[e], g.Dst[e])).ToArray();
}
