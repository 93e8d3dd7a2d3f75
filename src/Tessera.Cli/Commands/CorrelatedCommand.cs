using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Methods.Costa;
using Tessera.Plotting;
using Tessera.Simulate;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera correlated RESULT.h5ad --query GENE,... --out DIR`: correlated genes of new query genes from the embeddings a
/// `patterns` run saved, without training again.
/// </summary>
public static partial class CorrelatedCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("result") { Description = "result.h5ad of `tessera patterns` (or its output folder)" };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var query = new Option<string>("--query") { Description = "Comma-separated genes of interest", Required = true };
        var threshold = new Option<double>("--threshold") { Description = "z-score below which a gene counts as correlated in one model (authors: -2.325; -1.645 and -3.1 are their alternatives)", DefaultValueFactory = _ => -2.325 };
        var minModels = new Option<int?>("--min-models") { Description = "Models in which a gene must pass (default: 3, or all models when fewer)" };
        var allGenes = new Option<bool>("--all-genes") { Description = "Compare with every gene, not only the SE genes (the authors use SE genes)" };
        var cmd = new Command("correlated", "CoSTA: correlated genes of query genes from a saved `patterns` result (no retraining)")
            { input, outOpt, overwrite, query, threshold, minModels, allGenes };
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var path = p.GetValue(input)!;
            if (Directory.Exists(path)) path = Path.Combine(path, "result.h5ad");
            var queries = p.GetValue(query)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
            if (queries.Length == 0) throw new TesseraException("--query names no gene");
            double thr = p.GetValue(threshold);
            if (!double.IsFinite(thr)) throw new TesseraException($"--threshold must be a finite z-score but is {thr}");
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            SpatialData data;
            using (r.Stage($"read {Path.GetFileName(path)}")) data = H5ad.Read(path);
            run.Inputs.Add(path);
            var embs = Embeddings(data, path, out int dim);
            var images = ImagesOf(data, path);
            foreach (var q in queries) images.IndexOf(q);
            var se = p.GetValue(allGenes) || !data.Obs.Contains("se") ? null : Flags(data.Obs["se"], "se", path);
            var candidates = Enumerable.Range(0, images.Count).Where(i => se == null || se[i]).ToArray();
            if (candidates.Length == 0) throw new TesseraException($"{path} flags no SE gene to compare with; use --all-genes");
            int mm = p.GetValue(minModels) ?? Math.Min(3, embs.Count);
            r.Info($"{images.Count} genes, {embs.Count} model(s), {candidates.Length} candidate genes" + (candidates.Length < images.Count ? " (SE)" : ""));
            WriteOutputs(run, r, images, embs, dim, queries, candidates, thr, mm);
            run.Commit("correlated", new { Queries = queries, Threshold = thr, MinModels = mm, AllGenes = p.GetValue(allGenes) }, null, r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// Writes correlated.csv (every candidate per query, most similar first), correlated_set.csv (the authors' list: union over
    /// the queries per model, in at least minModels models) and query_images.png, and logs both lists.
    /// </summary>
    internal static void WriteOutputs(RunOutput run, Reporter r, GeneImageSet images, IReadOnlyList<float[]> embs, int dim,
        IReadOnlyList<string> queries, int[] candidates, double threshold, int minModels)
    {
        var sims = CostaAnalysis.Similarities(embs, dim, images.Genes, queries, candidates, threshold, minModels);
        var set = CostaAnalysis.CorrelatedSet(embs, dim, images.Genes, queries, candidates, threshold, minModels);
        var inv = CultureInfo.InvariantCulture;
        CsvTable.Write(run.File("correlated.csv"), ["query", "gene", "z", "models", "correlated"], sims.Select(x =>
            (IReadOnlyList<string>)[x.Query, x.Gene, x.MeanZ.ToString("F4", inv), x.Models.ToString(inv), x.Correlated ? "True" : "False"]));
        CsvTable.Write(run.File("correlated_set.csv"), ["gene", "models", "queries"], set.Select(x =>
            (IReadOnlyList<string>)[x.Gene, x.Models.ToString(inv), string.Join(';', x.Queries)]));
        var tiles = new List<float[]>(); var caps = new List<string>();
        foreach (var q in queries)
        {
            tiles.Add(images.Image(images.IndexOf(q)).ToArray()); caps.Add(q);
            foreach (var x in sims.Where(x => x.Query == q).Take(5)) { tiles.Add(images.Image(images.IndexOf(x.Gene)).ToArray()); caps.Add($"{x.Gene} z={x.MeanZ:F1}"); }
        }
        Figures.SavePng(CostaPlots.Mosaic(tiles, caps, images.Height, images.Width, images.Mask, 6, "Query genes (left) and their most similar genes"),
            run.File("query_images.png"), 1200, Math.Max(300, 260 * queries.Count));
        foreach (var q in queries)
            r.Info($"{q}: most similar {string.Join(", ", sims.Where(x => x.Query == q).Take(5).Select(x => $"{x.Gene} ({x.MeanZ:F2}, {x.Models})"))}; "
                + $"correlated in >= {minModels} models: {Listed(sims.Where(x => x.Query == q && x.Correlated).Select(x => x.Gene))}");
        r.Info($"correlated with the query set (union over queries per model, >= {minModels} models): {Listed(set.Select(x => $"{x.Gene} ({x.Models})"))}");
    }

    private static string Listed(IEnumerable<string> items)
    {
        var l = items.Take(21).ToList();
        return l.Count == 0 ? "none" : string.Join(", ", l.Take(20)) + (l.Count > 20 ? ", ..." : "");
    }

    // The gene images stored in X (genes x pixels, var names px{row}_{col}, var in_tissue).
    private static GeneImageSet ImagesOf(SpatialData data, string path)
    {
        var rc = new (int Row, int Col)[data.NVars];
        int h = 0, w = 0;
        for (int j = 0; j < data.NVars; j++)
        {
            var m = PixelName().Match(data.VarNames[j]);
            if (!m.Success) throw new TesseraException($"{path} is not a `tessera patterns` result: column '{data.VarNames[j]}' is not a pixel (px<row>_<col>)");
            rc[j] = (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            h = Math.Max(h, rc[j].Row + 1);
            w = Math.Max(w, rc[j].Col + 1);
        }
        if ((long)h * w != data.NVars) throw new TesseraException($"{path} is not a `tessera patterns` result: {data.NVars} pixel columns do not fill a {h}x{w} image");
        var at = rc.Select(p => p.Row * w + p.Col).ToArray(); // image position of each column
        var pixels = new float[(long)data.NObs * data.NVars];
        var x = data.X;
        for (int g = 0; g < x.Rows; g++)
            for (int k = x.IndPtr[g]; k < x.IndPtr[g + 1]; k++) pixels[(long)g * data.NVars + at[x.Indices[k]]] = x.Data[k];
        bool[]? mask = null;
        if (data.Var.Contains("in_tissue"))
        {
            var inTissue = Flags(data.Var["in_tissue"], "in_tissue", path);
            mask = new bool[data.NVars];
            for (int j = 0; j < data.NVars; j++) mask[at[j]] = inTissue[j];
        }
        return new GeneImageSet(data.ObsNames, h, w, pixels, mask);
    }

    private static List<float[]> Embeddings(SpatialData data, string path, out int dim)
    {
        if (!data.Obsm.TryGetValue("X_costa", out var first))
            throw new TesseraException($"{path} has no obsm 'X_costa': not a `tessera patterns` result");
        var list = new List<float[]> { first.ToFloatArray() };
        for (int m = 2; data.Obsm.TryGetValue($"X_costa_{m}", out var e); m++)
        {
            if (e.Cols != first.Cols) throw new TesseraException($"{path}: obsm 'X_costa_{m}' has {e.Cols} columns but 'X_costa' has {first.Cols}");
            list.Add(e.ToFloatArray());
        }
        dim = first.Cols;
        return list;
    }

    private static bool[] Flags(Column c, string name, string path) => c switch
    {
        BoolColumn b => b.Values,
        _ => [.. Enumerable.Range(0, c.Length).Select(i => c.Format(i) switch
        {
            "True" or "true" or "1" => true,
            "False" or "false" or "0" => false,
            var v => throw new TesseraException($"{path}: column '{name}' holds '{v}', not a true/false flag"),
        })],
    };

    [GeneratedRegex(@"^px(\d+)_(\d+)$")]
    private static partial Regex PixelName();
}
