using System.Globalization;
using System.Text.Json.Nodes;
using Tessera.Analysis;
using Tessera.Data;

namespace Tessera.Methods.Spotscape;

/// <summary>One slice of a result: its name, spot count and the graph radius used.</summary>
public sealed record SliceInfo(string Name, int Spots, double Radius);

/// <summary>Scores of one slice's domains against the reference.</summary>
public sealed record SliceScores(string Slice, ClusterScores Scores);

/// <summary>
/// Domain scores of one run against the reference column: the joint scores, the silhouette of the domains in the
/// embedding, the other clustering protocol on the same embedding (k-means ↔ GMM tied; the paper uses k-means, most DLPFC
/// papers mclust EEE = GMM tied; it costs seconds so both are reported), and per slice when there are several.
/// </summary>
public sealed record DomainScores(ClusterScores Joint, double Silhouette, ClusterMethod OtherMethod, ClusterScores Other, IReadOnlyList<SliceScores>? PerSlice)
{
    /// <summary>As JSON: joint, silhouette, other {cluster_method, joint}, per_slice {name: scores}.</summary>
    public void WriteTo(JsonObject entry)
    {
        entry["joint"] = Joint.ToJson();
        entry["silhouette"] = Silhouette;
        entry["other"] = new JsonObject { ["cluster_method"] = OtherMethod.ToString(), ["joint"] = Other.ToJson() };
        if (PerSlice is { } per)
        {
            var o = new JsonObject();
            foreach (var s in per) o[s.Slice] = s.Scores.ToJson();
            entry["per_slice"] = o;
        }
    }
}

/// <summary>
/// Slice mixing per domain (scIB's batch ASW): 1 − |silhouette of the slice labels| among each domain's spots (at most
/// 3000 per domain), and its mean over the domains where it is defined.
/// </summary>
public sealed record SliceMixing(double Mean, IReadOnlyList<GroupMixing> PerDomain, IReadOnlyList<string> DomainNames)
{
    /// <summary>Scores mixing of <paramref name="batch"/> within each of <paramref name="domains"/> (0-based ids; names default to the ids).</summary>
    public static SliceMixing Compute(DenseMatrix embedding, int[] batch, int[] domains, int seed, IReadOnlyList<string>? domainNames = null)
    {
        var mix = Metrics.BatchMixing(embedding, batch, domains, 3000, seed);
        var finite = mix.Where(m => double.IsFinite(m.Mixing)).ToArray();
        double mean = finite.Length > 0 ? finite.Average(m => m.Mixing) : double.NaN;
        var names = mix.Select(m => domainNames?[m.Group] ?? m.Group.ToString(CultureInfo.InvariantCulture)).ToArray();
        return new SliceMixing(mean, mix, names);
    }

    /// <summary>As JSON: mean_mixing and per_domain [{domain, n, slices, silhouette, mixing}] (undefined values as null).</summary>
    public JsonObject ToJson()
    {
        var per = new JsonArray();
        for (int i = 0; i < PerDomain.Count; i++)
        {
            var m = PerDomain[i];
            per.Add(new JsonObject { ["domain"] = DomainNames[i], ["n"] = m.N, ["slices"] = m.Batches,
                ["silhouette"] = double.IsFinite(m.Silhouette) ? m.Silhouette : null, ["mixing"] = double.IsFinite(m.Mixing) ? m.Mixing : null });
        }
        return new JsonObject { ["mean_mixing"] = double.IsFinite(Mean) ? Mean : null, ["per_domain"] = per };
    }
}

/// <summary>
/// Spatial domains of one Spotscape run (or of the PCA baseline): the embedding, one domain per spot, the slices, the
/// training record and, when <see cref="SpotscapeOptions.TruthColumn"/> is set, the scores.
/// </summary>
public sealed class SpotscapeResult
{
    /// <summary>Seed of the run.</summary>
    public required int Seed { get; init; }
    /// <summary>Embedding method.</summary>
    public required DomainMethod Method { get; init; }
    /// <summary>Clustering used for <see cref="Labels"/>.</summary>
    public required ClusterMethod ClusterMethod { get; init; }
    /// <summary>Embedding (rows = spots): Spotscape's non-negative encoder output, or the baseline's PCA scores.</summary>
    public required DenseMatrix Embedding { get; init; }
    /// <summary>Domain per spot (0-based).</summary>
    public required int[] Labels { get; init; }
    /// <summary>The slices, in order.</summary>
    public required IReadOnlyList<SliceInfo> Slices { get; init; }
    /// <summary>Slice index of every spot.</summary>
    public required int[] SliceOf { get; init; }
    /// <summary>Spot names as in the input slices; null for a bare <see cref="SpotscapeInput"/>.</summary>
    public string[]? SpotNames { get; init; }
    /// <summary>The prepared data the result belongs to (log-normalised genes used, layer "counts", obs "slice"); null for a bare input.</summary>
    public SpatialData? Data { get; init; }
    /// <summary>Reference labels (<see cref="SpotscapeOptions.TruthColumn"/>), or null.</summary>
    public string?[]? Truth { get; init; }
    /// <summary>Training record (loss history, learning rate, …); null for the baseline and for a transform.</summary>
    public SpotscapeFitReport? Training { get; init; }
    /// <summary>Seconds spent training and embedding.</summary>
    public required double Seconds { get; init; }
    /// <summary>Scores against <see cref="Truth"/>; null without a truth column (or, for a transform, when the data lack it).</summary>
    public DomainScores? Scores { get; init; }
    /// <summary>Slice mixing within domains; null for one slice.</summary>
    public SliceMixing? Mixing { get; init; }

    /// <summary>The domain labels as strings ("0", "1", …), as obs["domain"] holds them.</summary>
    public string?[] DomainNames() => Labels.Select(l => (string?)l.ToString(CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The obsm key of the embedding: X_spotscape, or X_pca for the baseline.</summary>
    public string EmbeddingKey => Method == DomainMethod.Spotscape ? "X_spotscape" : "X_pca";

    /// <summary>
    /// Writes obsm[<paramref name="key"/>] = the embedding (default <see cref="EmbeddingKey"/>) and obs["domain"] = the domains
    /// (categorical), as the domains result file has them. <paramref name="data"/> must have the result's spots, in order.
    /// </summary>
    public void AddTo(SpatialData data, string? key = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.NObs != Labels.Length) throw new TesseraException($"data has {data.NObs} spots but the result has {Labels.Length}");
        data.SetObsm(key ?? EmbeddingKey, Embedding);
        data.Obs.Set("domain", CategoricalColumn.FromInts(Labels));
    }

    /// <summary>This run as a metrics entry: seed, seconds, seconds_per_epoch, the scores and batch_mixing.</summary>
    public JsonObject ToJson()
    {
        var entry = new JsonObject { ["seed"] = Seed, ["seconds"] = Math.Round(Seconds, 2) };
        if (Training is { } t) entry["seconds_per_epoch"] = Math.Round(t.SecondsPerEpoch, 4);
        Scores?.WriteTo(entry);
        if (Mixing is { } m) entry["batch_mixing"] = m.ToJson();
        return entry;
    }

    internal static SpotscapeResult Create(PreparedSlices p, DenseMatrix embedding, SpotscapeOptions o, SpotscapeFitReport? training, double seconds, CancellationToken ct, IProgress<Progress>? progress = null)
    {
        var truth = o.TruthColumn is { } col && p.Data.Obs.Contains(col) ? p.Data.Obs.Labels(col) : null;
        var slices = p.SliceNames.Select((n, b) => new SliceInfo(n, p.SliceSizes[b], p.Radii[b])).ToArray();
        return Create(embedding, o, training, seconds, slices, p.SliceOf, p.SpotNames, p.Data, truth, ct, progress);
    }

    internal static SpotscapeResult Create(SpotscapeInput input, DenseMatrix embedding, SpotscapeOptions o, SpotscapeFitReport? training, double seconds, CancellationToken ct, IProgress<Progress>? progress = null)
    {
        var slices = Enumerable.Range(0, input.SliceIds.Max() + 1).Select(b => new SliceInfo($"slice{b}", input.SliceIds.Count(s => s == b), double.NaN)).ToArray();
        return Create(embedding, o, training, seconds, slices, input.SliceIds, null, null, null, ct, progress);
    }

    private static SpotscapeResult Create(DenseMatrix embedding, SpotscapeOptions o, SpotscapeFitReport? training, double seconds,
        SliceInfo[] slices, int[] sliceOf, string[]? spotNames, SpatialData? data, string?[]? truth, CancellationToken ct, IProgress<Progress>? progress)
    {
        ct.ThrowIfCancellationRequested();
        int seed = o.Seed;
        var labels = SpotscapeTrainer.Cluster(embedding, o.ClusterMethod, o.Clusters, seed, progress);
        DomainScores? scores = null;
        if (truth != null)
        {
            ct.ThrowIfCancellationRequested();
            var pred = labels.Select(l => (string?)l.ToString(CultureInfo.InvariantCulture)).ToArray();
            var joint = ClusterScores.Compute(truth, pred);
            var silhouette = Metrics.Silhouette(embedding, labels, embedding.Rows > 5000 ? 5000 : null, seed);
            var otherMethod = o.ClusterMethod == ClusterMethod.KMeans ? ClusterMethod.Gmm : ClusterMethod.KMeans;
            var otherLabels = SpotscapeTrainer.Cluster(embedding, otherMethod, o.Clusters, seed, progress);
            var other = ClusterScores.Compute(truth, otherLabels.Select(l => (string?)l.ToString(CultureInfo.InvariantCulture)).ToArray());
            List<SliceScores>? per = null;
            if (slices.Length > 1)
            {
                per = [];
                for (int b = 0; b < slices.Length; b++)
                {
                    var idx = Enumerable.Range(0, sliceOf.Length).Where(i => sliceOf[i] == b).ToArray();
                    per.Add(new SliceScores(slices[b].Name, ClusterScores.Compute(idx.Select(i => truth[i]).ToArray(), idx.Select(i => pred[i]).ToArray())));
                }
            }
            scores = new DomainScores(joint, silhouette, otherMethod, other, per);
        }
        ct.ThrowIfCancellationRequested();
        var mixing = slices.Length > 1 ? SliceMixing.Compute(embedding, sliceOf, labels, seed) : null;
        return new SpotscapeResult
        {
            Seed = seed, Method = o.Method, ClusterMethod = o.ClusterMethod, Embedding = embedding, Labels = labels, Slices = slices,
            SliceOf = sliceOf, SpotNames = spotNames, Data = data, Truth = truth, Training = training, Seconds = seconds,
            Scores = scores, Mixing = mixing,
        };
    }
}

/// <summary>The metrics of one or more runs (seeds) of the same options: per-run entries and mean ± sd over the runs.</summary>
public static class DomainMetrics
{
    /// <summary>
    /// metrics.json of a domains run: method, cluster_method, clusters, runs (see <see cref="SpotscapeResult.ToJson"/>) and,
    /// with a truth column, summary and summary_other (mean, sd, n of ari, nmi, ca, macro_f1 over the runs).
    /// </summary>
    public static JsonObject ToJson(IReadOnlyList<SpotscapeResult> runs, SpotscapeOptions options)
    {
        ArgumentNullException.ThrowIfNull(runs); ArgumentNullException.ThrowIfNull(options);
        if (runs.Count == 0) throw new TesseraException("no runs given");
        var perSeed = new JsonArray();
        foreach (var r in runs) perSeed.Add(r.ToJson());
        var metrics = new JsonObject { ["method"] = options.Method.ToString(), ["cluster_method"] = options.ClusterMethod.ToString(), ["clusters"] = options.Clusters, ["runs"] = perSeed };
        if (runs.All(r => r.Scores != null))
        {
            metrics["summary"] = Summary(runs.Select(r => r.Scores!.Joint));
            metrics["summary_other"] = Summary(runs.Select(r => r.Scores!.Other));
        }
        return metrics;
    }

    /// <summary>Mean, sample sd and n of ARI, NMI, CA and macro-F1 over runs.</summary>
    public static JsonObject Summary(IEnumerable<ClusterScores> scores)
    {
        var all = scores.ToArray();
        var o = new JsonObject();
        foreach (var (k, f) in new (string, Func<ClusterScores, double>)[] { ("ari", s => s.Ari), ("nmi", s => s.Nmi), ("ca", s => s.Ca), ("macro_f1", s => s.MacroF1) })
        {
            var v = all.Select(f).ToArray();
            double mean = v.Average(), sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
            o[k] = new JsonObject { ["mean"] = mean, ["sd"] = sd, ["n"] = v.Length };
        }
        return o;
    }
}
