using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.IO;

namespace Tessera.Cli.Infrastructure;

/// <summary>
/// The output folder of a computing command. Everything is written into a hidden temporary sibling folder
/// (".OUT.tmp-PID-GUID", holding a lock file while its process lives) and renamed to --out only when the command
/// succeeds, so a failed or killed run leaves no half-written results; an existing non-empty --out is refused unless
/// --overwrite, and so is an output that is, contains or lies inside an input. SIGINT/SIGTERM remove the temporary
/// folder (see <see cref="CleanUpOnSignals"/>); what a SIGKILL leaves behind is removed by the next run for the same
/// output, once the lock shows that its process is gone.
/// </summary>
public sealed class RunOutput : IDisposable
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<RunOutput, byte> Live = new();
    private readonly string _final;
    private readonly string _dir;
    private bool _committed;
    private FileStream? _lock;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>The temporary folder to write into (created on first use, after the inputs are checked).</summary>
    public string Dir
    {
        get
        {
            if (_lock == null) Create();
            return _dir;
        }
    }
    /// <summary>The folder the results end up in.</summary>
    public string FinalDir => _final;
    /// <summary>
    /// Input files recorded in run.json (path → size and SHA-256). Adding one checks that the output neither is, lies
    /// inside nor contains it: add inputs before reading them.
    /// </summary>
    public RunInputs Inputs { get; }
    /// <summary>Extra top-level entries for run.json (summary figures).</summary>
    public JsonObject Extra { get; } = [];

    /// <summary>
    /// Checks --out and removes what dead runs left of it. (The command line's inputs were checked against --out by
    /// <see cref="CommandHost"/> before the command started; inputs named elsewhere, such as a manifest's files, are
    /// checked as they are added to <see cref="Inputs"/>.)
    /// </summary>
    public RunOutput(string outDir, bool overwrite)
    {
        _final = Path.GetFullPath(outDir);
        Inputs = new RunInputs(outDir);
        if (System.IO.File.Exists(_final)) throw new TesseraException($"--out '{outDir}' is a file, not a folder");
        _dir = Path.Combine(Path.GetDirectoryName(_final)!, $"{Prefix}tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        RemoveStale(); // first: it may put back results that a killed run had set aside, which --overwrite must then allow
        if (Directory.Exists(_final) && Directory.EnumerateFileSystemEntries(_final).Any() && !overwrite)
            throw new TesseraException($"output folder '{outDir}' exists and is not empty; use --overwrite to replace it");
    }

    /// <summary>".NAME." — the start of the names of this output's temporary and set-aside folders.</summary>
    private string Prefix => $".{Path.GetFileName(_final)}.";

    private void Create()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_final)!);
        Directory.CreateDirectory(_dir);
        // an exclusive lock that the kernel drops when the process dies, however it dies: a later run tells a live
        // run's folder from a dead one's without trusting a pid that may have been reused
        _lock = new FileStream(Path.Combine(_dir, LockName), FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        _lock.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        _lock.Flush();
        Live[this] = 0;
    }

    private const string LockName = ".tessera-run.lock";

    /// <summary>
    /// Removes the temporary folders of this output left by runs that died (SIGKILL, power loss) and, when such a run died
    /// while swapping in its results, puts the previous results back; says what it did.
    /// </summary>
    private void RemoveStale()
    {
        var parent = Path.GetDirectoryName(_final)!;
        if (!Directory.Exists(parent)) return;
        int removed = 0;
        foreach (var dir in Directory.EnumerateDirectories(parent, Prefix + "*").Order(StringComparer.Ordinal).ToList())
        {
            var name = Path.GetFileName(dir)[Prefix.Length..];
            bool tmp = name.StartsWith("tmp-", StringComparison.Ordinal), old = name.StartsWith("old-", StringComparison.Ordinal);
            if ((!tmp && !old) || !IsDead(dir, name[4..])) continue;
            try
            {
                if (old && !Directory.Exists(_final))
                {
                    Directory.Move(dir, _final);
                    CommandHost.CurrentReporter?.Warn($"restored the previous results of '{_final}' that an interrupted run had set aside");
                    continue;
                }
                Directory.Delete(dir, true);
                removed++;
            }
            catch (IOException) { } // another run is cleaning up the same folder
        }
        if (removed > 0)
            CommandHost.CurrentReporter?.Warn($"removed {removed} temporary folder{(removed == 1 ? "" : "s")} of '{Path.GetFileName(_final)}' left by interrupted runs");
    }

    /// <summary>Whether the run that made a temporary folder is gone: its lock can be taken, or (no lock) its pid is not running.</summary>
    private static bool IsDead(string dir, string suffix)
    {
        var lockFile = Path.Combine(dir, LockName);
        if (System.IO.File.Exists(lockFile))
        {
            try { using var probe = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None); return true; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }
        // killed before its lock existed, or made by a version without locks ("tmp-GUID"): judge by the pid, if any
        int dash = suffix.IndexOf('-');
        if (dash <= 0 || !int.TryParse(suffix[..dash], out var pid)) return true;
        if (pid == Environment.ProcessId) return false;
        try { using var p = Process.GetProcessById(pid); return p.HasExited; }
        catch (ArgumentException) { return true; }
        catch (InvalidOperationException) { return true; }
    }

    /// <summary>
    /// Makes SIGINT and SIGTERM remove the temporary folders of the runs in progress before the process exits
    /// (exit code 130 / 143). The CLI's entry point holds the returned registrations for its lifetime.
    /// </summary>
    public static IDisposable CleanUpOnSignals()
    {
        if (OperatingSystem.IsWindows() || OperatingSystem.IsBrowser()) return new Registrations([]);
        // While the handler removes the folders, a thread still writing into them can fail; an exception it does not
        // catch would abort the process (SIGABRT, exit 134) with the clean-up half done. Once a signal is being handled,
        // such a thread instead waits for the clean-up and exits with the signal's code.
        AppDomain.CurrentDomain.UnhandledException += (_, _) =>
        {
            if (s_signalExit < 0) return;
            s_cleaned.Wait(TimeSpan.FromSeconds(60));
            ExitNow(s_signalExit);
        };
        PosixSignalRegistration On(PosixSignal signal, int code) => PosixSignalRegistration.Create(signal, ctx =>
        {
            ctx.Cancel = true; // exit below, after the clean-up, with the shell's code for the signal
            s_signalExit = code;
            try { AbortAll(); }
            finally { s_cleaned.Set(); }
            // _exit, not Environment.Exit: running the runtime's shutdown while torch's native threads still compute crashes (SIGSEGV)
            ExitNow(code);
        });
        return new Registrations([On(PosixSignal.SIGINT, 130), On(PosixSignal.SIGTERM, 143)]);
    }

    private static volatile int s_signalExit = -1;
    private static readonly ManualResetEventSlim s_cleaned = new(false);

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void ExitNow(int code);

    private sealed class Registrations(PosixSignalRegistration[] r) : IDisposable
    {
        public void Dispose() { foreach (var x in r) x.Dispose(); }
    }

    /// <summary>
    /// Removes the temporary folder of every uncommitted run of this process, from a signal handler while the command
    /// may still be writing: the folder is first renamed away and its name taken by an empty file, so that a write in
    /// flight cannot recreate it (AtomicFile creates missing folders) before the process exits.
    /// </summary>
    internal static void AbortAll()
    {
        foreach (var run in Live.Keys)
        {
            if (!Live.TryRemove(run, out _) || run._committed) continue;
            run._lock?.Dispose();
            var trash = run._dir + ".aborted";
            try
            {
                Directory.Move(run._dir, trash);
                using (System.IO.File.Create(run._dir)) { }
                Directory.Delete(trash, true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // what is left has a free lock: the next run removes it
            finally { try { System.IO.File.Delete(run._dir); } catch (IOException) { } }
        }
    }

    /// <summary>A path inside the (temporary) output folder.</summary>
    public string File(string name) => Path.Combine(Dir, name);

    /// <summary>Writes run.json and moves the folder into place.</summary>
    public void Commit(string command, object parameters, int? seed, Reporter reporter)
    {
        var run = new JsonObject
        {
            ["tool"] = "tessera",
            ["version"] = TesseraInfo.Version,
            ["command"] = command,
            ["output"] = _final,
            ["cwd"] = Environment.CurrentDirectory, // the command line's relative paths need it to rerun
            ["command_line"] = new JsonArray(Environment.GetCommandLineArgs().Skip(1).Select(a => (JsonNode)a!).ToArray()),
            ["parameters"] = JsonSerializer.SerializeToNode(parameters, parameters.GetType(), JsonOptions.Default),
            ["seed"] = seed,
            ["started_utc"] = DateTime.UtcNow.AddSeconds(-_clock.Elapsed.TotalSeconds).ToString("o"),
            ["inputs"] = new JsonArray(Inputs.Distinct().Select(i => Describe(i, Inputs.Shape(i))).ToArray()),
            ["stages"] = new JsonArray(reporter.StageTimes.Select(s => (JsonNode)new JsonObject { ["stage"] = s.Stage, ["seconds"] = s.Seconds }).ToArray()),
            ["wall_seconds"] = Math.Round(_clock.Elapsed.TotalSeconds, 3),
            ["peak_memory_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1),
            ["threads"] = TorchSharp.torch.get_num_threads(),
            ["machine"] = new JsonObject { ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription, ["cores"] = Environment.ProcessorCount, [".net"] = Environment.Version.ToString() },
        };
        foreach (var (k, v) in Extra) run[k] = v?.DeepClone();
        System.IO.File.WriteAllText(File("run.json"), run.ToJsonString(JsonOptions.Default));
        WriteReport(reporter);
        // the lock goes with the folder's last moment as a temporary one: the folder becomes the results
        _lock!.Dispose();
        System.IO.File.Delete(Path.Combine(_dir, LockName));
        if (Directory.Exists(_final))
        {
            // --overwrite: move the old results aside first so the swap is as short as possible; a run killed between
            // the two moves leaves them as ".NAME.old-PID-GUID", which the next run puts back
            var old = Path.Combine(Path.GetDirectoryName(_final)!, $"{Prefix}old-{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.Move(_final, old);
            Directory.Move(_dir, _final);
            Directory.Delete(old, true);
        }
        else Directory.Move(_dir, _final);
        _committed = true;
        Live.TryRemove(this, out _);
    }

    /// <summary>
    /// report.html from the finished folder's files, before the folder is moved into place. A report that fails is a
    /// warning, not a failed run: the results it would show are complete, and `tessera report DIR` can build it later.
    /// </summary>
    private void WriteReport(Reporter reporter)
    {
        try
        {
            using (reporter.Stage("report.html")) Tessera.Reporting.RunReport.Write(_dir);
        }
        catch (Exception e) when (e is TesseraException or IOException or UnauthorizedAccessException or JsonException or FormatException or InvalidOperationException)
        {
            reporter.Warn($"report.html not written ({e.Message}); build it later with: tessera report {_final}");
        }
    }

    private static JsonNode Describe(string path, JsonObject? shape)
    {
        var o = new JsonObject { ["path"] = Path.GetFullPath(path) };
        if (shape != null) foreach (var (k, v) in shape) o[k] = v?.DeepClone();
        if (System.IO.File.Exists(path))
        {
            o["bytes"] = new FileInfo(path).Length;
            o["sha256"] = Sha256(path);
        }
        else if (Directory.Exists(path))
        {
            var files = new JsonArray();
            foreach (var f in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var entry = new JsonObject { ["path"] = Path.GetRelativePath(path, f) };
                // a file the reader did not need may be unreadable (a looping link beside the data): recorded, not fatal after the work
                try { entry["bytes"] = new FileInfo(f).Length; entry["sha256"] = Sha256(f); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { entry.Remove("bytes"); entry["unreadable"] = e.Message; }
                files.Add(entry);
            }
            o["files"] = files;
        }
        return o;
    }

    private static string Sha256(string file)
    {
        using var s = System.IO.File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }

    /// <summary>Removes the temporary folder when the command did not commit.</summary>
    public void Dispose()
    {
        if (!Live.TryRemove(this, out _)) return;
        _lock?.Dispose();
        if (!_committed && Directory.Exists(_dir)) { try { Directory.Delete(_dir, true); } catch (IOException) { } }
    }
}

/// <summary>The inputs of a run: adding one refuses an output that is, lies inside or contains it (see <see cref="OutputGuard"/>).</summary>
public sealed class RunInputs(string output) : System.Collections.ObjectModel.Collection<string>
{
    private readonly Dictionary<string, JsonObject> _shapes = new(StringComparer.Ordinal);

    /// <summary>Adds an input read as spatial data (or, when added already, records its data), with its shape and platform for run.json and the report.</summary>
    public void Add(string path, Tessera.Data.SpatialData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!Contains(path)) Add(path);
        var platform = data.Uns.TryGetValue("platform", out var p) && p is string s ? s
            : data.Uns.ContainsKey("spatial") ? "visium" : null; // Space Ranger's scale factors: the readers set no platform for Visium
        _shapes[path] = new JsonObject { ["n_obs"] = data.NObs, ["n_vars"] = data.NVars, ["platform"] = platform, ["coordinates"] = data.HasSpatial };
    }

    /// <summary>The recorded shape of an input, if it was added with its data.</summary>
    public JsonObject? Shape(string path) => _shapes.GetValueOrDefault(path);

    /// <inheritdoc/>
    protected override void InsertItem(int index, string item)
    {
        OutputGuard.Check(output, item);
        base.InsertItem(index, item);
    }
}

/// <summary>JSON settings shared by every file the CLI writes.</summary>
public static class JsonOptions
{
    /// <summary>Indented, snake-case-free (property names as declared), NaN as strings.</summary>
    public static readonly JsonSerializerOptions Default = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}
