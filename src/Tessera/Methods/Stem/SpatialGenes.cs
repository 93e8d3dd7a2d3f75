using Tessera.Analysis;
using Tessera.Data;

namespace Tessera.Methods.Stem;

/// <summary>One row of the spatially dominant gene table.</summary>
/// <param name="Group">Cell group.</param>
/// <param name="Gene">Gene.</param>
/// <param name="Rank">1-based rank within the group (by z, descending).</param>
/// <param name="Z">Rank-sum z of the gene's attribution in the group against the rest (positive = higher in the group).</param>
/// <param name="MeanInGroup">Mean attribution in the group.</param>
/// <param name="MeanRest">Mean attribution in the other cells.</param>
/// <param name="P">Two-sided p-value.</param>
/// <param name="PAdj">Benjamini–Hochberg adjusted p (over genes, within the group).</param>
public readonly record struct SdgRow(string Group, string Gene, int Rank, double Z, double MeanInGroup, double MeanRest, double P, double PAdj);

/// <summary>Spatially dominant genes (STEM): genes whose integrated-gradient attribution to the mapping is specific to a cell group.</summary>
public static class SpatialGenes
{
    /// <summary>
    /// One-vs-rest Wilcoxon rank-sum test of each gene's attribution (cells × genes, e.g. <see cref="StemModel.IntegratedGradients(StemData, int?, CancellationToken)"/>)
    /// per group, BH-adjusted within each group; rows sorted by group then z descending.
    /// </summary>
    public static SdgRow[] Test(DenseMatrix attributions, IReadOnlyList<string> genes, IReadOnlyList<string?> groups)
    {
        ArgumentNullException.ThrowIfNull(attributions); ArgumentNullException.ThrowIfNull(genes); ArgumentNullException.ThrowIfNull(groups);
        if (attributions.Cols != genes.Count) throw new TesseraException($"attributions have {attributions.Cols} columns but {genes.Count} gene names");
        if (attributions.Rows != groups.Count) throw new TesseraException($"attributions have {attributions.Rows} rows but groups have {groups.Count} labels");
        var keep = Enumerable.Range(0, groups.Count).Where(i => groups[i] != null).ToArray();
        var labels = keep.Select(i => groups[i]!).ToArray();
        var perGroup = new Dictionary<string, List<(string gene, RankSumResult r, double mIn, double mOut)>>(StringComparer.Ordinal);
        for (int g = 0; g < genes.Count; g++)
        {
            var v = keep.Select(i => attributions[i, g]).ToArray();
            var res = Statistics.WilcoxonOneVsRest(v, labels);
            double total = v.Sum();
            foreach (var gr in res)
            {
                double sumIn = 0; for (int i = 0; i < v.Length; i++) if (labels[i] == gr.Group) sumIn += v[i];
                int rest = v.Length - gr.Count;
                (perGroup.TryGetValue(gr.Group, out var list) ? list : perGroup[gr.Group] = []).Add((genes[g], gr.Result, sumIn / gr.Count, rest > 0 ? (total - sumIn) / rest : double.NaN));
            }
        }
        var rows = new List<SdgRow>();
        foreach (var (group, list) in perGroup.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var adj = Statistics.BenjaminiHochberg(list.Select(e => e.r.P).ToArray());
            var order = Enumerable.Range(0, list.Count).OrderByDescending(i => list[i].r.Z).ThenBy(i => i).ToArray();
            for (int rnk = 0; rnk < order.Length; rnk++)
            {
                var e = list[order[rnk]];
                rows.Add(new SdgRow(group, e.gene, rnk + 1, e.r.Z, e.mIn, e.mOut, e.r.P, adj[order[rnk]]));
            }
        }
        return rows.ToArray();
    }
}
