using Tessera.Data;
using Tessera.IO;
using Tessera.Plotting;

namespace Tessera.Cli.Infrastructure;

/// <summary>The standard figures a computing command writes.</summary>
public static class RunFigures
{
    /// <summary>The best tissue image to draw under spots (hires, else lowres, else the first).</summary>
    public static TissueImage? Underlay(SpatialData data) =>
        data.Images.FirstOrDefault(i => i.Name.EndsWith("hires", StringComparison.Ordinal))
        ?? data.Images.FirstOrDefault(i => i.Name.EndsWith("lowres", StringComparison.Ordinal)) ?? data.Images.FirstOrDefault();

    /// <summary>Spatial map of a label column (over the tissue image when present) and, when obsm has X_umap, the embedding.</summary>
    public static void SpatialAndEmbedding(SpatialData data, CategoricalColumn labels, string name, RunOutput run, Reporter r, string? title = null)
    {
        var l = Enumerable.Range(0, labels.Length).Select(labels.Label).ToArray();
        if (data.HasSpatial)
        {
            Tessera.Plotting.Figures.SavePng(SpatialPlot.Categorical(data, l, title ?? name, Underlay(data)), run.File($"spatial_{name}.png"), 1100, 900);
            r.Detail($"wrote spatial_{name}.png");
        }
        if (data.Obsm.TryGetValue("X_umap", out var umap))
        {
            Tessera.Plotting.Figures.SavePng(EmbeddingPlot.Categorical(umap, l, $"UMAP: {title ?? name}"), run.File($"umap_{name}.png"), 1000, 850);
            r.Detail($"wrote umap_{name}.png");
        }
    }

    /// <summary>Loss curves (total and each component) of a training run.</summary>
    public static void LossCurves(Tessera.Nn.LossHistory history, string title, RunOutput run, string file = "loss.png")
    {
        var series = new Dictionary<string, double[]> { ["total"] = history.Total.ToArray() };
        foreach (var (k, v) in history.Components) series[k] = v.ToArray();
        Tessera.Plotting.Figures.SavePng(CurvePlot.Lines(title, "epoch", series, "loss"), run.File(file), 1000, 650);
    }

    /// <summary>Loss curves (loss.png) and the per-epoch table (training.csv: epoch, total, one column per component), in <paramref name="folder"/> of the run.</summary>
    public static void TrainingRecord(Tessera.Nn.LossHistory history, string title, RunOutput run, string folder = "")
    {
        LossCurves(history, title, run, Path.Combine(folder, "loss.png"));
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        CsvTable.Write(run.File(Path.Combine(folder, "training.csv")), ["epoch", "total", .. history.Components.Keys],
            Enumerable.Range(0, history.Count).Select(e => (IReadOnlyList<string>)[(e + 1).ToString(inv),
                history.Total[e].ToString("R", inv), .. history.Components.Values.Select(v => v[e].ToString("R", inv))]));
    }

    /// <summary>Spatial map of any label array.</summary>
    public static void Spatial(SpatialData data, string?[] labels, string file, string title, RunOutput run)
    {
        if (!data.HasSpatial) return;
        Tessera.Plotting.Figures.SavePng(SpatialPlot.Categorical(data, labels, title, Underlay(data)), run.File(file), 1100, 900);
    }
}
