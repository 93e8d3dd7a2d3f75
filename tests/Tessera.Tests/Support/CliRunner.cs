using System.Diagnostics;

namespace Tessera.Tests.Support;

/// <summary>Runs the real `tessera` CLI (Tessera.Cli.dll beside the tests) in a child process.</summary>
public static class CliRunner
{
    /// <summary>Exit code, stdout and stderr of one CLI run.</summary>
    public sealed record Result(int Code, string Out, string Err);

    /// <summary>Runs `tessera args...` with CI=true (plain log lines) and a timeout.</summary>
    public static Result Run(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Tessera.Cli.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CI"] = "true";
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var o = p.StandardOutput.ReadToEndAsync(); var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); throw new TimeoutException("tessera " + string.Join(' ', args) + " ran over 5 minutes"); }
        return new Result(p.ExitCode, o.Result, e.Result);
    }
}
