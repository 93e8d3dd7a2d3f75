using System.Globalization;
using Tessera.Data;

namespace Tessera.Preprocess;

/// <summary>Thresholds for <see cref="Qc.Filter"/> (scanpy's filter_cells / filter_genes; 0 disables a threshold).</summary>
public sealed record QcOptions
{
    /// <summary>Minimum total counts per spot (filter_cells min_counts).</summary>
    public double MinCounts { get; init; }
    /// <summary>Maximum total counts per spot (filter_cells max_counts); infinity disables it.</summary>
    public double MaxCounts { get; init; } = double.PositiveInfinity;
    /// <summary>Minimum number of detected genes per spot (filter_cells min_genes).</summary>
    public int MinGenes { get; init; }
    /// <summary>Maximum number of detected genes per spot (filter_cells max_genes).</summary>
    public int MaxGenes { get; init; } = int.MaxValue;
    /// <summary>Minimum number of spots in which a gene is detected (filter_genes min_cells), counted after spot filtering.</summary>
    public int MinSpots { get; init; }
    /// <summary>Minimum total counts per gene (filter_genes min_counts), counted after spot filtering.</summary>
    public double MinGeneCounts { get; init; }
}

/// <summary>What <see cref="Qc.Filter"/> removed.</summary>
/// <param name="SpotsBefore">Spots in the input.</param>
/// <param name="SpotsAfter">Spots kept.</param>
/// <param name="GenesBefore">Genes in the input.</param>
/// <param name="GenesAfter">Genes kept.</param>
/// <param name="SpotsFailingCounts">Spots outside the total-count limits.</param>
/// <param name="SpotsFailingGenes">Spots outside the detected-gene limits (a spot can fail both).</param>
/// <param name="GenesFailingSpots">Genes detected in fewer than MinSpots kept spots.</param>
/// <param name="GenesFailingCounts">Genes with fewer than MinGeneCounts counts in the kept spots.</param>
public sealed record QcReport(int SpotsBefore, int SpotsAfter, int GenesBefore, int GenesAfter,
    int SpotsFailingCounts, int SpotsFailingGenes, int GenesFailingSpots, int GenesFailingCounts)
{
    /// <summary>One-line summary for logs.</summary>
    public override string ToString() =>
        $"QC kept {SpotsAfter} of {SpotsBefore} spots and {GenesAfter} of {GenesBefore} genes";
}

/// <summary>Quality-control metrics and filters on counts (scanpy calculate_qc_metrics / filter_cells / filter_genes).</summary>
public static class Qc
{
    /// <summary>Total counts per spot (obs total_counts).</summary>
    public static double[] TotalCounts(CsrMatrix x) => x.RowSums();

    /// <summary>Number of genes with a non-zero count per spot (obs n_genes_by_counts).</summary>
    public static int[] GenesByCounts(CsrMatrix x) => x.RowNnz();

    /// <summary>Number of spots in which each gene is non-zero (var n_cells_by_counts).</summary>
    public static int[] SpotsByCounts(CsrMatrix x) => x.ColNnz();

    /// <summary>Total counts per gene (var total_counts).</summary>
    public static double[] GeneTotalCounts(CsrMatrix x) => x.ColSums();

    /// <summary>
    /// Writes obs total_counts, n_genes_by_counts and var n_cells_by_counts, total_counts computed on X
    /// (modifies <paramref name="data"/>'s tables in place).
    /// </summary>
    public static void AddMetrics(SpatialData data)
    {
        data.Obs.Set("total_counts", new NumericColumn(TotalCounts(data.X)));
        data.Obs.Set("n_genes_by_counts", new NumericColumn(GenesByCounts(data.X).Select(v => (double)v).ToArray(), true));
        data.Var.Set("n_cells_by_counts", new NumericColumn(SpotsByCounts(data.X).Select(v => (double)v).ToArray(), true));
        data.Var.Set("total_counts", new NumericColumn(GeneTotalCounts(data.X)));
    }

    /// <summary>
    /// Removes spots outside the count / gene limits, then genes detected in too few of the remaining spots
    /// (scanpy order: filter_cells, then filter_genes). Returns a new dataset with QC metrics (recomputed on the
    /// result) in obs/var; the input is not modified.
    /// </summary>
    public static (SpatialData Filtered, QcReport Report) Filter(SpatialData data, QcOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MinCounts < 0 || options.MinGenes < 0 || options.MinSpots < 0 || options.MinGeneCounts < 0)
            throw new TesseraException("QC thresholds must not be negative");
        if (options.MaxCounts < options.MinCounts)
            throw new TesseraException($"QC max counts {Fmt(options.MaxCounts)} is below min counts {Fmt(options.MinCounts)}");
        if (options.MaxGenes < options.MinGenes)
            throw new TesseraException($"QC max genes {options.MaxGenes} is below min genes {options.MinGenes}");
        var x = data.X;
        var totals = TotalCounts(x);
        var ngenes = GenesByCounts(x);
        var keep = new bool[data.NObs];
        int failCounts = 0, failGenes = 0;
        for (int i = 0; i < keep.Length; i++)
        {
            bool okCounts = totals[i] >= options.MinCounts && totals[i] <= options.MaxCounts;
            bool okGenes = ngenes[i] >= options.MinGenes && ngenes[i] <= options.MaxGenes;
            if (!okCounts) failCounts++;
            if (!okGenes) failGenes++;
            keep[i] = okCounts && okGenes;
        }
        var rows = Enumerable.Range(0, keep.Length).Where(i => keep[i]).ToArray();
        if (rows.Length == 0)
        {
            var limits = new List<string>();
            if (options.MinCounts > 0) limits.Add($"min counts {Fmt(options.MinCounts)}");
            if (!double.IsPositiveInfinity(options.MaxCounts)) limits.Add($"max counts {Fmt(options.MaxCounts)}");
            if (options.MinGenes > 0) limits.Add($"min genes {options.MinGenes}");
            if (options.MaxGenes != int.MaxValue) limits.Add($"max genes {options.MaxGenes}");
            string range = data.NObs == 0 ? "the data has no spots"
                : $"spots have {Fmt(totals.Min())}..{Fmt(totals.Max())} total counts and {ngenes.Min()}..{ngenes.Max()} genes";
            throw new TesseraException($"no spots remain after QC ({string.Join(", ", limits)}): {range}");
        }
        var sub = x.Subset(rows, null);
        var nspots = SpotsByCounts(sub);
        var gtotal = GeneTotalCounts(sub);
        int failSpots = 0, failGeneCounts = 0;
        var cols = new List<int>();
        for (int j = 0; j < data.NVars; j++)
        {
            bool okS = nspots[j] >= options.MinSpots, okC = gtotal[j] >= options.MinGeneCounts;
            if (!okS) failSpots++;
            if (!okC) failGeneCounts++;
            if (okS && okC) cols.Add(j);
        }
        if (cols.Count == 0)
        {
            var limits = new List<string>();
            if (options.MinSpots > 0) limits.Add($"min spots {options.MinSpots}");
            if (options.MinGeneCounts > 0) limits.Add($"min gene counts {Fmt(options.MinGeneCounts)}");
            string most = data.NVars == 0 ? "the data has no genes" : $"the most spots any gene is detected in is {nspots.Max()}";
            throw new TesseraException($"no genes remain after QC ({string.Join(", ", limits)}): {most}");
        }
        var result = data.Subset(rows, cols.Count == data.NVars ? null : cols);
        AddMetrics(result);
        return (result, new QcReport(data.NObs, result.NObs, data.NVars, result.NVars, failCounts, failGenes, failSpots, failGeneCounts));
    }

    private static string Fmt(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
