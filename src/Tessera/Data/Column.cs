namespace Tessera.Data;

/// <summary>One typed column of an obs/var table.</summary>
public abstract class Column
{
    /// <summary>Number of entries.</summary>
    public abstract int Length { get; }
    /// <summary>Copy with the selected rows, in the given order.</summary>
    public abstract Column Take(IReadOnlyList<int> rows);
    /// <summary>The entry as text (NA as empty string), for CSV output and display.</summary>
    public abstract string Format(int row);
}

/// <summary>Numeric column (float64; <see cref="IsInteger"/> marks integer data so writers keep int64).</summary>
public sealed class NumericColumn(double[] values, bool isInteger = false) : Column
{
    /// <summary>Values; NaN is missing.</summary>
    public double[] Values { get; } = values;
    /// <summary>True when all values are whole numbers that came from an integer dtype.</summary>
    public bool IsInteger { get; } = isInteger;
    /// <inheritdoc/>
    public override int Length => Values.Length;
    /// <inheritdoc/>
    public override Column Take(IReadOnlyList<int> rows) => new NumericColumn(rows.Select(r => Values[r]).ToArray(), IsInteger);
    /// <inheritdoc/>
    public override string Format(int row) => double.IsNaN(Values[row]) ? "" : Values[row].ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Boolean column.</summary>
public sealed class BoolColumn(bool[] values) : Column
{
    /// <summary>Values.</summary>
    public bool[] Values { get; } = values;
    /// <inheritdoc/>
    public override int Length => Values.Length;
    /// <inheritdoc/>
    public override Column Take(IReadOnlyList<int> rows) => new BoolColumn(rows.Select(r => Values[r]).ToArray());
    /// <inheritdoc/>
    public override string Format(int row) => Values[row] ? "True" : "False";
}

/// <summary>Free-text column (null is missing).</summary>
public sealed class StringColumn(string?[] values) : Column
{
    /// <summary>Values.</summary>
    public string?[] Values { get; } = values;
    /// <inheritdoc/>
    public override int Length => Values.Length;
    /// <inheritdoc/>
    public override Column Take(IReadOnlyList<int> rows) => new StringColumn(rows.Select(r => Values[r]).ToArray());
    /// <inheritdoc/>
    public override string Format(int row) => Values[row] ?? "";
}

/// <summary>Categorical column as in pandas/anndata: integer codes into a category list, -1 = missing.</summary>
public sealed class CategoricalColumn : Column
{
    /// <summary>Code per row (index into <see cref="Categories"/>), -1 for missing.</summary>
    public int[] Codes { get; }
    /// <summary>Distinct category labels.</summary>
    public string[] Categories { get; }
    /// <summary>Whether the categories have an order.</summary>
    public bool Ordered { get; }

    /// <summary>Wraps codes and categories; validates codes.</summary>
    public CategoricalColumn(int[] codes, string[] categories, bool ordered = false)
    {
        if (categories.Distinct().Count() != categories.Length) throw new ArgumentException("categories must be unique");
        foreach (var c in codes) if (c < -1 || c >= categories.Length) throw new ArgumentException($"category code {c} is outside -1..{categories.Length - 1}");
        Codes = codes; Categories = categories; Ordered = ordered;
    }

    /// <summary>Builds a categorical from labels (null or empty = missing); categories sorted ordinally unless given.</summary>
    public static CategoricalColumn FromLabels(IReadOnlyList<string?> labels, IReadOnlyList<string>? categories = null)
    {
        var cats = categories?.ToArray() ?? labels.Where(l => !string.IsNullOrEmpty(l)).Distinct().Order(StringComparer.Ordinal).Select(l => l!).ToArray();
        var map = new Dictionary<string, int>();
        for (int i = 0; i < cats.Length; i++) map[cats[i]] = i;
        var codes = new int[labels.Count];
        for (int i = 0; i < codes.Length; i++)
        {
            var l = labels[i];
            if (string.IsNullOrEmpty(l)) codes[i] = -1;
            else if (!map.TryGetValue(l, out codes[i])) throw new ArgumentException($"label '{l}' is not among the categories");
        }
        return new CategoricalColumn(codes, cats);
    }

    /// <summary>Builds a categorical from integer labels such as cluster ids ("0", "1", ... in numeric order).</summary>
    public static CategoricalColumn FromInts(IReadOnlyList<int> labels)
    {
        var distinct = labels.Where(l => l >= 0).Distinct().Order().ToArray();
        var map = distinct.Select((v, i) => (v, i)).ToDictionary(t => t.v, t => t.i);
        return new CategoricalColumn(labels.Select(l => l < 0 ? -1 : map[l]).ToArray(), distinct.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
    }

    /// <summary>Label of a row, null when missing.</summary>
    public string? Label(int row) => Codes[row] < 0 ? null : Categories[Codes[row]];
    /// <inheritdoc/>
    public override int Length => Codes.Length;
    /// <inheritdoc/>
    public override Column Take(IReadOnlyList<int> rows) => new CategoricalColumn(rows.Select(r => Codes[r]).ToArray(), Categories, Ordered);
    /// <inheritdoc/>
    public override string Format(int row) => Label(row) ?? "";
}
