using System.Globalization;
using System.Text;

namespace Tessera.Data;

/// <summary>
/// What a name (gene, spot, column) may hold. Control characters (NUL, escape sequences, tabs, line breaks) and the
/// replacement character U+FFFD (what undecodable, non-UTF-8 bytes become) are refused wherever names enter a
/// <see cref="Table"/>: NUL cut names short in HDF5, escapes reach terminals, and distinct invalid byte strings
/// would collapse into one name.
/// </summary>
public static class Names
{
    /// <summary>Why <paramref name="name"/> is not acceptable, or null when it is.</summary>
    public static string? Problem(string name)
    {
        foreach (var c in name)
        {
            if (c == '\uFFFD') return "is not valid UTF-8 text (it holds bytes that are not UTF-8, shown as U+FFFD)";
            if (IsUnsafe(c)) return $"contains the control character U+{(int)c:X4}";
            if (char.IsSurrogate(c) && !IsPaired(name, c)) return "contains an unpaired UTF-16 surrogate";
        }
        return null;
    }

    private static bool IsPaired(string s, char c)
    {
        int i = s.IndexOf(c);
        return char.IsHighSurrogate(c) ? i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) : i > 0 && char.IsHighSurrogate(s[i - 1]);
    }

    /// <summary>Control characters and the bidirectional overrides that could rewrite what a terminal shows.</summary>
    private static bool IsUnsafe(char c) => char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';

    /// <summary>Throws a <see cref="TesseraException"/> when <paramref name="name"/> is not acceptable (see <see cref="Problem"/>).</summary>
    /// <param name="name">The name.</param>
    /// <param name="what">What it is, for the message ("gene name", "obs column name").</param>
    public static void Check(string name, string what)
    {
        if (Problem(name) is { } p) throw new TesseraException($"{what} '{Escape(name)}' {p}");
    }

    /// <summary>
    /// <paramref name="text"/> with control characters and bidirectional overrides written as \xNN / \uNNNN, so that
    /// text from a file can be printed without driving the terminal.
    /// </summary>
    public static string Escape(string text)
    {
        bool clean = true;
        foreach (var c in text) if (IsUnsafe(c)) { clean = false; break; }
        if (clean) return text;
        var b = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (!IsUnsafe(c)) b.Append(c);
            else if (c <= '\u00FF') b.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else b.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
        }
        return b.ToString();
    }
}
