using System.Globalization;
using System.Text.RegularExpressions;
using Tessera.Analysis;
using Tessera.Data;
using Tessera.IO;
using Tessera.Plotting;

namespace Tessera.Methods.Costa;

/// <summary>
/// What a CoSTA run gives: the gene images, each model's gene embedding, the stability score and SE flag of every gene,
/// gene clusters and a 2-d UMAP of the first model's embedding, and (when queries were given) the correlated genes.
/// Owns the run's file format: <see cref="Write"/> / <see cref="Read"/> (result.h5ad: genes × pixels with the embeddings
/// in obsm, plus genes.csv, training.csv and figures) and <see cref="AddTo"/> for the spots × genes data.
/// </summary>
public sealed partial class CostaResult
{
    /// <summary>File name of the result's AnnData in a run folder.</summary>
    public const string ResultFile = "result.h5ad";

    internal CostaResult(GeneImageSet images, IReadOnlyList<DenseMatrix> embeddings, IReadOnlyList<int[]> labels,
        IReadOnlyList<IReadOnlyList<CostaEpoch>> histories, double[] stability, bool[] se, int[] clusters, int clusterCount, DenseMatrix umap)
    {
        Images = images; Embeddings = embeddings; Labels = labels; Histories = histories; Stability = stability; Se = se;
        Clusters = clusters; ClusterCount = clusterCount; Umap = umap;
    }

    /// <summary>The gene images (one per gene; the tissue mask).</summary>
    public GeneImageSet Images { get; }
    /// <summary>Gene names, in the order of every per-gene array.</summary>
    public string[] Genes => Images.Genes;
    /// <summary>Each model's final embedding (genes × dim, L2-normalised rows).</summary>
    public IReadOnlyList<DenseMatrix> Embeddings { get; }
    /// <summary>Embedding length.</summary>
    public int Dim => Embeddings[0].Cols;
    /// <summary>Each model's final self-labelling (GMM) labels; empty when nothing was trained (Transform, Read).</summary>
    public IReadOnlyList<int[]> Labels { get; }
    /// <summary>Each model's training history; empty when nothing was trained (Transform, Read).</summary>
    public IReadOnlyList<IReadOnlyList<CostaEpoch>> Histories { get; }
    /// <summary>Stability (max over k of the mean pairwise neighbour Jaccard); NaN with a single model.</summary>
    public double[] Stability { get; }
    /// <summary>SE flag (stability ≥ the threshold; all true with a single model).</summary>
    public bool[] Se { get; }
    /// <summary>Gene cluster of every gene (on the first model's embedding); −1 where unknown.</summary>
    public int[] Clusters { get; }
    /// <summary>Number of gene clusters asked for (the options' count, at most the number of genes).</summary>
    public int ClusterCount { get; }
    /// <summary>2-d UMAP of the first model's embedding (cosine, min_dist 0.1), for plotting.</summary>
    public DenseMatrix Umap { get; }
    /// <summary>Correlated genes of the options' queries; null when none were asked for.</summary>
    public CostaCorrelation? Correlation { get; private set; }

    /// <summary>The analysis of an ensemble's embeddings: stability and SE genes, gene clusters, UMAP, correlated genes.</summary>
    internal static CostaResult Analyse(GeneImageSet images, List<float[]> embs, int dim, IReadOnlyList<int[]> labels,
        IReadOnlyList<IReadOnlyList<CostaEpoch>> histories, CostaOptions o, IProgress<Progress>? progress, CancellationToken ct)
    {
        const string stage = "CoSTA analysis";
        int n = images.Count;
        double[] stab; bool[] se;
        ct.ThrowIfCancellationRequested();
        if (embs.Count >= 2)
        {
            stab = CostaAnalysis.Stability(embs, dim, seed: o.Seed);
            se = stab.Select(s => s >= o.SeThreshold).ToArray();
        }
        else { stab = Enumerable.Repeat(double.NaN, n).ToArray(); se = Enumerable.Repeat(true, n).ToArray(); }
        var emb = DenseMatrix.FromFloat(n, dim, embs[0]);
        int k = Math.Min(o.GeneClusters, n);
        ct.ThrowIfCancellationRequested();
        var clusters = CostaAnalysis.GeneClusters(emb, k, o.GeneClusterMethod, o.Seed);
        ct.ThrowIfCancellationRequested();
        var umap = new Umap(new UmapOptions { Neighbors = Math.Min(15, n - 1), MinDist = 0.1, Metric = NeighborMetric.Cosine, Seed = o.Seed }).FitTransform(emb);
        progress.Note(stage, embs.Count >= 2 ? $"{se.Count(b => b)} SE genes (stability >= {o.SeThreshold}) of {n}" : "one model: no stability score, every gene is a candidate");
        var embeddings = embs.Select(e => DenseMatrix.FromFloat(n, dim, e)).ToArray();
        var result = new CostaResult(images, embeddings, labels, histories, stab, se, clusters, k, umap);
        if (o.Queries.Count > 0) result.Correlation = result.Correlate(o.Queries, o.CorrelationThreshold, o.EffectiveMinModels);
        return result;
    }

    /// <summary>
    /// Correlated genes of <paramref name="queries"/> (the authors' notebook cell 7): per model, z-scored distances from each
    /// query to the candidate genes (the SE genes, or every gene with <paramref name="allGenes"/>); a gene is correlated
    /// when z &lt; <paramref name="threshold"/> in at least <paramref name="minModels"/> models (null: 3, or all models when fewer).
    /// </summary>
    public CostaCorrelation Correlate(IReadOnlyList<string> queries, double threshold = CostaAnalysis.DefaultThreshold, int? minModels = null, bool allGenes = false)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var qs = queries.Distinct().ToArray();
        if (qs.Length == 0) throw new TesseraException("Queries names no gene");
        if (!double.IsFinite(threshold)) throw new TesseraException($"CorrelationThreshold must be a finite z-score but is {threshold}");
        foreach (var q in qs) Images.IndexOf(q);
        int mm = minModels ?? Math.Min(3, Embeddings.Count);
        var candidates = Enumerable.Range(0, Genes.Length).Where(i => allGenes || Se[i]).ToArray();
        var embs = Embeddings.Select(e => e.ToFloatArray()).ToList();
        var sims = CostaAnalysis.Similarities(embs, Dim, Genes, qs, candidates, threshold, mm);
        var set = CostaAnalysis.CorrelatedSet(embs, Dim, Genes, qs, candidates, threshold, mm);
        return new CostaCorrelation(Images, qs, threshold, mm, candidates.Length, sims, set);
    }

    /// <summary>
    /// Writes the result into the spots × genes data it came from: var <c>{key}_cluster</c> (categorical), <c>{key}_se</c>,
    /// <c>{key}_stability</c>; varm <c>X_{key}</c> (first model), <c>X_{key}_2</c>, ... (further models) and
    /// <c>X_{key}_umap</c> — the obs/obsm of result.h5ad, here per gene. Genes that were not imaged (too few spots) get a
    /// missing cluster, false, NaN and NaN rows. uns[key] holds the imaged genes, the image shape and tissue mask, the
    /// training history (the columns of training.csv) and the correlated genes (those of correlated.csv and correlated_set.csv).
    /// </summary>
    public void AddTo(SpatialData data, string key = "costa")
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var row = new int[Genes.Length];
        for (int g = 0; g < Genes.Length; g++)
        {
            row[g] = data.Var.IndexOf(Genes[g]);
            if (row[g] < 0) throw new TesseraException($"gene '{Genes[g]}' of the CoSTA result is not in the data ({data.NVars} genes)");
        }
        int nv = data.NVars;
        var cluster = Enumerable.Repeat(-1, nv).ToArray();
        var se = new bool[nv];
        var stab = Enumerable.Repeat(double.NaN, nv).ToArray();
        for (int g = 0; g < Genes.Length; g++) { cluster[row[g]] = Clusters[g]; se[row[g]] = Se[g]; stab[row[g]] = Stability[g]; }
        data.Var.Set($"{key}_cluster", CategoricalColumn.FromInts(cluster));
        data.Var.Set($"{key}_se", new BoolColumn(se));
        data.Var.Set($"{key}_stability", new NumericColumn(stab));
        for (int m = 0; m < Embeddings.Count; m++) data.SetVarm(m == 0 ? $"X_{key}" : $"X_{key}_{m + 1}", PerVar(Embeddings[m], row, nv));
        data.SetVarm($"X_{key}_umap", PerVar(Umap, row, nv));
        var uns = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["genes"] = (string?[])Genes.Clone(),
            ["models"] = (long)Embeddings.Count,
            ["image_shape"] = new long[] { Images.Height, Images.Width },
            ["in_tissue"] = (bool[])Images.Mask.Clone(),
        };
        if (Histories.Count > 0)
        {
            var rows = Histories.SelectMany((h, m) => h.Select(e => (Model: m + 1, Epoch: e))).ToArray();
            uns["training"] = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["model"] = rows.Select(r => (long)r.Model).ToArray(), ["epoch"] = rows.Select(r => (long)r.Epoch.Epoch).ToArray(),
                ["loss"] = rows.Select(r => r.Epoch.Loss).ToArray(), ["nmi"] = rows.Select(r => r.Epoch.Nmi).ToArray(),
            };
        }
        if (Correlation is { } c)
        {
            uns["correlated"] = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["query"] = c.Similarities.Select(s => (string?)s.Query).ToArray(), ["gene"] = c.Similarities.Select(s => (string?)s.Gene).ToArray(),
                ["z"] = c.Similarities.Select(s => s.MeanZ).ToArray(), ["models"] = c.Similarities.Select(s => (long)s.Models).ToArray(),
                ["correlated"] = c.Similarities.Select(s => s.Correlated).ToArray(),
            };
            uns["correlated_set"] = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["gene"] = c.Set.Select(s => (string?)s.Gene).ToArray(), ["models"] = c.Set.Select(s => (long)s.Models).ToArray(),
                ["queries"] = c.Set.Select(s => (string?)string.Join(';', s.Queries)).ToArray(),
            };
        }
        data.Uns[key] = uns;
    }

    private static DenseMatrix PerVar(DenseMatrix m, int[] row, int nv)
    {
        var d = new double[(long)nv * m.Cols];
        Array.Fill(d, double.NaN);
        for (int g = 0; g < row.Length; g++)
            for (int j = 0; j < m.Cols; j++) d[(long)row[g] * m.Cols + j] = m[g, j];
        return new DenseMatrix(nv, m.Cols, d);
    }

    /// <summary>
    /// The result as result.h5ad holds it: genes × pixels (X = the gene images, var names px{row}_{col}, var in_tissue),
    /// obs cluster / se / stability, obsm X_costa (first model), X_costa_2, ... and X_umap.
    /// </summary>
    public SpatialData ToSpatialData()
    {
        var obs = new Table(Genes, "gene");
        obs.Set("cluster", CategoricalColumn.FromInts(Clusters));
        obs.Set("se", new BoolColumn(Se));
        obs.Set("stability", new NumericColumn(Stability));
        int p = Images.PixelCount;
        var pixVar = new Table(Enumerable.Range(0, p).Select(i => $"px{i / Images.Width}_{i % Images.Width}").ToArray());
        pixVar.Set("in_tissue", new BoolColumn(Images.Mask));
        var dense = new float[Images.Count, p];
        for (int g = 0; g < Images.Count; g++) for (int i = 0; i < p; i++) dense[g, i] = Images.Pixels[g * p + i];
        var result = new SpatialData(CsrMatrix.FromDense(dense), obs, pixVar);
        for (int m = 0; m < Embeddings.Count; m++) result.SetObsm(m == 0 ? "X_costa" : $"X_costa_{m + 1}", Embeddings[m]);
        result.SetObsm("X_umap", Umap);
        return result;
    }

    /// <summary>Reads back a result written by <see cref="ToSpatialData"/>; <paramref name="source"/> names it in error messages.</summary>
    public static CostaResult FromSpatialData(SpatialData data, string source = "the data")
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!data.Obsm.TryGetValue("X_costa", out var first))
            throw new TesseraException($"{source} has no obsm 'X_costa': not a CoSTA result");
        var embs = new List<DenseMatrix> { first };
        for (int m = 2; data.Obsm.TryGetValue($"X_costa_{m}", out var e); m++)
        {
            if (e.Cols != first.Cols) throw new TesseraException($"{source}: obsm 'X_costa_{m}' has {e.Cols} columns but 'X_costa' has {first.Cols}");
            embs.Add(e);
        }
        if (!data.Obsm.TryGetValue("X_umap", out var umap)) throw new TesseraException($"{source} has no obsm 'X_umap': not a CoSTA result");
        var images = ImagesOf(data, source);
        int n = data.NObs;
        var se = data.Obs.Contains("se") ? Flags(data.Obs["se"], "se", source) : Enumerable.Repeat(true, n).ToArray();
        var stab = data.Obs.Contains("stability") && data.Obs["stability"] is NumericColumn sc ? sc.Values : Enumerable.Repeat(double.NaN, n).ToArray();
        var clusters = data.Obs.Contains("cluster")
            ? data.Obs.Labels("cluster").Select(l => l is null ? -1 : int.Parse(l, CultureInfo.InvariantCulture)).ToArray()
            : Enumerable.Repeat(-1, n).ToArray();
        return new CostaResult(images, embs, [], [], stab, se, clusters, clusters.Length == 0 ? 0 : clusters.Max() + 1, umap);
    }

    /// <summary>Reads result.h5ad (or the run folder holding it).</summary>
    public static CostaResult Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) path = Path.Combine(path, ResultFile);
        return FromSpatialData(H5ad.Read(path), path);
    }

    /// <summary>
    /// Writes the run's files into <paramref name="directory"/>: result.h5ad, genes.csv, training.csv (when trained),
    /// gene_umap.png, cluster_images.png, nmi.png (when trained for at least one epoch) and, with a correlation, its files
    /// (<see cref="CostaCorrelation.Write"/>).
    /// </summary>
    public void Write(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        string F(string name) => Path.Combine(directory, name);
        H5ad.Write(ToSpatialData(), F(ResultFile));
        var inv = CultureInfo.InvariantCulture;
        CsvTable.Write(F("genes.csv"), ["gene", "cluster", "se", "stability"], Genes.Select((g, i) =>
            (IReadOnlyList<string>)[g, Clusters[i].ToString(inv), Se[i] ? "True" : "False", Stability[i].ToString("R", inv)]));
        if (Histories.Count > 0)
            CsvTable.Write(F("training.csv"), ["model", "epoch", "loss", "nmi", "train_s", "feature_s", "umap_s", "gmm_s"],
                Histories.SelectMany((h, m) => h.Select(e => (IReadOnlyList<string>)[(m + 1).ToString(inv), e.Epoch.ToString(inv),
                    e.Loss.ToString("R", inv), e.Nmi.ToString("R", inv), e.TrainSeconds.ToString("F2", inv), e.FeatureSeconds.ToString("F2", inv),
                    e.UmapSeconds.ToString("F2", inv), e.GmmSeconds.ToString("F2", inv)])));
        Figures.SavePng(CostaFigures.GeneUmap(this), F("gene_umap.png"), 1000, 850);
        Figures.SavePng(CostaFigures.ClusterMeans(Images, Clusters, ClusterCount, "Mean gene image per cluster"), F("cluster_images.png"), 1000, 1000);
        if (CostaFigures.Nmi(this) is { } nmi) Figures.SavePng(nmi, F("nmi.png"), 900, 600);
        Correlation?.Write(directory);
    }

    // The gene images stored in X (genes × pixels, var names px{row}_{col}, var in_tissue).
    private static GeneImageSet ImagesOf(SpatialData data, string source)
    {
        var rc = new (int Row, int Col)[data.NVars];
        int h = 0, w = 0;
        for (int j = 0; j < data.NVars; j++)
        {
            var m = PixelName().Match(data.VarNames[j]);
            if (!m.Success) throw new TesseraException($"{source} is not a CoSTA result: column '{data.VarNames[j]}' is not a pixel (px<row>_<col>)");
            rc[j] = (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            h = Math.Max(h, rc[j].Row + 1);
            w = Math.Max(w, rc[j].Col + 1);
        }
        if ((long)h * w != data.NVars) throw new TesseraException($"{source} is not a CoSTA result: {data.NVars} pixel columns do not fill a {h}x{w} image");
        var at = rc.Select(p => p.Row * w + p.Col).ToArray(); // image position of each column
        var pixels = new float[(long)data.NObs * data.NVars];
        var x = data.X;
        for (int g = 0; g < x.Rows; g++)
            for (int k = x.IndPtr[g]; k < x.IndPtr[g + 1]; k++) pixels[(long)g * data.NVars + at[x.Indices[k]]] = x.Data[k];
        bool[]? mask = null;
        if (data.Var.Contains("in_tissue"))
        {
            var inTissue = Flags(data.Var["in_tissue"], "in_tissue", source);
            mask = new bool[data.NVars];
            for (int j = 0; j < data.NVars; j++) mask[at[j]] = inTissue[j];
        }
        return new GeneImageSet(data.ObsNames, h, w, pixels, mask);
    }

    private static bool[] Flags(Column c, string name, string source) => c switch
    {
        BoolColumn b => b.Values,
        _ => [.. Enumerable.Range(0, c.Length).Select(i => c.Format(i) switch
        {
            "True" or "true" or "1" => true,
            "False" or "false" or "0" => false,
            var v => throw new TesseraException($"{source}: column '{name}' holds '{v}', not a true/false flag"),
        })],
    };

    [GeneratedRegex(@"^px(\d+)_(\d+)$")]
    private static partial Regex PixelName();
}

/// <summary>Correlated genes of query genes on a <see cref="CostaResult"/> (see <see cref="CostaResult.Correlate"/>).</summary>
public sealed class CostaCorrelation
{
    private readonly GeneImageSet images;

    internal CostaCorrelation(GeneImageSet images, string[] queries, double threshold, int minModels, int candidates,
        IReadOnlyList<GeneSimilarity> similarities, IReadOnlyList<CorrelatedGene> set)
    {
        this.images = images; Queries = queries; Threshold = threshold; MinModels = minModels; Candidates = candidates;
        Similarities = similarities; Set = set;
    }

    /// <summary>The query genes (distinct, in the order given).</summary>
    public IReadOnlyList<string> Queries { get; }
    /// <summary>z-score threshold per model.</summary>
    public double Threshold { get; }
    /// <summary>Models in which a gene must pass.</summary>
    public int MinModels { get; }
    /// <summary>Number of candidate genes compared with.</summary>
    public int Candidates { get; }
    /// <summary>Every candidate per query, most similar (lowest mean z) first.</summary>
    public IReadOnlyList<GeneSimilarity> Similarities { get; }
    /// <summary>The authors' list: per model the union over the queries, in at least <see cref="MinModels"/> models.</summary>
    public IReadOnlyList<CorrelatedGene> Set { get; }

    /// <summary>Writes correlated.csv (<see cref="Similarities"/>), correlated_set.csv (<see cref="Set"/>) and query_images.png into <paramref name="directory"/>.</summary>
    public void Write(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var inv = CultureInfo.InvariantCulture;
        CsvTable.Write(Path.Combine(directory, "correlated.csv"), ["query", "gene", "z", "models", "correlated"], Similarities.Select(x =>
            (IReadOnlyList<string>)[x.Query, x.Gene, x.MeanZ.ToString("F4", inv), x.Models.ToString(inv), x.Correlated ? "True" : "False"]));
        CsvTable.Write(Path.Combine(directory, "correlated_set.csv"), ["gene", "models", "queries"], Set.Select(x =>
            (IReadOnlyList<string>)[x.Gene, x.Models.ToString(inv), string.Join(';', x.Queries)]));
        Figures.SavePng(CostaFigures.QueryImages(images, this), Path.Combine(directory, "query_images.png"), 1200, Math.Max(300, 260 * Queries.Count));
    }

    /// <summary>One line per query (its most similar genes and those correlated) and one for the authors' list.</summary>
    public IEnumerable<string> Summary()
    {
        foreach (var q in Queries)
            yield return $"{q}: most similar {string.Join(", ", Similarities.Where(x => x.Query == q).Take(5).Select(x => $"{x.Gene} ({x.MeanZ:F2}, {x.Models})"))}; "
                + $"correlated in >= {MinModels} models: {Listed(Similarities.Where(x => x.Query == q && x.Correlated).Select(x => x.Gene))}";
        yield return $"correlated with the query set (union over queries per model, >= {MinModels} models): {Listed(Set.Select(x => $"{x.Gene} ({x.Models})"))}";
    }

    private static string Listed(IEnumerable<string> items)
    {
        var l = items.Take(21).ToList();
        return l.Count == 0 ? "none" : string.Join(", ", l.Take(20)) + (l.Count > 20 ? ", ..." : "");
    }
}
