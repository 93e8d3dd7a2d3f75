using Tessera.Data;

namespace Tessera.Methods.StNet;

/// <summary>How raw counts become regression targets.</summary>
public enum TargetTransform
{
    /// <summary>ST-Net's: log((1 + c) / (G + total)), G = all genes of the union, total = the spot's count over all genes.</summary>
    StNetLog,
    /// <summary>log1p of counts per million.</summary>
    Log1pCpm,
}

/// <summary>Gene selection and target transform of ST-Net.</summary>
public static class StNetTargets
{
    /// <summary>Sorted union of the sections' gene names (missing genes count as zero, as ST-Net pads them).</summary>
    public static string[] UnionGenes(IEnumerable<HistologySection> sections) =>
        [.. sections.SelectMany(s => s.Counts.VarNames).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>The <paramref name="n"/> genes with the highest mean raw count over all spots of <paramref name="sections"/> (ties by name).</summary>
    public static string[] TopGenes(IReadOnlyList<HistologySection> sections, int n)
    {
        if (n < 1) throw new TesseraException($"gene count must be at least 1, got {n}");
        var sum = new Dictionary<string, double>(StringComparer.Ordinal);
        long spots = 0;
        foreach (var s in sections)
        {
            var x = s.Counts.X; var names = s.Counts.VarNames;
            var col = new double[x.Cols];
            for (int p = 0; p < x.Data.Length; p++) col[x.Indices[p]] += x.Data[p];
            for (int g = 0; g < col.Length; g++) sum[names[g]] = sum.GetValueOrDefault(names[g]) + col[g];
            spots += s.NSpots;
        }
        if (sum.Count < n) throw new TesseraException($"asked for {n} genes but the sections have only {sum.Count}");
        return [.. sum.OrderByDescending(kv => kv.Value / Math.Max(1, spots)).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(n).Select(kv => kv.Key)];
    }

    /// <summary>Targets of one section for <paramref name="genes"/> (spots × genes); <paramref name="nAllGenes"/> is G of <see cref="TargetTransform.StNetLog"/>.</summary>
    public static DenseMatrix Compute(HistologySection section, IReadOnlyList<string> genes, int nAllGenes, TargetTransform transform)
    {
        var x = section.Counts.X;
        var pos = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int g = 0; g < genes.Count; g++) pos[genes[g]] = g;
        var colOf = section.Counts.VarNames.Select(v => pos.TryGetValue(v, out var g) ? g : -1).ToArray();
        var y = new DenseMatrix(x.Rows, genes.Count);
        for (int r = 0; r < x.Rows; r++)
        {
            double total = 0;
            for (int p = x.IndPtr[r]; p < x.IndPtr[r + 1]; p++) total += x.Data[p];
            var counts = new double[genes.Count];
            for (int p = x.IndPtr[r]; p < x.IndPtr[r + 1]; p++) { int g = colOf[x.Indices[p]]; if (g >= 0) counts[g] = x.Data[p]; }
            for (int g = 0; g < genes.Count; g++)
                y[r, g] = transform == TargetTransform.StNetLog
                    ? Math.Log((1 + counts[g]) / (nAllGenes + total))
                    : Math.Log(1 + (total > 0 ? counts[g] / total * 1e6 : 0));
        }
        return y;
    }
}

/// <summary>Colour statistics of patches: the baseline ST-Net must beat.</summary>
public static class ColorFeatures
{
    /// <summary>Features per patch.</summary>
    public const int Dim = 3 + 3 + 3 + 3 + 24;

    /// <summary>
    /// Per patch: RGB means and standard deviations, HSV means and standard deviations (hue as a fraction of the circle,
    /// not unwrapped), and 8-bin RGB histograms (fractions) — 36 numbers.
    /// </summary>
    public static DenseMatrix Compute(PatchSet patches)
    {
        ArgumentNullException.ThrowIfNull(patches);
        var f = new DenseMatrix(patches.Count, Dim);
        int px = patches.Size * patches.Size;
        Parallel.For(0, patches.Count, i =>
        {
            var rgb = patches.Rgb.AsSpan(i * px * 3, px * 3);
            Span<double> s = stackalloc double[6], ss = stackalloc double[6], hist = stackalloc double[24];
            s.Clear(); ss.Clear(); hist.Clear();
            for (int k = 0; k < px; k++)
            {
                double r = rgb[3 * k] / 255.0, g = rgb[3 * k + 1] / 255.0, b = rgb[3 * k + 2] / 255.0;
                double mx = Math.Max(r, Math.Max(g, b)), mn = Math.Min(r, Math.Min(g, b)), c = mx - mn;
                double h = c == 0 ? 0 : mx == r ? ((g - b) / c % 6 + 6) % 6 : mx == g ? (b - r) / c + 2 : (r - g) / c + 4;
                double sat = mx == 0 ? 0 : c / mx;
                Span<double> v = [r, g, b, h / 6, sat, mx];
                for (int j = 0; j < 6; j++) { s[j] += v[j]; ss[j] += v[j] * v[j]; }
                for (int ch = 0; ch < 3; ch++) hist[ch * 8 + rgb[3 * k + ch] / 32]++;
            }
            for (int j = 0; j < 3; j++)
            {
                f[i, j] = s[j] / px; f[i, 3 + j] = Math.Sqrt(Math.Max(0, ss[j] / px - Math.Pow(s[j] / px, 2)));
                f[i, 6 + j] = s[3 + j] / px; f[i, 9 + j] = Math.Sqrt(Math.Max(0, ss[3 + j] / px - Math.Pow(s[3 + j] / px, 2)));
            }
            for (int j = 0; j < 24; j++) f[i, 12 + j] = hist[j] / px;
        });
        return f;
    }
}
