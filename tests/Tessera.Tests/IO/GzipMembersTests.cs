using System.IO.Compression;
using System.Text;
using Tessera.IO;
using Tessera.Tests.Support;

namespace Tessera.Tests.IO;

/// <summary>Files of several gzip members (data.table::fwrite writes Xenium-style cells.csv.gz so): read whole, truncation still caught.</summary>
public class GzipMembersTests
{
    private static byte[] Member(string text)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(Encoding.UTF8.GetBytes(text));
        return ms.ToArray();
    }

    [Fact]
    public void ConcatenatedMembersAreReadAndACutLastMemberIsTruncation()
    {
        using var t = new TempDir();
        var path = t.File("two.csv.gz");
        var a = Member("id,x\n"); var b = Member("c1,1.5\nc2,2.5\n");
        File.WriteAllBytes(path, [.. a, .. b]);
        Assert.Equal("id,x\nc1,1.5\nc2,2.5\n", TextInput.ReadAllText(path));
        File.WriteAllBytes(path, [.. a, .. b[..^3]]);
        var e = Assert.Throws<TesseraException>(() => TextInput.ReadAllText(path));
        Assert.Equal("two.csv.gz: the gzip file is truncated (it ends before its compressed data does)", e.Message);
    }
}
