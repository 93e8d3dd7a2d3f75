using System.Buffers.Binary;

namespace Tessera.Tests.Plotting;

public class PngTests
{
    /// <summary>Checks the PNG signature and reads width/height from the IHDR chunk.</summary>
    internal static (int Width, int Height) PngSize(string path)
    {
        var b = File.ReadAllBytes(path);
        Assert.True(b.Length > 33, $"{path} is only {b.Length} bytes");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, b[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(b, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(20)));
    }
}
