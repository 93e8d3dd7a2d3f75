using Tessera.Data;
using Tessera.Graphs;
using static Tessera.Tests.Graphs.GraphFixtures;

namespace Tessera.Tests.Graphs;

public class KdTreeTests
{
    // Integer grid coordinates create many exact distance ties: the tree must agree with a brute-force (distance, index) sort.
    private static DenseMatrix TieHeavy(int dim)
    {
        var p = Points(3, 500, dim, 1.0);
        for (int i = 0; i < p.Data.Length; i++) p.Data[i] = Math.Floor(p.Data[i] * 8);
        return p;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void NearestMatchesBruteForceWithTies(int dim)
    {
        var x = TieHeavy(dim);
        var tree = new KdTree(x, leafSize: 4);
        var q = new double[dim];
        for (int i = 0; i < x.Rows; i += 7)
        {
            var row = x.Row(i).ToArray();
            var expect = Enumerable.Range(0, x.Rows).Where(j => j != i)
                .Select(j => (d: Dist2(x, j, row), j)).OrderBy(t => t.d).ThenBy(t => t.j).Take(9).ToArray();
            var (idx, dist) = tree.Nearest(row, 9, exclude: i);
            Assert.Equal(expect.Select(t => t.j), idx);
            Assert.Equal(expect.Select(t => Math.Sqrt(t.d)), dist);
        }
    }

    [Fact]
    public void WithinRadiusStrictAndInclusive()
    {
        var x = TieHeavy(2);
        var tree = new KdTree(x, leafSize: 3);
        for (int i = 0; i < x.Rows; i += 11)
        {
            var row = x.Row(i).ToArray();
            var strict = Enumerable.Range(0, x.Rows).Where(j => j != i && Dist2(x, j, row) < 4.0).ToArray();
            var incl = Enumerable.Range(0, x.Rows).Where(j => Dist2(x, j, row) <= 4.0).ToArray();
            Assert.Equal(strict, tree.WithinRadius(row, 2.0, strict: true, exclude: i));
            Assert.Equal(incl, tree.WithinRadius(row, 2.0, strict: false));
            Assert.True(incl.Length > strict.Length + 1); // the fixture really has points at exactly distance 2
        }
    }

    [Fact]
    public void IdenticalPointsAndSmallTrees()
    {
        var same = new DenseMatrix(40, 2, new double[80]);
        var tree = new KdTree(same);
        Assert.Equal(new[] { 0, 1, 3 }, tree.Nearest([0, 0], 3, exclude: 2).Indices);
        Assert.Equal(new[] { 1 }, new KdTree(Coords([0, 0], [1, 1])).Nearest([0, 0], 5, exclude: 0).Indices);
        Assert.Equal("query has 3 coordinates but the tree has 2 dimensions", Assert.Throws<ArgumentException>(() => tree.Nearest([0, 0, 0], 1)).Message);
    }

    private static double Dist2(DenseMatrix x, int j, double[] q)
    {
        double s = 0;
        for (int d = 0; d < x.Cols; d++) { double t = x[j, d] - q[d]; s += t * t; }
        return s;
    }
}
