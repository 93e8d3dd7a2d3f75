// Usage: ReadersBench gen DIR NCELLS [xenium|visiumhd|visiumhd8|merscope|cosmx|slideseq|stereoseq ...] | read DIR | h5 FILE | h5raw FILE
// gen writes DIR/xenium, DIR/visium_hd/binned_outputs/square_016um and DIR/merscope (all three unless some are named);
// read reads one folder with DataReader.Read and prints seconds, peak working set, the CSR size and peak / CSR.
// Run read once per folder: the peak working set is that of the whole process.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Parquet.Serialization;
using Tessera;
using Tessera.IO;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length >= 3 && args[0] == "gen")
{
    string dir = args[1];
    int n = int.Parse(args[2], CultureInfo.InvariantCulture);
    var which = args.Length > 3 ? args[3..] : ["xenium", "visiumhd", "merscope"];
    foreach (var w in which)
    {
        var sw = Stopwatch.StartNew();
        string written = w switch
        {
            "xenium" => Gen.Xenium(Path.Combine(dir, "xenium"), n),
            "visiumhd" => Gen.VisiumHd(Path.Combine(dir, "visium_hd", "binned_outputs", "square_016um"), n, 16, 0.02),
            "visiumhd8" => Gen.VisiumHd(Path.Combine(dir, "visium_hd8", "binned_outputs", "square_008um"), n, 8, 0.005),
            "merscope" => Gen.Merscope(Path.Combine(dir, "merscope"), n),
            "cosmx" => Gen.CosMx(Path.Combine(dir, "cosmx"), n),
            "slideseq" => Gen.SlideSeq(Path.Combine(dir, "slideseq"), n),
            "stereoseq" => Gen.StereoSeq(Path.Combine(dir, "stereoseq"), n),
            _ => throw new ArgumentException($"unknown platform '{w}' (xenium, visiumhd, visiumhd8, merscope, cosmx, slideseq, stereoseq)"),
        };
        Console.WriteLine($"gen {w}: {written} in {sw.Elapsed.TotalSeconds:F1} s");
    }
    return 0;
}
if (args.Length == 2 && args[0] == "h5")
{
    // the 10x h5 read alone (TenXH5.Read), to tell its share of a Xenium or Visium HD read's peak from the rest
    var sw = Stopwatch.StartNew();
    var m = TenXH5.Read(args[1]);
    using var p = Process.GetCurrentProcess();
    long csr = 4L * m.X.IndPtr.Length + 8L * m.X.Nnz;
    Console.WriteLine($"RESULT h5 {args[1]}: {m.X.Rows} x {m.X.Cols}, nnz {m.X.Nnz}, {sw.Elapsed.TotalSeconds:F1} s, peak working set {p.PeakWorkingSet64 >> 20} MiB, "
        + $"CSR {csr >> 20} MiB, peak/CSR {(double)p.PeakWorkingSet64 / csr:F2}, GC heap now {GC.GetTotalMemory(false) >> 20} MiB");
    return 0;
}
if (args.Length == 2 && args[0] == "h5raw")
{
    // PureHDF's own cost: matrix/data and matrix/indices read in their stored types (int32, int64) with nothing converted
    var sw = Stopwatch.StartNew();
    using var f = PureHDF.H5File.OpenRead(args[1]);
    var data = ((PureHDF.IH5Dataset)f.Get("matrix/data")).Read<int[]>();
    var indices = ((PureHDF.IH5Dataset)f.Get("matrix/indices")).Read<long[]>();
    double tNumbers = sw.Elapsed.TotalSeconds;
    var barcodes = ((PureHDF.IH5Dataset)f.Get("matrix/barcodes")).Read<string[]>();
    using var p = Process.GetCurrentProcess();
    long stored = 4L * data.Length + 8L * indices.Length;
    Console.WriteLine($"RESULT h5raw {args[1]}: nnz {data.Length}, {tNumbers:F1} s for data + indices, {sw.Elapsed.TotalSeconds - tNumbers:F1} s for {barcodes.Length} barcodes, "
        + $"peak working set {p.PeakWorkingSet64 >> 20} MiB, arrays {stored >> 20} MiB, peak/arrays {(double)p.PeakWorkingSet64 / stored:F2}, checksum {indices[^1] + data[^1]}");
    return 0;
}
if (args.Length == 2 && args[0] == "read")
{
    long before;
    using (var p0 = Process.GetCurrentProcess()) before = p0.WorkingSet64;
    var sw = Stopwatch.StartNew();
    var log = new StageLog(sw);
    var data = DataReader.Read(args[1], new ReadOptions { Progress = log });
    double s = sw.Elapsed.TotalSeconds;
    var x = data.X;
    long csr = 4L * x.IndPtr.Length + 4L * x.Indices.Length + 4L * x.Data.Length;
    using var p = Process.GetCurrentProcess();
    p.Refresh();
    long peak = p.PeakWorkingSet64;
    double mb = 1024.0 * 1024.0;
    Console.WriteLine($"RESULT {args[1]}: {data.NObs} obs x {data.NVars} vars, nnz {x.Nnz} ({100.0 * x.Nnz / ((double)data.NObs * data.NVars):F2} %), "
        + $"{s:F1} s, peak working set {peak / mb:F0} MiB, CSR {csr / mb:F0} MiB, peak/CSR {(double)peak / csr:F2} "
        + $"(working set before the read {before / mb:F0} MiB; (peak - before)/CSR {(double)(peak - before) / csr:F2}); "
        + $"live after a full collection {GC.GetTotalMemory(true) / mb:F0} MiB (the data read plus the runtime's own)");
    GC.KeepAlive(data);
    return 0;
}
Console.Error.WriteLine("usage: ReadersBench gen DIR NCELLS [xenium|visiumhd|visiumhd8|merscope ...] | read DIR | h5 FILE | h5raw FILE");
return 2;

/// <summary>Prints each reader note with the seconds since the read began, so the stages can be timed from outside.</summary>
sealed class StageLog(Stopwatch sw) : IProgress<Progress>
{
    public void Report(Progress value)
    {
        if (value.Message == null) return;
        using var p = Process.GetCurrentProcess();
        Console.WriteLine($"  [{sw.Elapsed.TotalSeconds,6:F1} s, working set {p.WorkingSet64 >> 20} MiB, peak so far {p.PeakWorkingSet64 >> 20} MiB, "
            + $"GC heap {GC.GetTotalMemory(false) >> 20} MiB] {value.Message}");
    }
}

/// <summary>Synthetic platform folders in each vendor's layout, seeded (seed 0), with a realistic per-cell depth spread.</summary>
static class Gen
{
    /// <summary>
    /// Sparse counts, cells × features in CSR: each cell gets its own detection rate (the mean rate times a log-normal
    /// depth factor, sd 0.5 on the log scale), the detected features are drawn by geometric skips (O(nnz)), and a
    /// detected count is 1 + a geometric number (mean about 1.5 extra); features where <paramref name="rare"/> is true keep
    /// only a tenth of their draws (control probes and blank codewords are rarely seen).
    /// </summary>
    public static (long[] IndPtr, long[] Indices, int[] Data) Counts(int cells, int features, double rate, Random rng, Func<int, bool>? rare = null)
    {
        var indptr = new long[cells + 1];
        var idx = new List<long>((int)Math.Min(int.MaxValue - 64, cells * (features * rate * 1.2 + 4)));
        var val = new List<int>(idx.Capacity);
        for (int c = 0; c < cells; c++)
        {
            double z = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            double p = Math.Clamp(rate * Math.Exp(0.5 * z - 0.125), 1e-4, 0.9);
            double logq = Math.Log(1 - p);
            for (long j = (long)(Math.Log(1 - rng.NextDouble()) / logq); j < features; j += 1 + (long)(Math.Log(1 - rng.NextDouble()) / logq))
            {
                if (rare != null && rare((int)j) && rng.NextDouble() >= 0.1) continue;
                idx.Add(j);
                val.Add(1 + (int)(Math.Log(1 - rng.NextDouble()) / Math.Log(0.6)));
            }
            indptr[c + 1] = idx.Count;
        }
        return (indptr, idx.ToArray(), val.ToArray());
    }

    /// <summary>
    /// A Cell Ranger / Xenium v3 feature-barcode h5 (features × barcodes CSC, int32 data, int64 indices and indptr). The
    /// numeric datasets are chunked (80,000 values) and deflate-compressed, and the strings fixed-length (null-padded to the
    /// longest), as Cell Ranger and Xenium write them; READERS_H5_PLAIN=1 asks for contiguous uncompressed datasets and
    /// variable-length strings instead (as in the cropped fixtures).
    /// </summary>
    static void WriteTenXH5(string path, string[] barcodes, string[] ids, string[] names, string[] types, (long[] IndPtr, long[] Indices, int[] Data) m)
    {
        bool plain = Environment.GetEnvironmentVariable("READERS_H5_PLAIN") == "1";
        object Chunked<T>(T[] a) => plain ? a : new PureHDF.H5Dataset<T[]>(a, chunks: [(uint)Math.Min(80000, Math.Max(1, a.Length))]);
        new PureHDF.H5File
        {
            ["matrix"] = new PureHDF.H5Group
            {
                ["barcodes"] = barcodes,
                ["data"] = Chunked(m.Data),
                ["indices"] = Chunked(m.Indices),
                ["indptr"] = Chunked(m.IndPtr),
                ["shape"] = new int[] { ids.Length, barcodes.Length },
                ["features"] = new PureHDF.H5Group
                {
                    ["id"] = ids,
                    ["name"] = names,
                    ["feature_type"] = types,
                    ["genome"] = Enumerable.Repeat("Unknown", ids.Length).ToArray(),
                },
            },
        }.Write(path, plain ? null : new PureHDF.H5WriteOptions(
            DefaultStringLength: barcodes.Concat(ids).Concat(names).Concat(types).Max(x => x.Length),
            Filters: [PureHDF.Filters.DeflateFilter.Id]));
    }

    /// <summary>Xenium-style cell ids: 8 letters a–p from the index, then "-1" (as XOA ≥ 1.3 writes them).</summary>
    static string XeniumId(int i)
    {
        Span<char> s = stackalloc char[10];
        for (int k = 7; k >= 0; k--) { s[k] = (char)('a' + (i & 15)); i >>= 4; }
        s[8] = '-'; s[9] = '1';
        return new string(s);
    }

    public sealed record XeniumCell(string cell_id, double x_centroid, double y_centroid, int transcript_counts, double cell_area, double nucleus_area);

    /// <summary>
    /// cell_feature_matrix.h5 with 500 features (480 genes, 10 negative-control probes, 10 unassigned codewords), about
    /// 5 % of the gene entries non-zero, and cells.parquet (cell_id, x/y_centroid in µm on a ~10 µm grid, transcript_counts, areas).
    /// </summary>
    public static string Xenium(string dir, int n)
    {
        Directory.CreateDirectory(dir);
        var rng = new Random(0);
        const int genes = 480, neg = 10, blank = 10;
        int f = genes + neg + blank;
        var names = Enumerable.Range(0, f).Select(j => j < genes ? $"Gene{j:000}" : j < genes + neg ? $"NegControlProbe_{j - genes:00}" : $"UnassignedCodeword_{j - genes - neg:0000}").ToArray();
        var ids = Enumerable.Range(0, f).Select(j => j < genes ? $"ENSG{j:00000000000}" : names[j]).ToArray();
        var types = Enumerable.Range(0, f).Select(j => j < genes ? "Gene Expression" : j < genes + neg ? "Negative Control Probe" : "Unassigned Codeword").ToArray();
        var m = Counts(n, f, 0.05, rng, j => j >= genes);
        var barcodes = Enumerable.Range(0, n).Select(XeniumId).ToArray();
        WriteTenXH5(Path.Combine(dir, "cell_feature_matrix.h5"), barcodes, ids, names, types, m);
        int side = (int)Math.Ceiling(Math.Sqrt(n));
        var cells = new XeniumCell[n];
        for (int i = 0; i < n; i++)
        {
            int tc = 0;
            for (long k = m.IndPtr[i]; k < m.IndPtr[i + 1]; k++) tc += m.Data[k];
            cells[i] = new XeniumCell(barcodes[i], 10.0 * (i % side) + 8 * rng.NextDouble(), 10.0 * (i / side) + 8 * rng.NextDouble(), tc, 40 + 60 * rng.NextDouble(), 15 + 20 * rng.NextDouble());
        }
        // row groups of 131,072 rows, so a 1M-cell table has several as pyarrow writes them
        using (var s = File.Create(Path.Combine(dir, "cells.parquet")))
            ParquetSerializer.SerializeAsync(cells, s, new Parquet.ParquetOptions { RowGroupSize = 1 << 17 }).GetAwaiter().GetResult();
        return dir;
    }

    public sealed record Position(string barcode, int in_tissue, int array_row, int array_col, double pxl_row_in_fullres, double pxl_col_in_fullres);

    /// <summary>
    /// One Space Ranger 3 bin folder of <paramref name="binUm"/> µm bins: filtered_feature_bc_matrix.h5 with 18,085 genes
    /// (the human whole-transcriptome probe set's size), a fraction <paramref name="rate"/> non-zero (2 % for 16 µm bins,
    /// 0.5 % for 8 µm bins); spatial/tissue_positions.parquet (in-tissue bins only, as in the filtered matrix) and
    /// spatial/scalefactors_json.json with microns_per_pixel and bin_size_um.
    /// </summary>
    public static string VisiumHd(string dir, int n, int binUm, double rate)
    {
        Directory.CreateDirectory(Path.Combine(dir, "spatial"));
        var rng = new Random(0);
        const int genes = 18085;
        var names = Enumerable.Range(0, genes).Select(j => $"GENE{j:00000}").ToArray();
        var ids = Enumerable.Range(0, genes).Select(j => $"ENSG{j:00000000000}").ToArray();
        var types = Enumerable.Repeat("Gene Expression", genes).ToArray();
        var m = Counts(n, genes, rate, rng);
        int side = (int)Math.Ceiling(Math.Sqrt(n));
        var barcodes = Enumerable.Range(0, n).Select(i => $"s_{binUm:000}um_{i / side:00000}_{i % side:00000}-1").ToArray();
        WriteTenXH5(Path.Combine(dir, "filtered_feature_bc_matrix.h5"), barcodes, ids, names, types, m);
        const double umPerPx = 0.2738242950835738;
        var pos = new Position[n];
        for (int i = 0; i < n; i++)
            pos[i] = new Position(barcodes[i], 1, i / side, i % side, (i / side + 0.5) * binUm / umPerPx, (i % side + 0.5) * binUm / umPerPx);
        using (var s = File.Create(Path.Combine(dir, "spatial", "tissue_positions.parquet")))
            ParquetSerializer.SerializeAsync(pos, s, new Parquet.ParquetOptions { RowGroupSize = 1 << 17 }).GetAwaiter().GetResult();
        File.WriteAllText(Path.Combine(dir, "spatial", "scalefactors_json.json"), $$"""
            {
                "spot_diameter_fullres": {{(binUm / umPerPx).ToString("R", CultureInfo.InvariantCulture)}},
                "bin_size_um": {{binUm}}.0,
                "microns_per_pixel": 0.2738242950835738,
                "regist_target_img_scalef": 0.2505533,
                "tissue_lowres_scalef": 0.02505533,
                "fiducial_diameter_fullres": 1205.1523766336395,
                "tissue_hires_scalef": 0.2505533
            }
            """);
        return dir;
    }

    /// <summary>
    /// cell_by_gene.csv (cell, 500 targets of which 50 Blank-* codewords, dense integer counts, about 5 % non-zero) and
    /// cell_metadata.csv (EntityID, fov, volume, center_x, center_y, min/max x/y, as MERSCOPE 2.x writes them).
    /// </summary>
    /// <summary>
    /// A CosMx (AtoMx flat files) folder: <c>S1_exprMat_file.csv</c> (fov, cell_ID, 960 genes + 20 NegPrb, dense, with
    /// one <c>cell_ID 0</c> background row per fov of 1,000 cells, as AtoMx writes them) and <c>S1_metadata_file.csv</c>
    /// (fov, cell_ID, Area, CenterX/Y_global_px, CenterX/Y_local_px). ~10 % of a cell's features detected.
    /// </summary>
    public static string CosMx(string dir, int n)
    {
        Directory.CreateDirectory(dir);
        var rng = new Random(0);
        const int genes = 960, neg = 20;
        int f = genes + neg;
        var m = Counts(n, f, 0.10, rng, j => j >= genes);
        var names = Enumerable.Range(0, f).Select(j => j < genes ? $"GENE{j:000}" : $"NegPrb{j - genes + 1}").ToArray();
        using (var w = new StreamWriter(Path.Combine(dir, "S1_exprMat_file.csv"), false, new UTF8Encoding(false), 1 << 20))
        {
            w.Write("fov,cell_ID," + string.Join(',', names)); w.Write('\n');
            var row = new int[f];
            for (int i = 0; i < n; i++)
            {
                int fov = i / 1000 + 1, cell = i % 1000 + 1;
                if (cell == 1)
                {
                    // the background "cell" of the fov: transcripts outside every cell
                    w.Write(fov); w.Write(",0");
                    for (int j = 0; j < f; j++) { w.Write(','); w.Write(rng.Next(0, 3)); }
                    w.Write('\n');
                }
                Array.Clear(row);
                for (long k = m.IndPtr[i]; k < m.IndPtr[i + 1]; k++) row[m.Indices[k]] = m.Data[k];
                w.Write(fov); w.Write(','); w.Write(cell);
                foreach (var v in row) { w.Write(','); w.Write(v); }
                w.Write('\n');
            }
        }
        using (var w = new StreamWriter(Path.Combine(dir, "S1_metadata_file.csv"), false, new UTF8Encoding(false), 1 << 20))
        {
            w.Write("fov,cell_ID,Area,AspectRatio,CenterX_local_px,CenterY_local_px,CenterX_global_px,CenterY_global_px,Width,Height\n");
            for (int i = 0; i < n; i++)
            {
                int fov = i / 1000 + 1, cell = i % 1000 + 1;
                double lx = 4256 * rng.NextDouble(), ly = 4256 * rng.NextDouble();
                double gx = 4256.0 * (fov % 40) + lx, gy = 4256.0 * (fov / 40) + ly;
                w.Write(FormattableString.Invariant($"{fov},{cell},{3000 + rng.Next(5000)},{1 + rng.NextDouble():F2},{lx:F0},{ly:F0},{gx:R},{gy:R},{80 + rng.Next(40)},{80 + rng.Next(40)}\n"));
            }
        }
        return dir;
    }

    /// <summary>
    /// A Slide-seq puck folder as spacexr reads it: <c>BeadLocationsForR.csv</c> (barcodes, xcoord, ycoord) and
    /// <c>MappedDGEForR.csv</c>, genes × beads, dense, R-quoted header; 2,000 genes, ~5 % detected per bead.
    /// </summary>
    public static string SlideSeq(string dir, int n)
    {
        Directory.CreateDirectory(dir);
        var rng = new Random(0);
        const int genes = 2000;
        var m = Counts(n, genes, 0.05, rng);
        // genes x beads: transpose the bead-major draws into gene rows
        var perGene = new List<(int Bead, int Count)>[genes];
        for (int g = 0; g < genes; g++) perGene[g] = [];
        for (int i = 0; i < n; i++)
            for (long k = m.IndPtr[i]; k < m.IndPtr[i + 1]; k++) perGene[m.Indices[k]].Add((i, m.Data[k]));
        var barcodes = Enumerable.Range(0, n).Select(i => Barcode(i, 14)).ToArray();
        using (var w = new StreamWriter(Path.Combine(dir, "MappedDGEForR.csv"), false, new UTF8Encoding(false), 1 << 20))
        {
            w.Write("\"\""); foreach (var b in barcodes) { w.Write(",\""); w.Write(b); w.Write('"'); }
            w.Write('\n');
            var row = new int[n];
            for (int g = 0; g < genes; g++)
            {
                Array.Clear(row);
                foreach (var (b, c) in perGene[g]) row[b] = c;
                w.Write($"\"Gene{g:0000}\"");
                foreach (var v in row) { w.Write(','); w.Write(v); }
                w.Write('\n');
            }
        }
        using (var w = new StreamWriter(Path.Combine(dir, "BeadLocationsForR.csv"), false, new UTF8Encoding(false), 1 << 20))
        {
            w.Write("barcodes,xcoord,ycoord\n");
            for (int i = 0; i < n; i++) w.Write(FormattableString.Invariant($"{barcodes[i]},{6000 * rng.NextDouble():F6},{6000 * rng.NextDouble():F6}\n"));
        }
        return dir;
    }

    /// <summary>
    /// A Stereo-seq GEM file (<c>chip.gem</c>, SAW's header lines, geneID/x/y/MIDCount, tab-separated) whose DNBs fall
    /// into <paramref name="n"/> bins of 50 × 50 DNBs (the reader's default bin): each bin gets ~100 detected genes
    /// (of 20,000), each spread over 1–3 DNBs, so the file has ~2 lines per bin-gene entry.
    /// </summary>
    public static string StereoSeq(string dir, int n)
    {
        Directory.CreateDirectory(dir);
        var rng = new Random(0);
        const int genes = 20000;
        var m = Counts(n, genes, 0.005, rng);
        int side = (int)Math.Ceiling(Math.Sqrt(n));
        using var w = new StreamWriter(Path.Combine(dir, "chip.gem"), false, new UTF8Encoding(false), 1 << 20);
        w.Write("#FileFormat=GEMv0.1\n#SortedBy=None\n#BinSize=1\n#Stereo-seqChip=BENCH\n#OffsetX=0\n#OffsetY=0\n");
        w.Write("geneID\tx\ty\tMIDCount\n");
        for (int i = 0; i < n; i++)
        {
            int bx = 50 * (i % side), by = 50 * (i / side);
            for (long k = m.IndPtr[i]; k < m.IndPtr[i + 1]; k++)
            {
                int left = m.Data[k];
                while (left > 0)
                {
                    int c = Math.Min(left, 1 + rng.Next(2));
                    left -= c;
                    w.Write(FormattableString.Invariant($"G{m.Indices[k]:00000}\t{bx + rng.Next(50)}\t{by + rng.Next(50)}\t{c}\n"));
                }
            }
        }
        return dir;
    }

    private static string Barcode(int i, int length)
    {
        var c = new char[length];
        for (int k = 0; k < length; k++) { c[k] = "ACGT"[i & 3]; i >>= 2; }
        return new string(c);
    }

    public static string Merscope(string dir, int n)
    {
        Directory.CreateDirectory(dir);
        var rng = new Random(0);
        const int genes = 450, blanks = 50;
        int f = genes + blanks;
        var m = Counts(n, f, 0.05, rng, j => j >= genes);
        var header = "cell," + string.Join(',', Enumerable.Range(0, f).Select(j => j < genes ? $"GENE{j:000}" : $"Blank-{j - genes + 1}"));
        long id0 = 112824700230100000;
        using (var w = new StreamWriter(Path.Combine(dir, "cell_by_gene.csv"), false, new UTF8Encoding(false), 1 << 20))
        {
            w.Write(header); w.Write('\n');
            var row = new int[f];
            for (int i = 0; i < n; i++)
            {
                Array.Clear(row);
                for (long k = m.IndPtr[i]; k < m.IndPtr[i + 1]; k++) row[m.Indices[k]] = m.Data[k];
                w.Write(id0 + i);
                foreach (var v in row) { w.Write(','); w.Write(v); }
                w.Write('\n');
            }
        }
        int side = (int)Math.Ceiling(Math.Sqrt(n));
        using (var w = new StreamWriter(Path.Combine(dir, "cell_metadata.csv"), false, new UTF8Encoding(false), 1 << 20))
        {
            w.Write("EntityID,fov,volume,center_x,center_y,min_x,min_y,max_x,max_y\n");
            for (int i = 0; i < n; i++)
            {
                double cx = 10.0 * (i % side) + 8 * rng.NextDouble(), cy = 10.0 * (i / side) + 8 * rng.NextDouble();
                w.Write(FormattableString.Invariant($"{id0 + i},{i / 1000},{300 + 400 * rng.NextDouble():R},{cx:R},{cy:R},{cx - 4:R},{cy - 4:R},{cx + 4:R},{cy + 4:R}\n"));
            }
        }
        return dir;
    }
}
