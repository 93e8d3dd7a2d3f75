namespace Tessera.Data;

/// <summary>
/// An obs or var table: a unique string index (barcodes or gene names) plus ordered, typed, named columns,
/// the shape of a pandas DataFrame inside an AnnData.
/// </summary>
public sealed class Table
{
    private readonly List<(string Name, Column Column)> _columns = [];
    private Dictionary<string, int>? _lookup;

    /// <summary>Row names (unique).</summary>
    public string[] Index { get; }
    /// <summary>Number of rows.</summary>
    public int Count => Index.Length;
    /// <summary>Column names in order.</summary>
    public IReadOnlyList<string> ColumnNames => _columns.Select(c => c.Name).ToList();
    /// <summary>Columns in order.</summary>
    public IEnumerable<(string Name, Column Column)> Columns => _columns;

    /// <summary>Creates a table with the given unique row names and no columns.</summary>
    /// <param name="index">Row names.</param>
    /// <param name="what">What the names are, for the duplicate-name message ("barcode", "gene name").</param>
    /// <exception cref="TesseraException">A name is missing, repeated, or not acceptable (<see cref="Names.Problem"/>).</exception>
    public Table(string[] index, string what = "name")
    {
        var seen = new HashSet<string>(index.Length, StringComparer.Ordinal); // sized once: no rehash garbage for a million names
        foreach (var n in index)
        {
            if (n is null) throw new TesseraException($"a {what} is missing");
            if (!seen.Add(n)) throw new TesseraException($"duplicate {what} '{Names.Escape(n)}'");
            Names.Check(n, what);
        }
        Index = index;
    }

    /// <summary>Position of a row name, or -1.</summary>
    public int IndexOf(string name)
    {
        _lookup ??= Index.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i, StringComparer.Ordinal);
        return _lookup.TryGetValue(name, out var i) ? i : -1;
    }

    /// <summary>Whether a column exists.</summary>
    public bool Contains(string column) => _columns.Any(c => c.Name == column);

    /// <summary>Gets a column by name; a <see cref="TesseraException"/> lists the available columns when absent.</summary>
    public Column this[string column]
    {
        get
        {
            foreach (var c in _columns) if (c.Name == column) return c.Column;
            throw new TesseraException($"unknown column '{column}'; available: {(_columns.Count == 0 ? "(none)" : string.Join(", ", _columns.Select(c => c.Name)))}");
        }
        set => Set(column, value);
    }

    /// <summary>Adds or replaces a column (keeps its position when replacing).</summary>
    public void Set(string name, Column column)
    {
        Names.Check(name, "column name");
        if (column.Length != Count) throw new ArgumentException($"column '{name}' has {column.Length} values but the table has {Count} rows");
        int i = _columns.FindIndex(c => c.Name == name);
        if (i >= 0) _columns[i] = (name, column); else _columns.Add((name, column));
    }

    /// <summary>Removes a column if present.</summary>
    public bool Remove(string name) => _columns.RemoveAll(c => c.Name == name) > 0;

    /// <summary>Gets a column as a typed column, or throws naming the actual type.</summary>
    public T Get<T>(string name) where T : Column =>
        this[name] as T ?? throw new TesseraException($"column '{name}' is {this[name].GetType().Name}, not {typeof(T).Name}");

    /// <summary>Labels of a column as strings (null for missing), whatever its type.</summary>
    public string?[] Labels(string name)
    {
        var c = this[name];
        return Enumerable.Range(0, c.Length).Select(i => c switch
        {
            CategoricalColumn cc => cc.Label(i),
            StringColumn sc => sc.Values[i],
            NumericColumn nc => double.IsNaN(nc.Values[i]) ? null : c.Format(i),
            _ => c.Format(i),
        }).ToArray();
    }

    /// <summary>Rows selected (in order), copied.</summary>
    public Table Take(IReadOnlyList<int> rows)
    {
        var t = new Table(rows.Select(r => Index[r]).ToArray());
        foreach (var (n, c) in _columns) t.Set(n, c.Take(rows));
        return t;
    }

    /// <summary>Deep copy of the column list (column objects are shared; they are treated as immutable).</summary>
    public Table Clone()
    {
        var t = new Table(Index);
        foreach (var (n, c) in _columns) t.Set(n, c);
        return t;
    }
}
