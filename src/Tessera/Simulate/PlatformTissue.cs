using Tessera.Data;

namespace Tessera.Simulate;

/// <summary>Which platform's geometry and sparsity a <see cref="PlatformTissue"/> imitates.</summary>
public enum TissuePlatform
{
    /// <summary>Visium HD binned at 16 µm: a square grid of bins, whole transcriptome (~18k genes), a few hundred UMIs per bin.</summary>
    VisiumHd,
    /// <summary>Xenium-like single cells: jittered cell centroids ~10 µm apart, a 300–500-gene panel, ~100–300 transcripts per cell.</summary>
    Xenium,
}

/// <summary>Settings for <see cref="PlatformTissue.Generate"/>; null fields take the platform's default.</summary>
public sealed record PlatformTissueOptions
{
    /// <summary>Number of bins (Visium HD) or cells (Xenium).</summary>
    public int Spots { get; init; } = 10000;
    /// <summary>Platform imitated.</summary>
    public TissuePlatform Platform { get; init; } = TissuePlatform.VisiumHd;
    /// <summary>Genes (Visium HD default 18,000; Xenium default 400).</summary>
    public int? Genes { get; init; }
    /// <summary>Median UMIs (transcripts) per bin or cell (Visium HD default 300; Xenium default 180).</summary>
    public double? MedianUmis { get; init; }
    /// <summary>Layer-shaped domains (the last one white-matter-like), as in the demo's <see cref="SyntheticTissue"/>.</summary>
    public int Domains { get; init; } = 7;
    /// <summary>Marker genes per domain (Visium HD default 20; Xenium default 10).</summary>
    public int? MarkersPerDomain { get; init; }
    /// <summary>Fold change of a marker in its own domain (√fold in the adjacent domains).</summary>
    public double MarkerFold { get; init; } = 3;
    /// <summary>Fraction of the non-marker genes whose level differs between domains (log-fold ~ N(0, 0.5²) per domain).</summary>
    public double? VariableFraction { get; init; }
    /// <summary>Largest share of a spot's reads drawn from an adjacent domain's profile (uniform in [0, this]): mixed bins and cells.</summary>
    public double MaxMixing { get; init; } = 0.3;
    /// <summary>Seed for every random choice.</summary>
    public int Seed { get; init; }
    /// <summary>
    /// Serial section of the same tissue: every section of one <see cref="Seed"/> shares the layout and the domains' gene
    /// programmes; section 0 is the tissue itself, section k &gt; 0 draws its reads (and its <see cref="BatchEffect"/>) from
    /// its own stream, so two sections are two measurements of one tissue (what slice integration expects).
    /// </summary>
    public int Section { get; init; }
    /// <summary>
    /// Gene-wise batch effect of the section: every gene's level is multiplied by exp(σ·N(0, 1)) drawn once per section
    /// (0 = none). Lets integration benchmarks give two sections different capture efficiencies.
    /// </summary>
    public double BatchEffect { get; init; }

    /// <summary>Resolved gene count.</summary>
    public int ResolvedGenes => Genes ?? (Platform == TissuePlatform.VisiumHd ? 18000 : 400);
    /// <summary>Resolved median UMIs per spot.</summary>
    public double ResolvedMedianUmis => MedianUmis ?? (Platform == TissuePlatform.VisiumHd ? 300 : 180);
    /// <summary>Resolved markers per domain.</summary>
    public int ResolvedMarkers => MarkersPerDomain ?? (Platform == TissuePlatform.VisiumHd ? 20 : 10);
    /// <summary>Resolved variable fraction.</summary>
    public double ResolvedVariableFraction => VariableFraction ?? (Platform == TissuePlatform.VisiumHd ? 0.1 : 0.5);

    /// <summary>Throws a <see cref="TesseraException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Spots < 10) throw new TesseraException($"Spots must be at least 10 but is {Spots}");
        if (!Enum.IsDefined(Platform)) throw new TesseraException($"Platform must be VisiumHd or Xenium but is {Platform}");
        if (Domains < 2) throw new TesseraException($"Domains must be at least 2 but is {Domains}");
        if (ResolvedMarkers < 1) throw new TesseraException($"MarkersPerDomain must be at least 1 but is {ResolvedMarkers}");
        if (ResolvedGenes < Domains * ResolvedMarkers)
            throw new TesseraException($"Genes ({ResolvedGenes}) must be at least Domains × MarkersPerDomain = {Domains * ResolvedMarkers}");
        if (!(ResolvedMedianUmis >= 1) || double.IsInfinity(ResolvedMedianUmis)) throw new TesseraException($"MedianUmis must be at least 1 but is {ResolvedMedianUmis}");
        if (!(MarkerFold >= 1) || double.IsInfinity(MarkerFold)) throw new TesseraException($"MarkerFold must be at least 1 but is {MarkerFold}");
        if (!(ResolvedVariableFraction >= 0 && ResolvedVariableFraction <= 1)) throw new TesseraException($"VariableFraction must be in [0, 1] but is {ResolvedVariableFraction}");
        if (!(MaxMixing >= 0 && MaxMixing < 1)) throw new TesseraException($"MaxMixing must be in [0, 1) but is {MaxMixing}");
        if (Section < 0) throw new TesseraException($"Section must be at least 0 but is {Section}");
        if (!(BatchEffect >= 0 && BatchEffect <= 3)) throw new TesseraException($"BatchEffect must be in [0, 3] but is {BatchEffect}");
    }
}

/// <summary>
/// The demo's layered tissue (<see cref="SyntheticTissue"/>: curved cortical-like bands under a pial surface, the deepest
/// one white-matter-like) at any size, with the sparsity of a Visium HD 16 µm binning or a Xenium cell panel. Truth in
/// obs["layer"], coordinates in µm in obsm["spatial"], counts as CSR in X.
/// </summary>
/// <remarks>
/// Counts are drawn read by read: each spot gets a log-normal library size and its reads are drawn (alias tables) from its
/// domain's gene profile, with a random share from an adjacent domain's profile (mixed bins/cells). Time and memory are
/// therefore ∝ reads and non-zeros — never spots × genes — so a million bins of 18,000 genes fit in a few GB.
/// A domain's profile is the base level of every gene (log-normal) times its markers' folds and, for a fraction of the
/// other genes, a per-domain log-normal fold (cell-type composition shifting the whole transcriptome, not just markers).
/// </remarks>
public static class PlatformTissue
{
    /// <summary>Visium HD bin pitch (µm).</summary>
    public const double BinSize = 16;

    /// <summary>Mean distance between Xenium-like cell centroids (µm).</summary>
    public const double CellSpacing = 10;

    /// <summary>Generates the tissue; fully determined by the options (including the seed).</summary>
    public static SpatialData Generate(PlatformTissueOptions? options = null, IProgress<Progress>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = options ?? new PlatformTissueOptions();
        o.Validate();
        int n = o.Spots, nGenes = o.ResolvedGenes, nDomains = o.Domains, markers = o.ResolvedMarkers;
        bool hd = o.Platform == TissuePlatform.VisiumHd;
        var rng = Nn.Seeding.Rng(o.Seed, "platform-tissue");

        // Layout: a W × H grid (W ≈ 1.2 H, filled row by row, so the last row may be partial); Xenium cells jittered.
        int w = (int)Math.Ceiling(Math.Sqrt(n * 1.2)), h = (n + w - 1) / w;
        double pitch = hd ? BinSize : CellSpacing;
        var xy = new double[2L * n];
        var row = new int[n]; var col = new int[n];
        var domain = new int[n];
        var bounds = Enumerable.Range(1, nDomains - 1).Select(k => -0.05 + k * 0.95 / nDomains).ToArray();
        for (int i = 0; i < n; i++)
        {
            row[i] = i / w; col[i] = i % w;
            double jx = hd ? 0 : (rng.NextDouble() - 0.5) * 0.6, jy = hd ? 0 : (rng.NextDouble() - 0.5) * 0.6;
            xy[2 * i] = (col[i] + 0.5 + jx) * pitch;
            xy[2 * i + 1] = (row[i] + 0.5 + jy) * pitch;
            // the demo's bands in relative coordinates: depth below a sinusoidal pial surface
            double u = (col[i] + 0.5) / w, v = (row[i] + 0.5) / h;
            double surface = 0.12 + 0.10 * Math.Sin(Math.PI * (u * 1.3 + 0.1));
            double depth = (v - surface) / 0.9;
            int d = 0; while (d < bounds.Length && depth > bounds[d]) d++;
            domain[i] = d;
        }

        // Gene profiles per domain.
        double sigma = hd ? 1.5 : 1.0;
        var baseMean = new double[nGenes];
        for (int g = 0; g < nGenes; g++) baseMean[g] = Math.Exp(sigma * Distributions.Normal(rng));
        var sorted = (double[])baseMean.Clone(); Array.Sort(sorted);
        double high = sorted[(int)(0.95 * (nGenes - 1))];
        var effect = new double[nDomains][];
        for (int d = 0; d < nDomains; d++) { effect[d] = new double[nGenes]; Array.Fill(effect[d], 1.0); }
        for (int g = nDomains * markers; g < nGenes; g++)
            if (rng.NextDouble() < o.ResolvedVariableFraction)
                for (int d = 0; d < nDomains; d++) effect[d][g] = Math.Exp(0.5 * Distributions.Normal(rng));
        for (int d = 0; d < nDomains; d++)
            for (int m = 0; m < markers; m++)
            {
                int g = d * markers + m;
                baseMean[g] = high * (0.5 + 1.5 * rng.NextDouble());
                double fold = o.MarkerFold * (0.7 + 0.6 * rng.NextDouble());
                effect[d][g] = fold;
                if (d > 0) effect[d - 1][g] = Math.Max(effect[d - 1][g], Math.Sqrt(fold));
                if (d < nDomains - 1) effect[d + 1][g] = Math.Max(effect[d + 1][g], Math.Sqrt(fold));
            }
        // a later section keeps the layout and the programmes above but draws its batch effect and reads from its own stream
        // (section 0 goes on with the tissue's stream, so it is the tissue as generated before sections existed)
        if (o.Section > 0) rng = Nn.Seeding.Rng(o.Seed, $"platform-tissue.section{o.Section}");
        var capture = new double[nGenes];
        for (int g = 0; g < nGenes; g++) capture[g] = o.BatchEffect > 0 ? Math.Exp(o.BatchEffect * Distributions.Normal(rng)) : 1.0;
        var profile = new AliasTable[nDomains];
        var weights = new double[nGenes];
        for (int d = 0; d < nDomains; d++)
        {
            for (int g = 0; g < nGenes; g++) weights[g] = baseMean[g] * effect[d][g] * capture[g];
            profile[d] = new AliasTable(weights);
        }

        // Reads, spot by spot: time ∝ reads, memory ∝ non-zeros.
        var ptr = new long[n + 1];
        var idx = new List<int>(); var val = new List<float>();
        var counts = new Dictionary<int, int>();
        double libSigma = hd ? 0.5 : 0.4;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < n; i++)
        {
            if ((i & 4095) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new Progress("simulate counts", i, n, sw.Elapsed));
            }
            int d = domain[i];
            int other = d == 0 ? 1 : d == nDomains - 1 ? d - 1 : (rng.NextDouble() < 0.5 ? d - 1 : d + 1);
            double mix = o.MaxMixing * rng.NextDouble();
            int reads = Math.Max(1, (int)Math.Round(o.ResolvedMedianUmis * Math.Exp(libSigma * Distributions.Normal(rng))));
            counts.Clear();
            for (int r = 0; r < reads; r++)
            {
                int g = (rng.NextDouble() < mix ? profile[other] : profile[d]).Sample(rng);
                counts[g] = counts.TryGetValue(g, out var c) ? c + 1 : 1;
            }
            foreach (var g in counts.Keys.Order()) { idx.Add(g); val.Add(counts[g]); }
            ptr[i + 1] = idx.Count;
        }
        if (idx.Count == int.MaxValue) throw new TesseraException($"the simulated matrix has more than {int.MaxValue} non-zeros");
        progress?.Report(new Progress("simulate counts", n, n, sw.Elapsed));

        var names = hd
            ? Enumerable.Range(0, n).Select(i => $"s_016um_{row[i]:D5}_{col[i]:D5}-1").ToArray()
            : Enumerable.Range(0, n).Select(i => $"cell{i + 1}").ToArray();
        var genes = Enumerable.Range(0, nGenes).Select(g => g < nDomains * markers ? $"L{g / markers + 1}_marker{g % markers + 1}" : $"gene{g + 1}").ToArray();
        var x = new CsrMatrix(n, nGenes, ptr.Select(p => (int)p).ToArray(), idx.ToArray(), val.ToArray());
        var data = new SpatialData(x, new Table(names, hd ? "bin name" : "cell name"), new Table(genes, "gene name"));
        var levels = Enumerable.Range(0, nDomains).Select(d => d == nDomains - 1 ? "WM" : $"Layer{d + 1}").ToArray();
        data.Obs.Set("layer", CategoricalColumn.FromLabels(domain.Select(d => levels[d]).ToArray(), levels));
        if (hd)
        {
            data.Obs.Set("array_row", new NumericColumn(row.Select(v => (double)v).ToArray(), true));
            data.Obs.Set("array_col", new NumericColumn(col.Select(v => (double)v).ToArray(), true));
        }
        data.SetObsm(SpatialData.SpatialKey, new DenseMatrix(n, 2, xy));
        data.Uns["synthetic"] = new Dictionary<string, object>
        {
            ["seed"] = (long)o.Seed, ["section"] = (long)o.Section, ["batch_effect"] = o.BatchEffect, ["domains"] = (long)nDomains, ["platform"] = hd ? "visium-hd" : "xenium",
            ["pitch_um"] = pitch, ["median_umis"] = o.ResolvedMedianUmis,
        };
        return data;
    }
}
