using Tessera.Graphs;
using TorchSharp;
using static Tessera.Tests.Graphs.GraphFixtures;

namespace Tessera.Tests.Graphs;

public class SpatialGraphTests
{
    [Fact]
    public void ConstructorSortsEdgesAndDefaultsWeights()
    {
        var g = new SpatialGraph(3, [2, 0, 1, 0], [1, 2, 0, 1]);
        Assert.Equal(new[] { (0, 1), (0, 2), (1, 0), (2, 1) }, Edges(g));
        Assert.Equal(new[] { 1f, 1f, 1f, 1f }, g.Weight);
        Assert.Equal(new[] { 2, 1, 1 }, g.Degrees);
        Assert.Equal(4.0 / 3.0, g.MeanDegree, 12);
        Assert.False(g.IsSymmetric); // (2,0) missing
        Assert.Equal(new[] { 1, 2 }, g.Neighbors(0).ToArray());
        Assert.True(g.HasEdge(2, 1));
        Assert.False(g.HasEdge(2, 0));
    }

    [Fact]
    public void ConstructorRejectsDuplicatesAndOutOfRange()
    {
        Assert.Equal("edge 0 -> 1 is given twice", Assert.Throws<ArgumentException>(() => new SpatialGraph(2, [0, 0], [1, 1])).Message);
        Assert.Equal("edge 1 (0 -> 5) names a node outside 0..2", Assert.Throws<ArgumentException>(() => new SpatialGraph(3, [0, 0], [1, 5])).Message);
        Assert.Equal("src has 2 entries but dst has 1", Assert.Throws<ArgumentException>(() => new SpatialGraph(3, [0, 1], [1])).Message);
    }

    [Fact]
    public void SymmetrizeTakesUnionWithMaxWeight()
    {
        var g = new SpatialGraph(3, [0, 1, 1], [1, 0, 2], [0.5f, 2f, 3f]).Symmetrize();
        Assert.Equal(new[] { (0, 1), (1, 0), (1, 2), (2, 1) }, Edges(g));
        Assert.Equal(new[] { 2f, 2f, 3f, 3f }, g.Weight);
        Assert.True(g.IsSymmetric);
        Assert.Equal(new[] { 2.0, 5.0, 3.0 }, g.WeightedDegrees());
    }

    [Fact]
    public void SelfLoopsAddedInOrderAndRemoved()
    {
        var g = new SpatialGraph(3, [0, 1, 2, 2], [2, 1, 0, 1], [1f, 7f, 1f, 1f]);
        var s = g.WithSelfLoops();
        Assert.Equal(new[] { (0, 0), (0, 2), (1, 1), (2, 0), (2, 1), (2, 2) }, Edges(s));
        Assert.Equal(new[] { 1f, 1f, 1f, 1f, 1f, 1f }, s.Weight); // existing (1,1) weight 7 replaced
        Assert.Equal(3, s.NumSelfLoops);
        var r = s.RemoveSelfLoops();
        Assert.Equal(new[] { (0, 2), (2, 0), (2, 1) }, Edges(r));
        Assert.Equal(0, r.NumSelfLoops);
    }

    [Fact]
    public void CsrAndTorchSparseMatchEdges()
    {
        var g = new SpatialGraph(3, [0, 1, 2], [2, 0, 1], [0.5f, 2f, 3f]);
        var csr = g.ToCsr();
        Assert.Equal(new[] { 0, 1, 2, 3 }, csr.IndPtr);
        Assert.Equal(0.5f, csr[0, 2]); Assert.Equal(2f, csr[1, 0]); Assert.Equal(3f, csr[2, 1]); Assert.Equal(0f, csr[0, 0]);
        using var t = g.ToTorchSparse();
        Assert.Equal(new long[] { 3, 3 }, t.shape);
        Assert.Equal(torch.ScalarType.Float32, t.dtype);
        using var dense = t.to_dense();
        var v = dense.data<float>().ToArray();
        Assert.Equal(new[] { 0f, 0f, 0.5f, 2f, 0f, 0f, 0f, 3f, 0f }, v);
    }

    [Fact]
    public void SubgraphRenumbers()
    {
        var g = new SpatialGraph(4, [0, 1, 1, 2, 3], [1, 0, 2, 1, 0]);
        var s = g.Subgraph([2, 1]);
        Assert.Equal(new[] { (0, 1), (1, 0) }, Edges(s));
    }
}
