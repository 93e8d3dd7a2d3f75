namespace Tessera.Tests.Support;

/// <summary>
/// Finds the real datasets in ../shared/data (searched upwards from the test binary and the working directory).
/// Tests that need them call <see cref="Require"/>, which skips the test with a clear message when absent.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string?> Root = new(FindRoot);

    /// <summary>The shared/data folder, or null.</summary>
    public static string? RootPath => Root.Value;

    private static string? FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("TESSERA_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, "shared", "data");
                if (Directory.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>Full path of a dataset file or folder relative to shared/data; skips the test when missing.</summary>
    public static string Require(string relative)
    {
        Skip.If(RootPath == null, "shared data folder (../shared/data) not found; set TESSERA_SHARED_DATA to run this test");
        var p = Path.Combine(RootPath!, relative);
        Skip.IfNot(File.Exists(p) || Directory.Exists(p), $"shared dataset '{relative}' not found under {RootPath}");
        return p;
    }
}
