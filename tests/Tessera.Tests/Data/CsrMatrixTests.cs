using Tessera.Data;

namespace Tessera.Tests.Data;

public class CsrMatrixTests
{
    private static CsrMatrix Example() => CsrMatrix.FromDense(new float[,] { { 1, 0, 2 }, { 0, 0, 3 }, { 4, 5, 0 } });

    [Fact]
    public void FromDenseStoresNonZerosRowByRow()
    {
        var m = Example();
        Assert.Equal([0, 2, 3, 5], m.IndPtr);
        Assert.Equal([0, 2, 2, 0, 1], m.Indices);
        Assert.Equal([1f, 2, 3, 4, 5], m.Data);
        Assert.Equal(5f, m[2, 1]);
        Assert.Equal(0f, m[1, 0]);
    }

    [Fact]
    public void TripletsSumDuplicatesAndSortColumns()
    {
        var m = CsrMatrix.FromTriplets(2, 3, [1, 0, 1, 1], [2, 1, 0, 2], [1f, 2f, 3f, 4f]);
        Assert.Equal([0, 1, 3], m.IndPtr);
        Assert.Equal([1, 0, 2], m.Indices);
        Assert.Equal([2f, 3f, 5f], m.Data);
    }

    [Fact]
    public void SubsetPermutesColumnsAndRepeatsRows()
    {
        var s = Example().Subset([2, 0], [2, 0]);
        Assert.Equal([0f, 4f, 2f, 1f], s.ToDenseArray());
    }

    [Fact]
    public void TransposeThenTransposeIsIdentity()
    {
        var m = Example();
        var t = m.Transpose();
        Assert.Equal([1f, 0, 4, 0, 0, 5, 2, 3, 0], t.ToDenseArray());
        Assert.Equal(m.ToDenseArray(), t.Transpose().ToDenseArray());
    }

    [Fact]
    public void SumsAndCounts()
    {
        var m = Example();
        Assert.Equal([3.0, 3.0, 9.0], m.RowSums());
        Assert.Equal([5.0, 5.0, 5.0], m.ColSums());
        Assert.Equal([2, 1, 2], m.ColNnz());
    }

    [Fact]
    public void BadStructureIsRejectedWithExactMessage()
    {
        var ex = Assert.Throws<ArgumentException>(() => new CsrMatrix(2, 2, [0, 1], [0], [1f]));
        Assert.Equal("indptr has 2 entries but the matrix has 2 rows (expected 3)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new CsrMatrix(1, 2, [0, 1], [5], [1f]));
        Assert.Equal("column index 5 in row 0 is outside 0..1", ex.Message);
    }
}
