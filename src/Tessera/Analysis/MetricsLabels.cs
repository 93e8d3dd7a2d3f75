namespace Tessera.Analysis;

/// <summary>Labels encoded to 0..C−1 with the contingency table of a (truth, pred) pair, as sklearn's contingency_matrix.</summary>
internal sealed class Contingency
{
    public int N;
    public int NTruth, NPred;
    public int[] Truth = Array.Empty<int>(), Pred = Array.Empty<int>();
    public long[] RowSums = Array.Empty<long>(), ColSums = Array.Empty<long>();
    /// <summary>Non-zero cells (truth class, pred cluster, count), sorted by class then cluster.</summary>
    public (int i, int j, long n)[] Cells = Array.Empty<(int, int, long)>();

    public static Contingency FromInts(int[] truth, int[] pred)
    {
        ArgumentNullException.ThrowIfNull(truth); ArgumentNullException.ThrowIfNull(pred);
        if (truth.Length != pred.Length) throw new TesseraException($"truth has {truth.Length} labels but pred has {pred.Length}");
        if (truth.Length == 0) throw new TesseraException("truth and pred are empty");
        return Build(Encode(truth, Comparer<int>.Default, out _), Encode(pred, Comparer<int>.Default, out _));
    }

    /// <summary>Pairs whose truth is missing (null, "", "NA", "nan", "NaN") are dropped; a missing pred label is an error.</summary>
    public static Contingency FromStrings(string?[] truth, string?[] pred)
    {
        ArgumentNullException.ThrowIfNull(truth); ArgumentNullException.ThrowIfNull(pred);
        if (truth.Length != pred.Length) throw new TesseraException($"truth has {truth.Length} labels but pred has {pred.Length}");
        var t = new List<string>(truth.Length);
        var p = new List<string>(truth.Length);
        for (int i = 0; i < truth.Length; i++)
        {
            if (IsMissing(truth[i])) continue;
            if (pred[i] is null) throw new TesseraException($"pred has a missing label at index {i} where truth is '{truth[i]}'");
            t.Add(truth[i]!); p.Add(pred[i]!);
        }
        if (t.Count == 0) throw new TesseraException(truth.Length == 0 ? "truth and pred are empty" : "every truth label is missing (null or NA); nothing to compare");
        return Build(Encode(t.ToArray(), StringComparer.Ordinal, out _), Encode(p.ToArray(), StringComparer.Ordinal, out _));
    }

    /// <summary>Whether a string label counts as missing.</summary>
    public static bool IsMissing(string? s) => s is null || s.Length == 0 || s == "NA" || s == "nan" || s == "NaN";

    public static (int[] codes, int count) Encode<T>(T[] labels, IComparer<T> cmp, out T[] classes) where T : notnull
    {
        classes = labels.Distinct().OrderBy(v => v, cmp).ToArray();
        var map = new Dictionary<T, int>(classes.Length);
        for (int i = 0; i < classes.Length; i++) map[classes[i]] = i;
        var codes = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++) codes[i] = map[labels[i]];
        return (codes, classes.Length);
    }

    private static Contingency Build((int[] codes, int count) t, (int[] codes, int count) p)
    {
        var c = new Contingency { N = t.codes.Length, NTruth = t.count, NPred = p.count, Truth = t.codes, Pred = p.codes };
        c.RowSums = new long[t.count]; c.ColSums = new long[p.count];
        var cells = new Dictionary<long, long>();
        for (int k = 0; k < c.N; k++)
        {
            c.RowSums[t.codes[k]]++; c.ColSums[p.codes[k]]++;
            long key = (long)t.codes[k] * p.count + p.codes[k];
            cells[key] = cells.GetValueOrDefault(key) + 1;
        }
        c.Cells = cells.OrderBy(kv => kv.Key).Select(kv => ((int)(kv.Key / p.count), (int)(kv.Key % p.count), kv.Value)).ToArray();
        return c;
    }

    public double[,] Dense()
    {
        var m = new double[NTruth, NPred];
        foreach (var (i, j, n) in Cells) m[i, j] = n;
        return m;
    }
}
