using System.Security.Cryptography;
using System.Text;
using Tessera.Data;
using Tessera.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.StNet;

/// <summary>Square RGB patches centred on spots, all resized to one side (224 px by default).</summary>
public sealed class PatchSet
{
    /// <summary>Output side in pixels.</summary>
    public int Size { get; }
    /// <summary>Patch count.</summary>
    public int Count { get; }
    /// <summary>RGB bytes, patch-major then row-major: Count × Size × Size × 3.</summary>
    public byte[] Rgb { get; }
    /// <summary>For each patch, the index of its spot in the section (spots whose window leaves the image have none).</summary>
    public int[] SpotIndex { get; }

    /// <summary>Wraps patch pixels.</summary>
    public PatchSet(int size, byte[] rgb, int[] spotIndex)
    {
        if (rgb.Length != (long)spotIndex.Length * size * size * 3)
            throw new ArgumentException($"{spotIndex.Length} patches of {size}x{size} RGB need {(long)spotIndex.Length * size * size * 3} bytes, got {rgb.Length}");
        Size = size; Count = spotIndex.Length; Rgb = rgb; SpotIndex = spotIndex;
    }

    /// <summary>Patches [from, from+count) as a float32 tensor [count, 3, Size, Size] in 0..255 (RGB).</summary>
    public Tensor Batch(int from, int count)
    {
        int plane = Size * Size;
        var t = tensor(new ReadOnlySpan<byte>(Rgb, from * plane * 3, count * plane * 3).ToArray(), [count, Size, Size, 3]);
        using (t) return t.permute(0, 3, 1, 2).to_type(ScalarType.Float32).contiguous();
    }
}

/// <summary>Extracts spot patches from full-resolution H&amp;E images, with an on-disk cache.</summary>
public static class Patches
{
    /// <summary>
    /// Patches of <paramref name="windowPx"/> image pixels around each spot centre, resized (bilinear) to
    /// <paramref name="size"/>. Spots whose window is not fully inside the image are left out, as ST-Net does.
    /// The slide is decoded once; with <paramref name="cacheDir"/> the patches are stored under a key made of the image
    /// content hash, the centres, the window and the size, so later runs skip decoding.
    /// </summary>
    public static PatchSet Extract(string imagePath, double[] pixelX, double[] pixelY, double windowPx, int size = 224,
        string? cacheDir = null, IProgress<Progress>? progress = null)
    {
        if (!File.Exists(imagePath)) throw new TesseraException($"image '{imagePath}' does not exist");
        if (pixelX.Length != pixelY.Length) throw new ArgumentException("pixelX and pixelY differ in length");
        if (!(windowPx >= 8)) throw new TesseraException($"patch window must be at least 8 pixels, got {windowPx:G4}");
        string? cachePath = null;
        if (cacheDir != null)
        {
            cachePath = Path.Combine(cacheDir, CacheKey(imagePath, pixelX, pixelY, windowPx, size) + ".patches");
            if (File.Exists(cachePath))
            {
                var cached = TryReadCache(cachePath, size);
                if (cached != null) { progress.Note("patches", $"{Path.GetFileName(imagePath)}: {cached.Count} patches from the cache"); return cached; }
            }
        }
        var img = SpaceRanger.LoadImage(imagePath, Path.GetFileNameWithoutExtension(imagePath), 1.0);
        var set = FromImage(img, pixelX, pixelY, windowPx, size);
        progress.Note("patches", $"{Path.GetFileName(imagePath)} ({img.Width}x{img.Height}): {set.Count} of {pixelX.Length} spots give a {windowPx:F0}-px patch inside the image");
        if (cachePath != null) WriteCache(cachePath, set);
        return set;
    }

    /// <summary>Patches from a decoded image (see <see cref="Extract"/>).</summary>
    public static PatchSet FromImage(TissueImage img, double[] pixelX, double[] pixelY, double windowPx, int size = 224)
    {
        var keep = new List<int>();
        double half = windowPx / 2;
        for (int i = 0; i < pixelX.Length; i++)
            if (pixelX[i] - half >= 0 && pixelY[i] - half >= 0 && pixelX[i] + half <= img.Width && pixelY[i] + half <= img.Height) keep.Add(i);
        var rgb = new byte[(long)keep.Count * size * size * 3];
        Parallel.For(0, keep.Count, k => Resample(img, pixelX[keep[k]] - half, pixelY[keep[k]] - half, windowPx, size,
            rgb.AsSpan((int)((long)k * size * size * 3), size * size * 3)));
        return new PatchSet(size, rgb, [.. keep]);
    }

    /// <summary>A downscaled copy of a slide (longest side ≤ <paramref name="maxSide"/>, box-averaged) whose <see cref="TissueImage.Scale"/> maps full-resolution pixels to it, for plot underlays.</summary>
    public static TissueImage Thumbnail(string imagePath, int maxSide) => Thumbnail(SpaceRanger.LoadImage(imagePath, "thumbnail", 1.0), maxSide);

    /// <summary>A downscaled copy of a decoded full-resolution slide (see <see cref="Thumbnail(string, int)"/>).</summary>
    public static TissueImage Thumbnail(TissueImage img, int maxSide)
    {
        int f = Math.Max(1, (int)Math.Ceiling(Math.Max(img.Width, img.Height) / (double)maxSide));
        int w = img.Width / f, h = img.Height / f;
        var rgb = new byte[(long)w * h * 3];
        Parallel.For(0, h, y =>
        {
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < 3; ch++)
                {
                    int sum = 0;
                    for (int dy = 0; dy < f; dy++)
                        for (int dx = 0; dx < f; dx++) sum += img.Rgb[(((long)y * f + dy) * img.Width + (long)x * f + dx) * 3 + ch];
                    rgb[((long)y * w + x) * 3 + ch] = (byte)(sum / (f * f));
                }
        });
        return new TissueImage("thumbnail", w, h, rgb, 1.0 / f);
    }

    // Bilinear sampling of the window [x0, x0+w) × [y0, y0+w) at the centres of a size × size grid (align_corners=False).
    private static void Resample(TissueImage img, double x0, double y0, double w, int size, Span<byte> dst)
    {
        double step = w / size;
        var src = img.Rgb;
        int W = img.Width, H = img.Height;
        for (int r = 0; r < size; r++)
        {
            double sy = y0 + (r + 0.5) * step - 0.5;
            int y1 = Math.Clamp((int)Math.Floor(sy), 0, H - 1), y2 = Math.Min(y1 + 1, H - 1);
            double fy = Math.Clamp(sy - y1, 0, 1);
            for (int c = 0; c < size; c++)
            {
                double sx = x0 + (c + 0.5) * step - 0.5;
                int x1 = Math.Clamp((int)Math.Floor(sx), 0, W - 1), x2 = Math.Min(x1 + 1, W - 1);
                double fx = Math.Clamp(sx - x1, 0, 1);
                long p11 = ((long)y1 * W + x1) * 3, p12 = ((long)y1 * W + x2) * 3, p21 = ((long)y2 * W + x1) * 3, p22 = ((long)y2 * W + x2) * 3;
                int o = (r * size + c) * 3;
                for (int ch = 0; ch < 3; ch++)
                {
                    double v = (1 - fy) * ((1 - fx) * src[p11 + ch] + fx * src[p12 + ch]) + fy * ((1 - fx) * src[p21 + ch] + fx * src[p22 + ch]);
                    dst[o + ch] = (byte)Math.Clamp((int)Math.Round(v), 0, 255);
                }
            }
        }
    }

    private static string CacheKey(string imagePath, double[] xs, double[] ys, double window, int size)
    {
        using var sha = SHA256.Create();
        using (var s = File.OpenRead(imagePath))
        {
            var fileHash = sha.ComputeHash(s);
            var sb = new StringBuilder(Convert.ToHexString(fileHash));
            sb.Append('|').Append(window.ToString("R")).Append('|').Append(size);
            for (int i = 0; i < xs.Length; i++) sb.Append('|').Append(xs[i].ToString("R")).Append(',').Append(ys[i].ToString("R"));
            return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..32].ToLowerInvariant();
        }
    }

    private const int Magic = 0x54504354; // "TCPT"

    private static void WriteCache(string path, PatchSet set) => AtomicFile.WriteStream(path, s =>
    {
        using var w = new BinaryWriter(s);
        w.Write(Magic); w.Write(set.Size); w.Write(set.Count);
        foreach (var i in set.SpotIndex) w.Write(i);
        w.Write(set.Rgb);
    });

    private static PatchSet? TryReadCache(string path, int size)
    {
        try
        {
            using var r = new BinaryReader(File.OpenRead(path));
            if (r.ReadInt32() != Magic || r.ReadInt32() != size) return null;
            int n = r.ReadInt32();
            var idx = new int[n];
            for (int i = 0; i < n; i++) idx[i] = r.ReadInt32();
            var rgb = r.ReadBytes(checked(n * size * size * 3));
            return rgb.Length == n * size * size * 3 && r.BaseStream.Position == r.BaseStream.Length ? new PatchSet(size, rgb, idx) : null;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or OverflowException) { return null; } // damaged cache: re-extract
    }

    /// <summary>
    /// The 8 dihedral images of a batch [B, 3, H, W] ({identity, h-flip} × {identity, v-flip} × {identity, 90° rotation}),
    /// ST-Net's <c>EightSymmetry</c> test-time augmentation.
    /// </summary>
    public static IEnumerable<Tensor> EightSymmetries(Tensor batch)
    {
        foreach (bool rot in new[] { false, true })
            foreach (bool vf in new[] { false, true })
                foreach (bool hf in new[] { false, true })
                {
                    var t = rot ? batch.rot90(1, (2, 3)) : batch.alias();
                    if (vf) t = t.flip(2);
                    if (hf) t = t.flip(3);
                    yield return t;
                }
    }
}

/// <summary>Whole-slide tiling for ST-Net prediction without spot positions.</summary>
public static class SlideTiles
{
    /// <summary>
    /// Centres of a grid of square tiles of <paramref name="windowPx"/> pixels covering the image, keeping tissue tiles:
    /// a tile is background when more than half of its pixels have mean RGB above 220 (bright glass).
    /// Returns the kept centres and their grid (column, row).
    /// </summary>
    public static (double[] X, double[] Y, int[] Col, int[] Row) Tissue(TissueImage img, double windowPx)
    {
        var xs = new List<double>(); var ys = new List<double>(); var cs = new List<int>(); var rs = new List<int>();
        int nx = (int)Math.Floor(img.Width / windowPx), ny = (int)Math.Floor(img.Height / windowPx);
        for (int r = 0; r < ny; r++)
            for (int c = 0; c < nx; c++)
            {
                int x0 = (int)(c * windowPx), y0 = (int)(r * windowPx), w = (int)windowPx;
                long bright = 0, total = 0;
                for (int y = y0; y < y0 + w; y += 2)
                    for (int x = x0; x < x0 + w; x += 2)
                    {
                        long p = ((long)y * img.Width + x) * 3;
                        if (img.Rgb[p] + img.Rgb[p + 1] + img.Rgb[p + 2] > 3 * 220) bright++;
                        total++;
                    }
                if (bright * 2 > total) continue;
                xs.Add(x0 + windowPx / 2); ys.Add(y0 + windowPx / 2); cs.Add(c); rs.Add(r);
            }
        return ([.. xs], [.. ys], [.. cs], [.. rs]);
    }
}
