using System.Text;

namespace Tessera.IO;

/// <summary>Writes result tables as RFC 4180 CSV (quoted where needed), atomically.</summary>
public static class CsvTable
{
    /// <summary>Writes a header and rows to <paramref name="path"/> via a temporary file.</summary>
    public static void Write(string path, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        AtomicFile.Write(path, tmp =>
        {
            using var w = new StreamWriter(tmp, false, new UTF8Encoding(false));
            w.NewLine = "\n";
            w.WriteLine(string.Join(',', header.Select(Quote)));
            foreach (var r in rows)
            {
                if (r.Count != header.Count) throw new ArgumentException($"a row has {r.Count} fields but the header has {header.Count}");
                w.WriteLine(string.Join(',', r.Select(Quote)));
            }
        });
    }

    /// <summary>Quotes a field when it holds a comma, quote or line break.</summary>
    public static string Quote(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
