using Tessera.Data;

namespace Tessera.Simulate;

/// <summary>Settings for <see cref="SyntheticTissue.Generate"/>.</summary>
public sealed record SyntheticTissueOptions
{
    /// <summary>Visium array rows.</summary>
    public int Rows { get; init; } = 44;
    /// <summary>Visium array columns (hex grid: only every other column is used per row, as on the chip).</summary>
    public int Cols { get; init; } = 88;
    /// <summary>Number of layer-shaped domains (5–7 gives a cortex-like section).</summary>
    public int Domains { get; init; } = 6;
    /// <summary>Total genes.</summary>
    public int Genes { get; init; } = 400;
    /// <summary>Marker genes per domain (raised in that domain, partly in its neighbours).</summary>
    public int MarkersPerDomain { get; init; } = 12;
    /// <summary>Fold change of a marker in its own domain.</summary>
    public double MarkerFold { get; init; } = 2.5;
    /// <summary>Median UMIs per spot.</summary>
    public double MedianUmis { get; init; } = 2500;
    /// <summary>Negative-binomial inverse dispersion (Visium genes: roughly 2–10).</summary>
    public double Theta { get; init; } = 4;
    /// <summary>Distance between adjacent spot centres in full-resolution pixels (DLPFC: about 138).</summary>
    public double SpotSpacing { get; init; } = 138;
    /// <summary>Seed for every random choice.</summary>
    public int Seed { get; init; } = 0;
}

/// <summary>
/// A synthetic layered tissue on a Visium hex grid: curved bands like cortical layers (plus a white-matter-like
/// last domain), marker genes per band with spill-over into adjacent bands, log-normal library sizes and
/// negative-binomial counts. Used by the demo and by tests; the truth is in obs["layer"].
/// </summary>
public static class SyntheticTissue
{
    /// <summary>Generates the tissue; fully determined by the options (including the seed).</summary>
    public static SpatialData Generate(SyntheticTissueOptions? options = null)
    {
        var o = options ?? new SyntheticTissueOptions();
        if (o.Domains < 2) throw new TesseraException($"a synthetic tissue needs at least 2 domains, got {o.Domains}");
        if (o.Domains * o.MarkersPerDomain > o.Genes) throw new TesseraException($"{o.Domains} domains × {o.MarkersPerDomain} markers exceed the {o.Genes} genes");
        var rng = Nn.Seeding.Rng(o.Seed, "synthetic-tissue");

        // Spots: Visium hex grid (array_col parity follows array_row), cut to an elliptical tissue outline.
        var rowsL = new List<int>(); var colsL = new List<int>(); var xs = new List<double>(); var ys = new List<double>();
        double dy = o.SpotSpacing * Math.Sqrt(3) / 2, dx = o.SpotSpacing / 2;
        for (int r = 0; r < o.Rows; r++)
            for (int c = r % 2; c < o.Cols; c += 2)
            {
                double u = (c / (double)(o.Cols - 1)) * 2 - 1, v = (r / (double)(o.Rows - 1)) * 2 - 1;
                if (u * u + v * v * 0.9 > 1.0) continue;
                rowsL.Add(r); colsL.Add(c); xs.Add(1000 + c * dx); ys.Add(1000 + r * dy);
            }
        int n = xs.Count;

        // Layers: bands of depth below a curved pial surface, the last (deepest) band wider like white matter.
        double w = o.Cols * dx, h = o.Rows * dy;
        var depth = new double[n];
        for (int i = 0; i < n; i++)
        {
            double t = (xs[i] - 1000) / w;
            double surface = 1000 + 0.12 * h + 0.10 * h * Math.Sin(Math.PI * (t * 1.3 + 0.1));
            depth[i] = (ys[i] - surface) / (h * 0.9);
        }
        var domain = new int[n];
        var bounds = Enumerable.Range(1, o.Domains - 1).Select(k => -0.05 + k * 0.95 / o.Domains).ToArray();
        for (int i = 0; i < n; i++) { int d = 0; while (d < bounds.Length && depth[i] > bounds[d]) d++; domain[i] = d; }

        // Genes: baseline means (log-normal), markers per domain with half the effect in neighbouring domains.
        var baseMean = new double[o.Genes];
        for (int g = 0; g < o.Genes; g++) baseMean[g] = Math.Exp(Distributions.Normal(rng) * 1.0);
        var effect = new double[o.Domains, o.Genes];
        for (int d = 0; d < o.Domains; d++) for (int g = 0; g < o.Genes; g++) effect[d, g] = 1;
        for (int d = 0; d < o.Domains; d++)
            for (int m = 0; m < o.MarkersPerDomain; m++)
            {
                int g = d * o.MarkersPerDomain + m;
                double fold = o.MarkerFold * (0.7 + 0.6 * rng.NextDouble());
                effect[d, g] = fold;
                if (d > 0) effect[d - 1, g] = Math.Max(effect[d - 1, g], Math.Sqrt(fold));
                if (d < o.Domains - 1) effect[d + 1, g] = Math.Max(effect[d + 1, g], Math.Sqrt(fold));
            }
        var libSize = new double[n];
        for (int i = 0; i < n; i++) libSize[i] = o.MedianUmis * Math.Exp(0.35 * Distributions.Normal(rng));

        var ptr = new int[n + 1]; var idx = new List<int>(); var val = new List<float>();
        var mu = new double[o.Genes];
        for (int i = 0; i < n; i++)
        {
            double total = 0;
            for (int g = 0; g < o.Genes; g++) { mu[g] = baseMean[g] * effect[domain[i], g]; total += mu[g]; }
            for (int g = 0; g < o.Genes; g++)
            {
                int count = Distributions.NegativeBinomial(rng, mu[g] / total * libSize[i], o.Theta);
                if (count > 0) { idx.Add(g); val.Add(count); }
            }
            ptr[i + 1] = idx.Count;
        }
        var names = Enumerable.Range(0, n).Select(i => $"spot{rowsL[i]:D3}x{colsL[i]:D3}").ToArray();
        var genes = Enumerable.Range(0, o.Genes).Select(g => g < o.Domains * o.MarkersPerDomain ? $"L{g / o.MarkersPerDomain + 1}_marker{g % o.MarkersPerDomain + 1}" : $"gene{g + 1}").ToArray();
        var data = new SpatialData(new CsrMatrix(n, o.Genes, ptr, idx.ToArray(), val.ToArray()), new Table(names, "spot name"), new Table(genes, "gene name"));
        var labels = domain.Select(d => d == o.Domains - 1 ? "WM" : $"Layer{d + 1}").ToArray();
        data.Obs.Set("layer", CategoricalColumn.FromLabels(labels, Enumerable.Range(0, o.Domains).Select(d => d == o.Domains - 1 ? "WM" : $"Layer{d + 1}").ToArray()));
        data.Obs.Set("array_row", new NumericColumn(rowsL.Select(v => (double)v).ToArray(), true));
        data.Obs.Set("array_col", new NumericColumn(colsL.Select(v => (double)v).ToArray(), true));
        data.SetObsm(SpatialData.SpatialKey, new DenseMatrix(n, 2, xs.Zip(ys, (x, y) => new[] { x, y }).SelectMany(p => p).ToArray()));
        data.Uns["synthetic"] = new Dictionary<string, object>
        {
            ["seed"] = (long)o.Seed, ["domains"] = (long)o.Domains, ["spot_spacing"] = o.SpotSpacing, ["theta"] = o.Theta,
        };
        return data;
    }
}
