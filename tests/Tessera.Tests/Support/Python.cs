using System.Diagnostics;

namespace Tessera.Tests.Support;

/// <summary>Runs Debian's python3 (with numpy/anndata/sklearn) for cross-checks; tests skip when a module is absent.</summary>
public static class Python
{
    /// <summary>Path of the interpreter that has Debian's packages.</summary>
    public const string Exe = "/usr/bin/python3";

    /// <summary>Skips the test unless python3 can import every module.</summary>
    public static void RequireModules(params string[] modules)
    {
        var (code, _, _) = Run("import " + string.Join(", ", modules));
        Skip.If(code != 0, $"python3 with {string.Join(", ", modules)} not installed (apt-get install python3-anndata python3-sklearn)");
    }

    /// <summary>Runs a script; returns exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(string script)
    {
        if (!System.IO.File.Exists(Exe)) return (127, "", "no python3");
        var psi = new ProcessStartInfo(Exe) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-");
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(script); p.StandardInput.Close();
        var o = p.StandardOutput.ReadToEndAsync(); var e = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, o.Result, e.Result);
    }
}
