using System.Globalization;
using Tessera.Data;

namespace Tessera.Preprocess;

/// <summary>Highly-variable-gene method, as scanpy's highly_variable_genes flavor.</summary>
public enum HvgFlavor
{
    /// <summary>scanpy flavor="seurat": dispersion of expm1(X) on log1p-normalised data, z-scored within 20 mean bins.</summary>
    Seurat,
    /// <summary>scanpy flavor="seurat_v3": variance of clipped standardised raw counts against a loess mean–variance trend.</summary>
    SeuratV3,
}

/// <summary>How seurat_v3's loess trend is evaluated (see <see cref="Loess"/>).</summary>
public enum LoessSurface
{
    /// <summary>k-d tree vertices + cubic Hermite blending: scikit-misc's default, hence scanpy's.</summary>
    Interpolate,
    /// <summary>An exact local fit at every gene.</summary>
    Direct,
}

/// <summary>Per-gene results of <see cref="HighlyVariableGenes.Select"/> (arrays in the data's gene order).</summary>
public sealed class HvgResult
{
    /// <summary>The method used.</summary>
    public required HvgFlavor Flavor { get; init; }
    /// <summary>Requested number of genes.</summary>
    public required int NTop { get; init; }
    /// <summary>Gene names.</summary>
    public required string[] Genes { get; init; }
    /// <summary>
    /// scanpy's var "means": for Seurat log1p of the mean of expm1(X) (averaged over batches); for SeuratV3 the mean count
    /// over all spots.
    /// </summary>
    public required double[] Means { get; init; }
    /// <summary>SeuratV3: variance (ddof=1) of the counts over all spots; null for Seurat.</summary>
    public double[]? Variances { get; init; }
    /// <summary>SeuratV3: variance of the clipped standardised counts (mean over batches); null for Seurat.</summary>
    public double[]? VariancesNorm { get; init; }
    /// <summary>Seurat: log of variance / mean of expm1(X) (NaN for constant genes); null for SeuratV3.</summary>
    public double[]? Dispersions { get; init; }
    /// <summary>Seurat: dispersion z-scored within its mean bin; null for SeuratV3.</summary>
    public double[]? DispersionsNorm { get; init; }
    /// <summary>SeuratV3: median over batches of the gene's 0-based rank among those batches where it is in the top NTop (NaN elsewhere).</summary>
    public double[]? Rank { get; init; }
    /// <summary>Number of batches in which the gene is among the batch's top genes (1 batch when no batch key was given).</summary>
    public required int[] NBatches { get; init; }
    /// <summary>Whether the gene is selected.</summary>
    public required bool[] Mask { get; init; }
    /// <summary>Number of batches used.</summary>
    public required int BatchCount { get; init; }

    /// <summary>Indices of the selected genes in the data's gene order.</summary>
    public int[] SelectedIndices() => Enumerable.Range(0, Mask.Length).Where(i => Mask[i]).ToArray();

    /// <summary>
    /// Writes scanpy's var columns into <paramref name="data"/> (in place): highly_variable, means, and for Seurat
    /// dispersions, dispersions_norm (float32-rounded as scanpy stores it); for SeuratV3 variances, variances_norm
    /// (float32-rounded), highly_variable_rank; with several batches also highly_variable_nbatches. Sets uns["hvg"] = {flavor}.
    /// </summary>
    public void AddToVar(SpatialData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!data.VarNames.SequenceEqual(Genes)) throw new TesseraException("the HVG result was computed on different genes than this data has");
        data.Var.Set("highly_variable", new BoolColumn((bool[])Mask.Clone()));
        data.Var.Set("means", new NumericColumn((double[])Means.Clone()));
        if (Flavor == HvgFlavor.Seurat)
        {
            data.Var.Set("dispersions", new NumericColumn((double[])Dispersions!.Clone()));
            data.Var.Set("dispersions_norm", new NumericColumn(DispersionsNorm!.Select(v => (double)(float)v).ToArray()));
        }
        else
        {
            data.Var.Set("highly_variable_rank", new NumericColumn((double[])Rank!.Clone()));
            data.Var.Set("variances", new NumericColumn((double[])Variances!.Clone()));
            data.Var.Set("variances_norm", new NumericColumn(VariancesNorm!.Select(v => (double)(float)v).ToArray()));
        }
        if (BatchCount > 1) data.Var.Set("highly_variable_nbatches", new NumericColumn(NBatches.Select(v => (double)v).ToArray(), true));
        data.Uns["hvg"] = new Dictionary<string, object>(StringComparer.Ordinal) { ["flavor"] = Flavor == HvgFlavor.Seurat ? "seurat" : "seurat_v3" };
    }
}

/// <summary>Highly variable gene selection (scanpy pp.highly_variable_genes with n_top_genes).</summary>
public static class HighlyVariableGenes
{
    /// <summary>Loess span of seurat_v3 (scanpy's default span = 0.3).</summary>
    public const double SeuratV3Span = 0.3;
    /// <summary>Number of mean bins of flavor seurat (scanpy's default n_bins = 20).</summary>
    public const int SeuratBins = 20;

    /// <summary>
    /// Selects the <paramref name="nTop"/> most variable genes. Seurat expects log1p-normalised values, SeuratV3 raw counts
    /// (both read X, or <paramref name="layer"/> when given). With <paramref name="batchKey"/> (an obs column) each batch is
    /// scored separately and combined as scanpy does. The input is not modified; see <see cref="HvgResult.AddToVar"/>.
    /// <paramref name="surface"/> picks seurat_v3's loess evaluation (scanpy's is <see cref="LoessSurface.Interpolate"/>).
    /// Unlike scanpy (which warns), non-integer or negative values are an error for SeuratV3, and nTop above the gene
    /// count is an error rather than "all genes". Exact ties in the seurat_v3 score are broken by gene order (numpy's
    /// quicksort order, which scanpy inherits, is not reproducible across numpy versions).
    /// </summary>
    public static HvgResult Select(SpatialData data, int nTop, HvgFlavor flavor, string? batchKey = null, string? layer = null,
        LoessSurface surface = LoessSurface.Interpolate)
    {
        ArgumentNullException.ThrowIfNull(data);
        CsrMatrix x;
        if (layer == null) x = data.X;
        else if (!data.Layers.TryGetValue(layer, out x!))
            throw new TesseraException($"unknown layer '{layer}'; available: {(data.Layers.Count == 0 ? "(none)" : string.Join(", ", data.Layers.Keys))}");
        if (nTop <= 0) throw new TesseraException($"the number of highly variable genes must be positive but is {nTop}");
        if (nTop > data.NVars) throw new TesseraException($"{nTop} highly variable genes were asked for but the data has {data.NVars} genes");
        if (data.NObs < 2) throw new TesseraException($"highly variable genes need at least 2 spots, the data has {data.NObs}");
        int[] batch; string[] batchNames;
        if (batchKey == null) { batch = new int[data.NObs]; batchNames = ["0"]; }
        else
        {
            var labels = data.Obs.Labels(batchKey);
            for (int i = 0; i < labels.Length; i++)
                if (labels[i] == null) throw new TesseraException($"obs column '{batchKey}' is missing for spot '{data.ObsNames[i]}'");
            batchNames = labels.Distinct().Order(StringComparer.Ordinal).Select(l => l!).ToArray();
            var map = batchNames.Select((b, i) => (b, i)).ToDictionary(t => t.b, t => t.i, StringComparer.Ordinal);
            batch = labels.Select(l => map[l!]).ToArray();
        }
        var batchRows = Enumerable.Range(0, batchNames.Length).Select(b => Enumerable.Range(0, data.NObs).Where(i => batch[i] == b).ToArray()).ToArray();
        for (int b = 0; b < batchRows.Length; b++)
            if (batchRows[b].Length < 2) throw new TesseraException($"batch '{batchNames[b]}' of obs column '{batchKey}' has {batchRows[b].Length} spot; highly variable genes need at least 2 per batch");
        return flavor switch
        {
            HvgFlavor.Seurat => Seurat(data, x, nTop, batchRows),
            HvgFlavor.SeuratV3 => SeuratV3(data, x, nTop, batchRows, layer, surface),
            _ => throw new ArgumentOutOfRangeException(nameof(flavor)),
        };
    }

    private static HvgResult SeuratV3(SpatialData data, CsrMatrix x, int nTop, int[][] batchRows, string? layer, LoessSurface surface)
    {
        for (int k = 0; k < x.Nnz; k++)
        {
            float v = x.Data[k];
            if (v < 0 || v != MathF.Floor(v) || !float.IsFinite(v))
            {
                int r = Normalize.RowOf(x, k);
                string what = v < 0 ? "negative" : "non-integer";
                throw new TesseraException($"seurat_v3 needs raw counts but {(layer == null ? "X" : $"layer '{layer}'")} has {what} value {v.ToString(CultureInfo.InvariantCulture)} (spot '{data.ObsNames[r]}', gene '{data.VarNames[x.Indices[k]]}'); pass the count layer");
            }
        }
        int g = x.Cols, nb = batchRows.Length;
        var (means, variances) = GeneStats.MeanVar(x);
        var normVars = new double[nb][];
        for (int b = 0; b < nb; b++)
        {
            var rows = batchRows[b];
            var (mean, var) = GeneStats.MeanVar(x, rows);
            var notConst = Enumerable.Range(0, g).Where(j => var[j] > 0).ToArray();
            if (notConst.Length == 0) throw new TesseraException($"all genes are constant{(nb > 1 ? $" in batch {b}" : "")}; no variable genes to select");
            var lx = notConst.Select(j => Math.Log10(mean[j])).ToArray();
            var ly = notConst.Select(j => Math.Log10(var[j])).ToArray();
            var fit = surface == LoessSurface.Direct ? Loess.FitDirect(lx, ly, SeuratV3Span, 2) : Loess.FitInterpolate(lx, ly, SeuratV3Span, 2);
            var estimat = new double[g];
            for (int t = 0; t < notConst.Length; t++) estimat[notConst[t]] = fit[t];
            var regStd = new double[g];
            for (int j = 0; j < g; j++) regStd[j] = Math.Sqrt(Math.Pow(10, estimat[j]));
            int n = rows.Length;
            double vmax = Math.Sqrt(n);
            var clip = new double[g];
            for (int j = 0; j < g; j++) clip[j] = regStd[j] * vmax + mean[j];
            var sum = new double[g]; var sumSq = new double[g];
            foreach (var r in rows)
                for (int k = x.IndPtr[r]; k < x.IndPtr[r + 1]; k++)
                {
                    int j = x.Indices[k];
                    double e = Math.Min(x.Data[k], clip[j]);
                    sum[j] += e; sumSq[j] += e * e;
                }
            var nv = new double[g];
            for (int j = 0; j < g; j++)
                nv[j] = 1 / ((n - 1) * regStd[j] * regStd[j]) * (n * mean[j] * mean[j] + sumSq[j] - 2 * sum[j] * mean[j]);
            normVars[b] = nv;
        }
        // ranks within each batch (0 = most variable); scanpy's argsort(argsort(-v)); ties broken by gene order here
        var nbatches = new int[g];
        var rankLists = new List<double>[g];
        for (int j = 0; j < g; j++) rankLists[j] = [];
        for (int b = 0; b < nb; b++)
        {
            var nv = normVars[b];
            var order = Enumerable.Range(0, g).OrderByDescending(j => nv[j]).ThenBy(j => j).ToArray();
            for (int r = 0; r < nTop; r++) { nbatches[order[r]]++; rankLists[order[r]].Add(r); }
        }
        var median = new double[g];
        for (int j = 0; j < g; j++)
        {
            var l = rankLists[j];
            if (l.Count == 0) { median[j] = double.NaN; continue; }
            l.Sort();
            // np.ma.median on float32 ranks: mean of the two middle values for an even count
            median[j] = l.Count % 2 == 1 ? l[l.Count / 2] : (double)(float)((l[l.Count / 2 - 1] + l[l.Count / 2]) / 2);
        }
        var variancesNorm = new double[g];
        for (int j = 0; j < g; j++) { double s = 0; for (int b = 0; b < nb; b++) s += normVars[b][j]; variancesNorm[j] = s / nb; }
        // scanpy: stable sort by (highly_variable_rank ascending, NaN last; highly_variable_nbatches descending)
        var sorted = Enumerable.Range(0, g)
            .OrderBy(j => double.IsNaN(median[j]) ? 1 : 0).ThenBy(j => double.IsNaN(median[j]) ? 0 : median[j])
            .ThenByDescending(j => nbatches[j]).ThenBy(j => j).ToArray();
        var mask = new bool[g];
        for (int r = 0; r < nTop; r++) mask[sorted[r]] = true;
        return new HvgResult
        {
            Flavor = HvgFlavor.SeuratV3, NTop = nTop, Genes = data.VarNames, Means = means, Variances = variances,
            VariancesNorm = variancesNorm, Rank = median, NBatches = nbatches, Mask = mask, BatchCount = nb,
        };
    }

    private static HvgResult Seurat(SpatialData data, CsrMatrix x, int nTop, int[][] batchRows)
    {
        int g = x.Cols, nb = batchRows.Length;
        double logBase = 1;
        if (data.Uns.TryGetValue("log1p", out var l1) && l1 is IDictionary<string, object> d1 && d1.TryGetValue("base", out var bs) && bs is double bd)
            logBase = Math.Log(bd);
        if (nb == 1)
        {
            var s = SeuratSingle(x, batchRows[0], nTop, logBase, null);
            var nbat = s.Mask.Select(m => m ? 1 : 0).ToArray();
            return new HvgResult
            {
                Flavor = HvgFlavor.Seurat, NTop = nTop, Genes = data.VarNames, Means = s.Means, Dispersions = s.Disp,
                DispersionsNorm = s.DispNorm, NBatches = nbat, Mask = s.Mask, BatchCount = 1,
            };
        }
        // scanpy: per batch on genes detected in that batch (filter_genes min_cells=1), zeros for the others, then
        // means of means / dispersions / dispersions_norm (NaN skipped) and the count of batches selecting the gene
        var sumMean = new double[g]; var sumDisp = new double[g]; var cntDisp = new int[g]; var sumNorm = new double[g]; var cntNorm = new int[g];
        var nbatches = new int[g];
        foreach (var rows in batchRows)
        {
            var detected = new bool[g];
            foreach (var r in rows) for (int k = x.IndPtr[r]; k < x.IndPtr[r + 1]; k++) if (x.Data[k] != 0) detected[x.Indices[k]] = true;
            var s = SeuratSingle(x, rows, nTop, logBase, detected);
            for (int j = 0; j < g; j++)
            {
                if (!detected[j]) { cntDisp[j]++; cntNorm[j]++; continue; }
                sumMean[j] += s.Means[j];
                if (!double.IsNaN(s.Disp[j])) { sumDisp[j] += s.Disp[j]; cntDisp[j]++; }
                if (!double.IsNaN(s.DispNorm[j])) { sumNorm[j] += s.DispNorm[j]; cntNorm[j]++; }
                if (s.Mask[j]) nbatches[j]++;
            }
        }
        var means = sumMean.Select(v => v / nb).ToArray();
        var disp = Enumerable.Range(0, g).Select(j => cntDisp[j] == 0 ? double.NaN : sumDisp[j] / cntDisp[j]).ToArray();
        var norm = Enumerable.Range(0, g).Select(j => cntNorm[j] == 0 ? double.NaN : sumNorm[j] / cntNorm[j]).ToArray();
        // sort by (nbatches, dispersions_norm) descending, NaN last (pandas sort_values is stable)
        var sorted = Enumerable.Range(0, g).OrderByDescending(j => nbatches[j])
            .ThenBy(j => double.IsNaN(norm[j]) ? 1 : 0).ThenByDescending(j => double.IsNaN(norm[j]) ? 0 : norm[j]).ThenBy(j => j).ToArray();
        var mask = new bool[g];
        for (int r = 0; r < nTop; r++) mask[sorted[r]] = true;
        return new HvgResult
        {
            Flavor = HvgFlavor.Seurat, NTop = nTop, Genes = data.VarNames, Means = means, Dispersions = disp,
            DispersionsNorm = norm, NBatches = nbatches, Mask = mask, BatchCount = nb,
        };
    }

    private sealed record SeuratStats(double[] Means, double[] Disp, double[] DispNorm, bool[] Mask);

    /// <summary>scanpy _highly_variable_genes_single_batch, flavor seurat, over the given rows and (optionally) detected genes only.</summary>
    private static SeuratStats SeuratSingle(CsrMatrix x, int[] rows, int nTop, double logBase, bool[]? genes)
    {
        int g = x.Cols;
        var (mean, var) = GeneStats.MeanVar(x, rows, v => logBase == 1 ? Math.Exp((double)v) - 1 : Math.Exp(v * logBase) - 1);
        var active = Enumerable.Range(0, g).Where(j => genes == null || genes[j]).ToArray();
        var means = new double[g]; var disp = new double[g]; var norm = new double[g];
        Array.Fill(means, double.NaN); Array.Fill(disp, double.NaN); Array.Fill(norm, double.NaN);
        foreach (var j in active)
        {
            double m = mean[j] == 0 ? 1e-12 : mean[j];
            double d = var[j] / m;
            disp[j] = d == 0 ? double.NaN : Math.Log(d);
            means[j] = Math.Log(1 + m);
        }
        // pandas.cut(means, 20): equal-width bins over [min, max], first edge lowered by 0.1% of the range, right-closed
        double mn = active.Min(j => means[j]), mx = active.Max(j => means[j]);
        var edges = new double[SeuratBins + 1];
        if (mn == mx)
        {
            double lo = mn - (mn != 0 ? 0.001 * Math.Abs(mn) : 0.001), hi = mx + (mx != 0 ? 0.001 * Math.Abs(mx) : 0.001);
            for (int i = 0; i <= SeuratBins; i++) edges[i] = lo + i * ((hi - lo) / SeuratBins);
            edges[SeuratBins] = hi;
        }
        else
        {
            double step = (mx - mn) / SeuratBins;
            for (int i = 0; i <= SeuratBins; i++) edges[i] = mn + i * step;
            edges[SeuratBins] = mx;
            edges[0] -= (mx - mn) * 0.001;
        }
        var bin = new int[g];
        foreach (var j in active)
        {
            // searchsorted(edges, v, side="left") - 1
            int lo = 0, hi = edges.Length;
            while (lo < hi) { int mid = (lo + hi) >> 1; if (edges[mid] < means[j]) lo = mid + 1; else hi = mid; }
            bin[j] = lo - 1;
        }
        var sum = new double[SeuratBins]; var cnt = new int[SeuratBins];
        foreach (var j in active) if (!double.IsNaN(disp[j])) { sum[bin[j]] += disp[j]; cnt[bin[j]]++; }
        var avg = new double[SeuratBins]; var dev = new double[SeuratBins];
        for (int b = 0; b < SeuratBins; b++) avg[b] = cnt[b] == 0 ? double.NaN : sum[b] / cnt[b];
        var ss = new double[SeuratBins];
        foreach (var j in active) if (!double.IsNaN(disp[j])) { double d = disp[j] - avg[bin[j]]; ss[bin[j]] += d * d; }
        for (int b = 0; b < SeuratBins; b++)
        {
            dev[b] = cnt[b] < 2 ? double.NaN : Math.Sqrt(ss[b] / (cnt[b] - 1));
            // scanpy: a bin whose std is NaN (a single gene) gets dev = avg and avg = 0, i.e. a normalised dispersion of 1
            if (double.IsNaN(dev[b])) { dev[b] = avg[b]; avg[b] = 0; }
        }
        foreach (var j in active) norm[j] = (disp[j] - avg[bin[j]]) / dev[bin[j]];
        // scanpy _nth_highest: keep genes whose normalised dispersion is >= the nTop-th highest (NaN never kept)
        var finite = active.Where(j => !double.IsNaN(norm[j])).Select(j => norm[j]).OrderByDescending(v => v).ToArray();
        var mask = new bool[g];
        if (finite.Length > 0)
        {
            double cut = finite[Math.Min(nTop, finite.Length) - 1];
            foreach (var j in active) mask[j] = !double.IsNaN(norm[j]) && norm[j] >= cut;
        }
        return new SeuratStats(means, disp, norm, mask);
    }
}
