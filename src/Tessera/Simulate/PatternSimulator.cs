using Tessera.Analysis;
using Tessera.Data;
using Tessera.Nn;

namespace Tessera.Simulate;

/// <summary>Settings for <see cref="PatternSimulator.Simulate"/>.</summary>
public sealed record PatternSimulatorOptions
{
    /// <summary>Number of distinct spatial patterns derived from the base data.</summary>
    public int Patterns { get; init; } = 5;
    /// <summary>Simulated genes per pattern.</summary>
    public int GenesPerPattern { get; init; } = 2000;
    /// <summary>Variance σ² of the per-spot log-rate noise ε ~ N(0, σ²) (the paper: 0.2 to 0.6).</summary>
    public double Noise { get; init; } = 0.4;
    /// <summary>Non-SE genes (no pattern effect) per patterned gene.</summary>
    public double NonSeRatio { get; init; }
    /// <summary>Fold change of the rate inside a gene's pattern region (SPARK's simulations use 2 to 4).</summary>
    public double FoldChange { get; init; } = 3.0;
    /// <summary>Most variable genes of the base data used to find the pattern regions.</summary>
    public int PatternGenes { get; init; } = 500;
    /// <summary>Seed for every random choice.</summary>
    public int Seed { get; init; }

    /// <summary>Throws a <see cref="TesseraException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Patterns < 2) throw new TesseraException($"Patterns must be at least 2 but is {Patterns}");
        if (GenesPerPattern < 1) throw new TesseraException($"GenesPerPattern must be at least 1 but is {GenesPerPattern}");
        if (!(Noise >= 0)) throw new TesseraException($"Noise must be a variance >= 0 but is {Noise}");
        if (!(NonSeRatio >= 0)) throw new TesseraException($"NonSeRatio must be >= 0 but is {NonSeRatio}");
        if (!(FoldChange > 0)) throw new TesseraException($"FoldChange must be positive but is {FoldChange}");
        if (PatternGenes < 1) throw new TesseraException($"PatternGenes must be at least 1 but is {PatternGenes}");
    }
}

/// <summary>
/// SPARK-style simulation of spatially patterned genes on the spots of real data (e.g. MOB replicate 11).
/// Patterns: the base counts are library-size normalised (counts / total × median total), log1p'd, restricted to the
/// <see cref="PatternSimulatorOptions.PatternGenes"/> most variable genes, z-scored per gene, averaged over each spot and its array neighbours, and the spots are
/// clustered by k-means (K = Patterns, 10 restarts); pattern k is the indicator of spot cluster k (on MOB these are the
/// layers: granule cell, mitral/outer plexiform, glomerular, nerve layers). Genes: log λ_ij = log(s_i) + b_j +
/// log(FoldChange)·1[spot i in pattern k(j)] + ε_ij with s_i the spot's relative library size, b_j the log mean count
/// of a randomly drawn real gene (mean ≥ 0.5), ε_ij ~ N(0, σ²); counts ~ Poisson(λ). Non-SE genes omit the pattern term.
/// </summary>
public static class PatternSimulator
{
    /// <summary>Simulates spots × genes counts; var["pattern"] holds the true pattern ("pattern1".. or "none"), obs["pattern_region"] the regions.</summary>
    public static SpatialData Simulate(SpatialData baseData, PatternSimulatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(baseData);
        var o = options ?? new PatternSimulatorOptions();
        o.Validate();
        if (baseData.NObs < o.Patterns * 3) throw new TesseraException($"the base data has {baseData.NObs} spots, too few for {o.Patterns} patterns");

        var region = PatternRegions(baseData, o.Patterns, o.PatternGenes, o.Seed);
        int n = baseData.NObs;
        var totals = baseData.X.RowSums();
        double meanTotal = totals.Average();
        if (!(meanTotal > 0)) throw new TesseraException("the base data has no counts");
        var logS = totals.Select(t => Math.Log(Math.Max(t, 1) / meanTotal)).ToArray();
        var colSums = baseData.X.ColSums();
        var baselines = colSums.Select(s => s / n).Where(m => m >= 0.5).Select(m => Math.Log(m)).ToArray();
        if (baselines.Length == 0) throw new TesseraException("no gene of the base data has a mean count of at least 0.5");

        int nSe = o.Patterns * o.GenesPerPattern;
        int nNon = (int)Math.Round(nSe * o.NonSeRatio);
        int g = nSe + nNon;
        var names = new string[g];
        var pattern = new string?[g];
        var rng = Seeding.Rng(o.Seed, "simulate-patterns");
        double sd = Math.Sqrt(o.Noise), beta = Math.Log(o.FoldChange);
        // Gene-major generation (one stream, fixed order) keeps the output independent of threading.
        var cols = new List<(int Spot, float Value)>[g];
        for (int j = 0; j < g; j++)
        {
            int k = j < nSe ? j / o.GenesPerPattern : -1;
            names[j] = k >= 0 ? $"pattern{k + 1}_{j % o.GenesPerPattern + 1:D4}" : $"nonSE_{j - nSe + 1:D4}";
            pattern[j] = k >= 0 ? $"pattern{k + 1}" : "none";
            double b = baselines[rng.Next(baselines.Length)];
            var list = new List<(int, float)>();
            for (int i = 0; i < n; i++)
            {
                double eta = logS[i] + b + (k >= 0 && region[i] == k ? beta : 0) + sd * Distributions.Normal(rng);
                int c = Distributions.Poisson(rng, Math.Exp(eta));
                if (c > 0) list.Add((i, c));
            }
            cols[j] = list;
        }
        var rows = new List<int>(); var cidx = new List<int>(); var vals = new List<float>();
        for (int j = 0; j < g; j++) foreach (var (i, v) in cols[j]) { rows.Add(i); cidx.Add(j); vals.Add(v); }
        var x = CsrMatrix.FromTriplets(n, g, rows, cidx, vals);
        var obs = new Table((string[])baseData.ObsNames.Clone());
        obs.Set("pattern_region", CategoricalColumn.FromLabels(region.Select(r => (string?)$"pattern{r + 1}").ToArray(),
            Enumerable.Range(1, o.Patterns).Select(k => $"pattern{k}").ToArray()));
        var varT = new Table(names);
        var cats = Enumerable.Range(1, o.Patterns).Select(k => $"pattern{k}").ToList();
        if (nNon > 0) cats.Add("none");
        varT.Set("pattern", CategoricalColumn.FromLabels(pattern, cats));
        var sim = new SpatialData(x, obs, varT);
        if (baseData.HasSpatial) sim.SetObsm(SpatialData.SpatialKey, baseData.Spatial.Clone());
        foreach (var c in new[] { "array_row", "array_col" })
            if (baseData.Obs.Contains(c)) sim.Obs.Set(c, baseData.Obs[c]);
        return sim;
    }

    /// <summary>The pattern region (0..K-1) of each spot, as described on <see cref="PatternSimulator"/>; regions are numbered by decreasing size.</summary>
    public static int[] PatternRegions(SpatialData data, int patterns, int topGenes = 500, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        int n = data.NObs, g = data.NVars;
        var totals = data.X.RowSums();
        double median = totals.OrderBy(t => t).ElementAt(n / 2);
        var dense = new double[n * g];
        for (int i = 0; i < n; i++)
        {
            double f = totals[i] > 0 ? median / totals[i] : 0;
            for (int k = data.X.IndPtr[i]; k < data.X.IndPtr[i + 1]; k++) dense[i * g + data.X.Indices[k]] = Math.Log(1 + data.X.Data[k] * f);
        }
        var mean = new double[g]; var var_ = new double[g];
        for (int i = 0; i < n; i++) for (int j = 0; j < g; j++) mean[j] += dense[i * g + j] / n;
        for (int i = 0; i < n; i++) for (int j = 0; j < g; j++) { double d = dense[i * g + j] - mean[j]; var_[j] += d * d / Math.Max(n - 1, 1); }
        var top = Enumerable.Range(0, g).Where(j => var_[j] > 0).OrderByDescending(j => var_[j]).ThenBy(j => j).Take(topGenes).ToArray();
        if (top.Length == 0) throw new TesseraException("the base data has no variable gene");
        var z = new DenseMatrix(n, top.Length);
        for (int i = 0; i < n; i++)
            for (int t = 0; t < top.Length; t++) z[i, t] = (dense[i * g + top[t]] - mean[top[t]]) / Math.Sqrt(var_[top[t]]);
        // Smoothing each spot's profile over its array neighbours (within 1.5 spacings) makes the regions contiguous layers
        // rather than scattered spots that share noise.
        if (data.HasSpatial)
        {
            var sp = data.Spatial;
            double spacing = double.PositiveInfinity;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (i != j) spacing = Math.Min(spacing, Dist(sp, i, j));
            var sm = new DenseMatrix(n, top.Length);
            for (int i = 0; i < n; i++)
            {
                int cnt = 0;
                for (int j = 0; j < n; j++)
                {
                    if (Dist(sp, i, j) > 1.5 * spacing) continue;
                    cnt++;
                    for (int t = 0; t < top.Length; t++) sm[i, t] += z[j, t];
                }
                for (int t = 0; t < top.Length; t++) sm[i, t] /= cnt;
            }
            z = sm;
        }
        var km = new KMeans(new KMeansOptions { Clusters = patterns, Restarts = 10, Seed = Seeding.Derive(seed, "pattern-regions") }).Fit(z);
        var sizes = new int[patterns];
        foreach (var l in km.Labels) sizes[l]++;
        var order = Enumerable.Range(0, patterns).OrderByDescending(k => sizes[k]).ThenBy(k => k).ToArray();
        var rank = new int[patterns];
        for (int r = 0; r < patterns; r++) rank[order[r]] = r;
        return km.Labels.Select(l => rank[l]).ToArray();
    }

    private static double Dist(DenseMatrix sp, int i, int j)
    {
        double dx = sp[i, 0] - sp[j, 0], dy = sp[i, 1] - sp[j, 1];
        return Math.Sqrt(dx * dx + dy * dy);
    }
}
