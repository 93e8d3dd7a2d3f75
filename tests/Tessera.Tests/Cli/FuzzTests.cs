using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>
/// Seeded fuzzing of every reader through the CLI's host entry (in this process: a child per input would be too slow):
/// small inputs written by the library's writers (h5ad, 10x HDF5, 10x mtx folder, Space Ranger folder, csv, tsv.gz, an
/// --obs table) are
/// truncated, bit-flipped, overwritten, given edited header numbers, repeated or removed lines, unsafe bytes and
/// enlarged declared sizes. Every run must end with exit 0 or 2 (never 1, the internal-error code), allocate less than
/// 2 GB and take less than 30 s.
/// </summary>
/// <remarks>
/// The largest memory growths (about 1.4 GB with the fixed seed) are not Tessera's reads, which the memory guard bounds
/// by --max-memory (1G here): PureHDF allocates a buffer of the size that corrupt HDF5 metadata declares (a heap object,
/// a link name; at most 2 GB, its API takes an int) before it finds the file too short. Other seeds
/// (TESSERA_FUZZ_SEED) have shown up to 2.0 GB from that source.
/// </remarks>
public class FuzzTests
{
    private const int PerFormat = 400; // 7 readers: 2,800 mutated inputs
    private const long MaxBytes = 2L << 30;
    private static readonly TimeSpan MaxRun = TimeSpan.FromSeconds(30), MaxTotal = TimeSpan.FromMinutes(5);

    [Fact]
    public void MutatedInputsOfEveryReaderAreReadOrRefusedNeverAnInternalError()
    {
        using var t = new TempDir();
        var originals = SmallInputs.WriteAll(t.File("orig"), SmallInputs.Data(spots: 24, genes: 12, seed: 3));
        // TESSERA_FUZZ_SEED=N explores other mutations (CI uses the fixed seed)
        int seed = int.TryParse(Environment.GetEnvironmentVariable("TESSERA_FUZZ_SEED"), out var s) ? s : 20;
        var rng = new Random(seed);
        var failures = new List<string>();
        var codes = new int[3];
        int runs = 0; double slowest = 0; long mostAllocated = 0, mostResident = 0;
        string current = "";
        var clock = Stopwatch.StartNew();
        var worker = new Thread(() =>
        {
            foreach (var (format, original) in originals)
                for (int i = 0; i < PerFormat; i++)
                {
                    var work = t.File($"m/{i % 7}/{Path.GetFileName(original)}");
                    if (Directory.Exists(work)) Directory.Delete(work, true); else if (File.Exists(work)) File.Delete(work);
                    Copy(original, work);
                    current = $"{format} #{i}: {Mutate(work, rng)}";
                    var run = Stopwatch.StartNew();
                    ResetPeakResident();
                    long residentBefore = Resident();
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    CliInProcess.Result r;
                    // the --obs table is read joined to the (intact) h5ad
                    string[] args = format == "obs" ? ["info", originals["h5ad"], "--obs", work] : ["info", work];
                    try { r = CliInProcess.Run([.. args, "--quiet", "--max-memory", "1G"]); }
                    catch (Exception e) { r = new CliInProcess.Result(-1, e.ToString()); }
                    long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    long peak = PeakResident() - residentBefore;
                    runs++;
                    mostResident = Math.Max(mostResident, peak);
                    slowest = Math.Max(slowest, run.Elapsed.TotalSeconds);
                    mostAllocated = Math.Max(mostAllocated, allocated);
                    if (allocated > 256 << 20) Console.WriteLine($"fuzz: {current} allocated {allocated >> 20} MB, peak resident +{peak >> 20} MB");
                    // TESSERA_FUZZ_KEEP=DIR keeps the inputs worth a look (internal errors, large allocations) for replay
                    if (Environment.GetEnvironmentVariable("TESSERA_FUZZ_KEEP") is { Length: > 0 } keep && (r.Code is not (0 or 2) || allocated > 256 << 20))
                        Copy(work, Path.Combine(keep, $"{format}-{i}", Path.GetFileName(work)));
                    if (r.Code is 0 or 2) codes[r.Code]++;
                    // an internal error is run again with --verbose, for its stack trace
                    if (r.Code is not (0 or 2)) failures.Add($"{current}: exit {r.Code}: {(r.Code == 1 ? CliInProcess.Run([.. args, "--verbose"]).Err : r.Err).Trim()}");
                    else if (run.Elapsed > MaxRun) failures.Add($"{current}: took {run.Elapsed.TotalSeconds:F1} s");
                    else if (peak > MaxBytes) failures.Add($"{current}: resident memory grew by {peak / 1048576} MB");
                    if (clock.Elapsed > MaxTotal) return;
                }
        }, 64 << 20);
        worker.Start();
        Assert.True(worker.Join(MaxTotal + MaxRun), $"a run hung: {current}");
        var summary = $"seed {seed}: {runs} mutated inputs in {clock.Elapsed.TotalSeconds:F0} s (exit 0: {codes[0]}, exit 2: {codes[2]}; slowest {slowest:F2} s, largest growth of the peak resident memory {mostResident / 1048576} MB, most bytes allocated {mostAllocated / 1048576} MB)";
        Console.WriteLine("fuzz: " + summary);
        Assert.True(failures.Count == 0, $"{failures.Count} failures of {summary}:\n" + string.Join("\n", failures.Take(20)));
        Assert.True(runs >= 7 * PerFormat, $"only {summary} within {MaxTotal}");
        // the mutations must exercise both outcomes, or they test nothing
        Assert.True(codes[0] > 100 && codes[2] > 1000, summary);
    }

    // Memory is measured as the growth of the process's peak resident set (Linux: VmHWM, reset before each run through
    // /proc/self/clear_refs), which is what a machine runs out of; the bytes allocated are reported too (PureHDF may
    // allocate a buffer of a corrupt heap object's declared size that is never touched, so not resident).
    private static void ResetPeakResident()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static long Resident() => Status("VmRSS:") ?? Environment.WorkingSet;

    private static long PeakResident() => Status("VmHWM:") ?? Process.GetCurrentProcess().PeakWorkingSet64;

    private static long? Status(string key)
    {
        if (!File.Exists("/proc/self/status")) return null;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line == null ? null : long.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        if (File.Exists(from)) { File.Copy(from, to); return; }
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var dst = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
            File.Copy(f, dst);
        }
    }

    /// <summary>Mutates one file of the input (a folder's file chosen at random) in place; returns what was done.</summary>
    private static string Mutate(string input, Random rng)
    {
        var file = input;
        if (Directory.Exists(input))
        {
            var files = Directory.GetFiles(input, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
            file = files[rng.Next(files.Length)];
        }
        var name = Path.GetRelativePath(Path.GetDirectoryName(input)!, file);
        var bytes = File.ReadAllBytes(file);
        bool gz = bytes.Length > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
        // gzip: mostly mutate the text inside (what the parsers see), sometimes the compressed bytes
        bool inside = gz && rng.NextDouble() < 0.75;
        if (inside) bytes = Gunzip(bytes);
        bool text = inside || file.EndsWith(".csv", StringComparison.Ordinal) || file.EndsWith(".json", StringComparison.Ordinal) || file.EndsWith(".tsv", StringComparison.Ordinal);
        bool hdf5 = file.EndsWith(".h5", StringComparison.Ordinal) || file.EndsWith(".h5ad", StringComparison.Ordinal);
        int op = rng.Next(text || hdf5 ? 8 : 5);
        string what;
        (bytes, what) = op switch
        {
            0 => Truncate(bytes, rng),
            1 => FlipBits(bytes, rng),
            2 => Overwrite(bytes, rng),
            3 => RepeatBlock(bytes, rng),
            4 => Overwrite(bytes, rng),
            _ when hdf5 => DeclaredSize(bytes, rng),
            5 => EditNumber(bytes, rng),
            6 => EditLines(bytes, rng),
            _ => InsertUnsafe(bytes, rng),
        };
        if (inside) bytes = Gzip(bytes);
        File.WriteAllBytes(file, bytes);
        return $"{name}{(inside ? " (inside gzip)" : "")}: {what}";
    }

    private static (byte[], string) Truncate(byte[] b, Random rng)
    {
        int n = rng.Next(b.Length);
        return (b[..n], $"truncated to {n} of {b.Length} bytes");
    }

    private static (byte[], string) FlipBits(byte[] b, Random rng)
    {
        int k = rng.Next(1, 9);
        var at = new List<int>();
        for (int i = 0; i < k && b.Length > 0; i++) { int p = rng.Next(b.Length); b[p] ^= (byte)(1 << rng.Next(8)); at.Add(p); }
        return (b, $"bits flipped at {string.Join(",", at)}");
    }

    private static (byte[], string) Overwrite(byte[] b, Random rng)
    {
        if (b.Length == 0) return (b, "empty");
        int p = rng.Next(b.Length), n = Math.Min(rng.Next(1, 17), b.Length - p);
        for (int i = 0; i < n; i++) b[p + i] = (byte)rng.Next(256);
        return (b, $"{n} random bytes at {p}");
    }

    private static (byte[], string) RepeatBlock(byte[] b, Random rng)
    {
        if (b.Length == 0) return (b, "empty");
        int p = rng.Next(b.Length), n = Math.Min(rng.Next(1, 4096), b.Length - p), times = rng.Next(1, 50);
        var block = b[p..(p + n)];
        var r = new List<byte>(b.Length + n * times);
        r.AddRange(b[..(p + n)]);
        for (int i = 0; i < times; i++) r.AddRange(block);
        r.AddRange(b[(p + n)..]);
        return (r.ToArray(), $"{n} bytes at {p} repeated {times} times");
    }

    private static readonly string[] Numbers = ["0", "-1", "1", "2147483647", "2147483648", "2000000000", "99999999999999999999", "1e308", "NaN", "-0", "", "3.5", "007"];

    /// <summary>A number in the first lines (a size line, a header, a count) replaced by an edge value.</summary>
    private static (byte[], string) EditNumber(byte[] b, Random rng)
    {
        var s = Encoding.Latin1.GetString(b);
        var matches = System.Text.RegularExpressions.Regex.Matches(s[..Math.Min(s.Length, 400)], @"\d+(\.\d+)?").ToList();
        if (matches.Count == 0) return (b, "no number to edit");
        var m = matches[rng.Next(matches.Count)];
        var v = Numbers[rng.Next(Numbers.Length)];
        return (Encoding.Latin1.GetBytes(s[..m.Index] + v + s[(m.Index + m.Length)..]), $"number '{m.Value}' at {m.Index} -> '{v}'");
    }

    private static (byte[], string) EditLines(byte[] b, Random rng)
    {
        var lines = Encoding.Latin1.GetString(b).Split('\n').ToList();
        int i = rng.Next(lines.Count), j = rng.Next(lines.Count);
        string what;
        switch (rng.Next(4))
        {
            case 0: lines.RemoveAt(i); what = $"line {i + 1} removed"; break;
            case 1: lines.Insert(j, lines[i]); what = $"line {i + 1} copied before line {j + 1}"; break;
            case 2: (lines[i], lines[j]) = (lines[j], lines[i]); what = $"lines {i + 1} and {j + 1} swapped"; break;
            default: lines[i] = lines[i] + new string(lines[i].Length > 0 ? lines[i][^1] : 'x', rng.Next(1, 100)); what = $"line {i + 1} lengthened"; break;
        }
        return (Encoding.Latin1.GetBytes(string.Join('\n', lines)), what);
    }

    private static readonly byte[][] Unsafe = [[0], [0x1B, (byte)'[', (byte)'2', (byte)'J'], [0xFF], [0xC3], [(byte)'"'], [(byte)','], [(byte)'\t'], [(byte)'\r'], [(byte)'\n'], [0xE2, 0x80, 0xAE]];

    private static (byte[], string) InsertUnsafe(byte[] b, Random rng)
    {
        int p = rng.Next(b.Length + 1);
        var u = Unsafe[rng.Next(Unsafe.Length)];
        return ([.. b[..p], .. u, .. b[p..]], $"bytes {Convert.ToHexString(u)} inserted at {p}");
    }

    private static readonly ulong[] Large = [0, 1, 30000, 200000, int.MaxValue, 1UL << 32, 1UL << 40, ulong.MaxValue];

    /// <summary>An HDF5 dimension or length (a little-endian integer equal to a dataset size of the small input) made large.</summary>
    private static (byte[], string) DeclaredSize(byte[] b, Random rng)
    {
        ulong[] sizes = [24, 12, 25, 13, 2];
        var at = new List<(int Pos, int Width)>();
        for (int p = 0; p + 8 <= b.Length; p++)
        {
            ulong v8 = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(p));
            if (Array.IndexOf(sizes, v8) >= 0) at.Add((p, 8));
            else if (Array.IndexOf(sizes, (ulong)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(p))) >= 0 && (p % 4) == 0) at.Add((p, 4));
        }
        if (at.Count == 0) return FlipBits(b, rng);
        var (pos, width) = at[rng.Next(at.Count)];
        var v = Large[rng.Next(Large.Length)];
        if (width == 8) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(pos), v);
        else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(pos), (uint)Math.Min(v, uint.MaxValue));
        return (b, $"declared size at {pos} ({width} bytes) -> {v}");
    }

    private static byte[] Gunzip(byte[] b)
    {
        using var gz = new GZipStream(new MemoryStream(b), CompressionMode.Decompress);
        var m = new MemoryStream();
        gz.CopyTo(m);
        return m.ToArray();
    }

    private static byte[] Gzip(byte[] b)
    {
        var m = new MemoryStream();
        using (var gz = new GZipStream(m, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(b);
        return m.ToArray();
    }
}
