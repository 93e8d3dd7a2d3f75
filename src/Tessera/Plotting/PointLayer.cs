using ScottPlot;
using SkiaSharp;

namespace Tessera.Plotting;

/// <summary>Marker shape of a <see cref="PointLayer"/>.</summary>
public enum SpotShape
{
    /// <summary>Filled circle.</summary>
    Circle,
    /// <summary>Filled hexagon with a vertex pointing up, which tiles a Visium lattice without gaps.</summary>
    Hexagon,
}

/// <summary>
/// A ScottPlot plottable that draws many filled markers with one colour each, sized either in DATA units
/// (<see cref="DataDiameter"/>: a Visium spot stays one lattice spacing wide whatever the figure size) or in pixels.
/// Implements <see cref="IHasColorAxis"/> so a colour bar can be attached for continuous values.
/// </summary>
public sealed class PointLayer : IPlottable, IHasColorAxis
{
    /// <summary>X coordinates.</summary>
    public double[] Xs { get; }
    /// <summary>Y coordinates.</summary>
    public double[] Ys { get; }
    /// <summary>Fill colour per point.</summary>
    public Color[] Colors { get; }
    /// <summary>Drawing order (indices into Xs); later points are drawn on top.</summary>
    public int[] Order { get; set; }
    /// <summary>Marker diameter in data units; when null, <see cref="PixelDiameter"/> is used.</summary>
    public double? DataDiameter { get; set; }
    /// <summary>Marker diameter in pixels when <see cref="DataDiameter"/> is null.</summary>
    public float PixelDiameter { get; set; } = 5;
    /// <summary>Marker shape.</summary>
    public SpotShape Shape { get; set; } = SpotShape.Circle;
    /// <summary>
    /// Above this many points the layer is rasterised: every marker fills a square of whole pixels in one bitmap, later
    /// points over earlier ones, and the bitmap is drawn once (see <see cref="DefaultRasterThreshold"/>).
    /// </summary>
    public int RasterThreshold { get; set; } = DefaultRasterThreshold;
    /// <summary>
    /// 100,000 points: beyond that a figure of ~1000 × 850 pixels has about as many markers as data pixels, so vector circles
    /// add nothing but time (1M anti-aliased sub-pixel circles also leave a moiré of half-covered pixels).
    /// </summary>
    public const int DefaultRasterThreshold = 100_000;
    /// <summary>Legend entries (one per category).</summary>
    public List<LegendItem> Legend { get; } = [];
    /// <summary>Colormap for the colour bar (continuous plots).</summary>
    public IColormap Colormap { get; set; } = new ScottPlot.Colormaps.Viridis();
    /// <summary>Value range mapped onto the colormap (continuous plots).</summary>
    public ScottPlot.Range ColorRange { get; set; } = new(0, 1);

    /// <inheritdoc/>
    public bool IsVisible { get; set; } = true;
    /// <inheritdoc/>
    public IAxes Axes { get; set; } = new ScottPlot.Axes();
    /// <inheritdoc/>
    public IEnumerable<LegendItem> LegendItems => Legend;

    /// <summary>Wraps point coordinates and per-point colours (not copied).</summary>
    public PointLayer(double[] xs, double[] ys, Color[] colors)
    {
        if (xs.Length != ys.Length || xs.Length != colors.Length)
            throw new ArgumentException($"xs has {xs.Length} values, ys {ys.Length} and colors {colors.Length}; they must match");
        Xs = xs; Ys = ys; Colors = colors;
        Order = Enumerable.Range(0, xs.Length).ToArray();
    }

    /// <inheritdoc/>
    public ScottPlot.Range GetRange() => ColorRange;

    /// <inheritdoc/>
    public AxisLimits GetAxisLimits()
    {
        if (Xs.Length == 0) return AxisLimits.NoLimits;
        double r = (DataDiameter ?? 0) / 2;
        double l = double.PositiveInfinity, rt = double.NegativeInfinity, b = double.PositiveInfinity, t = double.NegativeInfinity;
        for (int i = 0; i < Xs.Length; i++)
        {
            if (!double.IsFinite(Xs[i]) || !double.IsFinite(Ys[i])) continue;
            l = Math.Min(l, Xs[i]); rt = Math.Max(rt, Xs[i]); b = Math.Min(b, Ys[i]); t = Math.Max(t, Ys[i]);
        }
        return new AxisLimits(l - r, rt + r, b - r, t + r);
    }

    /// <summary>Marker diameter in pixels for a given pixels-per-data-unit scale (the x scale; axes are square in spatial plots).</summary>
    public float DiameterInPixels(double pixelsPerUnit) => DataDiameter is double d ? (float)(d * pixelsPerUnit) : PixelDiameter;

    /// <inheritdoc/>
    public void Render(RenderPack rp)
    {
        if (Xs.Length == 0) return;
        double x0 = Xs[Order.Length > 0 ? Order[0] : 0];
        double ppu = Math.Abs(Axes.GetPixelX(x0 + 1000) - Axes.GetPixelX(x0)) / 1000.0;
        float radius = Math.Max(0.5f, DiameterInPixels(ppu) / 2);
        if (Xs.Length > RasterThreshold) { RenderRaster(rp, radius); return; }
        using var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        // hexagons are enlarged by 3% so anti-aliased edges of neighbours overlap instead of leaving hairline seams
        using var hex = Shape == SpotShape.Hexagon ? HexPath(radius * 1.03f) : null;
        var canvas = rp.Canvas;
        foreach (int i in Order)
        {
            if (!double.IsFinite(Xs[i]) || !double.IsFinite(Ys[i])) continue;
            float px = Axes.GetPixelX(Xs[i]), py = Axes.GetPixelY(Ys[i]);
            paint.Color = Colors[i].ToSKColor();
            if (hex is null) canvas.DrawCircle(px, py, radius, paint);
            else
            {
                canvas.Save(); canvas.Translate(px, py); canvas.DrawPath(hex, paint); canvas.Restore();
            }
        }
    }

    // One pixel buffer the size of the data area: a marker is the square of whole pixels around its centre (side =
    // its diameter rounded up, at least 1), so a lattice finer than a pixel still covers every pixel and a coarser one
    // touches edge to edge; drawing order is kept (later overwrites earlier) and no anti-aliasing blends neighbours.
    private void RenderRaster(RenderPack rp, float radius)
    {
        var rect = Axes.DataRect;
        int w = (int)Math.Ceiling(rect.Width), h = (int)Math.Ceiling(rect.Height);
        if (w <= 0 || h <= 0) return;
        int side = Math.Max(1, (int)MathF.Ceiling(2 * radius));
        float left = rect.Left, top = rect.Top, off = (side - 1) / 2f;
        var pixels = new int[w * h];   // 0 = transparent: the frame and any underlay show through
        foreach (int i in Order)
        {
            if (!double.IsFinite(Xs[i]) || !double.IsFinite(Ys[i])) continue;
            int x0 = (int)MathF.Round(Axes.GetPixelX(Xs[i]) - left - off), y0 = (int)MathF.Round(Axes.GetPixelY(Ys[i]) - top - off);
            int xa = Math.Max(0, x0), xb = Math.Min(w, x0 + side), ya = Math.Max(0, y0), yb = Math.Min(h, y0 + side);
            if (xa >= xb || ya >= yb) continue;
            int argb = unchecked((int)(uint)Colors[i].ToSKColor());
            for (int y = ya; y < yb; y++) pixels.AsSpan(y * w + xa, xb - xa).Fill(argb);
        }
        // SKColor is a 0xAARRGGBB value: little-endian memory order B, G, R, A = Bgra8888, not premultiplied
        using var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Bgra8888, SKAlphaType.Unpremul));
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bmp.GetPixels(), pixels.Length);
        rp.Canvas.DrawBitmap(bmp, new SKRect(left, top, left + w, top + h));
    }

    // Pointy-top hexagon whose flat sides are `inner` from the centre, so neighbours one spacing apart touch edge to edge.
    private static SKPath HexPath(float inner)
    {
        float outer = inner / MathF.Cos(MathF.PI / 6);
        var p = new SKPath();
        for (int k = 0; k < 6; k++)
        {
            float a = MathF.PI / 180 * (60 * k - 90);
            if (k == 0) p.MoveTo(outer * MathF.Cos(a), outer * MathF.Sin(a)); else p.LineTo(outer * MathF.Cos(a), outer * MathF.Sin(a));
        }
        p.Close();
        return p;
    }
}
