using Tessera.Data;
using Tessera.Nn;
using Tessera.Preprocess;

namespace Tessera.Methods.Costa;

/// <summary>How spots become pixels in <see cref="GeneImages.FromSpatial"/>.</summary>
public enum ImageLayout
{
    /// <summary>Grid when obs has array_row/array_col or the coordinates sit on an integer lattice (ST), points otherwise.</summary>
    Auto,
    /// <summary>Spot arrays (ST, Visium): each spot is one pixel of its array grid, then the grid is resized bilinearly.</summary>
    Grid,
    /// <summary>Point data (Slide-seq, MERFISH cells): counts are summed into square bins, then resized bilinearly.</summary>
    Points,
}

/// <summary>Settings for <see cref="GeneImages.FromSpatial"/>.</summary>
public sealed record GeneImageOptions
{
    /// <summary>Output image side (CoSTA's Slide-seq net: 48).</summary>
    public int Size { get; init; } = 48;
    /// <summary>How spots map to pixels.</summary>
    public ImageLayout Layout { get; init; } = ImageLayout.Auto;
    /// <summary>Bin side in coordinate units for point data; null = the longer extent divided by <see cref="Size"/>.</summary>
    public double? BinSize { get; init; }
    /// <summary>Regress each gene on log(total counts per pixel + 1) and subtract that term (the authors' NaiveDE.regress_out).</summary>
    public bool RegressOutTotal { get; init; } = true;
    /// <summary>Genes to keep (null = all genes in Var order).</summary>
    public IReadOnlyList<string>? Genes { get; init; }
    /// <summary>Drop genes detected in fewer spots than this.</summary>
    public int MinSpots { get; init; }
    /// <summary>Divide each gene's image by its largest absolute pixel (the authors' commented-out variant); off by default.</summary>
    public bool ScaleToMax { get; init; }
    /// <summary>
    /// Before rasterising, scale every spot to the median total count and take log1p (scanpy's normalize_total + log1p).
    /// Not in the authors' pipeline (raw counts); for low-count spot arrays, where raw-count images mostly encode a gene's
    /// expression level.
    /// </summary>
    public bool LogNormalize { get; init; }
    /// <summary>Centre and scale each gene's in-tissue pixels to mean 0, variance 1 (after any regress-out), so images differ only in pattern.</summary>
    public bool Standardize { get; init; }
}

/// <summary>A stack of single-channel gene images (gene-major, row-major pixels) with a tissue mask.</summary>
public sealed class GeneImageSet
{
    /// <summary>Gene names, one per image.</summary>
    public string[] Genes { get; }
    /// <summary>Image height.</summary>
    public int Height { get; }
    /// <summary>Image width.</summary>
    public int Width { get; }
    /// <summary>Pixels, <c>Genes.Length × Height × Width</c>, gene-major then row-major.</summary>
    public float[] Pixels { get; }
    /// <summary>True for pixels inside the tissue (Height × Width).</summary>
    public bool[] Mask { get; }
    /// <summary>Number of genes.</summary>
    public int Count => Genes.Length;
    /// <summary>Pixels per image.</summary>
    public int PixelCount => Height * Width;

    /// <summary>Wraps existing arrays (validated, not copied).</summary>
    public GeneImageSet(string[] genes, int height, int width, float[] pixels, bool[]? mask = null)
    {
        ArgumentNullException.ThrowIfNull(genes);
        ArgumentNullException.ThrowIfNull(pixels);
        if (height < 1 || width < 1) throw new TesseraException($"image size must be positive but is {height}x{width}");
        if ((long)genes.Length * height * width != pixels.Length)
            throw new TesseraException($"{genes.Length} genes of {height}x{width} need {(long)genes.Length * height * width} pixels but got {pixels.Length}");
        mask ??= Enumerable.Repeat(true, height * width).ToArray();
        if (mask.Length != height * width) throw new TesseraException($"mask has {mask.Length} pixels but the images have {height * width}");
        Genes = genes; Height = height; Width = width; Pixels = pixels; Mask = mask;
    }

    /// <summary>One gene's image.</summary>
    public ReadOnlySpan<float> Image(int gene) => Pixels.AsSpan(gene * PixelCount, PixelCount);

    /// <summary>Index of a gene (exact match) or a <see cref="TesseraException"/>.</summary>
    public int IndexOf(string gene)
    {
        int i = Array.IndexOf(Genes, gene);
        if (i < 0) throw new TesseraException($"gene '{gene}' is not among the {Count} gene images");
        return i;
    }

    /// <summary>The images of a subset of genes (copied).</summary>
    public GeneImageSet Subset(IReadOnlyList<int> genes)
    {
        int p = PixelCount;
        var px = new float[genes.Count * p];
        for (int i = 0; i < genes.Count; i++) Array.Copy(Pixels, genes[i] * p, px, i * p, p);
        return new GeneImageSet(genes.Select(g => Genes[g]).ToArray(), Height, Width, px, (bool[])Mask.Clone());
    }

    /// <summary>
    /// The paper's pixel-shuffle control: one random permutation of the in-tissue pixels, applied identically to every
    /// gene, destroys spatial structure but keeps each gene's value distribution and the gene-gene pixel correlations.
    /// </summary>
    public GeneImageSet ShufflePixels(int seed)
    {
        var inside = Enumerable.Range(0, PixelCount).Where(i => Mask[i]).ToArray();
        var perm = (int[])inside.Clone();
        var rng = Seeding.Rng(seed, "pixel-shuffle");
        for (int i = perm.Length - 1; i > 0; i--) { int j = rng.Next(i + 1); (perm[i], perm[j]) = (perm[j], perm[i]); }
        var px = (float[])Pixels.Clone();
        int p = PixelCount;
        for (int g = 0; g < Count; g++)
            for (int i = 0; i < inside.Length; i++) px[g * p + inside[i]] = Pixels[g * p + perm[i]];
        return new GeneImageSet((string[])Genes.Clone(), Height, Width, px, (bool[])Mask.Clone());
    }

    /// <summary>The paper's region-masking control: pixels of rows [row0, row1) × columns [col0, col1) set to 0 and marked outside.</summary>
    public GeneImageSet MaskRegion(int row0, int col0, int row1, int col1)
    {
        if (row0 < 0 || col0 < 0 || row1 > Height || col1 > Width || row0 >= row1 || col0 >= col1)
            throw new TesseraException($"region [{row0},{row1})x[{col0},{col1}) is empty or outside the {Height}x{Width} images");
        var px = (float[])Pixels.Clone();
        var mask = (bool[])Mask.Clone();
        int p = PixelCount;
        for (int r = row0; r < row1; r++)
            for (int c = col0; c < col1; c++)
            {
                mask[r * Width + c] = false;
                for (int g = 0; g < Count; g++) px[g * p + r * Width + c] = 0f;
            }
        return new GeneImageSet((string[])Genes.Clone(), Height, Width, px, mask);
    }
}

/// <summary>Rasterises genes of spatial data into images (CoSTA's input).</summary>
public static class GeneImages
{
    /// <summary>
    /// Each gene becomes an image: spots on their array grid (ST/Visium) or binned points, resized bilinearly
    /// (OpenCV INTER_LINEAR semantics, as the authors' cv2.resize) to Size×Size; then optionally
    /// <see cref="RegressOutTotal"/>. Pixels outside the tissue are 0 and false in the mask.
    /// </summary>
    public static GeneImageSet FromSpatial(SpatialData data, GeneImageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var o = options ?? new GeneImageOptions();
        if (o.Size < 8) throw new TesseraException($"image size must be at least 8 but is {o.Size}");
        if (data.NObs < 2) throw new TesseraException($"gene images need at least 2 spots but the data has {data.NObs}");

        var genes = SelectGenes(data, o);
        var (gh, gw, pixelOf) = Rasterise(data, o);
        int gp = gh * gw, n = genes.Length;

        var gridMask = new float[gp];
        for (int s = 0; s < data.NObs; s++) gridMask[pixelOf[s]] = 1f;
        // Gene by gene from the transposed counts: one native-grid image per worker instead of all genes' grids at once
        // (a whole-transcriptome Visium HD slide has a grid of up to 512x512 bins, 20k genes x 1 MB = 20 GB). Each gene's
        // spots are summed in spot order, as before, so the images are unchanged and do not depend on the thread count.
        var xt = (o.LogNormalize ? LogNormalized(data.X) : data.X).Transpose();
        int h = o.Size, w = o.Size, p = h * w;
        var pixels = new float[(long)n * p];
        Parallel.For(0, n, () => new float[gp], (g, _, grid) =>
        {
            Array.Clear(grid);
            int col = genes[g];
            for (int k = xt.IndPtr[col]; k < xt.IndPtr[col + 1]; k++) grid[pixelOf[xt.Indices[k]]] += xt.Data[k];
            Resize(grid, gh, gw, pixels.AsSpan(g * p, p), h, w);
            return grid;
        }, _ => { });
        var maskF = new float[p];
        Resize(gridMask, gh, gw, maskF, h, w);
        var mask = maskF.Select(v => v >= 0.5f).ToArray();
        for (int g = 0; g < n; g++)
            for (int i = 0; i < p; i++) if (!mask[i]) pixels[g * p + i] = 0f;
        if (o.RegressOutTotal) RegressOutTotal(pixels, n, p, mask);
        if (o.ScaleToMax) ScaleToMax(pixels, n, p);
        if (o.Standardize) Standardize(pixels, n, p, mask);
        return new GeneImageSet(genes.Select(g => data.VarNames[g]).ToArray(), h, w, pixels, mask);
    }

    private static int[] SelectGenes(SpatialData data, GeneImageOptions o)
    {
        IEnumerable<int> idx;
        if (o.Genes != null)
        {
            var lookup = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int j = 0; j < data.NVars; j++) lookup.TryAdd(data.VarNames[j], j);
            idx = o.Genes.Select(gname => lookup.TryGetValue(gname, out int j) ? j
                : throw new TesseraException($"gene '{gname}' is not in the data ({data.NVars} genes)"));
        }
        else idx = Enumerable.Range(0, data.NVars);
        var nnz = data.X.ColNnz();
        var kept = idx.Where(j => nnz[j] >= o.MinSpots).ToArray();
        if (kept.Length == 0) throw new TesseraException($"no gene is detected in at least {o.MinSpots} spots");
        return kept;
    }

    private static (int H, int W, int[] PixelOf) Rasterise(SpatialData data, GeneImageOptions o)
    {
        int n = data.NObs;
        var layout = o.Layout;
        bool hasArray = data.Obs.Contains("array_row") && data.Obs.Contains("array_col")
            && data.Obs["array_row"] is NumericColumn && data.Obs["array_col"] is NumericColumn;
        double[] xs, ys;
        if (layout != ImageLayout.Points && hasArray)
        {
            // Visium's hex array: array_col advances by 2 within a row (row + col is always even), so col/2 gives adjacent
            // pixels; square arrays (Visium HD bins) advance by 1 and keep their columns.
            ys = data.Obs.Get<NumericColumn>("array_row").Values;
            var cols = data.Obs.Get<NumericColumn>("array_col").Values;
            bool hex = Enumerable.Range(0, n).All(i => ((long)Math.Round(ys[i]) + (long)Math.Round(cols[i])) % 2 == 0);
            xs = hex ? cols.Select(v => Math.Floor(v / 2)).ToArray() : cols.ToArray();
            layout = ImageLayout.Grid;
        }
        else
        {
            if (!data.HasSpatial) throw new TesseraException("gene images need spot coordinates (obsm['spatial'] or spot ids like 16.92x9.015)");
            var sp = data.Spatial;
            xs = Enumerable.Range(0, n).Select(i => sp[i, 0]).ToArray();
            ys = Enumerable.Range(0, n).Select(i => sp[i, 1]).ToArray();
            if (layout == ImageLayout.Auto)
            {
                // An integer lattice, possibly with a step (binned Stereo-seq DNB coordinates step by the bin size): divide
                // by the step so that neighbouring spots are neighbouring pixels.
                bool integer = xs.Concat(ys).All(v => Math.Abs(v - Math.Round(v)) <= 0.3);
                long stepX = integer ? LatticeStep(xs) : 1, stepY = integer ? LatticeStep(ys) : 1;
                bool lattice = integer
                    && (xs.Max() - xs.Min()) / stepX <= 512 && (ys.Max() - ys.Min()) / stepY <= 512
                    && Enumerable.Range(0, n).Select(i => (Math.Round(xs[i]), Math.Round(ys[i]))).Distinct().Count() == n;
                layout = lattice ? ImageLayout.Grid : ImageLayout.Points;
                if (lattice && (stepX > 1 || stepY > 1))
                {
                    double bx = Math.Round(xs.Min()), by = Math.Round(ys.Min());
                    xs = xs.Select(v => bx + (Math.Round(v) - bx) / stepX).ToArray();
                    ys = ys.Select(v => by + (Math.Round(v) - by) / stepY).ToArray();
                }
            }
        }
        double x0 = xs.Min(), y0 = ys.Min();
        var pixelOf = new int[n];
        int gh, gw;
        if (layout == ImageLayout.Grid)
        {
            // ST spots sit near integer array positions (e.g. 16.92x9.015 -> column 17, row 9).
            int cx0 = (int)Math.Round(x0), cy0 = (int)Math.Round(y0);
            gw = (int)Math.Round(xs.Max()) - cx0 + 1;
            gh = (int)Math.Round(ys.Max()) - cy0 + 1;
            for (int i = 0; i < n; i++) pixelOf[i] = ((int)Math.Round(ys[i]) - cy0) * gw + (int)Math.Round(xs[i]) - cx0;
        }
        else
        {
            double ext = Math.Max(xs.Max() - x0, ys.Max() - y0);
            double bin = o.BinSize ?? (ext > 0 ? ext / o.Size * (1 + 1e-9) : 1);
            if (!(bin > 0)) throw new TesseraException($"bin size must be positive but is {bin}");
            gw = (int)Math.Floor((xs.Max() - x0) / bin) + 1;
            gh = (int)Math.Floor((ys.Max() - y0) / bin) + 1;
            if ((long)gw * gh > 4_000_000) throw new TesseraException($"bin size {bin} gives a {gh}x{gw} grid; use a larger bin size");
            for (int i = 0; i < n; i++) pixelOf[i] = (int)Math.Floor((ys[i] - y0) / bin) * gw + (int)Math.Floor((xs[i] - x0) / bin);
        }
        return (gh, gw, pixelOf);
    }

    /// <summary>The greatest common divisor of the (rounded) offsets from the smallest value; 1 when all values are equal.</summary>
    private static long LatticeStep(double[] v)
    {
        long min = (long)Math.Round(v.Min()), g = 0;
        foreach (var x in v)
        {
            long d = (long)Math.Round(x) - min;
            while (d != 0) (g, d) = (d, g % d);
        }
        return g > 0 ? g : 1;
    }

    /// <summary>Bilinear resize with OpenCV INTER_LINEAR semantics (half-pixel centres, edge clamping).</summary>
    public static void Resize(ReadOnlySpan<float> src, int srcH, int srcW, Span<float> dst, int dstH, int dstW)
    {
        if (src.Length != srcH * srcW || dst.Length != dstH * dstW) throw new ArgumentException("buffer sizes do not match the shapes");
        Span<int> xi = stackalloc int[dstW];
        Span<float> xf = stackalloc float[dstW];
        double sx = (double)srcW / dstW, sy = (double)srcH / dstH;
        for (int c = 0; c < dstW; c++) (xi[c], xf[c]) = Coord(c, sx, srcW);
        for (int r = 0; r < dstH; r++)
        {
            var (y0, fy) = Coord(r, sy, srcH);
            int y1 = Math.Min(y0 + 1, srcH - 1);
            for (int c = 0; c < dstW; c++)
            {
                int x0 = xi[c], x1 = Math.Min(x0 + 1, srcW - 1);
                float fx = xf[c];
                float top = src[y0 * srcW + x0] * (1 - fx) + src[y0 * srcW + x1] * fx;
                float bot = src[y1 * srcW + x0] * (1 - fx) + src[y1 * srcW + x1] * fx;
                dst[r * dstW + c] = top * (1 - fy) + bot * fy;
            }
        }

        static (int, float) Coord(int d, double scale, int n)
        {
            double s = (d + 0.5) * scale - 0.5;
            int i = (int)Math.Floor(s);
            float f = (float)(s - i);
            if (i < 0) { i = 0; f = 0; }
            if (i >= n - 1) { i = n - 1; f = 0; }
            return (i, f);
        }
    }

    /// <summary>Divides each image by its largest absolute pixel (all-zero images stay zero). In place.</summary>
    public static void ScaleToMax(float[] pixels, int genes, int pixelsPerImage)
    {
        for (int g = 0; g < genes; g++)
        {
            var img = pixels.AsSpan(g * pixelsPerImage, pixelsPerImage);
            float m = 0;
            foreach (var v in img) m = Math.Max(m, Math.Abs(v));
            if (m > 0) foreach (ref var v in img) v /= m;
        }
    }

    // normalize_total to the median spot total (scanpy's default target), then log1p.
    private static CsrMatrix LogNormalized(CsrMatrix x)
    {
        foreach (var v in x.Data)
            if (v < 0) throw new TesseraException("log-normalising gene images needs non-negative counts, but the data has negative values (z-scored input?)");
        return Normalize.Log1p(Normalize.Total(x, Normalize.MedianTarget(x)));
    }

    /// <summary>Per gene: in-mask pixels to mean 0 and (population) variance 1 (<see cref="Analysis.Statistics.ZScores(IReadOnlyList{double}, int)"/>); constant images become 0; pixels outside the mask are left as they are. In place.</summary>
    public static void Standardize(float[] pixels, int genes, int pixelsPerImage, bool[] mask)
    {
        int p = pixelsPerImage;
        var inside = Enumerable.Range(0, p).Where(i => mask[i]).ToArray();
        if (inside.Length == 0) return;
        Parallel.For(0, genes, g =>
        {
            var img = pixels.AsSpan(g * p, p);
            var values = new double[inside.Length];
            for (int j = 0; j < inside.Length; j++) values[j] = img[inside[j]];
            var z = Analysis.Statistics.ZScores(values);
            // ZScores gives NaN for a constant image: nothing to scale, so it becomes 0.
            for (int j = 0; j < inside.Length; j++) img[inside[j]] = double.IsNaN(z[j]) ? 0f : (float)z[j];
        });
    }

    /// <summary>
    /// NaiveDE.regress_out as CoSTA calls it: per gene, least squares of its pixel values on [1, log(total + 1)]
    /// (total = sum over genes per pixel) and subtraction of the covariate term only, so the gene's intercept
    /// stays. Fitted over in-mask pixels (the authors' Slide-seq images have no mask); pixels outside stay 0. In place.
    /// </summary>
    public static void RegressOutTotal(float[] pixels, int genes, int pixelsPerImage, bool[] mask)
    {
        int p = pixelsPerImage;
        var total = new double[p];
        for (int g = 0; g < genes; g++)
            for (int i = 0; i < p; i++) total[i] += pixels[(long)g * p + i];
        var l = new double[p];
        double lMean = 0; int m = 0;
        for (int i = 0; i < p; i++) if (mask[i]) { l[i] = Math.Log(Math.Max(total[i], 0) + 1); lMean += l[i]; m++; }
        if (m < 2) return;
        lMean /= m;
        double sxx = 0;
        for (int i = 0; i < p; i++) if (mask[i]) sxx += (l[i] - lMean) * (l[i] - lMean);
        if (sxx <= 0) return; // constant covariate: lstsq puts everything in the intercept, nothing to remove
        Parallel.For(0, genes, g =>
        {
            long off = (long)g * p;
            double sxy = 0;
            for (int i = 0; i < p; i++) if (mask[i]) sxy += (l[i] - lMean) * pixels[off + i];
            double beta = sxy / sxx;
            for (int i = 0; i < p; i++) if (mask[i]) pixels[off + i] = (float)(pixels[off + i] - beta * l[i]);
        });
    }
}
