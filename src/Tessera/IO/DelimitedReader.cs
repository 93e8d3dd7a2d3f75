using System.Globalization;
using System.Text.RegularExpressions;
using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// Expression tables in csv/tsv/txt (gzipped or not; delimiter sniffed: tab, comma or spaces), the layouts of
/// SpatialDE/SPARK, HER2ST, Banksy exports, novoSpaRc and friends:
/// <list type="bullet">
/// <item>spots × genes (default) or genes × spots (<see cref="ReadOptions.Transpose"/>, or detected when every column
/// name is a spot id "XxY" or a 10x barcode and the row names are not);</item>
/// <item>a first column of spot ids when its header is empty or an id name (spot, barcode, cell, cell_id, index, id),
/// when the header is one field shorter than the rows (R row names), or when its values are not numbers;
/// otherwise spots are named "0", "1", ... (as pandas numbers rows);</item>
/// <item>spot ids "XxY" (e.g. "16.92x9.015") give obsm["spatial"] = (X, Y);</item>
/// <item>columns named x and y, or the columns named by <see cref="ReadOptions.Coords"/>, are coordinates, not genes:
/// they go to obs (and obsm["spatial"]).</item>
/// </list>
/// Values must be finite and non-negative (unless <see cref="ReadOptions.AllowNegative"/>); errors name file, line and column.
/// </summary>
public static partial class DelimitedReader
{
    private static readonly string[] IdNames = ["", "spot", "spots", "spot_id", "barcode", "barcodes", "cell", "cells", "cell_id", "cellid", "index", "id", "name"];

    [GeneratedRegex(@"^-?\d+(\.\d+)?x-?\d+(\.\d+)?$")]
    private static partial Regex SpotIdRegex();
    [GeneratedRegex(@"^[ACGTN]{8,}(-\d+)?$")]
    private static partial Regex BarcodeRegex();

    internal static bool IsIdName(string header) => IdNames.Contains(header.Trim().ToLowerInvariant());

    /// <summary>Whether a name looks like a spot: "XxY" array/pixel id or a 10x barcode.</summary>
    public static bool LooksLikeSpotId(string name) => SpotIdRegex().IsMatch(name) || BarcodeRegex().IsMatch(name);

    /// <summary>Parses "XxY" into (X, Y), or false.</summary>
    public static bool TryParseSpotId(string id, out double x, out double y)
    {
        x = y = 0;
        if (!SpotIdRegex().IsMatch(id)) return false;
        int k = id.IndexOf('x', 1);
        return double.TryParse(id.AsSpan(0, k), NumberStyles.Float, CultureInfo.InvariantCulture, out x)
            && double.TryParse(id.AsSpan(k + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out y);
    }

    /// <summary>Reads an expression table.</summary>
    public static SpatialData Read(string path, ReadOptions options)
    {
        if (!File.Exists(path)) throw new TesseraException($"input '{path}' does not exist");
        using var r = ByteLineReader.Open(path);
        var file = r.Name;
        var headerBytes = r.ReadHeaderLine();
        ReadOnlySpan<byte> line;
        long headerLine = r.LineNumber;
        if (!r.TryReadLine(out line)) throw new TesseraException($"{file}: the file has a header but no data rows");
        var sp = DelimitedSplitter.Sniff(headerBytes, line);
        sp.Split(headerBytes);
        var header = sp.Fields.Select(f => DelimitedSplitter.Text(headerBytes.AsSpan()[f]).Trim()).ToArray();
        int h = header.Length;
        int n = sp.Split(line);
        bool hasIds; int first; // first = index of the first value field in a data row
        string[] colNames;
        if (n == h + 1) { hasIds = true; first = 1; colNames = header; }
        else if (n == h)
        {
            var f0 = DelimitedSplitter.Raw(line[sp.Fields[0]]);
            hasIds = IsIdName(header[0]) || !Numbers.TryParse(f0, out _);
            first = hasIds ? 1 : 0;
            colNames = hasIds ? header[1..] : header;
        }
        else throw new TesseraException($"{file} line {r.LineNumber} has {n} fields but the header (line {headerLine}) has {h}");
        int nCols = colNames.Length;
        if (nCols == 0) throw new TesseraException($"{file}: no value columns after the id column");
        if (colNames.All(c => c.Length >= 2 && c[0] == '\'' && c[^1] == '\''))
        {
            colNames = colNames.Select(c => c[1..^1]).ToArray();
            options.Info($"{file}: removed the single quotes around column names ('{colNames[0]}')");
        }

        // rows: either spots or (transposed) genes
        var rowIds = new List<string>();
        var coo = new CooBuilder(1 << 16, file);
        int nFields = n;
        bool? transpose = options.Transpose ? true : null;
        // coordinate columns (spots × genes layout only)
        var coordCols = new List<int>();
        var coordValues = new List<List<double>>();
        void DecideLayout(string firstRowId)
        {
            if (transpose == null)
            {
                bool colsAreSpots = colNames.All(LooksLikeSpotId);
                transpose = colsAreSpots && hasIds && !LooksLikeSpotId(firstRowId);
                if (transpose == true) options.Info($"{file}: the column names are spot ids, so the table is read as genes x spots");
            }
            if (transpose == false)
            {
                var wanted = new List<string>();
                if (options.Coords != null && options.Coords.All(c => Array.IndexOf(colNames, c) >= 0)) wanted.AddRange(options.Coords);
                // exactly one column named x and one named y (any case): SpatialDE/SPARK coordinate columns
                int kx = Array.FindIndex(colNames, c => c.Equals("x", StringComparison.OrdinalIgnoreCase));
                int ky = Array.FindIndex(colNames, c => c.Equals("y", StringComparison.OrdinalIgnoreCase));
                bool single = colNames.Count(c => c.Equals("x", StringComparison.OrdinalIgnoreCase) || c.Equals("y", StringComparison.OrdinalIgnoreCase)) == 2;
                if (kx >= 0 && ky >= 0 && single) { wanted.Add(colNames[kx]); wanted.Add(colNames[ky]); }
                foreach (var w in wanted.Distinct())
                {
                    coordCols.Add(Array.IndexOf(colNames, w));
                    coordValues.Add([]);
                }
            }
        }

        var geneOf = new int[nCols]; // column -> gene index (-1 for coordinate columns)
        int nGenes = 0;
        bool layoutDone = false;
        int row = 0;
        while (true)
        {
            if (line.Trim(" \t"u8).Length > 0)
            {
                int m = sp.Split(line);
                if (m != nFields) throw new TesseraException($"{file} line {r.LineNumber} has {m} fields but line {headerLine + 1} has {nFields}");
                string id = hasIds ? DelimitedSplitter.Text(line[sp.Fields[0]]) : row.ToString(CultureInfo.InvariantCulture);
                if (!layoutDone)
                {
                    DecideLayout(id);
                    layoutDone = true;
                    for (int j = 0; j < nCols; j++) geneOf[j] = coordCols.Contains(j) ? -1 : nGenes++;
                }
                rowIds.Add(id);
                for (int j = 0; j < nCols; j++)
                {
                    var raw = DelimitedSplitter.Raw(line[sp.Fields[first + j]]);
                    if (!Numbers.TryParse(raw, out double v))
                        throw new TesseraException($"{file} line {r.LineNumber}, column {first + j + 1} ('{colNames[j]}'): '{Numbers.Text(raw)}' is not a number");
                    int g = geneOf[j];
                    if (g < 0)
                    {
                        if (!double.IsFinite(v)) throw new TesseraException($"{file} line {r.LineNumber}, column {first + j + 1} ('{colNames[j]}'): coordinate '{Numbers.Text(raw)}' is not a finite number");
                        coordValues[coordCols.IndexOf(j)].Add(v);
                        continue;
                    }
                    var problem = Numbers.Problem(v, options.AllowNegative);
                    if (problem != null) throw new TesseraException($"{file} line {r.LineNumber}, column {first + j + 1} ('{colNames[j]}'): {problem}");
                    if (v != 0) coo.Add(row, g, (float)v);
                }
                row++;
            }
            if (!r.TryReadLine(out line)) break;
        }

        var valueNames = Enumerable.Range(0, nCols).Where(j => geneOf[j] >= 0).Select(j => colNames[j]).ToArray();
        string[] spotIds, genes;
        CsrMatrix x;
        if (transpose == true)
        {
            x = coo.ToCsr(row, nGenes, transpose: true);
            spotIds = valueNames; genes = rowIds.ToArray();
        }
        else
        {
            x = coo.ToCsr(row, nGenes);
            spotIds = rowIds.ToArray(); genes = valueNames;
        }
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < spotIds.Length; i++)
            if (!seen.TryAdd(spotIds[i], i))
                throw new TesseraException(transpose == true
                    ? $"{file}: duplicate spot id '{spotIds[i]}' (columns {seen[spotIds[i]] + 1 + first} and {i + 1 + first})"
                    : $"{file}: duplicate spot id '{spotIds[i]}' (data rows {seen[spotIds[i]] + 1} and {i + 1})");
        genes = GeneIndex.MakeUnique(genes, "gene name", options);
        var data = new SpatialData(x, new Table(spotIds, "spot id"), new Table(genes, "gene name"));
        for (int c = 0; c < coordCols.Count; c++)
            data.Obs.Set(colNames[coordCols[c]], new NumericColumn(coordValues[c].ToArray(), coordValues[c].All(v => v == Math.Floor(v))));

        // coordinates: named / x,y columns first, else "XxY" spot ids
        var xyCols = coordCols.Select(c => colNames[c]).Where(c => c.Equals("x", StringComparison.OrdinalIgnoreCase) || c.Equals("y", StringComparison.OrdinalIgnoreCase)).ToArray();
        if (options.Coords == null && xyCols.Length == 2)
        {
            var cx = ((NumericColumn)data.Obs[xyCols.First(c => c.Equals("x", StringComparison.OrdinalIgnoreCase))]).Values;
            var cy = ((NumericColumn)data.Obs[xyCols.First(c => c.Equals("y", StringComparison.OrdinalIgnoreCase))]).Values;
            data.SetObsm(SpatialData.SpatialKey, Interleave(cx, cy));
            options.Info($"{file}: coordinates from columns {xyCols[0]}, {xyCols[1]}");
        }
        else if (spotIds.Length > 0 && spotIds.All(s => TryParseSpotId(s, out _, out _)))
        {
            var cx = new double[spotIds.Length]; var cy = new double[spotIds.Length];
            for (int i = 0; i < spotIds.Length; i++) TryParseSpotId(spotIds[i], out cx[i], out cy[i]);
            data.SetObsm(SpatialData.SpatialKey, Interleave(cx, cy));
            options.Info($"{file}: coordinates parsed from the spot ids ('{spotIds[0]}' -> {TextInput.Num(cx[0])}, {TextInput.Num(cy[0])})");
        }
        options.Info($"read {data.NObs} spots x {data.NVars} genes from {file} ({sp.Describe}-separated{(transpose == true ? ", genes x spots" : "")})");
        return data;
    }

    internal static DenseMatrix Interleave(double[] x, double[] y)
    {
        var d = new double[2 * x.Length];
        for (int i = 0; i < x.Length; i++) { d[2 * i] = x[i]; d[2 * i + 1] = y[i]; }
        return new DenseMatrix(x.Length, 2, d);
    }
}
