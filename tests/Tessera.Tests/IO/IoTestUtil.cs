using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Tessera.IO;

namespace Tessera.Tests.IO;

/// <summary>Helpers for the IO tests: writing small (gzipped) fixtures and asserting exact errors on unchanged inputs.</summary>
internal static class IoTestUtil
{
    /// <summary>X[cell, gene] looked up by names (0 when not stored).</summary>
    public static double XValue(Tessera.Data.SpatialData d, string cell, string gene)
    {
        int r = Array.IndexOf(d.ObsNames, cell), g = Array.IndexOf(d.VarNames, gene);
        Assert.True(r >= 0 && g >= 0, $"{cell} / {gene} not found");
        for (int p = d.X.IndPtr[r]; p < d.X.IndPtr[r + 1]; p++) if (d.X.Indices[p] == g) return d.X.Data[p];
        return 0;
    }

    /// <summary>The values of a numeric obs column.</summary>
    public static double[] ObsValues(Tessera.Data.SpatialData d, string name) => ((Tessera.Data.NumericColumn)d.Obs[name]).Values;

    /// <summary>Smallest and largest obsm["spatial"] coordinate along <paramref name="dim"/>.</summary>
    public static (double Min, double Max) SpatialRange(Tessera.Data.SpatialData d, int dim) =>
        (Enumerable.Range(0, d.NObs).Min(i => d.Spatial[i, dim]), Enumerable.Range(0, d.NObs).Max(i => d.Spatial[i, dim]));

    public static string Write(string path, string text)
    {
        if (path.EndsWith(".gz", StringComparison.Ordinal))
        {
            using var f = File.Create(path);
            using var gz = new GZipStream(f, CompressionLevel.Optimal);
            gz.Write(Encoding.UTF8.GetBytes(text));
        }
        else File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The text of a gzipped file.</summary>
    public static string ReadGz(string path)
    {
        using var f = File.OpenRead(path);
        using var gz = new GZipStream(f, CompressionMode.Decompress);
        using var r = new StreamReader(gz, Encoding.UTF8);
        return r.ReadToEnd();
    }

    public static string Hash(string path)
    {
        if (Directory.Exists(path))
            return string.Join(";", Directory.GetFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f => f + "=" + Hash(f)));
        return Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
    }

    /// <summary>Asserts that <paramref name="act"/> throws a TesseraException with exactly <paramref name="message"/> and leaves <paramref name="input"/> unchanged.</summary>
    public static void Fails(string input, string message, Action act)
    {
        var before = Hash(input);
        var e = Assert.Throws<TesseraException>(act);
        Assert.Equal(message, e.Message);
        Assert.Equal(before, Hash(input));
    }

    public static (ReadOptions Options, List<string> Log) Logged(ReadOptions? o = null)
    {
        var log = new List<string>();
        return ((o ?? new ReadOptions()) with { Progress = new Support.SyncProgress(p => { if (p.Message is { } m) log.Add(m); }) }, log);
    }

    /// <summary>Minimal RGB PNG encoder (stored zlib is not needed: ZLibStream deflates), for image fixtures.</summary>
    public static void WritePng(string path, int w, int h, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < h; y++)
        {
            raw.WriteByte(0);
            for (int x = 0; x < w; x++) { var (r, g, b) = pixel(x, y); raw.WriteByte(r); raw.WriteByte(g); raw.WriteByte(b); }
        }
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw.ToArray());
        using var f = File.Create(path);
        f.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BE(ihdr, 0, w); BE(ihdr, 4, h); ihdr[8] = 8; ihdr[9] = 2;
        Chunk(f, "IHDR", ihdr); Chunk(f, "IDAT", z.ToArray()); Chunk(f, "IEND", []);
    }

    private static void BE(byte[] b, int o, int v) { b[o] = (byte)(v >> 24); b[o + 1] = (byte)(v >> 16); b[o + 2] = (byte)(v >> 8); b[o + 3] = (byte)v; }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4]; BE(len, 0, data.Length); s.Write(len);
        var td = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(td);
        var crc = new byte[4]; BE(crc, 0, (int)Crc32(td)); s.Write(crc);
    }

    private static uint Crc32(byte[] d)
    {
        uint c = 0xFFFFFFFF;
        foreach (var b in d)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }
}
