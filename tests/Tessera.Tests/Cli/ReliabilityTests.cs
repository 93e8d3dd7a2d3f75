using System.Buffers.Binary;
using System.Text;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.IO;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>
/// The findings of issue 20, one group each: no lost input, bounded memory on any header, bounded lines, I/O errors as
/// user errors, clean interruption, duplicate gene names, unsafe characters in names.
/// </summary>
public class ReliabilityTests
{
    // ---------- 1. an output that is, contains or lies inside an input is refused before any work ----------

    public static TheoryData<string, string, bool> OutputCases()
    {
        var d = new TheoryData<string, string, bool>();
        foreach (var cmd in new[] { "domains", "patterns", "map", "histology", "preprocess", "cluster", "integrate", "convert", "simulate-patterns" })
            foreach (var where in new[] { "is", "inside", "contains", "link", "dotdot" })
                foreach (var overwrite in new[] { false, true })
                    if (!(FileOutput(cmd) && where == "contains")) // a file cannot contain an input
                        d.Add(cmd, where, overwrite);
        return d;
    }

    private static bool FileOutput(string command) => command is "convert" or "simulate-patterns";

    [Theory]
    [MemberData(nameof(OutputCases))]
    public void OutputThatIsContainsOrLiesInsideAnInputIsRefused(string command, string where, bool overwrite)
    {
        using var t = new TempDir();
        var paths = SmallInputs.WriteAll(t.File("in"), SmallInputs.Data());
        var s = paths["spaceranger"];
        // a histology section folder, listed in a manifest inside it
        File.WriteAllText(Path.Combine(s, "manifest.csv"), "section,counts,spots,image\nA,filtered_feature_bc_matrix,spatial/tissue_positions_list.csv,spatial/tissue_lowres_image.png\n");
        // file outputs: "is" and "link" aim at the h5ad input file, the others write a file inside the Space Ranger folder
        bool fileTarget = FileOutput(command) && where is "is" or "link";
        string input = command == "histology" ? Path.Combine(s, "manifest.csv") : fileTarget ? paths["h5ad"] : s;
        Directory.CreateSymbolicLink(t.File("link"), input);
        string output = where switch
        {
            "is" => input,
            "inside" => Path.Combine(s, FileOutput(command) ? "x.h5ad" : "results"),
            "contains" => t.File("in"),
            "link" => t.File("link"),
            _ => Path.Combine(s, "..", Path.GetFileName(s), FileOutput(command) ? "x.h5ad" : ""),
        };
        if (command == "histology" && where is "is" or "link") output = where == "is" ? s : t.File("link") + "/..";
        // the manifest's folder is no input of histology, but the section's counts folder is
        if (command == "histology" && where == "inside") output = Path.Combine(s, "filtered_feature_bc_matrix", "results");
        string[] args = command switch
        {
            "domains" => ["domains", input, "--clusters", "3", "--epochs", "2", "--out", output],
            "patterns" => ["patterns", input, "--out", output],
            "map" => ["map", "--sc", paths["h5ad"], "--st", input, "--out", output],
            "histology" => ["histology", "train", "--manifest", input, "--out", output],
            "preprocess" => ["preprocess", input, "--out", output],
            "cluster" => ["cluster", input, "--out", output],
            "integrate" => ["integrate", paths["csv"], input, "--clusters", "3", "--out", output],
            "convert" => ["convert", input, "-o", output],
            _ => ["simulate", "patterns", "--base", input, "-o", output],
        };
        if (overwrite && command != "simulate-patterns") args = [.. args, "--overwrite"];
        var before = IoTestUtil.Hash(t.File("in"));
        var r = CliInProcess.Run(args);
        Assert.Equal(2, r.Code);
        Assert.StartsWith("error: the output '" + output + "' ", r.Error);
        Assert.Contains(" the input ", r.Err);
        Assert.Equal(before, IoTestUtil.Hash(t.File("in")));
        Assert.Empty(Directory.GetFileSystemEntries(t.Path, ".*", SearchOption.AllDirectories));
    }

    [Fact]
    public void OutputThatHoldsAFileNamedOnlyInAManifestIsRefused()
    {
        // the manifest lies elsewhere: only its lines name the section's files, so the command line alone cannot tell
        using var t = new TempDir();
        var s = SmallInputs.WriteAll(t.File("in"), SmallInputs.Data())["spaceranger"];
        var manifest = t.File("manifest.csv");
        File.WriteAllText(manifest, $"section,counts,spots,image\nA,{s}/filtered_feature_bc_matrix,{s}/spatial/tissue_positions_list.csv,{s}/spatial/tissue_lowres_image.png\n");
        var before = IoTestUtil.Hash(s);
        var r = CliInProcess.Run("histology", "train", "--manifest", manifest, "--out", s, "--overwrite");
        Assert.Equal(2, r.Code);
        Assert.StartsWith($"error: the output '{s}' contains the input '{s}/filtered_feature_bc_matrix'", r.Error);
        Assert.Equal(before, IoTestUtil.Hash(s));
    }

    [Fact]
    public void ResolvePhysicalPath_FollowsLinksBeforeDotDot()
    {
        using var t = new TempDir();
        Directory.CreateDirectory(t.File("a/b"));
        Directory.CreateSymbolicLink(t.File("l"), t.File("a/b"));
        // physically l/.. is a (the link target's parent), not the temporary folder itself as a textual ".." would say
        Assert.Equal(OutputGuard.Resolve(t.File("a")), OutputGuard.Resolve(t.File("l") + "/.."));
        Assert.Equal(OutputGuard.Resolve(t.File("a/b/new/x")), OutputGuard.Resolve(t.File("l/new/x")));
        File.CreateSymbolicLink(t.File("loop1"), t.File("loop2"));
        File.CreateSymbolicLink(t.File("loop2"), t.File("loop1"));
        var e = Assert.Throws<TesseraException>(() => OutputGuard.Resolve(t.File("loop1")));
        Assert.Contains("too many levels of symbolic links", e.Message);
    }

    // ---------- 2. declared shapes are checked against obs/var and the memory limit before allocating ----------

    /// <summary>An h5ad with dense X (obs 400, var 2000), its X dims then edited in the file's dataspace to a declared size.</summary>
    private static string DenseH5adDeclaring(string dir, ulong rows, ulong cols)
    {
        var data = new SpatialData(CsrMatrix.FromDense(new float[400, 2000]), new Table(Enumerable.Range(0, 400).Select(i => $"s{i}").ToArray()),
            new Table(Enumerable.Range(0, 2000).Select(i => $"g{i}").ToArray()));
        var p = Path.Combine(dir, "dense.h5ad");
        var dense = new float[400, 2000];
        dense[3, 7] = 5;
        new PureHDF.H5File
        {
            ["X"] = dense,
            ["obs"] = new PureHDF.H5Group { ["_index"] = data.ObsNames.ToArray(), Attributes = new() { ["_index"] = "_index" } },
            ["var"] = new PureHDF.H5Group { ["_index"] = data.VarNames.ToArray(), Attributes = new() { ["_index"] = "_index" } },
        }.Write(p);
        var bytes = File.ReadAllBytes(p);
        var pattern = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(pattern, 400);
        BinaryPrimitives.WriteUInt64LittleEndian(pattern.AsSpan(8), 2000);
        int at = bytes.AsSpan().IndexOf(pattern);
        Assert.True(at > 0, "X's dataspace dims were not found in the file");
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), rows);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at + 8), cols);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    [Theory]
    [InlineData(30000UL, 30000UL)]
    [InlineData(200000UL, 200000UL)]
    public void H5adDenseXDeclaredLargerThanObsAndVarIsRefusedBeforeReading(ulong rows, ulong cols)
    {
        using var t = new TempDir();
        var p = DenseH5adDeclaring(t.Path, rows, cols);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var r = CliInProcess.Run("info", p);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.Equal(2, r.Code);
        Assert.Equal($"error: cannot read h5ad file '{p}': X is declared {rows} x {cols} but obs has 400 names and var has 2000 names (X must be observations x genes)", r.Error);
        Assert.True(allocated < 200 << 20, $"allocated {allocated} bytes");
        Assert.True(clock.Elapsed.TotalSeconds < 10, $"took {clock.Elapsed}");
    }

    [Fact]
    public void H5adWithinShapesButAboveTheMemoryLimitIsRefusedWithTheNumbers()
    {
        using var t = new TempDir();
        var p = DenseH5adDeclaring(t.Path, 400, 2000);
        var e = Assert.Throws<TesseraException>(() => H5ad.Read(p, new ReadOptions { MaxMemory = 4 << 20 }));
        // 400 x 2000: the sparse copy at worst (8 bytes per value) = 6.1 MB
        Assert.Equal($"cannot read h5ad file '{p}': X (declared 400 x 2000 dense) as a sparse matrix needs 6.1 MB of memory, more than the limit of 4 MB (MaxMemory)", e.Message);
        Assert.Equal(1, H5ad.Read(p, new ReadOptions { MaxMemory = 64 << 20 }).X.Nnz);
        // the CLI names its flag, and the flag raises the limit
        var r = CliInProcess.Run("info", p, "--max-memory", "4M");
        Assert.Equal(2, r.Code);
        Assert.EndsWith("more than the limit of 4 MB (--max-memory)", r.Error);
        Assert.Equal(0, CliInProcess.Run("info", p, "--max-memory", "64M").Code);
        Assert.Equal(2, CliInProcess.Run("info", p, "--max-memory", "lots").Code);
    }

    [Fact]
    public void MtxHeaderDeclaringTwoBillionSquaredIsRefusedBeforeAllocating()
    {
        using var t = new TempDir();
        var mtx = IoTestUtil.Write(t.File("m.mtx"), "%%MatrixMarket matrix coordinate integer general\n2000000000 2000000000 1\n1 1 1\n");
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<TesseraException>(() => MatrixMarket.Read(mtx, options: new ReadOptions { MaxMemory = 1L << 30 }));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocated < 64 << 20);
        Assert.Equal("m.mtx (declared 2000000000 x 2000000000 with 1 entries) needs 14.9 GB of memory, more than the limit of 1 GB (MaxMemory)", e.Message);
        // in a 10x folder the size line must match features and barcodes first
        var dir = SmallInputs.WriteAll(t.File("in"), SmallInputs.Data())["mtx"];
        File.Delete(Path.Combine(dir, "matrix.mtx.gz"));
        IoTestUtil.Write(Path.Combine(dir, "matrix.mtx"), "%%MatrixMarket matrix coordinate integer general\n2000000000 2000000000 1\n1 1 1\n");
        var r = CliInProcess.Run("info", dir);
        Assert.Equal(2, r.Code);
        Assert.Equal("error: matrix.mtx: the size line declares 2000000000 x 2000000000 but features.tsv.gz lists 12 features and barcodes.tsv.gz 24 barcodes (features x barcodes)", r.Error);
    }

    [Fact]
    public void TenXH5DeclaredLengthsAreCheckedBeforeReading()
    {
        using var t = new TempDir();
        var data = SmallInputs.Data();
        var p = t.File("m.h5");
        SmallInputs.WriteTenXH5(data, p);
        // shape edited to 2^31 - 1 barcodes: barcodes and indptr disagree before any of them is read
        var bytes = File.ReadAllBytes(p);
        var pattern = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(pattern, 12);
        BinaryPrimitives.WriteInt32LittleEndian(pattern.AsSpan(4), 24);
        int at = bytes.AsSpan().IndexOf(pattern);
        Assert.True(at > 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at + 4), int.MaxValue);
        File.WriteAllBytes(p, bytes);
        var e = Assert.Throws<TesseraException>(() => TenXH5.Read(p));
        Assert.Equal($"cannot read 10x HDF5 file '{p}': 'matrix/barcodes': 24 entries declared, but the matrix's shape needs 2147483647 (barcodes)", e.Message);
    }

    [Fact]
    public void ImageHeaderDeclaringAHugeImageIsRefusedBeforeDecoding()
    {
        using var t = new TempDir();
        var png = t.File("big.png");
        IoTestUtil.WritePng(png, 4, 4, (_, _) => (1, 2, 3));
        var bytes = File.ReadAllBytes(png);
        // (stb_image itself refuses images above 1 GB; this one is just below)
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), 16000); // IHDR width
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), 16000); // IHDR height
        File.WriteAllBytes(png, bytes);
        using var limit = MemoryLimit.Use(256L << 20);
        var e = Assert.Throws<TesseraException>(() => SpaceRanger.LoadImage(png, "x", 1));
        Assert.Equal("big.png (declared 16000 x 16000 pixels) needs 1.4 GB of memory, more than the limit of 256 MB (MaxMemory)", e.Message);
    }

    // ---------- 3. an endless line is an input error ----------

    [Fact]
    public void CsvThatIsALinkToDevZeroIsAnInputError()
    {
        Skip.IfNot(File.Exists("/dev/zero"));
        using var t = new TempDir();
        var csv = t.File("zero.csv");
        File.CreateSymbolicLink(csv, "/dev/zero");
        var r = CliInProcess.Run("info", csv);
        Assert.Equal(2, r.Code);
        Assert.Equal("error: zero.csv line 1 is longer than 256 MB: not a text table", r.Error);
    }

    // ---------- 4. I/O errors on inputs are user errors naming the path ----------

    [Fact]
    public void SymlinkLoopAsInputIsAUserErrorNamingThePath()
    {
        using var t = new TempDir();
        File.CreateSymbolicLink(t.File("a.h5ad"), t.File("b.h5ad"));
        File.CreateSymbolicLink(t.File("b.h5ad"), t.File("a.h5ad"));
        var r = CliInProcess.Run("info", t.File("a.h5ad"));
        Assert.Equal(2, r.Code);
        // .NET counts a link as an existing file, so the open fails, and the error names the input and the link
        Assert.Equal($"error: cannot read '{t.File("a.h5ad")}': Too many levels of symbolic links : '{t.File("a.h5ad")}'", r.Error);

        var dir = SmallInputs.WriteAll(t.File("in"), SmallInputs.Data())["mtx"];
        var mtx = Path.Combine(dir, "matrix.mtx.gz");
        File.Delete(mtx);
        File.CreateSymbolicLink(mtx, mtx);
        r = CliInProcess.Run("info", dir);
        Assert.Equal(2, r.Code);
        Assert.Equal($"error: cannot read '{dir}': Too many levels of symbolic links : '{mtx}'", r.Error);
    }

    [Fact]
    public void LoopingLinkBesideTheDataDoesNotFailTheRunAtCommit()
    {
        // run.json hashes every file of an input folder: a looping link there is recorded, not an internal error after the work
        using var t = new TempDir();
        var s = SmallInputs.WriteAll(t.File("in"), SmallInputs.Data())["spaceranger"];
        File.CreateSymbolicLink(Path.Combine(s, "junk"), Path.Combine(s, "junk"));
        var r = CliInProcess.Run("preprocess", s, "--out", t.File("out"), "--quiet", "--hvg", "8", "--pca", "4");
        Assert.True(r.Code == 0, r.Err);
        var runJson = File.ReadAllText(t.File("out/run.json"));
        Assert.Contains("\"path\": \"junk\"", runJson);
        Assert.Contains("\"unreadable\":", runJson);
    }

    [Fact]
    public void IOExceptionInACommandIsExit2WithTheMessage()
    {
        var root = new System.CommandLine.RootCommand();
        var cmd = new System.CommandLine.Command("x");
        CommandHost.SetBody(cmd, (_, _) => throw new IOException("Too many levels of symbolic links : '/tmp/a'"));
        root.Subcommands.Add(cmd);
        var err = new StringWriter();
        var saved = Console.Error;
        Console.SetError(err);
        int code;
        try { code = CommandHost.Invoke(root, ["x"]); } finally { Console.SetError(saved); }
        Assert.Equal(2, code);
        Assert.Equal("error: Too many levels of symbolic links : '/tmp/a'", err.ToString().Trim());
    }

    // ---------- 5. stale temporary folders of dead runs are removed, and said so ----------

    [Fact]
    public void StaleTemporaryFoldersOfDeadRunsAreRemovedOnStart()
    {
        using var t = new TempDir();
        var input = SmallInputs.WriteAll(t.File("in"), SmallInputs.Data())["h5ad"];
        var outDir = t.File("out");
        // a dead run with its (now free) lock, a dead run killed before its lock, a pre-lock version's folder, and a live run
        var dead = t.File($".out.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dead);
        File.WriteAllText(Path.Combine(dead, ".tessera-run.lock"), "1");
        File.WriteAllText(Path.Combine(dead, "result.h5ad"), "half");
        var noLock = t.File($".out.tmp-{int.MaxValue - 7}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(noLock);
        var legacy = t.File($".out.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(legacy);
        var live = t.File($".out.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(live);
        using (var held = new FileStream(Path.Combine(live, ".tessera-run.lock"), FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            var r = CliInProcess.Run("preprocess", input, "--out", outDir, "--hvg", "8", "--pca", "4");
            Assert.True(r.Code == 0, r.Err);
            Assert.Contains("warning: removed 3 temporary folders of 'out' left by interrupted runs", r.Err);
            Assert.False(Directory.Exists(dead));
            Assert.False(Directory.Exists(noLock));
            Assert.False(Directory.Exists(legacy));
            Assert.True(Directory.Exists(live));
            Assert.True(File.Exists(Path.Combine(outDir, "result.h5ad")));
            Assert.False(File.Exists(Path.Combine(outDir, ".tessera-run.lock")));
        }
    }

    [Fact]
    public void ResultsSetAsideByARunKilledMidSwapAreRestored()
    {
        using var t = new TempDir();
        var input = SmallInputs.WriteAll(t.File("in"), SmallInputs.Data())["h5ad"];
        var aside = t.File($".out.old-{int.MaxValue - 7}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(aside);
        File.WriteAllText(Path.Combine(aside, "run.json"), "{}");
        var r = CliInProcess.Run("preprocess", input, "--out", t.File("out"), "--hvg", "8", "--pca", "4");
        // the previous results came back under --out, so the new run finds a non-empty folder and asks for --overwrite
        Assert.Equal(2, r.Code);
        Assert.Contains("restored the previous results", r.Err);
        Assert.Equal("{}", File.ReadAllText(t.File("out/run.json")));
        Assert.False(Directory.Exists(aside));
    }

    // ---------- 6. duplicate gene names: renamed scanpy-style, counted, in every reader ----------

    [Fact]
    public void DuplicateGeneNamesAreMadeUniqueAndCountedInEveryReader()
    {
        using var t = new TempDir();
        var data = SmallInputs.Data();
        var genes = data.VarNames.ToArray();
        genes[3] = genes[1]; genes[5] = genes[1]; genes[7] = genes[2];
        // the library's tables refuse duplicates, so the files are written with the duplicates patched in afterwards
        var paths = SmallInputs.WriteAll(t.File("in"), data);
        var h5ad = paths["h5ad"];
        new PureHDF.H5File
        {
            ["X"] = ToDense(data),
            ["obs"] = new PureHDF.H5Group { ["_index"] = data.ObsNames.ToArray(), Attributes = new() { ["_index"] = "_index" } },
            ["var"] = new PureHDF.H5Group { ["_index"] = genes, Attributes = new() { ["_index"] = "_index" } },
        }.Write(h5ad);
        var csv = File.ReadAllText(paths["csv"]).Split('\n');
        csv[0] = "spot,x,y," + string.Join(',', genes);
        File.WriteAllText(paths["csv"], string.Join('\n', csv));
        foreach (var p in new[] { h5ad, paths["csv"] })
        {
            var r = CliInProcess.Run("info", p);
            Assert.True(r.Code == 0, r.Err);
            Assert.Contains("made 3 duplicated gene names unique (e.g. 'Gene1' -> 'Gene1-1')", r.Err);
            var read = DataReader.Read(p);
            Assert.Equal(["Gene0", "Gene1", "Gene2", "Gene1-1", "Gene4", "Gene1-2", "Gene6", "Gene2-1"], read.VarNames.Take(8));
        }
        // duplicate spot ids stay an error
        var rows = File.ReadAllText(paths["csv"]).Split('\n');
        rows[2] = rows[1];
        File.WriteAllText(paths["csv"], string.Join('\n', rows));
        Assert.Equal(2, CliInProcess.Run("info", paths["csv"]).Code);
    }

    private static float[,] ToDense(SpatialData d)
    {
        var a = new float[d.NObs, d.NVars];
        for (int i = 0; i < d.NObs; i++) for (int g = 0; g < d.NVars; g++) a[i, g] = d.X[i, g];
        return a;
    }

    // ---------- 7. non-UTF-8, NUL and escape sequences in names are refused, and nothing unescaped reaches the terminal ----------

    public static TheoryData<string, string> UnsafeNames() => new()
    {
        { "ff", "is not valid UTF-8 text (it holds bytes that are not UTF-8, shown as U+FFFD)" },
        { "nul", "contains the control character U+0000" },
        { "ansi", "contains the control character U+001B" },
    };

    private static byte[] UnsafeBytes(string kind) => kind switch
    {
        "ff" => [(byte)'G', 0xFF, 0xFE],
        "nul" => [(byte)'G', 0, (byte)'X'],
        _ => [0x1B, (byte)'[', (byte)'3', (byte)'1', (byte)'m', (byte)'R', (byte)'E', (byte)'D'],
    };

    [Theory]
    [MemberData(nameof(UnsafeNames))]
    public void UnsafeGeneNamesAreRefusedInCsvAndMtxWithTheNameEscaped(string kind, string problem)
    {
        using var t = new TempDir();
        var paths = SmallInputs.WriteAll(t.File("in"), SmallInputs.Data());
        var bad = UnsafeBytes(kind);
        var shown = Names.Escape(Encoding.UTF8.GetString(bad));
        // csv header
        var csv = File.ReadAllBytes(paths["csv"]);
        int at = csv.AsSpan().IndexOf("Gene3"u8);
        File.WriteAllBytes(paths["csv"], [.. csv[..at], .. bad, .. csv[(at + 5)..]]);
        // features.tsv of the mtx folder
        var feat = Path.Combine(paths["mtx"], "features.tsv.gz");
        var text = Encoding.UTF8.GetBytes(IoTestUtil.ReadGz(feat));
        int k = text.AsSpan().IndexOf("\tGene3\t"u8) + 1;
        File.Delete(feat);
        File.WriteAllBytes(Path.Combine(paths["mtx"], "features.tsv"), [.. text[..k], .. bad, .. text[(k + 5)..]]);
        foreach (var p in new[] { paths["csv"], paths["mtx"] })
        {
            var r = CliInProcess.Run("info", p);
            Assert.Equal(2, r.Code);
            Assert.Equal($"error: gene name '{shown}' {problem}", r.Error);
            Assert.DoesNotContain('\u001b', r.Err);
            Assert.DoesNotContain('\0', r.Err);
        }
    }

    [Theory]
    [MemberData(nameof(UnsafeNames))]
    public void UnsafeGeneNamesAreRefusedInH5ad(string kind, string problem)
    {
        using var t = new TempDir();
        var p = t.File("x.h5ad");
        var name = Encoding.UTF8.GetString(UnsafeBytes(kind));
        new PureHDF.H5File
        {
            ["X"] = new float[,] { { 1, 2 } },
            ["obs"] = new PureHDF.H5Group { ["_index"] = new[] { "s" }, Attributes = new() { ["_index"] = "_index" } },
            ["var"] = new PureHDF.H5Group { ["_index"] = new[] { "A", name }, Attributes = new() { ["_index"] = "_index" } },
        }.Write(p);
        var e = Assert.Throws<TesseraException>(() => H5ad.Read(p));
        Assert.Equal($"cannot read h5ad file '{p}': gene name '{Names.Escape(name)}' {problem}", e.Message);
    }

    [Fact]
    public void EscapeSequencesInValuesAreEscapedInErrorMessages()
    {
        using var t = new TempDir();
        var csv = IoTestUtil.Write(t.File("v.csv"), "spot,A,B\ns1,1,\u001b[2J\n");
        var r = CliInProcess.Run("info", csv);
        Assert.Equal(2, r.Code);
        Assert.Equal("error: v.csv line 2, column 3 ('B'): '\\x1B[2J' is not a number", r.Error);
    }

    [Fact]
    public void WritingANameWithNulIsImpossible()
    {
        var e = Assert.Throws<TesseraException>(() => new Table(["a\0b"], "gene name"));
        Assert.Equal("gene name 'a\\x00b' contains the control character U+0000", e.Message);
    }
}
