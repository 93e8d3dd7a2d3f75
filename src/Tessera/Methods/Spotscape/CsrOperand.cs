using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using Tessera.Data;
using static TorchSharp.torch;

namespace Tessera.Methods.Spotscape;

/// <summary>
/// A constant sparse matrix A (rows × cols, float32 CSR, with its transpose precomputed) that multiplies dense torch tensors
/// with autograd into the dense side: A·B and Aᵀ·B. A managed, SIMD, row-parallel kernel: each output row is produced by
/// one thread in a fixed order, so results are bitwise identical for any thread count. libtorch's CPU COO kernel was
/// slower than dense BLAS on 13 %-dense expression matrices; this one does only nnz·k multiply-adds.
/// </summary>
public sealed class CsrOperand
{
    private readonly Csr a;
    private readonly Csr? at;
    private readonly int cols;
    // a row view (RowsView): row i of this operand is row rowMap[i] of a; at is then null and Aᵀ·B is a scatter
    private readonly int[]? rowMap;

    /// <summary>Rows of A.</summary>
    public int Rows => rowMap?.Length ?? a.Rows;

    /// <summary>Columns of A.</summary>
    public int Cols => cols;

    /// <summary>Stored non-zeros.</summary>
    public long Nnz { get; }

    /// <summary>Σ A², computed once (float64).</summary>
    public double SumSquares { get; }

    /// <summary>Column sums of A (float64), computed once.</summary>
    public double[] ColumnSums { get; }

    /// <summary>Wraps a CSR matrix (copied; explicit zeros dropped).</summary>
    public CsrOperand(CsrMatrix m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var indptr = new int[m.Rows + 1];
        var idx = new List<int>(m.Nnz);
        var val = new List<float>(m.Nnz);
        for (int r = 0; r < m.Rows; r++)
        {
            for (int p = m.IndPtr[r]; p < m.IndPtr[r + 1]; p++)
                if (m.Data[p] != 0) { idx.Add(m.Indices[p]); val.Add(m.Data[p]); }
            indptr[r + 1] = idx.Count;
        }
        a = new Csr(m.Rows, indptr, [.. idx], [.. val]);
        cols = m.Cols;
        at = Transpose(a, m.Cols);
        Nnz = a.Data.Length;
        (SumSquares, ColumnSums) = Stats(a, null, m.Cols);
    }

    /// <summary>Wraps a dense row-major rows×cols matrix (zeros are not stored).</summary>
    public CsrOperand(float[] dense, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(dense);
        if ((long)rows * cols != dense.Length)
            throw new TesseraException($"dense matrix has {dense.Length} values but rows × cols = {rows} × {cols} = {(long)rows * cols}");
        var indptr = new int[rows + 1];
        long nnz = 0;
        foreach (var v in dense) if (v != 0) nnz++;
        if (nnz > int.MaxValue) throw new TesseraException($"matrix has {nnz} non-zeros, more than a CSR index can address");
        var idx = new int[nnz];
        var val = new float[nnz];
        int q = 0;
        for (int r = 0; r < rows; r++)
        {
            long off = (long)r * cols;
            for (int c = 0; c < cols; c++)
            {
                var v = dense[off + c];
                if (v != 0) { idx[q] = c; val[q] = v; q++; }
            }
            indptr[r + 1] = q;
        }
        a = new Csr(rows, indptr, idx, val);
        this.cols = cols;
        at = Transpose(a, cols);
        Nnz = a.Data.Length;
        (SumSquares, ColumnSums) = Stats(a, null, cols);
    }

    private CsrOperand(CsrOperand parent, int[] rows)
    {
        a = parent.a; cols = parent.cols; at = null;
        rowMap = rows.Select(r => parent.rowMap is { } pm ? pm[r] : r).ToArray();
        long nnz = 0;
        foreach (var r in rowMap) nnz += a.IndPtr[r + 1] - a.IndPtr[r];
        Nnz = nnz;
        (SumSquares, ColumnSums) = Stats(a, rowMap, cols);
    }

    /// <summary>
    /// The operand restricted to <paramref name="rows"/> (in that order; repeats allowed), sharing this one's storage: what a
    /// mini-batch multiplies. Costs O(non-zeros of those rows + columns); its transposed product is a scatter that is
    /// parallel over the dense operand's columns, so it is bitwise identical for any thread count too.
    /// </summary>
    public CsrOperand RowsView(int[] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        foreach (var r in rows)
            if ((uint)r >= (uint)Rows) throw new TesseraException($"row {r} is outside [0, {Rows})");
        return new CsrOperand(this, rows);
    }

    /// <summary>A·B for dense B (cols × k, float32); differentiable in B (∂B = Aᵀ·∂out).</summary>
    public Tensor Matmul(Tensor b) => CsrMatmulFunction.apply(this, false, b);

    /// <summary>Aᵀ·B for dense B (rows × k, float32); differentiable in B (∂B = A·∂out).</summary>
    public Tensor TransposeMatmul(Tensor b) => CsrMatmulFunction.apply(this, true, b);

    /// <summary>A as a dense float32 tensor (for small matrices and tests).</summary>
    public Tensor ToDense()
    {
        var d = new float[(long)Rows * Cols];
        for (int r = 0; r < Rows; r++)
        {
            int src = rowMap?[r] ?? r;
            for (int p = a.IndPtr[src]; p < a.IndPtr[src + 1]; p++) d[(long)r * Cols + a.Indices[p]] = a.Data[p];
        }
        return tensor(d, [Rows, Cols]);
    }

    internal Tensor Multiply(bool transpose, Tensor b)
    {
        long inner = transpose ? Rows : Cols;
        if (b.dim() != 2 || b.shape[0] != inner)
            throw new TesseraException($"sparse {(transpose ? "transposed " : "")}product needs a dense operand with {inner} rows but got shape [{string.Join(", ", b.shape)}]");
        int k = (int)b.shape[1];
        // read B and write the product in torch memory: no managed copies, so a training step allocates (almost) nothing
        // on the .NET heap and stays inside TorchGuard's no-GC budget
        using var bc = b.detach().to_type(ScalarType.Float32).contiguous();
        var outp = zeros([transpose ? Cols : Rows, k], ScalarType.Float32);
        nint bp = DataPointer(bc), op = DataPointer(outp);
        int threads = Math.Max(1, torch.get_num_threads());
        var po = new ParallelOptions { MaxDegreeOfParallelism = threads };
        if (transpose && rowMap is { } map)
        {
            // Aᵀ·B of a row view: scatter row i of B into the columns of source row map[i]; each thread owns a slice of
            // B's columns, so every output element is summed by one thread in row order
            // one column slice per thread, a whole number of SIMD vectors wide
            int vw = Vector<float>.Count;
            int width = Math.Max(vw, (k + threads - 1) / threads + vw - 1) / vw * vw;
            int chunks = (k + width - 1) / width;
            if (threads == 1 || chunks == 1) for (int c = 0; c < chunks; c++) Scatter(a, map, bp, k, op, c * width, Math.Min(k, (c + 1) * width));
            else Parallel.For(0, chunks, po, c => Scatter(a, map, bp, k, op, c * width, Math.Min(k, (c + 1) * width)));
            return outp;
        }
        var m = transpose ? at! : a;
        const int block = 32;
        int outRows = transpose ? Cols : Rows;
        int blocks = (outRows + block - 1) / block;
        if (threads == 1 || blocks == 1)
            for (int blk = 0; blk < blocks; blk++) RowBlock(m, rowMap, outRows, blk, block, bp, k, op);
        else
            Parallel.For(0, blocks, po, blk => RowBlock(m, rowMap, outRows, blk, block, bp, k, op));
        return outp;
    }

    private static unsafe void Scatter(Csr m, int[] map, nint bp, int k, nint op, int c0, int c1)
    {
        int w = Vector<float>.Count;
        int len = c1 - c0, lv = len / w * w;
        for (int i = 0; i < map.Length; i++)
        {
            var bi = new ReadOnlySpan<float>((float*)bp + (long)i * k + c0, len);
            var bv = MemoryMarshal.Cast<float, Vector<float>>(bi[..lv]);
            int r = map[i];
            for (int p = m.IndPtr[r]; p < m.IndPtr[r + 1]; p++)
            {
                float v = m.Data[p];
                var oc = new Span<float>((float*)op + (long)m.Indices[p] * k + c0, len);
                var ov = MemoryMarshal.Cast<float, Vector<float>>(oc[..lv]);
                var vv = new Vector<float>(v);
                for (int j = 0; j < ov.Length; j++) ov[j] += vv * bv[j];
                for (int j = lv; j < len; j++) oc[j] += v * bi[j];
            }
        }
    }

    /// <summary>Address of element 0 of a contiguous float32 CPU tensor (storage start + offset).</summary>
    private static nint DataPointer(Tensor t) => t.storage<float>().data_ptr() + (nint)(t.storage_offset() * sizeof(float));

    private static unsafe void RowBlock(Csr m, int[]? map, int outRows, int blk, int block, nint bp, int k, nint op)
    {
        int r1 = Math.Min(outRows, (blk + 1) * block);
        var b = new ReadOnlySpan<float>((void*)bp, checked((int)Math.Min(int.MaxValue, (long)m.MaxIndex1 * k)));
        for (int r = blk * block; r < r1; r++)
            RowProduct(m, map?[r] ?? r, b, k, new Span<float>((float*)op + (long)r * k, k));
    }

    private static void RowProduct(Csr m, int r, ReadOnlySpan<float> b, int k, Span<float> o)
    {
        int w = Vector<float>.Count;
        int kv = k / w * w;
        var ov = MemoryMarshal.Cast<float, Vector<float>>(o[..kv]);
        int p1 = m.IndPtr[r + 1];
        for (int p = m.IndPtr[r]; p < p1; p++)
        {
            float v = m.Data[p];
            var row = b.Slice(m.Indices[p] * k, k);
            var rv = MemoryMarshal.Cast<float, Vector<float>>(row[..kv]);
            var vv = new Vector<float>(v);
            for (int j = 0; j < ov.Length; j++) ov[j] += vv * rv[j];
            for (int j = kv; j < k; j++) o[j] += v * row[j];
        }
    }

    private static Csr Transpose(Csr m, int cols)
    {
        var indptr = new int[cols + 1];
        foreach (var c in m.Indices) indptr[c + 1]++;
        for (int c = 0; c < cols; c++) indptr[c + 1] += indptr[c];
        var next = (int[])indptr.Clone();
        var idx = new int[m.Indices.Length];
        var val = new float[m.Data.Length];
        for (int r = 0; r < m.Rows; r++)
            for (int p = m.IndPtr[r]; p < m.IndPtr[r + 1]; p++)
            {
                int q = next[m.Indices[p]]++;
                idx[q] = r; val[q] = m.Data[p];
            }
        return new Csr(cols, indptr, idx, val);
    }

    private static (double, double[]) Stats(Csr m, int[]? rows, int cols)
    {
        double ss = 0;
        var cs = new double[cols];
        int n = rows?.Length ?? m.Rows;
        for (int i = 0; i < n; i++)
        {
            int r = rows?[i] ?? i;
            for (int p = m.IndPtr[r]; p < m.IndPtr[r + 1]; p++) { ss += (double)m.Data[p] * m.Data[p]; cs[m.Indices[p]] += m.Data[p]; }
        }
        return (ss, cs);
    }

    private sealed record Csr(int Rows, int[] IndPtr, int[] Indices, float[] Data)
    {
        /// <summary>1 + the largest column index (the rows B must have at least).</summary>
        public int MaxIndex1 { get; } = Indices.Length == 0 ? 0 : Indices.Max() + 1;
    }

    private sealed class CsrMatmulFunction : autograd.SingleTensorFunction<CsrMatmulFunction>
    {
        public override string Name => "CsrMatmul";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var op = (CsrOperand)vars[0];
            bool transpose = (bool)vars[1];
            ctx.save_data("op", op);
            ctx.save_data("t", transpose);
            return op.Multiply(transpose, (Tensor)vars[2]);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            var op = (CsrOperand)ctx.get_data("op");
            bool transpose = (bool)ctx.get_data("t");
            return [null!, null!, op.Multiply(!transpose, grad_output)];
        }
    }
}
