using System.CommandLine;
using System.Globalization;
using Tessera.Cli.Infrastructure;
using Tessera.Data;

namespace Tessera.Cli.Commands;

/// <summary>`tessera info INPUT`: what is in a dataset.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "h5ad, 10x h5, Space Ranger / mtx folder, or csv/tsv[.gz] table" };
        var inputs = new InputOptions();
        var cmd = new Command("info", "Show shape, coordinates, columns, images and memory of a dataset") { input };
        inputs.AddTo(cmd);
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var path = p.GetValue(input)!;
            var d = inputs.Load(p, r, path);
            CommandHost.PrintTable($"{path}", Describe(d, path));
            return 0;
        });
        return cmd;
    }

    /// <summary>The key/value lines shown by info.</summary>
    public static IEnumerable<(string, string)> Describe(SpatialData d, string path)
    {
        var inv = CultureInfo.InvariantCulture;
        yield return ("shape", $"{d.NObs} spots x {d.NVars} genes");
        // the platform readers (Visium HD, Xenium...) record the platform, the bin size and the µm per coordinate unit
        if (d.Uns.TryGetValue("platform", out var platform))
            yield return ("platform", string.Join(", ", new[] {
                Convert.ToString(platform, inv),
                d.Uns.TryGetValue("bin_size_um", out var bin) ? $"bin {Convert.ToString(bin, inv)} µm" : null,
                d.Uns.TryGetValue("microns_per_unit", out var mpu) ? $"{Convert.ToString(mpu, inv)} µm per coordinate unit" : "coordinate unit not in µm" }.Where(x => x != null)));
        yield return ("X", $"{d.X.Nnz:N0} non-zeros ({100.0 * d.X.Nnz / Math.Max(1.0, (double)d.NObs * d.NVars):F1}% dense), total counts {d.X.Data.Sum(v => (double)v):G6}");
        if (d.HasSpatial)
        {
            var s = d.Spatial;
            var ranges = Enumerable.Range(0, s.Cols).Select(c => { var col = s.Column(c); return $"{"xyz"[c]} {col.Min().ToString("G6", inv)}..{col.Max().ToString("G6", inv)}"; });
            yield return ("coordinates", string.Join(", ", ranges));
        }
        else yield return ("coordinates", "none (use --coords COLX,COLY)");
        foreach (var (name, col) in d.Obs.Columns) yield return ($"obs: {name}", DescribeColumn(col));
        foreach (var (name, col) in d.Var.Columns) yield return ($"var: {name}", DescribeColumn(col));
        foreach (var (k, m) in d.Obsm) yield return ($"obsm: {k}", $"{m.Rows} x {m.Cols}");
        foreach (var (k, m) in d.Layers) yield return ($"layer: {k}", $"{m.Nnz:N0} non-zeros");
        foreach (var img in d.Images) yield return ($"image: {img.Name}", $"{img.Width} x {img.Height} px, scale {img.Scale.ToString("G6", inv)} px per full-res px");
        if (d.Uns.Count > 0) yield return ("uns", string.Join(", ", d.Uns.Keys));
        long bytes = (long)d.X.Nnz * 8 + (d.NObs + 1) * 4L + d.Layers.Values.Sum(l => (long)l.Nnz * 8) + d.Obsm.Values.Sum(m => (long)m.Data.Length * 8)
                     + d.Images.Sum(i => (long)i.Rgb.Length);
        yield return ("memory (estimate)", $"{bytes / 1048576.0:F1} MiB in memory; a dense float32 X would need {(double)d.NObs * d.NVars * 4 / 1048576.0:F1} MiB");
    }

    private static string DescribeColumn(Column c) => c switch
    {
        CategoricalColumn cc => $"categorical, {cc.Categories.Length} categories ({string.Join(", ", cc.Categories.Take(8))}{(cc.Categories.Length > 8 ? ", ..." : "")}), {cc.Codes.Count(x => x < 0)} missing",
        NumericColumn nc => nc.Values.All(double.IsNaN) ? "numeric, all missing"
            : $"{(nc.IsInteger ? "integer" : "numeric")}, {nc.Values.Where(v => !double.IsNaN(v)).Min().ToString("G6", CultureInfo.InvariantCulture)}..{nc.Values.Where(v => !double.IsNaN(v)).Max().ToString("G6", CultureInfo.InvariantCulture)}, {nc.Values.Count(double.IsNaN)} missing",
        BoolColumn bc => $"bool, {bc.Values.Count(v => v)} true",
        StringColumn sc => $"text, {sc.Values.Distinct().Count()} distinct",
        _ => c.GetType().Name,
    };
}
