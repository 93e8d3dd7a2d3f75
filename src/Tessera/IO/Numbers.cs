using System.Globalization;
using System.Text;

namespace Tessera.IO;

/// <summary>Fast UTF-8 number parsing for the text readers (integers by hand, everything else through the BCL).</summary>
internal static class Numbers
{
    /// <summary>Parses a decimal number; "NaN", "Inf", "Infinity" (any case, signed) parse to NaN / ±Infinity.</summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out double value)
    {
        if (s.Length > 0 && s.Length <= 9)
        {
            int i = 0; bool neg = false;
            if (s[0] == (byte)'-') { neg = true; i = 1; }
            if (i < s.Length)
            {
                long acc = 0; int j = i;
                for (; j < s.Length; j++)
                {
                    uint d = (uint)(s[j] - (byte)'0');
                    if (d > 9) break;
                    acc = acc * 10 + d;
                }
                if (j == s.Length) { value = neg ? -acc : acc; return true; }
            }
        }
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return true;
        return TryParseSpecial(s, out value);
    }

    private static bool TryParseSpecial(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        if (s.Length > 12) return false;
        var t = Encoding.ASCII.GetString(s).ToLowerInvariant();
        switch (t)
        {
            case "nan": case "+nan": case "-nan": value = double.NaN; return true;
            case "inf": case "+inf": case "infinity": case "+infinity": value = double.PositiveInfinity; return true;
            case "-inf": case "-infinity": value = double.NegativeInfinity; return true;
            default: return false;
        }
    }

    /// <summary>Parses a non-negative integer made of digits only.</summary>
    public static bool TryParseIndex(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 18) return false;
        foreach (var b in s)
        {
            uint d = (uint)(b - (byte)'0');
            if (d > 9) return false;
            value = value * 10 + d;
        }
        return true;
    }

    /// <summary>Why a value is not a valid count/expression value, or null when it is fine.</summary>
    public static string? Problem(double v, bool allowNegative) =>
        double.IsNaN(v) ? "NaN value" :
        double.IsInfinity(v) ? $"infinite value {(v > 0 ? "Inf" : "-Inf")}" :
        !allowNegative && v < 0 ? $"negative value {TextInput.Num(v)}" : null;

    public static string Text(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s);
}
