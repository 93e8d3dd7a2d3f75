using System.Text;

namespace Tessera.IO;

/// <summary>
/// Splits delimited lines (comma, tab, or runs of spaces) honouring double quotes ("a,b" and "" escapes),
/// the way R's write.csv/write.table and pandas write them.
/// </summary>
internal sealed class DelimitedSplitter(byte delimiter)
{
    /// <summary>0 = runs of spaces/tabs.</summary>
    public byte Delimiter { get; } = delimiter;

    public readonly List<Range> Fields = [];

    /// <summary>Picks the delimiter from the header line (tab, then comma, then whitespace).</summary>
    public static DelimitedSplitter Sniff(ReadOnlySpan<byte> header, ReadOnlySpan<byte> second)
    {
        foreach (var line in new[] { header.ToArray(), second.ToArray() })
        {
            if (line.AsSpan().IndexOf((byte)'\t') >= 0) return new DelimitedSplitter((byte)'\t');
            if (line.AsSpan().IndexOf((byte)',') >= 0) return new DelimitedSplitter((byte)',');
            if (line.AsSpan().Trim((byte)' ').IndexOf((byte)' ') >= 0) return new DelimitedSplitter(0);
        }
        return new DelimitedSplitter((byte)',');
    }

    public string Describe => Delimiter switch { (byte)'\t' => "tab", (byte)',' => "comma", _ => "whitespace" };

    /// <summary>Splits into <see cref="Fields"/> (raw ranges, quotes included); returns the count.</summary>
    public int Split(ReadOnlySpan<byte> line)
    {
        Fields.Clear();
        int i = 0, n = line.Length;
        if (Delimiter == 0)
        {
            while (true)
            {
                while (i < n && (line[i] == (byte)' ' || line[i] == (byte)'\t')) i++;
                if (i >= n) break;
                int s = i; bool q = false;
                while (i < n)
                {
                    byte b = line[i];
                    if (b == (byte)'"') q = !q;
                    else if (!q && (b == (byte)' ' || b == (byte)'\t')) break;
                    i++;
                }
                Fields.Add(new Range(s, i));
            }
            return Fields.Count;
        }
        int start = 0; bool inQ = false;
        for (i = 0; i < n; i++)
        {
            byte b = line[i];
            if (b == (byte)'"') inQ = !inQ;
            else if (b == Delimiter && !inQ) { Fields.Add(new Range(start, i)); start = i + 1; }
        }
        Fields.Add(new Range(start, n));
        return Fields.Count;
    }

    /// <summary>A field's bytes without surrounding spaces and quotes (escaped quotes are left doubled; see <see cref="Text"/>).</summary>
    public static ReadOnlySpan<byte> Raw(ReadOnlySpan<byte> f)
    {
        f = f.Trim((byte)' ');
        if (f.Length >= 2 && f[0] == (byte)'"' && f[^1] == (byte)'"') f = f[1..^1];
        return f;
    }

    /// <summary>A field as text, unquoted, with "" turned into ".</summary>
    public static string Text(ReadOnlySpan<byte> f)
    {
        f = f.Trim((byte)' ');
        if (f.Length >= 2 && f[0] == (byte)'"' && f[^1] == (byte)'"')
            return Encoding.UTF8.GetString(f[1..^1]).Replace("\"\"", "\"");
        return Encoding.UTF8.GetString(f);
    }
}
