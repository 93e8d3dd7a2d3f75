using System.IO.Compression;
using System.Text;
using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// 10x MatrixMarket folders (Cell Ranger / Space Ranger filtered_feature_bc_matrix/): matrix.mtx[.gz] holding
/// genes × barcodes, features.tsv[.gz] (or genes.tsv[.gz] of Cell Ranger 2: 1-3 tab-separated columns id, name, type)
/// and barcodes.tsv[.gz].
/// </summary>
public static class TenXMtx
{
    /// <summary>Whether the folder holds a 10x matrix (matrix.mtx or matrix.mtx.gz).</summary>
    public static bool IsMtxFolder(string folder) => Directory.Exists(folder) && TextInput.FirstExisting(folder, "matrix.mtx.gz", "matrix.mtx") != null;

    /// <summary>Reads the folder as barcodes × features.</summary>
    /// <remarks>The matrix's size line is checked against the feature and barcode counts, and its memory against
    /// <see cref="ReadOptions.MaxMemory"/>, before the entries are read.</remarks>
    public static TenXMatrix Read(string folder, ReadOptions? options = null)
    {
        using var budget = ReadBudget.Enter(options);
        if (!Directory.Exists(folder)) throw new TesseraException($"input '{folder}' does not exist");
        var mtx = TextInput.FirstExisting(folder, "matrix.mtx.gz", "matrix.mtx")
            ?? throw new TesseraException($"folder '{folder}' has no matrix.mtx or matrix.mtx.gz");
        var feat = TextInput.FirstExisting(folder, "features.tsv.gz", "features.tsv", "genes.tsv.gz", "genes.tsv")
            ?? throw new TesseraException($"folder '{folder}' has no features.tsv[.gz] or genes.tsv[.gz]");
        var bcs = TextInput.FirstExisting(folder, "barcodes.tsv.gz", "barcodes.tsv")
            ?? throw new TesseraException($"folder '{folder}' has no barcodes.tsv[.gz]");

        var features = ReadTsv(feat);
        var ids = new string[features.Count]; var names = new string[features.Count]; string[]? types = null;
        bool hasTypes = features.Count > 0 && features.All(f => f.Length >= 3);
        if (hasTypes) types = new string[features.Count];
        for (int i = 0; i < features.Count; i++)
        {
            ids[i] = features[i][0];
            names[i] = features[i].Length >= 2 ? features[i][1] : features[i][0];
            if (types != null) types[i] = features[i][2];
        }
        var barcodes = ReadTsv(bcs).Select(f => f[0]).ToArray();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < barcodes.Length; i++)
            if (!seen.TryAdd(barcodes[i], i))
                throw new TesseraException($"{Path.GetFileName(bcs)}: duplicate barcode '{barcodes[i]}' (lines {seen[barcodes[i]] + 1} and {i + 1})");

        var x = MatrixMarket.ReadChecked(mtx, true, (ids.Length, barcodes.Length,
            $"{Path.GetFileName(feat)} lists {ids.Length} features and {Path.GetFileName(bcs)} {barcodes.Length} barcodes (features x barcodes)"));
        if (x.Cols != ids.Length || x.Rows != barcodes.Length)
            throw new TesseraException($"{Path.GetFileName(mtx)} is {x.Cols} x {x.Rows} (features x barcodes) but {Path.GetFileName(feat)} lists {ids.Length} features and {Path.GetFileName(bcs)} {barcodes.Length} barcodes");
        return new TenXMatrix(x, barcodes, ids, names, types);
    }

    /// <summary>
    /// Writes a 10x folder (matrix.mtx.gz as features × barcodes, features.tsv.gz with id, name, type, barcodes.tsv.gz),
    /// each file atomically.
    /// </summary>
    public static void Write(TenXMatrix m, string folder)
    {
        Directory.CreateDirectory(folder);
        MatrixMarket.Write(m.X, Path.Combine(folder, "matrix.mtx.gz"), transpose: true);
        WriteGzLines(Path.Combine(folder, "features.tsv.gz"),
            m.FeatureIds.Select((id, i) => $"{id}\t{m.FeatureNames[i]}\t{(m.FeatureTypes != null ? m.FeatureTypes[i] : "Gene Expression")}"));
        WriteGzLines(Path.Combine(folder, "barcodes.tsv.gz"), m.Barcodes);
    }

    private static void WriteGzLines(string path, IEnumerable<string> lines) => AtomicFile.WriteStream(path, raw =>
    {
        using var gz = new GZipStream(raw, CompressionLevel.Fastest, leaveOpen: true);
        using var w = new StreamWriter(gz, new UTF8Encoding(false));
        w.NewLine = "\n";
        foreach (var l in lines) w.WriteLine(l);
    });

    private static List<string[]> ReadTsv(string path)
    {
        var rows = new List<string[]>();
        using var r = ByteLineReader.Open(path);
        while (r.TryReadLine(out var line))
        {
            if (line.Trim(" \t"u8).Length == 0) continue;
            // R's write.table (VisiumIO's, DropletUtils' exports) quotes every field: "id"\t"name"\t"Gene Expression"
            var fields = Numbers.Text(line).Split('\t');
            for (int k = 0; k < fields.Length; k++)
                if (fields[k].Length >= 2 && fields[k][0] == '"' && fields[k][^1] == '"') fields[k] = fields[k][1..^1].Replace("\"\"", "\"");
            rows.Add(fields);
        }
        return rows;
    }

    /// <summary>
    /// Turns a 10x matrix into <see cref="SpatialData"/> (no coordinates): var index = symbols or ids per
    /// <paramref name="options"/>, var columns gene_ids, gene_symbols (and feature_types when known).
    /// </summary>
    public static SpatialData ToSpatialData(TenXMatrix m, ReadOptions options)
    {
        var index = options.GeneNames == GeneNames.Ids ? m.FeatureIds : m.FeatureNames;
        var unique = GeneIndex.MakeUnique(index, options.GeneNames == GeneNames.Ids ? "gene id" : "gene symbol", options);
        var var = new Table(unique, "gene name");
        var.Set("gene_ids", new StringColumn(m.FeatureIds.ToArray<string?>()));
        var.Set("gene_symbols", new StringColumn(m.FeatureNames.ToArray<string?>()));
        if (m.FeatureTypes != null) var.Set("feature_types", CategoricalColumn.FromLabels(m.FeatureTypes));
        var obs = new Table(m.Barcodes, "barcode");
        return new SpatialData(m.X, obs, var);
    }
}

/// <summary>Gene-name utilities shared by the readers.</summary>
public static class GeneIndex
{
    /// <summary>
    /// anndata's var_names_make_unique: the first occurrence keeps its name, later ones become "NAME-1", "NAME-2"...
    /// (skipping suffixes already taken). Logs how many names were changed.
    /// </summary>
    public static string[] MakeUnique(IReadOnlyList<string> names, string what, ReadOptions? options = null)
    {
        var taken = new HashSet<string>(names, StringComparer.Ordinal);
        var result = names.ToArray();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var firstSeen = new HashSet<string>(StringComparer.Ordinal);
        int changed = 0; string? example = null;
        for (int i = 0; i < result.Length; i++)
        {
            var n = names[i];
            if (firstSeen.Add(n)) continue;
            int k = counts.GetValueOrDefault(n);
            string cand;
            do { k++; cand = $"{n}-{k}"; } while (taken.Contains(cand));
            counts[n] = k;
            taken.Add(cand);
            result[i] = cand; changed++;
            example ??= $"'{n}' -> '{cand}'";
        }
        if (changed > 0) options?.Info($"made {changed} duplicated {what}{(changed == 1 ? "" : "s")} unique (e.g. {example})");
        return result;
    }
}
