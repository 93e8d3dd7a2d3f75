using Tessera.Analysis;
using Tessera.Data;
using Tessera.Preprocess;

namespace Tessera.Methods.Stem;

/// <summary>SC and ST restricted to their shared genes, each normalize_total + log1p, as dense row-major float32.</summary>
public sealed class StemInputs
{
    /// <summary>Shared genes in ST order.</summary>
    public string[] Genes { get; }
    /// <summary>SC genes not in ST.</summary>
    public int DroppedScGenes { get; }
    /// <summary>ST genes not in SC.</summary>
    public int DroppedStGenes { get; }
    /// <summary>Whether the inputs were normalize_total + log1p transformed (false: used as given).</summary>
    public bool Normalized { get; }
    /// <summary>normalize_total target used for SC (NaN when not normalised).</summary>
    public double TargetSumSc { get; }
    /// <summary>normalize_total target used for ST (NaN when not normalised).</summary>
    public double TargetSumSt { get; }
    /// <summary>Median genes detected per cell (shared genes).</summary>
    public double MedianGenesSc { get; }
    /// <summary>Median genes detected per spot (shared genes).</summary>
    public double MedianGenesSt { get; }
    /// <summary>Cells × genes, log1p(normalised).</summary>
    public float[] Sc { get; }
    /// <summary>Spots × genes, log1p(normalised).</summary>
    public float[] St { get; }
    /// <summary>Cells.</summary>
    public int NCells { get; }
    /// <summary>Spots.</summary>
    public int NSpots { get; }

    /// <summary>Intersects genes (matched by var name) and normalises each dataset with its own target (unless <paramref name="normalize"/> is false).</summary>
    public StemInputs(SpatialData sc, SpatialData st, double? targetSumSc = null, double? targetSumSt = null, bool normalize = true)
        : this(sc, st, SharedGenes(sc, st), targetSumSc, targetSumSt, normalize)
    {
    }

    /// <summary>
    /// The inputs of a trained model: exactly <paramref name="genes"/> (in that order, each present in both datasets),
    /// normalised with the model's targets, so that the same data give the same values as at training.
    /// </summary>
    public static StemInputs ForGenes(SpatialData sc, SpatialData st, IReadOnlyList<string> genes, double? targetSumSc, double? targetSumSt, bool normalize)
    {
        ArgumentNullException.ThrowIfNull(sc); ArgumentNullException.ThrowIfNull(st); ArgumentNullException.ThrowIfNull(genes);
        var scCols = Columns(sc, genes, "SC"); var stCols = Columns(st, genes, "ST");
        return new StemInputs(sc, st, (genes.ToArray(), scCols, stCols), targetSumSc, targetSumSt, normalize);
    }

    private StemInputs(SpatialData sc, SpatialData st, (string[] Genes, List<int> Sc, List<int> St) shared, double? targetSumSc, double? targetSumSt, bool normalize)
    {
        var (genes, scCols, stCols) = shared;
        Genes = genes;
        DroppedScGenes = sc.NVars - scCols.Count;
        DroppedStGenes = st.NVars - stCols.Count;
        var xsc = sc.X.Subset(null, scCols);
        var xst = st.X.Subset(null, stCols);
        MedianGenesSc = Statistics.Median(xsc.RowNnzPositive());
        MedianGenesSt = Statistics.Median(xst.RowNnzPositive());
        NCells = sc.NObs; NSpots = st.NObs;
        Normalized = normalize;
        if (!normalize)
        {
            TargetSumSc = TargetSumSt = double.NaN;
            Sc = xsc.ToDenseArray(); St = xst.ToDenseArray();
            return;
        }
        foreach (var (x, what, names) in new[] { (xsc, "SC", sc.ObsNames), (xst, "ST", st.ObsNames) })
            for (int i = 0; i < x.Rows; i++)
                for (int k = x.IndPtr[i]; k < x.IndPtr[i + 1]; k++)
                    if (x.Data[k] < 0)
                        throw new TesseraException($"{what} data: '{names[i]}' has a negative value ({x.Data[k]}); STEM normalises counts — for z-scored or normalised input turn normalisation off (option Normalize)");
        TargetSumSc = targetSumSc ?? MedianTarget(xsc, "SC");
        TargetSumSt = targetSumSt ?? MedianTarget(xst, "ST");
        Sc = Normalize.Log1p(Normalize.Total(xsc, TargetSumSc)).ToDenseArray();
        St = Normalize.Log1p(Normalize.Total(xst, TargetSumSt)).ToDenseArray();
    }

    private static (string[] Genes, List<int> Sc, List<int> St) SharedGenes(SpatialData sc, SpatialData st)
    {
        ArgumentNullException.ThrowIfNull(sc); ArgumentNullException.ThrowIfNull(st);
        CheckSizes(sc, st);
        var scIndex = FirstIndex(sc);
        var stCols = new List<int>(); var scCols = new List<int>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int g = 0; g < st.NVars; g++)
            if (scIndex.TryGetValue(st.VarNames[g], out int j) && seen.Add(st.VarNames[g])) { stCols.Add(g); scCols.Add(j); }
        if (stCols.Count == 0)
            throw new TesseraException($"SC ({sc.NVars} genes, e.g. {string.Join(", ", sc.VarNames.Take(3))}) and ST ({st.NVars} genes, e.g. {string.Join(", ", st.VarNames.Take(3))}) share no gene names");
        return (stCols.Select(g => st.VarNames[g]).ToArray(), scCols, stCols);
    }

    private static void CheckSizes(SpatialData sc, SpatialData st)
    {
        if (sc.NObs < 2) throw new TesseraException($"SC data has {sc.NObs} cells; STEM needs at least 2");
        if (st.NObs < 2) throw new TesseraException($"ST data has {st.NObs} spots; STEM needs at least 2");
    }

    private static Dictionary<string, int> FirstIndex(SpatialData d)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int g = 0; g < d.NVars; g++) index.TryAdd(d.VarNames[g], g);
        return index;
    }

    private static List<int> Columns(SpatialData d, IReadOnlyList<string> genes, string what)
    {
        if (d.NObs < 2) throw new TesseraException($"{what} data has {d.NObs} {(what == "SC" ? "cells" : "spots")}; STEM needs at least 2");
        var index = FirstIndex(d);
        var missing = genes.Where(g => !index.ContainsKey(g)).ToArray();
        if (missing.Length > 0)
            throw new TesseraException($"{what} data lack {missing.Length} of the model's {genes.Count} genes (e.g. {string.Join(", ", missing.Take(3))})");
        return genes.Select(g => index[g]).ToList();
    }

    /// <summary>The reference's default ST input dropout: 1 − median genes per cell / median genes per spot, clamped to [0, 0.95].</summary>
    public double DefaultDropout => MedianGenesSt > 0 ? Math.Clamp(1 - MedianGenesSc / MedianGenesSt, 0, 0.95) : 0;

    private static double MedianTarget(CsrMatrix x, string what)
    {
        // scanpy's default target: the median of the positive totals (cells with no count of the shared genes do not lower it).
        if (!x.RowSums().Any(t => t > 0))
            throw new TesseraException($"{what} data: every row has a zero total count over the shared genes; set TargetSum{(what == "SC" ? "Sc" : "St")}");
        return Normalize.MedianTarget(x);
    }
}

internal static class CsrExtensions
{
    /// <summary>Genes with a positive value per row (stored zeros do not count, as scanpy's n_genes_by_counts).</summary>
    public static double[] RowNnzPositive(this CsrMatrix x)
    {
        var r = new double[x.Rows];
        for (int i = 0; i < x.Rows; i++)
            for (int k = x.IndPtr[i]; k < x.IndPtr[i + 1]; k++) if (x.Data[k] > 0) r[i]++;
        return r;
    }
}
