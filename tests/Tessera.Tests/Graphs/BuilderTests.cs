using Tessera.Data;
using Tessera.Graphs;
using static Tessera.Tests.Graphs.GraphFixtures;

namespace Tessera.Tests.Graphs;

public class BuilderTests
{
    [Fact]
    public void RadiusIsStrictAndSymmetric()
    {
        var x = Coords([0, 0], [1, 0], [2, 0], [3.5, 0]);
        Assert.Equal(new[] { (0, 1), (1, 0), (1, 2), (2, 1) }, Edges(RadiusGraph.Build(x, 1.5)));
        Assert.Empty(Edges(RadiusGraph.Build(x, 1.0))); // distance exactly 1 is not < 1
        // 2-3 lie exactly 1.5 apart: excluded at radius 1.5 (above), included at 1.51
        Assert.Equal(new[] { (0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2) }, Edges(RadiusGraph.Build(x, 1.51)));
    }

    [Fact]
    public void RadiusMaxNeighborsTruncatesByDistanceThenIndexAndUnions()
    {
        // 1's neighbours 0 and 2 tie at distance 1: it keeps 0; 2 keeps 1, so the union restores 1-2.
        var x = Coords([0, 0], [1, 0], [2, 0]);
        var g = RadiusGraph.Build(x, 1.5, maxNeighbors: 1);
        Assert.Equal(new[] { (0, 1), (1, 0), (1, 2), (2, 1) }, Edges(g));
        Assert.Equal(2, g.Degrees[1]); // > maxNeighbors because of the union
        var four = Coords([0, 0], [0.9, 0], [0, 1.0], [5, 5]);
        // 0: 1 (0.9) then 2 (1.0) → keeps 1; 1 keeps 0; 2: 0 (1.0) then 1 (1.345) → keeps 0
        Assert.Equal(new[] { (0, 1), (0, 2), (1, 0), (2, 0) }, Edges(RadiusGraph.Build(four, 1.5, maxNeighbors: 1)));
    }

    [Fact]
    public void RadiusSelfLoops()
    {
        var g = RadiusGraph.Build(Coords([0, 0], [1, 0], [9, 9]), 1.5, selfLoops: true);
        Assert.Equal(new[] { (0, 0), (0, 1), (1, 0), (1, 1), (2, 2) }, Edges(g));
    }

    [Fact]
    public void RadiusMatchesSklearn2D() =>
        // sklearn.neighbors.radius_neighbors_graph(X, 1.5, include_self=False), X = splitmix(42) 400×2 × 20
        Assert.Equal((2652, 207792185L, 1333859340102L), Checksum(RadiusGraph.Build(Points(42, 400, 2, 20.0), 1.5)));

    [Fact]
    public void RadiusMatchesSklearn3D() =>
        Assert.Equal((2464, 111273680L, 1236382497301L), Checksum(RadiusGraph.Build(Points(7, 300, 3, 10.0), 2.0)));

    [Fact]
    public void RadiusMaxNeighborsMatchesBruteForce()
    {
        // numpy brute force: keep 3 nearest with distance < 2 (ties by index), union; max degree 7
        var g = RadiusGraph.Build(Points(42, 400, 2, 20.0), 2.0, maxNeighbors: 3);
        Assert.Equal((1512, 119348026L, 755001551409L), Checksum(g));
        Assert.Equal(7, g.Degrees.Max());
        Assert.True(g.IsSymmetric);
    }

    [Fact]
    public void RadiusWithFarOutlierUsesBoundedCells()
    {
        // one point a million units away would make 10^12 radius-sized cells; the cell list must grow its cells instead
        var x = Points(42, 400, 2, 20.0);
        var data = x.Data.ToList(); data.AddRange([1e6, 1e6]);
        var g = RadiusGraph.Build(new DenseMatrix(401, 2, data.ToArray()), 1.5);
        Assert.Equal(2652, g.NumEdges);
        Assert.Equal(0, g.Degrees[400]);
        // a radius far below the spacing over a huge extent: no edges, bounded memory
        Assert.Equal(0, RadiusGraph.Build(new DenseMatrix(401, 2, data.ToArray()), 1e-300).NumEdges);
        Assert.Equal(1512, RadiusGraph.Build(new DenseMatrix(401, 2, data.ToArray()), 2.0, maxNeighbors: 3).NumEdges);
    }

    [Fact]
    public void KnnMatchesSklearn()
    {
        var x = Points(42, 400, 2, 20.0);
        Assert.Equal((2400, 191994600L, 1188591437620L), Checksum(KnnGraph.BuildDirected(x, 6)));
        Assert.Equal((2844, 226423848L, 1415067245348L), Checksum(KnnGraph.Build(x, 6)));
        Assert.Equal((1956, 155889552L, 969698484269L), Checksum(KnnGraph.Build(x, 6, mutual: true)));
        Assert.Equal((1510, 68275830L, 750495325259L), Checksum(KnnGraph.Build(Points(7, 300, 3, 10.0), 4)));
    }

    [Fact]
    public void KnnTiesByIndexUnionAndMutual()
    {
        var sq = Coords([0, 0], [1, 0], [0, 1], [1, 1]);
        // k=1: 0→1 (1 and 2 tie), 1→0, 2→0, 3→1
        Assert.Equal(new[] { (0, 1), (1, 0), (2, 0), (3, 1) }, Edges(KnnGraph.BuildDirected(sq, 1)));
        Assert.Equal(new[] { (0, 1), (0, 2), (1, 0), (1, 3), (2, 0), (3, 1) }, Edges(KnnGraph.Build(sq, 1)));
        Assert.Equal(new[] { (0, 1), (1, 0) }, Edges(KnnGraph.Build(sq, 1, mutual: true)));
    }

    [Fact]
    public void VisiumHexNeighbours()
    {
        // (0,0) sees (0,2) (1,1); (0,2) sees (0,0) (1,1) (1,3); (1,1) sees (0,0) (0,2) (2,0) (2,2) (1,3);
        // (2,0) sees (2,2) (1,1); (2,2) sees (2,0) (1,1) (1,3); (1,3) sees (1,1) (0,2) (2,2)
        int[] r = [0, 0, 1, 2, 2, 1], c = [0, 2, 1, 0, 2, 3];
        var g = VisiumGrid.Build(r, c);
        Assert.Equal(new[] { 2, 3, 5, 2, 3, 3 }, g.Degrees);
        Assert.Equal(new[] { 0, 1, 3, 4, 5 }, g.Neighbors(2).ToArray());
        Assert.True(g.IsSymmetric);
        Assert.Equal(new[] { 3, 4, 6, 3, 4, 4 }, VisiumGrid.Build(r, c, selfLoops: true).Degrees);
    }

    [Fact]
    public void AutoRadiusIsOneAndAHalfMedianNn()
    {
        Assert.Equal(1.5 * 0.4615060399803575, RadiusGraph.AutoRadius(Points(42, 400, 2, 20.0)), 12);
        var lattice = Coords([0, 0], [2, 0], [4, 0], [0, 2], [2, 2], [4, 2]);
        Assert.Equal(3.0, RadiusGraph.AutoRadius(lattice), 12);
    }

    [Fact]
    public void BadInputMessages()
    {
        var x = Coords([0, 0], [1, 0]);
        Assert.Equal("radius must be a positive finite number, got 0", Assert.Throws<TesseraException>(() => RadiusGraph.Build(x, 0)).Message);
        Assert.Equal("maxNeighbors must be at least 1, got 0", Assert.Throws<TesseraException>(() => RadiusGraph.Build(x, 1, 0)).Message);
        Assert.Equal("spatial coordinates must have 2 or 3 columns, got 1", Assert.Throws<TesseraException>(() => RadiusGraph.Build(new DenseMatrix(2, 1, [0, 1]), 1)).Message);
        Assert.Equal("spatial coordinate of point 1 (column 0) is NaN; coordinates must be finite",
            Assert.Throws<TesseraException>(() => KnnGraph.Build(Coords([0, 0], [double.NaN, 0]), 1)).Message);
        Assert.Equal("k must be between 1 and the number of points - 1 (1), got 2", Assert.Throws<TesseraException>(() => KnnGraph.Build(x, 2)).Message);
        Assert.Equal("arrayRow has 2 entries but arrayCol has 1", Assert.Throws<TesseraException>(() => VisiumGrid.Build([0, 1], [0])).Message);
        Assert.Equal("spots 0 and 2 share array position (row 0, col 0)", Assert.Throws<TesseraException>(() => VisiumGrid.Build([0, 1, 0], [0, 1, 0])).Message);
        Assert.Equal("the median nearest-neighbour distance is 0: more than half of the points share their coordinates with another point",
            Assert.Throws<TesseraException>(() => RadiusGraph.AutoRadius(Coords([0, 0], [0, 0], [5, 5]))).Message);
        Assert.Equal("AutoRadius needs at least 2 points, got 1", Assert.Throws<TesseraException>(() => RadiusGraph.AutoRadius(Coords([0, 0]))).Message);
    }
}
