using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Tessera.Tests.Cli;

/// <summary>
/// Interrupted runs (issue 20, finding 5): `tessera demo` is started as a child process and stopped at random points,
/// by SIGINT (the CLI removes its temporary folder and exits 130) or SIGKILL (nothing can run: the next run removes
/// what is left, since the dead run's lock is free); after a final complete run the output is whole and no temporary
/// or set-aside folder remains.
/// </summary>
public class InterruptionTests
{
    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    private const int SigInt = 2, SigKill = 9, SigTerm = 15;

    private static Process Start(string outDir)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Tessera.Cli.dll"), "demo", "--out", outDir, "--epochs", "3", "--overwrite" }) psi.ArgumentList.Add(a);
        psi.Environment["CI"] = "true";
        var p = Process.Start(psi)!;
        p.StandardInput.Close();
        p.OutputDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        return p;
    }

    /// <summary>Whether a process ignores SIGINT (inherited from a shell that ran the tests in the background).</summary>
    private static bool IgnoresSigInt(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line != null && (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << (SigInt - 1))) != 0;
    }

    private static string[] Debris(string parent, string name) =>
        Directory.GetDirectories(parent, $".{name}.*").Select(Path.GetFileName).ToArray()!;

    [SkippableFact]
    public void RunsKilledAtRandomPointsLeaveNoDebrisAndTheRerunIsComplete()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "signals and /proc are Linux-only here");
        using var t = new Support.TempDir();
        var outDir = t.File("out");
        // one complete run first: its duration spreads the kill points over the whole run, writing included
        var clock = Stopwatch.StartNew();
        using (var first = Start(outDir))
        {
            var err = first.StandardError.ReadToEnd();
            first.WaitForExit();
            Assert.True(first.ExitCode == 0, err);
        }
        double duration = clock.Elapsed.TotalSeconds;
        var rng = new Random(20);
        var log = new List<string>();
        int sigints = 0, sigkills = 0;
        int duringWrite = 0;
        // 8 interruptions; a run that finishes before its kill point counts as none and shortens the duration the next kill
        // points are drawn from (the first run may have been slowed by a busy machine), up to 20 attempts
        for (int k = 0, attempts = 0; sigints + sigkills < 8 && attempts < 20; attempts++)
        {
            var runClock = Stopwatch.StartNew();
            using var p = Start(outDir);
            var err = p.StandardError.ReadToEndAsync();
            bool graceful = k % 2 == 1;
            // half the kills at a random time of the run, half at a random moment after the run starts writing its results
            double at;
            if (k % 4 < 2) at = (0.2 + 0.8 * rng.NextDouble()) * duration;
            else
            {
                var since = Stopwatch.StartNew();
                while (!Debris(t.Path, "out").Any(d => d.Contains($"tmp-{p.Id}-", StringComparison.Ordinal)) && !p.HasExited && since.Elapsed.TotalSeconds < 3 * duration) Thread.Sleep(5);
                at = 0.06 * duration * rng.NextDouble(); // after the temporary folder appeared (writing is short)
                duringWrite++;
            }
            if (!p.WaitForExit(TimeSpan.FromSeconds(Math.Max(0, at))))
            {
                int signal = graceful ? (IgnoresSigInt(p.Id) ? SigTerm : SigInt) : SigKill;
                Kill(p.Id, signal);
                Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "the run did not stop after the signal");
                if (signal == SigKill) sigkills++; else sigints++;
                log.Add($"signal {signal} {at:F1} s {(k % 4 < 2 ? "after the start" : "after the writing began")}: exit {p.ExitCode}, left {string.Join(",", Debris(t.Path, "out"))}");
                if (graceful)
                {
                    // a graceful stop removes its own temporary folder (a SIGKILLed run's may still be there)
                    Assert.True(p.ExitCode is 130 or 143 or 0, $"exit {p.ExitCode}: {err.Result}");
                    Assert.DoesNotContain(Debris(t.Path, "out"), d => d.Contains($"tmp-{p.Id}-", StringComparison.Ordinal));
                }
            }
            else
            {
                log.Add($"finished before {at:F1} s: exit {p.ExitCode}");
                duration = Math.Min(duration, runClock.Elapsed.TotalSeconds);
                continue;
            }
            k++;
        }
        Assert.True(sigints + sigkills >= 3, string.Join("\n", log));
        using (var last = Start(outDir))
        {
            var err = last.StandardError.ReadToEnd();
            last.WaitForExit();
            Assert.True(last.ExitCode == 0, err);
        }
        Assert.Empty(Debris(t.Path, "out"));
        foreach (var f in new[] { "run.json", "result.h5ad", "metrics.json", "domains.csv" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), $"{f} missing; {string.Join("\n", log)}");
        Assert.Empty(Directory.GetFiles(outDir, ".*", SearchOption.AllDirectories));
        Console.WriteLine($"kill test: complete run {duration:F1} s; {sigints} SIGINT/SIGTERM, {sigkills} SIGKILL ({duringWrite} aimed at the writing)\n" + string.Join("\n", log));
    }

    [SkippableFact]
    public void SigIntRemovesTheTemporaryFolderAndExits130()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "signals and /proc are Linux-only here");
        using var t = new Support.TempDir();
        var outDir = t.File("out");
        using var p = Start(outDir);
        var err = p.StandardError.ReadToEndAsync();
        // wait until the run writes into its temporary folder, then interrupt it there
        var until = Stopwatch.StartNew();
        while (Debris(t.Path, "out").Length == 0 && !p.HasExited && until.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
        Skip.If(p.HasExited, "the run finished before it could be interrupted");
        int signal = IgnoresSigInt(p.Id) ? SigTerm : SigInt;
        Kill(p.Id, signal);
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(signal == SigInt ? 130 : 143, p.ExitCode);
        Assert.Empty(Debris(t.Path, "out"));
        Assert.False(Directory.Exists(outDir));
    }
}
