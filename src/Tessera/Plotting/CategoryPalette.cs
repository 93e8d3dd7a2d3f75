using ScottPlot;

namespace Tessera.Plotting;

/// <summary>
/// Colours for categorical labels that stay the same across every figure of a run: the first time a set of labels is
/// seen, its new labels are sorted (naturally: "2" before "10", "Layer2" before "Layer10") and take the next free colours
/// of a fixed list; a label keeps its colour afterwards. Missing labels (null/empty) are <see cref="MissingColor"/>.
/// </summary>
/// <remarks>
/// The first 20 colours are scanpy's default_20 (matplotlib tab20 reordered so neighbours contrast), which readers of
/// spatial-omics papers already know; 8 more saturated colours from scanpy's default_28 follow. Beyond 28 labels,
/// colours come from a golden-angle hue walk, still deterministic.
/// </remarks>
public sealed class CategoryPalette
{
    /// <summary>The fixed colour list, in assignment order (28 colours).</summary>
    public static IReadOnlyList<Color> BaseColors { get; } = Color.FromHex(
    [
        "#1f77b4", "#ff7f0e", "#279e68", "#d62728", "#aa40fc", "#8c564b", "#e377c2", "#b5bd61", "#17becf", "#aec7e8",
        "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5", "#ad494a", "#8c6d31",
        "#023fa5", "#8e063b", "#11c638", "#ef9708", "#0fcfc0", "#f79cd4", "#7d87b9", "#336600",
    ]);

    /// <summary>Colour of missing labels (scanpy's na_color, light grey).</summary>
    public static Color MissingColor { get; } = Color.FromHex("#d3d3d3");

    /// <summary>The palette shared by all figures of this process unless a caller passes its own.</summary>
    public static CategoryPalette Shared { get; } = new();

    private readonly Dictionary<string, Color> _assigned = new(StringComparer.Ordinal);
    private readonly object _lock = new();

    /// <summary>Labels seen so far, in assignment order.</summary>
    public IReadOnlyList<string> Labels { get { lock (_lock) return _assigned.Keys.ToList(); } }

    /// <summary>Assigns colours to the labels not seen before (sorted naturally) and returns the distinct non-missing labels, sorted naturally.</summary>
    public IReadOnlyList<string> Register(IEnumerable<string?> labels)
    {
        var distinct = labels.Where(l => !string.IsNullOrEmpty(l)).Select(l => l!).Distinct(StringComparer.Ordinal).Order(NaturalComparer.Instance).ToList();
        lock (_lock)
            foreach (var l in distinct)
                if (!_assigned.ContainsKey(l)) _assigned[l] = ColorAt(_assigned.Count);
        return distinct;
    }

    /// <summary>Colour of a label (registering it if new); <see cref="MissingColor"/> for null or empty.</summary>
    public Color this[string? label]
    {
        get
        {
            if (string.IsNullOrEmpty(label)) return MissingColor;
            lock (_lock)
            {
                if (!_assigned.TryGetValue(label, out var c)) _assigned[label] = c = ColorAt(_assigned.Count);
                return c;
            }
        }
    }

    /// <summary>The i-th colour of the sequence (base list, then a golden-angle hue walk).</summary>
    public static Color ColorAt(int i)
    {
        if (i < 0) throw new ArgumentOutOfRangeException(nameof(i), $"colour index {i} is negative");
        if (i < BaseColors.Count) return BaseColors[i];
        double h = (i - BaseColors.Count) * 137.50776405 % 360.0;
        double s = (i % 2 == 0) ? 0.65 : 0.45, v = (i % 3 == 0) ? 0.75 : 0.9;
        return FromHsv(h, s, v);
    }

    private static Color FromHsv(double h, double s, double v)
    {
        double c = v * s, x = c * (1 - Math.Abs(h / 60 % 2 - 1)), m = v - c;
        (double r, double g, double b) = (int)(h / 60) switch
        {
            0 => (c, x, 0.0), 1 => (x, c, 0.0), 2 => (0.0, c, x), 3 => (0.0, x, c), 4 => (x, 0.0, c), _ => (c, 0.0, x),
        };
        return new Color((byte)Math.Round((r + m) * 255), (byte)Math.Round((g + m) * 255), (byte)Math.Round((b + m) * 255), (byte)255);
    }
}

/// <summary>Orders strings with embedded numbers numerically ("Layer2" &lt; "Layer10", "9" &lt; "10"), otherwise ordinally.</summary>
public sealed class NaturalComparer : IComparer<string>
{
    /// <summary>The single instance.</summary>
    public static NaturalComparer Instance { get; } = new();

    /// <inheritdoc/>
    public int Compare(string? a, string? b)
    {
        if (ReferenceEquals(a, b)) return 0;
        if (a is null) return -1;
        if (b is null) return 1;
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            if (char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
            {
                int si = i, sj = j;
                while (i < a.Length && char.IsAsciiDigit(a[i])) i++;
                while (j < b.Length && char.IsAsciiDigit(b[j])) j++;
                var na = a.AsSpan(si, i - si).TrimStart('0'); var nb = b.AsSpan(sj, j - sj).TrimStart('0');
                if (na.Length != nb.Length) return na.Length.CompareTo(nb.Length);
                int c = na.SequenceCompareTo(nb);
                if (c != 0) return c;
            }
            else
            {
                int c = a[i].CompareTo(b[j]);
                if (c != 0) return c;
                i++; j++;
            }
        }
        int rest = (a.Length - i).CompareTo(b.Length - j);
        return rest != 0 ? rest : string.CompareOrdinal(a, b);
    }
}
