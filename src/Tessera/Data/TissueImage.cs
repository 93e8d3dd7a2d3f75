namespace Tessera.Data;

/// <summary>
/// A tissue image (H&amp;E or fluorescence) stored as 8-bit RGB, with the factor that maps full-resolution
/// coordinates (obsm["spatial"]) to this image's pixels, as in Space Ranger's scalefactors_json.json.
/// </summary>
public sealed class TissueImage
{
    /// <summary>Image name, e.g. "hires" or "lowres".</summary>
    public string Name { get; }
    /// <summary>Width in pixels.</summary>
    public int Width { get; }
    /// <summary>Height in pixels.</summary>
    public int Height { get; }
    /// <summary>RGB bytes, row-major, length Width × Height × 3.</summary>
    public byte[] Rgb { get; }
    /// <summary>Image pixels per full-resolution pixel (tissue_hires_scalef / tissue_lowres_scalef).</summary>
    public double Scale { get; }

    /// <summary>Wraps RGB pixel data.</summary>
    public TissueImage(string name, int width, int height, byte[] rgb, double scale)
    {
        if (rgb.Length != (long)width * height * 3) throw new ArgumentException($"image '{name}' has {rgb.Length} bytes but {width}x{height} RGB needs {(long)width * height * 3}");
        if (!(scale > 0)) throw new ArgumentException($"image '{name}' scale factor must be positive, got {scale}");
        Name = name; Width = width; Height = height; Rgb = rgb; Scale = scale;
    }
}
