using Tessera.Analysis;
using Tessera.Data;

namespace Tessera.Methods.Costa;

/// <summary>How final gene clusters are formed from an embedding.</summary>
public enum GeneClusterMethod
{
    /// <summary>UMAP to k dimensions, then a Gaussian mixture with k components (the authors' evaluation step).</summary>
    UmapGmm,
    /// <summary>k-means on the embedding.</summary>
    KMeans,
}

/// <summary>A query gene's similarity to one other gene across the ensemble.</summary>
public sealed record GeneSimilarity(string Query, string Gene, double MeanZ, int Models, bool Correlated);

/// <summary>A gene of the authors' correlated-gene list: in how many models it was flagged, and by which queries.</summary>
public sealed record CorrelatedGene(string Gene, int Models, string[] Queries);

/// <summary>
/// CoSTA's downstream analysis on an ensemble of embeddings (the authors' notebook cells 6–7): stable ("SE") genes by
/// neighbour-list Jaccard across models, and correlated genes of query genes by z-scored distances.
/// </summary>
public static class CostaAnalysis
{
    /// <summary>The authors' z-score threshold for a correlated gene in one model (≈ one-sided p 0.01).</summary>
    public const double DefaultThreshold = -2.325;

    /// <summary>
    /// Final gene clusters on an embedding. <see cref="GeneClusterMethod.UmapGmm"/> (default) is the authors' own clustering
    /// step, evaluation(): UMAP to k dimensions (n_neighbors 20, min_dist 0) and a full-covariance GMM with k components,
    /// here with 10 restarts (the best likelihood wins; one EM start lands in a poor optimum often enough to cost 0.06 NMI on
    /// the simulated patterns). <see cref="GeneClusterMethod.KMeans"/> runs k-means (10 restarts) on the embedding itself.
    /// </summary>
    public static int[] GeneClusters(DenseMatrix embedding, int k, GeneClusterMethod method = GeneClusterMethod.UmapGmm, int seed = 0, int nNeighbors = 20)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        if (k < 2) throw new TesseraException($"GeneClusters must be at least 2 but is {k}");
        if (embedding.Rows <= k) throw new TesseraException($"{embedding.Rows} genes are too few for {k} gene clusters");
        if (method == GeneClusterMethod.KMeans)
            return new KMeans(new KMeansOptions { Clusters = k, Restarts = 10, Seed = Nn.Seeding.Derive(seed, "costa-gene-kmeans") }).Fit(embedding).Labels;
        var u = new Umap(new UmapOptions { Neighbors = Math.Min(nNeighbors, embedding.Rows - 1), MinDist = 0, Components = k, Seed = Nn.Seeding.Derive(seed, "costa-gene-umap") }).FitTransform(embedding);
        var gmm = new GaussianMixture(new GaussianMixtureOptions { Components = k, Restarts = 10, Seed = Nn.Seeding.Derive(seed, "costa-gene-gmm") }).Fit(u);
        return gmm.Predict(u);
    }

    /// <summary>The authors' neighbourhood sizes for the stability score.</summary>
    public static readonly int[] DefaultKs = [5, 10, 15, 20, 25, 30, 40, 50, 100];

    /// <summary>
    /// Stability per gene: for each k, the mean over model pairs of Jaccard(top-k neighbours in model a, in model b)
    /// (Euclidean, self excluded), then the max over k. 100 neighbours are kept, so k = 100 is a real 100-list
    /// (the authors stored 50, making their k = 100 equal k = 50). Embeddings are genes × dim row-major.
    /// </summary>
    public static double[] Stability(IReadOnlyList<float[]> embeddings, int dim, IReadOnlyList<int>? ks = null, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.Count < 2) throw new TesseraException($"stability needs at least 2 models but got {embeddings.Count}");
        int n = embeddings[0].Length / dim;
        foreach (var e in embeddings)
            if (e.Length != n * dim) throw new TesseraException($"every embedding must have {n} genes × {dim} values but one has {e.Length}");
        ks ??= DefaultKs;
        int kMax = Math.Min(ks.Max(), n - 1);
        var lists = embeddings.Select(e => NearestNeighbors.Compute(e, n, dim, new NearestNeighborsOptions
        {
            Neighbors = kMax, IncludeSelf = false, Method = NeighborMethod.Exact, Seed = seed,
        })).ToArray();
        var best = new double[n];
        Parallel.For(0, n, i =>
        {
            double bestI = 0;
            foreach (int k0 in ks)
            {
                int k = Math.Min(k0, kMax);
                double sum = 0; int pairs = 0;
                for (int a = 0; a < lists.Length; a++)
                    for (int b = a + 1; b < lists.Length; b++)
                    {
                        var sa = new HashSet<int>(lists[a].Indices.AsSpan(i * kMax, k).ToArray());
                        int inter = 0;
                        foreach (var j in lists[b].Indices.AsSpan(i * kMax, k)) if (sa.Contains(j)) inter++;
                        sum += (double)inter / (2 * k - inter);
                        pairs++;
                    }
                bestI = Math.Max(bestI, sum / pairs);
            }
            best[i] = bestI;
        });
        return best;
    }

    /// <summary>
    /// Similarity of each query gene to every candidate gene (authors: the SE genes): per model, Euclidean distances
    /// from the query to the candidates and the query itself, z-scored (population SD, as scipy.stats.zscore);
    /// a gene is correlated when z &lt; threshold (−2.325 ≈ one-sided p 0.01) in at least minModels models.
    /// Returns every candidate per query, most similar (lowest mean z) first.
    /// </summary>
    public static IReadOnlyList<GeneSimilarity> Similarities(IReadOnlyList<float[]> embeddings, int dim, string[] genes,
        IReadOnlyList<string> queries, IReadOnlyList<int> candidates, double threshold = DefaultThreshold, int minModels = 3)
    {
        CheckQueryArgs(embeddings, genes, queries, minModels);
        var result = new List<GeneSimilarity>();
        foreach (var q in queries)
        {
            var (set, z) = QueryZ(embeddings, dim, genes, q, candidates);
            var zSum = new double[set.Length];
            var hits = new int[set.Length];
            foreach (var zm in z)
                for (int c = 0; c < set.Length; c++)
                {
                    zSum[c] += zm[c];
                    if (zm[c] < threshold) hits[c]++;
                }
            result.AddRange(Enumerable.Range(0, set.Length)
                .Select(c => new GeneSimilarity(q, genes[set[c]], zSum[c] / embeddings.Count, hits[c], hits[c] >= minModels))
                .OrderBy(s => s.MeanZ).ThenBy(s => s.Gene, StringComparer.Ordinal));
        }
        return result;
    }

    /// <summary>
    /// The authors' final correlated-gene list for a set of genes of interest (notebook cell 7): in each model, the union over
    /// the queries of the candidates with z &lt; threshold (a query counts when another query flags it, never for itself);
    /// a gene is listed when it is in that union in at least minModels models. Most models first, then by name.
    /// </summary>
    public static IReadOnlyList<CorrelatedGene> CorrelatedSet(IReadOnlyList<float[]> embeddings, int dim, string[] genes,
        IReadOnlyList<string> queries, IReadOnlyList<int> candidates, double threshold = DefaultThreshold, int minModels = 3)
    {
        CheckQueryArgs(embeddings, genes, queries, minModels);
        var inUnion = new bool[embeddings.Count, genes.Length];
        var flaggedBy = new SortedSet<string>[genes.Length];
        foreach (var q in queries.Distinct())
        {
            var (set, z) = QueryZ(embeddings, dim, genes, q, candidates);
            for (int m = 0; m < z.Length; m++)
                for (int c = 0; c < set.Length; c++)
                    if (z[m][c] < threshold)
                    {
                        inUnion[m, set[c]] = true;
                        (flaggedBy[set[c]] ??= new SortedSet<string>(StringComparer.Ordinal)).Add(q);
                    }
        }
        var result = new List<CorrelatedGene>();
        for (int g = 0; g < genes.Length; g++)
        {
            int models = 0;
            for (int m = 0; m < embeddings.Count; m++) if (inUnion[m, g]) models++;
            if (models >= minModels) result.Add(new CorrelatedGene(genes[g], models, [.. flaggedBy[g]!]));
        }
        return [.. result.OrderByDescending(x => x.Models).ThenBy(x => x.Gene, StringComparer.Ordinal)];
    }

    private static void CheckQueryArgs(IReadOnlyList<float[]> embeddings, string[] genes, IReadOnlyList<string> queries, int minModels)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(genes);
        ArgumentNullException.ThrowIfNull(queries);
        if (minModels < 1 || minModels > embeddings.Count) throw new TesseraException($"MinModels must be between 1 and the {embeddings.Count} models but is {minModels}");
        foreach (var q in queries)
            if (Array.IndexOf(genes, q) < 0) throw new TesseraException($"query gene '{q}' is not among the {genes.Length} genes");
    }

    // Per model, z-scored distances from the query to the candidates other than itself; the self distance 0 takes part in
    // the z-scoring as in the authors' code.
    private static (int[] Set, double[][] Z) QueryZ(IReadOnlyList<float[]> embeddings, int dim, string[] genes, string q, IReadOnlyList<int> candidates)
    {
        int qi = Array.IndexOf(genes, q);
        var set = candidates.Where(c => c != qi).ToArray();
        var z = new double[embeddings.Count][];
        for (int m = 0; m < embeddings.Count; m++)
        {
            var e = embeddings[m];
            var d = new double[set.Length + 1]; // last = self distance 0
            for (int c = 0; c < set.Length; c++)
            {
                double s = 0;
                for (int j = 0; j < dim; j++) { double t = e[(long)qi * dim + j] - e[(long)set[c] * dim + j]; s += t * t; }
                d[c] = Math.Sqrt(s);
            }
            double mean = d.Average(), sd = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / d.Length);
            z[m] = new double[set.Length];
            for (int c = 0; c < set.Length; c++) z[m][c] = sd > 0 ? (d[c] - mean) / sd : 0;
        }
        return (set, z);
    }
}
