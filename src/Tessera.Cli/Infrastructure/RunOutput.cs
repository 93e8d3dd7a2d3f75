using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.IO;

namespace Tessera.Cli.Infrastructure;

/// <summary>
/// The output folder of a computing command. Everything is written into a hidden temporary sibling folder
/// and renamed to --out only when the command succeeds, so a failed or killed run leaves no half-written
/// results; an existing non-empty --out is refused unless --overwrite.
/// </summary>
public sealed class RunOutput : IDisposable
{
    private readonly string _final;
    private readonly bool _overwrite;
    private bool _committed;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>The temporary folder to write into.</summary>
    public string Dir { get; }
    /// <summary>The folder the results end up in.</summary>
    public string FinalDir => _final;
    /// <summary>Input files recorded in run.json (path → size and SHA-256).</summary>
    public List<string> Inputs { get; } = [];
    /// <summary>Extra top-level entries for run.json (summary figures).</summary>
    public JsonObject Extra { get; } = [];

    /// <summary>Checks --out and creates the temporary folder.</summary>
    public RunOutput(string outDir, bool overwrite)
    {
        _final = Path.GetFullPath(outDir);
        _overwrite = overwrite;
        if (System.IO.File.Exists(_final)) throw new TesseraException($"--out '{outDir}' is a file, not a folder");
        if (Directory.Exists(_final) && Directory.EnumerateFileSystemEntries(_final).Any() && !overwrite)
            throw new TesseraException($"output folder '{outDir}' exists and is not empty; use --overwrite to replace it");
        var parent = Path.GetDirectoryName(_final)!;
        Directory.CreateDirectory(parent);
        Dir = Path.Combine(parent, $".{Path.GetFileName(_final)}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Dir);
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
            ["command_line"] = new JsonArray(Environment.GetCommandLineArgs().Skip(1).Select(a => (JsonNode)a!).ToArray()),
            ["parameters"] = JsonSerializer.SerializeToNode(parameters, parameters.GetType(), JsonOptions.Default),
            ["seed"] = seed,
            ["started_utc"] = DateTime.UtcNow.AddSeconds(-_clock.Elapsed.TotalSeconds).ToString("o"),
            ["inputs"] = new JsonArray(Inputs.Distinct().Select(Describe).ToArray()),
            ["stages"] = new JsonArray(reporter.StageTimes.Select(s => (JsonNode)new JsonObject { ["stage"] = s.Stage, ["seconds"] = s.Seconds }).ToArray()),
            ["wall_seconds"] = Math.Round(_clock.Elapsed.TotalSeconds, 3),
            ["peak_memory_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1),
            ["threads"] = TorchSharp.torch.get_num_threads(),
            ["machine"] = new JsonObject { ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription, ["cores"] = Environment.ProcessorCount, [".net"] = Environment.Version.ToString() },
        };
        foreach (var (k, v) in Extra) run[k] = v?.DeepClone();
        System.IO.File.WriteAllText(File("run.json"), run.ToJsonString(JsonOptions.Default));
        if (Directory.Exists(_final))
        {
            // --overwrite: move the old results aside first so the swap is as short as possible.
            var old = _final + $".old-{Guid.NewGuid():N}";
            Directory.Move(_final, old);
            Directory.Move(Dir, _final);
            Directory.Delete(old, true);
        }
        else Directory.Move(Dir, _final);
        _committed = true;
    }

    private static JsonNode Describe(string path)
    {
        var o = new JsonObject { ["path"] = Path.GetFullPath(path) };
        if (System.IO.File.Exists(path))
        {
            o["bytes"] = new FileInfo(path).Length;
            o["sha256"] = Sha256(path);
        }
        else if (Directory.Exists(path))
        {
            var files = new JsonArray();
            foreach (var f in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                files.Add(new JsonObject { ["path"] = Path.GetRelativePath(path, f), ["bytes"] = new FileInfo(f).Length, ["sha256"] = Sha256(f) });
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
        if (!_committed && Directory.Exists(Dir)) { try { Directory.Delete(Dir, true); } catch (IOException) { } }
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
