using System.Globalization;
using System.Text;
using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// Stereo-seq GEM files (<c>.gem</c>, <c>.gem.gz</c>) as SAW writes them: tab-separated records of one gene at one DNB
/// (geneID, x, y, MIDCount), in the old 4-column layout ("geneID x y MIDCounts") or the newer one with
/// "#FileFormat=GEMv0.x" / "#OffsetX=" comment lines, an ExonCount column and optionally a geneName column.
/// </summary>
/// <remarks>
/// The file is streamed (it may hold billions of records): the counts are summed into square bins of
/// <see cref="ReadOptions.Bin"/> × <see cref="ReadOptions.Bin"/> DNBs (default <see cref="DefaultBin"/>, stereopy's
/// bin50), so only one value per (bin, gene) pair is held. A bin is named "{X}_{Y}" after its origin
/// (x - x mod bin, y - y mod bin, as stereopy places bins) and obsm["spatial"] holds that origin in DNB units;
/// uns["microns_per_unit"] = 0.5 (the DNB pitch of the chip), uns["platform"] = "stereoseq", uns["bin_size_dnb"] and
/// uns["bin_size_um"] = the bin side in DNBs and in µm. ExonCount is ignored; a geneName column becomes var["gene_name"].
/// </remarks>
public static class StereoSeq
{
    /// <summary>The default bin side in DNBs (bin50: 25 µm).</summary>
    public const int DefaultBin = 50;
    /// <summary>Distance between two DNBs of a Stereo-seq chip in µm.</summary>
    public const double MicronsPerDnb = 0.5;

    private static readonly string[] CountNames = ["MIDCount", "MIDCounts", "UMICount", "UMICounts"];

    /// <summary>Whether <paramref name="path"/> is a .gem or .gem.gz file (by its name).</summary>
    public static bool IsStereoSeq(string path)
    {
        var name = Path.GetFileName(path);
        return File.Exists(path) && (name.EndsWith(".gem", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".gem.gz", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Reads a GEM file into bins (see the class remarks).</summary>
    public static SpatialData Read(string path, ReadOptions? options = null)
    {
        options ??= new ReadOptions();
        using var budget = ReadBudget.Enter(options);
        int bin = options.Bin ?? DefaultBin;
        if (bin < 1) throw new TesseraException($"Bin must be at least 1 DNB for a GEM file, got {bin}");
        if (!File.Exists(path)) throw new TesseraException($"input '{path}' does not exist");
        using var r = ByteLineReader.Open(path);
        var file = r.Name;

        // "#Key=Value" lines before the header (newer SAW)
        var meta = new List<string>();
        ReadOnlySpan<byte> line;
        while (true)
        {
            if (!r.TryReadLine(out line)) throw new TesseraException($"{file}: the file has no header line (geneID, x, y, MIDCount)");
            if (line.Trim(" \t"u8).Length == 0) continue;
            if (line[0] != (byte)'#') break;
            meta.Add(Numbers.Text(line[1..]).Trim());
        }
        var sp = new DelimitedSplitter((byte)'\t');
        var headerBytes = line.ToArray();
        int nf = sp.Split(headerBytes);
        if (nf < 4) sp = new DelimitedSplitter(0); // space-separated copies
        nf = sp.Split(headerBytes);
        var header = sp.Fields.Select(f => DelimitedSplitter.Text(headerBytes.AsSpan()[f]).Trim()).ToArray();
        int Find(params string[] names) => Array.FindIndex(header, h => names.Any(n => h.Equals(n, StringComparison.OrdinalIgnoreCase)));
        int gCol = Find("geneID"), xCol = Find("x"), yCol = Find("y"), cCol = Find(CountNames), nameCol = Find("geneName");
        if (gCol < 0 || xCol < 0 || yCol < 0 || cCol < 0)
            throw new TesseraException($"{file} line {r.LineNumber}: the header '{Names.Escape(Numbers.Text(headerBytes))}' lacks geneID, x, y or MIDCount (a GEM file starts with 'geneID  x  y  MIDCount')");
        long headerLine = r.LineNumber;

        var genes = new Dictionary<string, int>(StringComparer.Ordinal);
        var geneNames = new List<string?>();
        var bins = new Dictionary<long, int>(MixedKey.Instance);
        var binXy = new List<(long X, long Y)>();
        var sums = new Dictionary<long, float>(MixedKey.Instance);
        var geneLookup = genes.GetAlternateLookup<ReadOnlySpan<char>>();
        var charBuffer = new char[256];
        byte[] lastGene = new byte[64];
        int lastGeneLength = -1; // no gene yet: matches nothing
        int lastGeneId = -1, nextReserve = 1 << 16;
        long records = 0; double total = 0;
        while (r.TryReadLine(out line))
        {
            if (line.Trim(" \t"u8).Length == 0) continue;
            int m = sp.Split(line);
            if (m != nf) throw new TesseraException($"{file} line {r.LineNumber} has {m} fields but the header (line {headerLine}) has {nf}");
            var g = DelimitedSplitter.Raw(line[sp.Fields[gCol]]);
            if (lastGeneLength < 0 || !g.SequenceEqual(lastGene.AsSpan(0, lastGeneLength)))
            {
                // SAW sorts by gene, so usually nothing is looked up until the gene changes; in files sorted otherwise
                // ("#SortedBy=None") the id is decoded into a reused buffer and looked up without making a string
                int chars = Encoding.UTF8.GetMaxCharCount(g.Length) <= charBuffer.Length ? Encoding.UTF8.GetChars(g, charBuffer) : -1;
                if (chars < 0 || !geneLookup.TryGetValue(charBuffer.AsSpan(0, chars), out lastGeneId))
                {
                    var name = Numbers.Text(g);
                    if (!genes.TryGetValue(name, out lastGeneId))
                    {
                        if (name.Length == 0) throw new TesseraException($"{file} line {r.LineNumber}: empty geneID");
                        lastGeneId = genes.Count;
                        genes[name] = lastGeneId;
                        geneNames.Add(nameCol >= 0 ? DelimitedSplitter.Text(line[sp.Fields[nameCol]]) : null);
                    }
                }
                if (g.Length > lastGene.Length) lastGene = new byte[Math.Max(g.Length, 2 * lastGene.Length)];
                g.CopyTo(lastGene);
                lastGeneLength = g.Length;
            }
            var xs = DelimitedSplitter.Raw(line[sp.Fields[xCol]]);
            var ys = DelimitedSplitter.Raw(line[sp.Fields[yCol]]);
            if (!Numbers.TryParseIndex(xs, out long x) || !Numbers.TryParseIndex(ys, out long y))
                throw new TesseraException($"{file} line {r.LineNumber}: the coordinates x '{Names.Escape(Numbers.Text(xs))}', y '{Names.Escape(Numbers.Text(ys))}' are not non-negative integers");
            var cs = DelimitedSplitter.Raw(line[sp.Fields[cCol]]);
            if (!Numbers.TryParse(cs, out double c) || Numbers.Problem(c, false) is not null)
                throw new TesseraException($"{file} line {r.LineNumber}: {header[cCol]} '{Names.Escape(Numbers.Text(cs))}' is not a non-negative count");
            records++; total += c;
            if (c == 0) continue;
            long bx = x / bin * bin, by = y / bin * bin;
            long key = (bx << 31) ^ by;
            if (!bins.TryGetValue(key, out int b))
            {
                b = bins.Count;
                bins[key] = b;
                binXy.Add((bx, by));
            }
            long pair = ((long)b << 31) | (uint)lastGeneId;
            if (sums.Count >= nextReserve)
            {
                // a dictionary entry (~24 bytes) per (bin, gene) pair, then 20 bytes each while building the CSR
                ReadBudget.Need(44.0 * nextReserve, $"{file} ({sums.Count} bin x gene values after {records} records, bin {bin})");
                nextReserve *= 2;
            }
            sums[pair] = sums.TryGetValue(pair, out var s) ? s + (float)c : (float)c;
        }
        if (records == 0) throw new TesseraException($"{file}: the file has a header but no records");
        if (bins.Count == 0) throw new TesseraException($"{file}: every record has a count of 0");

        // bins in (y, x) order, so the result does not depend on the order of the records
        var order = Enumerable.Range(0, bins.Count).OrderBy(i => binXy[i].Y).ThenBy(i => binXy[i].X).ToArray();
        var rank = new int[order.Length];
        for (int i = 0; i < order.Length; i++) rank[order[i]] = i;
        var coo = new CooBuilder(sums.Count);
        foreach (var (pair, v) in sums) coo.Add(rank[(int)(pair >> 31)], (int)(pair & 0x7FFFFFFF), v);
        sums.Clear();
        var x2 = coo.ToCsr(bins.Count, genes.Count);

        var geneIds = new string[genes.Count];
        foreach (var (name, k) in genes) geneIds[k] = name;
        var obsNames = order.Select(i => string.Create(CultureInfo.InvariantCulture, $"{binXy[i].X}_{binXy[i].Y}")).ToArray();
        var data = new SpatialData(x2, new Table(obsNames, "bin name"), new Table(geneIds, "gene id"));
        if (nameCol >= 0) data.Var.Set("gene_name", new StringColumn(geneNames.ToArray()));
        var xy = new double[2 * order.Length];
        for (int i = 0; i < order.Length; i++) { xy[2 * i] = binXy[order[i]].X; xy[2 * i + 1] = binXy[order[i]].Y; }
        data.SetObsm(SpatialData.SpatialKey, new DenseMatrix(order.Length, 2, xy));
        PlatformTables.SetPlatform(data, "stereoseq", MicronsPerDnb);
        data.Uns["bin_size_dnb"] = (double)bin;
        data.Uns["bin_size_um"] = bin * MicronsPerDnb;
        options.Info($"read {records} records ({TextInput.Num(total)} MIDs) of {genes.Count} genes from {file}{(meta.Count > 0 ? $" ({string.Join(", ", meta.Take(4))})" : "")}: "
            + $"{data.NObs} bins of {bin} x {bin} DNBs ({TextInput.Num(bin * MicronsPerDnb)} µm{(options.Bin == null ? ", the default; set Bin to change it" : "")}); coordinates in DNB units, {TextInput.Num(MicronsPerDnb)} µm each");
        return data;
    }

    /// <summary>
    /// Hashes packed (bin, gene) and (x, y) keys with a full 64-bit mix. long's own hash XORs the two halves, and for
    /// bin &lt;&lt; 31 | gene that leaves ~2^17 distinct codes for millions of pairs: a 100k-bin GEM took 7 minutes in
    /// collision chains instead of seconds.
    /// </summary>
    private sealed class MixedKey : IEqualityComparer<long>
    {
        public static readonly MixedKey Instance = new();
        public bool Equals(long a, long b) => a == b;
        public int GetHashCode(long k)
        {
            ulong z = (ulong)k * 0x9E3779B97F4A7C15UL; // splitmix64's finaliser
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return (int)(z ^ (z >> 31));
        }
    }
}
