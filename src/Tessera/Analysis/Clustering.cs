using Tessera.Data;

namespace Tessera.Analysis;

/// <summary>Clustering algorithms offered to users (<see cref="ClusteringOptions.Method"/>).</summary>
public enum ClusterMethod
{
    /// <summary>k-means (k-means++ init, restarts).</summary>
    KMeans,
    /// <summary>Gaussian mixture (EM); tied covariance = mclust EEE.</summary>
    Gmm,
    /// <summary>Leiden community detection on a kNN graph.</summary>
    Leiden,
}

/// <summary>Settings of <see cref="Clustering.Run"/>.</summary>
public sealed record ClusteringOptions
{
    /// <summary>Algorithm.</summary>
    public ClusterMethod Method { get; init; } = ClusterMethod.KMeans;
    /// <summary>Number of clusters (k-means, GMM).</summary>
    public int Clusters { get; init; } = 7;
    /// <summary>GMM covariance type.</summary>
    public CovarianceType Covariance { get; init; } = CovarianceType.Tied;
    /// <summary>k-means restarts (the Spotscape paper's protocol uses 10) and GMM initialisations.</summary>
    public int Restarts { get; init; } = 10;
    /// <summary>Leiden resolution.</summary>
    public double Resolution { get; init; } = 1.0;
    /// <summary>Leiden kNN graph size.</summary>
    public int Neighbors { get; init; } = 15;
    /// <summary>Seed.</summary>
    public int Seed { get; init; }
}

/// <summary>One entry point for turning an embedding into cluster labels (0-based ints).</summary>
public static class Clustering
{
    /// <summary>Clusters the rows of <paramref name="x"/>; <paramref name="progress"/> hears of k-means restarts and of which method runs.</summary>
    public static int[] Run(DenseMatrix x, ClusteringOptions o, IProgress<Progress>? progress = null)
    {
        if (x.Rows == 0) throw new TesseraException("nothing to cluster: the embedding has no rows");
        if (o.Method != ClusterMethod.Leiden && (o.Clusters < 1 || o.Clusters > x.Rows))
            throw new TesseraException($"Clusters must be between 1 and the {x.Rows} observations but is {o.Clusters}");
        for (int i = 0; i < x.Data.Length; i++)
            if (!double.IsFinite(x.Data[i])) throw new TesseraException($"the embedding has a non-finite value at row {i / x.Cols}, column {i % x.Cols}");
        if (o.Method != ClusterMethod.KMeans) progress.Note("clustering", $"{o.Method} on {x.Rows:N0} × {x.Cols}");
        return o.Method switch
        {
            ClusterMethod.KMeans => new KMeans(new KMeansOptions { Clusters = o.Clusters, Restarts = o.Restarts, Seed = o.Seed }).Fit(x, progress).Labels,
            ClusterMethod.Gmm => new GaussianMixture(new GaussianMixtureOptions { Components = o.Clusters, Covariance = o.Covariance, Restarts = 1, Seed = o.Seed }).Fit(x).Predict(x),
            ClusterMethod.Leiden => LeidenLabels(x, o),
            _ => throw new ArgumentOutOfRangeException(nameof(o)),
        };
    }

    private static int[] LeidenLabels(DenseMatrix x, ClusteringOptions o)
    {
        if (!(o.Resolution > 0)) throw new TesseraException($"Resolution must be positive but is {o.Resolution}");
        if (o.Neighbors < 2 || o.Neighbors >= x.Rows) throw new TesseraException($"Neighbors must be at least 2 and below the {x.Rows} observations but is {o.Neighbors}");
        return Leiden.Cluster(x, o.Neighbors, o.Resolution, o.Seed);
    }
}

/// <summary>Agreement of predicted clusters with reference labels (missing reference labels dropped).</summary>
/// <param name="N">Spots compared (reference label present).</param>
/// <param name="Ari">Adjusted Rand index.</param>
/// <param name="Nmi">Normalized mutual information (arithmetic).</param>
/// <param name="Ami">Adjusted mutual information.</param>
/// <param name="Ca">Clustering accuracy after Hungarian matching.</param>
/// <param name="MacroF1">Macro F1 after matching.</param>
/// <param name="MicroF1">Micro F1 after matching.</param>
/// <param name="Homogeneity">Homogeneity.</param>
/// <param name="Completeness">Completeness.</param>
public sealed record ClusterScores(int N, double Ari, double Nmi, double Ami, double Ca, double MacroF1, double MicroF1, double Homogeneity, double Completeness)
{
    /// <summary>Computes every score; pairs whose truth is missing (null, "", NA) are dropped.</summary>
    public static ClusterScores Compute(string?[] truth, string?[] pred)
    {
        if (truth.Length != pred.Length) throw new TesseraException($"truth has {truth.Length} labels but pred has {pred.Length}");
        var keep = Enumerable.Range(0, truth.Length).Where(i => !Contingency.IsMissing(truth[i]) && !Contingency.IsMissing(pred[i])).ToArray();
        if (keep.Length == 0) throw new TesseraException("no spot has both a reference and a predicted label");
        var t = keep.Select(i => truth[i]).ToArray(); var p = keep.Select(i => pred[i]).ToArray();
        return new ClusterScores(keep.Length, Metrics.AdjustedRandIndex(t, p), Metrics.NormalizedMutualInfo(t, p), Metrics.AdjustedMutualInfo(t, p),
            Metrics.ClusteringAccuracy(t, p), Metrics.MacroF1(t, p), Metrics.MicroF1(t, p), Metrics.Homogeneity(t, p), Metrics.Completeness(t, p));
    }

    /// <summary>The headline scores on one line.</summary>
    public override string ToString() =>
        FormattableString.Invariant($"ARI {Ari:F4}  NMI {Nmi:F4}  AMI {Ami:F4}  CA {Ca:F4}  macro-F1 {MacroF1:F4}  (n = {N})");

    /// <summary>Every score as JSON (keys n, ari, nmi, ami, ca, macro_f1, micro_f1, homogeneity, completeness).</summary>
    public System.Text.Json.Nodes.JsonObject ToJson() => new()
    {
        ["n"] = N, ["ari"] = Ari, ["nmi"] = Nmi, ["ami"] = Ami, ["ca"] = Ca, ["macro_f1"] = MacroF1, ["micro_f1"] = MicroF1,
        ["homogeneity"] = Homogeneity, ["completeness"] = Completeness,
    };
}
