using System.CommandLine;
using Tessera.Analysis;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Plotting;

namespace Tessera.Cli.Commands;

/// <summary>`tessera umap INPUT --use-rep X_pca --out DIR`: writes obsm X_umap and a PNG.</summary>
public static class UmapCommand
{
    private static readonly UmapOptions Defaults = new() { MinDist = 0.5 };   // scanpy's tl.umap min_dist (umap-learn's own is 0.1)

    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "Data with an embedding in obsm (e.g. the result.h5ad of preprocess)" };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var useRep = new Option<string>("--use-rep") { Description = "obsm key to embed", DefaultValueFactory = _ => "X_pca" };
        var neighbors = new Option<int>("--neighbors") { Description = "n_neighbors", DefaultValueFactory = _ => Defaults.Neighbors };
        var minDist = new Option<double>("--min-dist") { Description = "min_dist", DefaultValueFactory = _ => Defaults.MinDist };
        var comps = new Option<int>("--components") { Description = "n_components", DefaultValueFactory = _ => Defaults.Components };
        var color = new Option<string?>("--color") { Description = "obs column to colour the figure by (default: cluster or domain when present)" };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => Defaults.Seed };
        var sample = new Option<int>("--sample") { Description = $"Fit UMAP on a seeded sample of at most this many rows and place the others by their nearest sampled rows (0 = fit on all rows)", DefaultValueFactory = _ => SampledUmap.DefaultMaxFitted };
        var inputs = new InputOptions();
        var cmd = new Command("umap", "UMAP of an embedding (our own implementation of McInnes et al., checked against umap-learn)")
            { input, outOpt, overwrite, useRep, neighbors, minDist, comps, color, seed, sample };
        inputs.AddTo(cmd);
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var options = Defaults with { Neighbors = p.GetValue(neighbors), MinDist = p.GetValue(minDist), Components = p.GetValue(comps), Seed = p.GetValue(seed) };
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            var data = inputs.Load(p, r, p.GetValue(input)!, run);
            var rep = p.GetValue(useRep)!;
            var x = data.GetObsm(rep);
            if (options.Neighbors < 2 || options.Neighbors >= x.Rows) throw new TesseraException($"--neighbors must be between 2 and {x.Rows - 1}, got {options.Neighbors}");
            int maxFitted = p.GetValue(sample);
            if (maxFitted < 0) throw new TesseraException($"--sample must be 0 (all rows) or a row count, got {maxFitted}");
            if (maxFitted > 0 && maxFitted <= options.Neighbors) throw new TesseraException($"--sample ({maxFitted}) must exceed --neighbors ({options.Neighbors})");
            DenseMatrix emb;
            using (r.Stage($"UMAP of {rep} ({x.Rows} x {x.Cols})"))
                emb = SampledUmap.FitTransform(x, options, out _, maxFitted == 0 ? int.MaxValue : maxFitted, r.Library());
            data.SetObsm("X_umap", emb);
            using (r.Stage("write results"))
            {
                H5ad.Write(data, run.File("result.h5ad"));
                CsvTable.Write(run.File("umap.csv"), ["spot", .. Enumerable.Range(1, emb.Cols).Select(c => $"UMAP{c}")],
                    data.ObsNames.Select((n, i) => (IReadOnlyList<string>)[n, .. Enumerable.Range(0, emb.Cols).Select(c => emb[i, c].ToString("R", System.Globalization.CultureInfo.InvariantCulture))]));
                var colorBy = p.GetValue(color) ?? (data.Obs.Contains("cluster") ? "cluster" : data.Obs.Contains("domain") ? "domain" : null);
                if (emb.Cols >= 2)
                {
                    var xy = emb.Cols == 2 ? emb : emb.SubsetCols([0, 1]);
                    var plot = colorBy == null
                        ? EmbeddingPlot.Categorical(xy, new string?[xy.Rows], "UMAP")
                        : EmbeddingPlot.Categorical(xy, data.Obs.Labels(colorBy), $"UMAP: {colorBy}");
                    Tessera.Plotting.Figures.SavePng(plot, run.File("umap.png"), 1000, 850);
                }
            }
            run.Commit("umap", new { options, sample = maxFitted }, options.Seed, r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        });
        return cmd;
    }
}
