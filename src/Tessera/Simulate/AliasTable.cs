namespace Tessera.Simulate;

/// <summary>
/// Walker's alias method: after O(K) set-up, draws an index with probability ∝ its weight in O(1). Used to sample the
/// reads of a spot one by one, so simulating counts costs time ∝ UMIs, not spots × genes.
/// </summary>
public sealed class AliasTable
{
    private readonly double[] prob;
    private readonly int[] alias;

    /// <summary>Number of outcomes.</summary>
    public int Count => prob.Length;

    /// <summary>Builds the table from non-negative weights (at least one positive).</summary>
    public AliasTable(IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int k = weights.Count;
        if (k == 0) throw new TesseraException("an alias table needs at least one weight");
        double sum = 0;
        for (int i = 0; i < k; i++)
        {
            if (!(weights[i] >= 0) || double.IsInfinity(weights[i])) throw new TesseraException($"weight {i} is {weights[i]}; weights must be finite and non-negative");
            sum += weights[i];
        }
        if (!(sum > 0)) throw new TesseraException("an alias table needs at least one positive weight");
        prob = new double[k]; alias = new int[k];
        var scaled = new double[k];
        var small = new Stack<int>(); var large = new Stack<int>();
        for (int i = 0; i < k; i++)
        {
            scaled[i] = weights[i] * k / sum;
            (scaled[i] < 1 ? small : large).Push(i);
        }
        while (small.Count > 0 && large.Count > 0)
        {
            int s = small.Pop(), l = large.Pop();
            prob[s] = scaled[s]; alias[s] = l;
            scaled[l] = scaled[l] + scaled[s] - 1;
            (scaled[l] < 1 ? small : large).Push(l);
        }
        // what is left has probability 1 up to rounding
        while (large.Count > 0) { int l = large.Pop(); prob[l] = 1; alias[l] = l; }
        while (small.Count > 0) { int s = small.Pop(); prob[s] = 1; alias[s] = s; }
    }

    /// <summary>One draw.</summary>
    public int Sample(Random rng)
    {
        double u = rng.NextDouble() * prob.Length;
        int i = (int)u;
        if (i >= prob.Length) i = prob.Length - 1;
        return u - i < prob[i] ? i : alias[i];
    }
}
