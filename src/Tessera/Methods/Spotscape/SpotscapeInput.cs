using Tessera.Data;
using Tessera.Nn;

namespace Tessera.Methods.Spotscape;

/// <summary>
/// Plain inputs for Spotscape: the log1p-normalised HVG expression of N spots × G genes, a spatial graph given as directed
/// edges in both directions without self-loops (Spotscape adds them), and one slice id per spot (0 for a single slice).
/// The arrays are referenced, never modified.
/// </summary>
public sealed class SpotscapeInput
{
    /// <summary>Number of spots N.</summary>
    public int NSpots { get; }

    /// <summary>Number of genes G.</summary>
    public int NGenes { get; }

    /// <summary>Dense expression, row-major N×G, or null when <see cref="Sparse"/> is set.</summary>
    public float[]? Dense { get; }

    /// <summary>Sparse expression (rows = spots), or null when <see cref="Dense"/> is set.</summary>
    public CsrMatrix? Sparse { get; }

    /// <summary>Edge sources.</summary>
    public int[] EdgeSrc { get; }

    /// <summary>Edge targets.</summary>
    public int[] EdgeDst { get; }

    /// <summary>Slice id per spot (non-negative).</summary>
    public int[] SliceIds { get; }

    /// <summary>Number of distinct slice ids.</summary>
    public int NSlices { get; }

    /// <summary>
    /// Optional spot coordinates (N rows, x and y in the first two columns): mini-batch training cuts each slice into spatial
    /// tiles with them; without them the tiles are breadth-first regions of the graph.
    /// </summary>
    public DenseMatrix? Coordinates
    {
        get => coordinates;
        init
        {
            if (value is not null && (value.Rows != NSpots || value.Cols < 2))
                throw new TesseraException($"coordinates must be {NSpots} × 2 (or more columns) but are {value.Rows} × {value.Cols}");
            coordinates = value;
        }
    }
    private readonly DenseMatrix? coordinates;

    /// <summary>Dense row-major input.</summary>
    public SpotscapeInput(float[] expression, int nSpots, int nGenes, int[] edgeSrc, int[] edgeDst, int[]? sliceIds = null)
    {
        ArgumentNullException.ThrowIfNull(expression);
        if (nSpots < 1) throw new TesseraException($"nSpots must be at least 1 but is {nSpots}");
        if (nGenes < 1) throw new TesseraException($"nGenes must be at least 1 but is {nGenes}");
        if ((long)nSpots * nGenes != expression.Length)
            throw new TesseraException($"expression has {expression.Length} values but nSpots × nGenes = {nSpots} × {nGenes} = {(long)nSpots * nGenes}");
        for (long i = 0; i < expression.Length; i++)
            if (!float.IsFinite(expression[i]))
                throw new TesseraException($"expression has a non-finite value {expression[i]} at spot {i / nGenes}, gene {i % nGenes}");
        Dense = expression; NSpots = nSpots; NGenes = nGenes;
        (EdgeSrc, EdgeDst, SliceIds, NSlices) = CheckGraph(edgeSrc, edgeDst, sliceIds, nSpots);
    }

    /// <summary>Sparse input (CSR, rows = spots, columns = genes).</summary>
    public SpotscapeInput(CsrMatrix expression, int[] edgeSrc, int[] edgeDst, int[]? sliceIds = null)
    {
        ArgumentNullException.ThrowIfNull(expression);
        if (expression.Rows < 1) throw new TesseraException("expression has no spots");
        if (expression.Cols < 1) throw new TesseraException("expression has no genes");
        for (int i = 0; i < expression.Nnz; i++)
            if (!float.IsFinite(expression.Data[i]))
                throw new TesseraException($"expression has a non-finite value {expression.Data[i]} (stored entry {i})");
        Sparse = expression; NSpots = expression.Rows; NGenes = expression.Cols;
        (EdgeSrc, EdgeDst, SliceIds, NSlices) = CheckGraph(edgeSrc, edgeDst, sliceIds, NSpots);
    }

    private static (int[], int[], int[], int) CheckGraph(int[] src, int[] dst, int[]? slices, int n)
    {
        GraphOps.ValidateEdges(src, dst, n);
        for (int e = 0; e < src.Length; e++)
            if (src[e] == dst[e])
                throw new TesseraException($"edge {e} is a self-loop on spot {src[e]}; pass edges without self-loops (Spotscape adds them)");
        slices ??= new int[n];
        if (slices.Length != n) throw new TesseraException($"sliceIds has {slices.Length} entries but there are {n} spots");
        for (int i = 0; i < n; i++)
            if (slices[i] < 0) throw new TesseraException($"sliceIds[{i}] is {slices[i]}; slice ids must be non-negative");
        return (src, dst, slices, slices.Distinct().Count());
    }
}
