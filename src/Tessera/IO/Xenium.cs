using System.Globalization;
using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// Xenium Onboard Analysis output folders: the cell × feature matrix (cell_feature_matrix.h5 or cell_feature_matrix/),
/// the cell table (cells.parquet, else cells.csv.gz / cells.csv) with x_centroid, y_centroid in µm, and
/// experiment.xenium when present.
/// </summary>
/// <remarks>
/// X holds the "Gene Expression" features only. Every other feature type (negative-control probes and codewords,
/// unassigned and deprecated codewords, genomic controls; told by feature_type, or by the name prefix when the matrix
/// has no types) is summed per cell into one obs column per type, named "qc_" + the type in snake case (e.g.
/// qc_negative_control_probe), and the counts are reported. obsm["spatial"] is (x_centroid, y_centroid) in µm;
/// the cell table's numeric columns (transcript_counts, cell_area, nucleus_area...) go to obs. uns["platform"] is
/// "xenium", uns["microns_per_unit"] 1, uns["xenium"] the scalar fields of experiment.xenium (panel, versions,
/// pixel_size) and uns["pixel_size_um"] its pixel size.
/// </remarks>
public static class Xenium
{
    private const string GeneExpression = "Gene Expression";
    private static readonly string[] CellFiles = ["cells.parquet", "cells.csv.gz", "cells.csv"];

    /// <summary>
    /// Whether <paramref name="path"/> is a Xenium output folder: it has experiment.xenium, or a cell_feature_matrix
    /// (h5 or folder) beside a cells table.
    /// </summary>
    public static bool IsXenium(string path) =>
        Directory.Exists(path) && (File.Exists(Path.Combine(path, "experiment.xenium"))
            || (MatrixPath(path) != null && CellFiles.Any(f => File.Exists(Path.Combine(path, f)))));

    private static string? MatrixPath(string folder)
    {
        var h5 = Path.Combine(folder, "cell_feature_matrix.h5");
        if (File.Exists(h5)) return h5;
        var dir = Path.Combine(folder, "cell_feature_matrix");
        return TenXMtx.IsMtxFolder(dir) ? dir : null;
    }

    /// <summary>Reads a Xenium output folder (see the class remarks).</summary>
    public static SpatialData Read(string path, ReadOptions? options = null)
    {
        options ??= new ReadOptions();
        using var budget = ReadBudget.Enter(options);
        if (!Directory.Exists(path)) throw new TesseraException($"input '{path}' does not exist");
        var matrixPath = MatrixPath(path)
            ?? throw new TesseraException($"Xenium folder '{path}' has no cell_feature_matrix.h5 nor cell_feature_matrix/ (matrix.mtx.gz, features.tsv.gz, barcodes.tsv.gz): the cell x gene matrix is needed");
        var cellsPath = CellFiles.Select(f => Path.Combine(path, f)).FirstOrDefault(File.Exists)
            ?? throw new TesseraException($"Xenium folder '{path}' has no cells.parquet nor cells.csv.gz: the cell centroids (x_centroid, y_centroid) are needed");

        SpatialData data;
        if (matrixPath.EndsWith(".h5", StringComparison.Ordinal))
        {
            // controls leave the matrix while it is read: no second copy of a million-cell matrix
            (int[] Group, string[] QcTypes) split = ([], []);
            var (m, sums) = TenXH5.Read(matrixPath, options, (ids, names, types) => (split = Groups(names, types)).Group);
            data = TenXMtx.ToSpatialData(m, options);
            AddQc(data, split.QcTypes, split.Group, sums, options);
        }
        else
        {
            var m = TenXMtx.Read(matrixPath, options);
            var (group, qcTypes) = Groups(m.FeatureNames, m.FeatureTypes);
            var (kept, sums) = PlatformTables.SplitQc(TenXMtx.ToSpatialData(m, options), group, qcTypes.Length);
            data = kept;
            AddQc(data, qcTypes, group, sums, options);
        }

        ReadBudget.EndPhase();
        var cells = ReadCells(cellsPath, data.ObsNames);
        data = AttachCells(data, cells, Path.GetFileName(cellsPath), options);

        PlatformTables.SetPlatform(data, "xenium", 1.0);
        var expPath = Path.Combine(path, "experiment.xenium");
        if (File.Exists(expPath))
        {
            var exp = SpaceRanger.ReadScaleFactors(expPath);
            var scalars = exp.Where(kv => kv.Value is double or string or bool && !(kv.Value is string s && (s.StartsWith('{') || s.StartsWith('['))))
                .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            data.Uns["xenium"] = scalars;
            if (exp.TryGetValue("pixel_size", out var px) && px is double pd) data.Uns["pixel_size_um"] = pd;
        }
        else options.Info($"no experiment.xenium in '{path}': panel, versions and pixel size are unknown");
        options.Info($"read {data.NObs} cells x {data.NVars} genes from Xenium folder '{path}' ({Path.GetFileName(matrixPath)}, {Path.GetFileName(cellsPath)}; obsm['spatial'] = x_centroid, y_centroid in µm)");
        return data;
    }

    /// <summary>The feature type: the matrix's feature_type when it has one, else told from the name's prefix.</summary>
    private static string TypeOf(string name, string? type)
    {
        if (!string.IsNullOrEmpty(type)) return type;
        if (name.StartsWith("NegControlProbe_", StringComparison.Ordinal)) return "Negative Control Probe";
        if (name.StartsWith("NegControlCodeword_", StringComparison.Ordinal)) return "Negative Control Codeword";
        if (name.StartsWith("UnassignedCodeword_", StringComparison.Ordinal) || name.StartsWith("BLANK_", StringComparison.Ordinal)) return "Unassigned Codeword";
        if (name.StartsWith("DeprecatedCodeword_", StringComparison.Ordinal)) return "Deprecated Codeword";
        if (name.StartsWith("Intergenic_Region_", StringComparison.Ordinal)) return "Genomic Control";
        return GeneExpression;
    }

    private static string QcColumn(string type) =>
        "qc_" + string.Concat(type.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')).Trim('_');

    /// <summary>Each feature's QC group (-1 for genes, else the index of its type in the returned list of non-gene types).</summary>
    private static (int[] Group, string[] QcTypes) Groups(string[] names, string[]? featureTypes)
    {
        var types = names.Select((n, j) => TypeOf(n, featureTypes?[j])).ToArray();
        var qcTypes = types.Where(t => t != GeneExpression).Distinct(StringComparer.Ordinal).ToArray();
        return (types.Select(t => t == GeneExpression ? -1 : Array.IndexOf(qcTypes, t)).ToArray(), qcTypes);
    }

    /// <summary>One qc_ obs column per non-gene feature type (the per-cell sum of its features), and the report.</summary>
    private static void AddQc(SpatialData data, string[] qcTypes, int[] group, double[][] sums, ReadOptions options)
    {
        if (qcTypes.Length == 0)
        {
            options.Info($"all {data.NVars} features are genes (no control probes or codewords)");
            return;
        }
        for (int g = 0; g < qcTypes.Length; g++) data.Obs.Set(QcColumn(qcTypes[g]), new NumericColumn(sums[g], true));
        options.Info($"moved {group.Count(g => g >= 0)} control features out of X into per-cell obs columns: "
            + string.Join(", ", qcTypes.Select((t, g) => $"{group.Count(v => v == g)} {t} ({QcColumn(t)}, {sums[g].Sum().ToString(CultureInfo.InvariantCulture)} counts)")));
    }

    private static readonly string[] CellColumns = ["cell_id", "x_centroid", "y_centroid"];
    private static readonly string[] OptionalCellColumns =
        ["transcript_counts", "control_probe_counts", "control_codeword_counts", "unassigned_codeword_counts", "deprecated_codeword_counts",
         "genomic_control_counts", "total_counts", "cell_area", "nucleus_area", "nucleus_count", "z_level", "segmentation_method"];

    /// <summary>The cell table's columns: numbers as double[] (missing = NaN), text as string?[].</summary>
    private static Dictionary<string, Array> ReadCells(string path, string[] matrixCells)
    {
        if (path.EndsWith(".parquet", StringComparison.Ordinal)) return ParquetColumns.Read(path, CellColumns, OptionalCellColumns, ("cell_id", matrixCells));
        var t = ObsJoin.ReadTextTable(path);
        if (t.RowNames) t = t with { Header = t.Header[1..], Rows = t.Rows.Select(r => r[1..]).ToList() };
        var missing = CellColumns.Where(c => !t.Header.Contains(c)).ToList();
        if (missing.Count > 0) throw new TesseraException($"{t.File}: no column {string.Join(", ", missing.Select(c => $"'{c}'"))}; it has {string.Join(", ", t.Header)}");
        var d = new Dictionary<string, Array>(StringComparer.Ordinal);
        foreach (var c in CellColumns.Concat(OptionalCellColumns))
        {
            int k = Array.IndexOf(t.Header, c);
            if (k < 0) continue;
            var values = t.Rows.Select(r => (string?)r[k]).ToArray();
            d[c] = c == "cell_id" ? values : ObsJoin.ToColumn(values) switch
            {
                NumericColumn nc => nc.Values,
                _ => values.Select(s => s == null || ObsJoin.IsMissing(s) ? null : s).ToArray(),
            };
        }
        return d;
    }

    /// <summary>Matches the cells to the matrix barcodes, sets obsm["spatial"] and the numeric cell columns.</summary>
    private static SpatialData AttachCells(SpatialData data, Dictionary<string, Array> cells, string file, ReadOptions options)
    {
        var ids = cells["cell_id"] switch
        {
            string?[] s => s,
            double[] v => v.Select(d => double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : null).ToArray(),
            _ => throw new InvalidOperationException(),
        };
        if (cells["x_centroid"] is not double[] xs || cells["y_centroid"] is not double[] ys)
            throw new TesseraException($"{file}: x_centroid and y_centroid must be numbers");
        var match = KeyedRows.Find(data.ObsNames, ids, file, "cell_id", (a, b) => $"rows {a + 1} and {b + 1}");
        if (match.Missing > 0 && !options.AllowMissing)
            throw new TesseraException($"{match.Missing} of {data.NObs} matrix cells are not in {file} (first: '{match.FirstMissing}'); the matrix and the cell table must come from the same run (set AllowMissing to drop them)");
        if (match.Matched == 0) throw new TesseraException($"no cell of the matrix is in {file}");
        var rows = match.Rows;
        if (match.Missing > 0)
        {
            var keep = Enumerable.Range(0, data.NObs).Where(i => rows[i] >= 0).ToArray();
            data = data.Subset(keep, null);
            rows = keep.Select(i => rows[i]).ToArray();
            options.Info($"dropped {match.Missing} matrix cells without a row in {file}");
        }
        if (ids.Length > data.NObs) options.Info($"{ids.Length - data.NObs} rows of {file} match no matrix cell");

        int n = data.NObs;
        var map = rows;
        bool identity = ids.Length == n && map.Select((r, i) => r == i).All(b => b);
        var xy = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            double x = xs[map[i]], y = ys[map[i]];
            if (!double.IsFinite(x) || !double.IsFinite(y))
                throw new TesseraException($"{file}: cell '{data.ObsNames[i]}' has no finite centroid (x_centroid {x.ToString(CultureInfo.InvariantCulture)}, y_centroid {y.ToString(CultureInfo.InvariantCulture)})");
            xy[2 * i] = x; xy[2 * i + 1] = y;
        }
        data.SetObsm(SpatialData.SpatialKey, new DenseMatrix(n, 2, xy));
        foreach (var c in OptionalCellColumns)
        {
            if (!cells.TryGetValue(c, out var col)) continue;
            if (col is double[] v)
            {
                var vals = identity ? v : map.Select(k => v[k]).ToArray(); // the table's own column when it is in the matrix's order
                data.Obs.Set(c, new NumericColumn(vals, vals.All(d => !double.IsFinite(d) || d == Math.Floor(d))));
            }
            else data.Obs.Set(c, CategoricalColumn.FromLabels(map.Select(k => ((string?[])col)[k]).ToArray()));
        }
        return data;
    }
}
