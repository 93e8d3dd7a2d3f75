using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Tessera.IO;

/// <summary>
/// Opens text inputs (plain or gzip, detected by the magic bytes rather than the extension) and reads them line by
/// line as UTF-8 bytes, so the hot parsers never allocate a string per line.
/// </summary>
internal sealed class ByteLineReader : IDisposable
{
    private readonly Stream _stream;
    private readonly string _name;
    private byte[] _buf = new byte[1 << 20];
    private int _start, _end;
    private bool _eof;

    /// <summary>File name used in messages (no folder).</summary>
    public string Name => _name;
    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>The longest line accepted, and the largest file <see cref="TextInput.ReadAllText"/> reads (256 MB).</summary>
    internal const int MaxLineBytes = 256 << 20;

    private ByteLineReader(Stream stream, string name) { _stream = stream; _name = name; }

    /// <summary>Opens a file; gzip is recognised by its magic bytes.</summary>
    public static ByteLineReader Open(string path) => new(TextInput.OpenStream(path), Path.GetFileName(path));

    /// <summary>The first line that is neither blank nor a '#' comment (a table's header), copied; an empty file is an error.</summary>
    public byte[] ReadHeaderLine()
    {
        ReadOnlySpan<byte> line;
        do
        {
            if (!TryReadLine(out line)) throw new TesseraException($"{Name}: the file is empty");
        } while (line.Trim(" \t"u8).Length == 0 || line[0] == (byte)'#');
        return line.ToArray();
    }

    /// <summary>Next line without its terminator (\n or \r\n); false at the end of the input.</summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            int nl = _buf.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                int len = nl;
                if (len > 0 && _buf[_start + len - 1] == (byte)'\r') len--;
                line = _buf.AsSpan(_start, len);
                _start += nl + 1;
                if (LineNumber++ == 0 && line.StartsWith("\uFEFF"u8)) line = line[3..]; // Excel's UTF-8 byte-order mark
                return true;
            }
            if (_eof)
            {
                if (_end > _start)
                {
                    int len = _end - _start;
                    if (_buf[_start + len - 1] == (byte)'\r') len--;
                    line = _buf.AsSpan(_start, len);
                    _start = _end;
                    if (LineNumber++ == 0 && line.StartsWith("\uFEFF"u8)) line = line[3..];
                    return true;
                }
                line = default;
                return false;
            }
            Fill();
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
            _end -= _start; _start = 0;
        }
        if (_end == _buf.Length)
        {
            // a line as long as the buffer: grow it, up to a bound (a csv that is a link to /dev/zero has one endless line)
            if (_buf.Length >= MaxLineBytes)
                throw new TesseraException($"{_name} line {LineNumber + 1} is longer than {MemoryLimit.Format(MaxLineBytes)}: not a text table");
            ReadBudget.Need(_buf.Length, $"{_name} line {LineNumber + 1} (longer than {MemoryLimit.Format(_buf.Length)})");
            Array.Resize(ref _buf, (int)Math.Min(2L * _buf.Length, MaxLineBytes));
        }
        int n;
        try { n = _stream.Read(_buf, _end, _buf.Length - _end); }
        catch (InvalidDataException e) { throw new TesseraException($"{_name}: the gzip data is corrupt", e); }
                if (n == 0) _eof = true; else _end += n;
    }

    public void Dispose() => _stream.Dispose();
}

internal static class TextInput
{
    /// <summary>Whether the file starts with the gzip magic bytes.</summary>
    public static bool IsGzip(string path)
    {
        using var f = File.OpenRead(path);
        return f.ReadByte() == 0x1f && f.ReadByte() == 0x8b;
    }

    /// <summary>Opens a file for reading, decompressing gzip; truncated gzip is reported as a <see cref="TesseraException"/>.</summary>
    public static Stream OpenStream(string path)
    {
        if (!File.Exists(path)) throw new TesseraException($"input '{path}' does not exist");
        var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (f.Length >= 2)
        {
            int a = f.ReadByte(), b = f.ReadByte();
            f.Position = 0;
            if (a == 0x1f && b == 0x8b) return new TruncationCheckingStream(new GZipStream(f, CompressionMode.Decompress), path);
        }
        return f;
    }

    /// <summary>The whole file as text (gzip handled); more than 256 MB of text is an error (a link to /dev/zero never ends).</summary>
    public static string ReadAllText(string path)
    {
        using var s = OpenStream(path);
        using var r = new StreamReader(s, Encoding.UTF8);
        var text = new StringBuilder();
        var buf = new char[1 << 16];
        try
        {
            int n;
            while ((n = r.Read(buf, 0, buf.Length)) > 0)
            {
                if (text.Length + n > ByteLineReader.MaxLineBytes)
                    throw new TesseraException($"{Path.GetFileName(path)} holds more than {MemoryLimit.Format(ByteLineReader.MaxLineBytes)} of text: not a small text file");
                text.Append(buf, 0, n);
            }
        }
        catch (InvalidDataException e) { throw new TesseraException($"{Path.GetFileName(path)}: the gzip data is corrupt", e); }
        return text.ToString();
    }

    /// <summary>Path of the first existing candidate, or null.</summary>
    public static string? FirstExisting(string folder, params string[] names)
    {
        foreach (var n in names)
        {
            var p = Path.Combine(folder, n);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    public static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// .NET's GZipStream returns end-of-stream without complaint when a .gz file is cut short. At the end of the
/// decompressed data this wrapper compares the gzip trailer's ISIZE (last 4 bytes of the file: uncompressed length
/// mod 2^32 of the last member) with the byte count it saw; a mismatch means truncation. A file ending with the
/// empty BGZF end-of-file block (bgzip output, many members) is accepted as complete.
/// </summary>
internal sealed class TruncationCheckingStream(GZipStream inner, string path) : Stream
{
    private static readonly byte[] BgzfEof = Convert.FromHexString("1f8b08040000000000ff0600424302001b0003000000000000000000");
    private long _total;
    private bool _checked;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        _total += n;
        if (n == 0 && buffer.Length > 0 && !_checked) { _checked = true; Check(); }
        return n;
    }

    private void Check()
    {
        using var f = File.OpenRead(path);
        if (f.Length >= BgzfEof.Length)
        {
            var tail = new byte[BgzfEof.Length];
            f.Position = f.Length - tail.Length;
            f.ReadExactly(tail);
            if (tail.AsSpan().SequenceEqual(BgzfEof)) return;
        }
        uint isize = 0, crc = 0;
        if (f.Length >= 18)
        {
            var t = new byte[8];
            f.Position = f.Length - 8;
            f.ReadExactly(t);
            crc = BitConverter.ToUInt32(t, 0);
            isize = BitConverter.ToUInt32(t, 4);
        }
        if (f.Length < 18 || (isize != (uint)_total && !LastMemberMatches(isize, crc)))
            throw new TesseraException($"{Path.GetFileName(path)}: the gzip file is truncated (it ends before its compressed data does)");
    }

    /// <summary>
    /// A file of several gzip members (R's data.table::fwrite writes one per chunk) ends with the trailer of its last
    /// member only: complete when the last <paramref name="isize"/> bytes of the output have the trailer's CRC-32.
    /// Checked by decompressing once more, so only such files pay for it.
    /// </summary>
    private bool LastMemberMatches(uint isize, uint crc)
    {
        if (isize > _total) return false;
        using var f = File.OpenRead(path);
        using var gz = new GZipStream(f, CompressionMode.Decompress);
        var buf = new byte[1 << 16];
        long skip = _total - isize, seen = 0;
        uint c = 0xFFFFFFFFu;
        int n;
        while ((n = gz.Read(buf)) > 0)
        {
            int from = (int)Math.Clamp(skip - seen, 0, n);
            for (int i = from; i < n; i++) c = CrcTable[(c ^ buf[i]) & 0xFF] ^ (c >> 8);
            seen += n;
        }
        return seen == _total && ~c == crc;
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(i =>
    {
        uint c = (uint)i;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
}
