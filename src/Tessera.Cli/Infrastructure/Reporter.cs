using System.Diagnostics;
using Spectre.Console;

namespace Tessera.Cli.Infrastructure;

/// <summary>
/// Progress and log output: a live status line on an interactive terminal, plain timestamped log lines
/// otherwise (CI, pipes). --quiet shows only warnings and errors; --verbose adds detail.
/// </summary>
public sealed class Reporter
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive;
    private bool _lineOpen;
    private readonly object _gate = new();

    /// <summary>Only warnings and errors.</summary>
    public bool Quiet { get; }
    /// <summary>Extra detail.</summary>
    public bool Verbose { get; }
    /// <summary>Wall seconds per finished stage, in order (written to run.json).</summary>
    public List<(string Stage, double Seconds)> StageTimes { get; } = [];

    public Reporter(bool quiet, bool verbose)
    {
        Quiet = quiet; Verbose = verbose && !quiet;
        _interactive = !Console.IsErrorRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))
                       && AnsiConsole.Profile.Capabilities.Interactive;
    }

    private void Write(string markup, bool plainIsMarkup = true)
    {
        // text from files (names, values) must not drive the terminal: control characters are shown escaped
        markup = Tessera.Data.Names.Escape(markup);
        lock (_gate)
        {
            CloseLine();
            var stamp = $"[grey][[{_clock.Elapsed.TotalSeconds,7:F1}s]][/] ";
            if (_interactive) AnsiConsole.MarkupLine(stamp + markup);
            else Console.Error.WriteLine($"[{_clock.Elapsed.TotalSeconds,7:F1}s] " + (plainIsMarkup ? Markup.Remove(markup) : markup));
        }
    }

    private void CloseLine()
    {
        if (_lineOpen) { Console.Error.Write("\r" + new string(' ', Math.Max(0, Console.WindowWidth - 1)) + "\r"); _lineOpen = false; }
    }

    /// <summary>An informational line.</summary>
    public void Info(string message) { if (!Quiet) Write(Markup.Escape(message)); }

    /// <summary>A line shown only with --verbose.</summary>
    public void Detail(string message) { if (Verbose) Write("[grey]" + Markup.Escape(message) + "[/]"); }

    /// <summary>A warning (shown even with --quiet).</summary>
    public void Warn(string message) => Write("[yellow]warning:[/] " + Markup.Escape(message));

    /// <summary>Starts a timed stage; dispose to finish it.</summary>
    public IDisposable Stage(string name)
    {
        if (!Quiet) Write($"[bold]{Markup.Escape(name)}[/]");
        var start = _clock.Elapsed.TotalSeconds;
        return new Finisher(() =>
        {
            var secs = _clock.Elapsed.TotalSeconds - start;
            StageTimes.Add((name, Math.Round(secs, 3)));
            Detail($"{name}: {secs:F2} s");
        });
    }

    /// <summary>
    /// Progress of an iterative task (epochs, restarts). Interactive: a live line; otherwise a log line at most
    /// every 10 s and at the end.
    /// </summary>
    public ProgressLine Progress(string task, int total) => new(this, task, total);

    internal void Live(string text, bool force)
    {
        if (Quiet) return;
        text = Tessera.Data.Names.Escape(text);
        lock (_gate)
        {
            if (_interactive)
            {
                var width = Math.Max(20, Console.WindowWidth - 1);
                var line = text.Length > width ? text[..width] : text.PadRight(width);
                Console.Error.Write("\r" + line);
                _lineOpen = true;
                if (force) CloseLine();
            }
            else if (force) Console.Error.WriteLine($"[{_clock.Elapsed.TotalSeconds,7:F1}s] " + text);
        }
        if (force && _interactive) Write(Markup.Escape(text));
    }

    /// <summary>Progress of a training loop shown on a live line (epoch and loss).</summary>
    public IProgress<Tessera.Progress> Training(string task, int epochs) => new TrainingLine(Progress(task, epochs));

    private sealed class TrainingLine(ProgressLine bar) : IProgress<Tessera.Progress>
    {
        public void Report(Tessera.Progress v) => bar.Report((int)v.Done, v.Loss is { } l ? $"loss {l:G4}" : null);
    }

    /// <summary>
    /// Adapts the library's <see cref="Tessera.Progress"/> reports to this reporter: a report with a message becomes an
    /// info line, step reports drive one live progress line per stage (with ETA), prefixed by <paramref name="task"/>.
    /// </summary>
    public IProgress<Tessera.Progress> Library(string? task = null) => new LibraryProgress(this, task);

    private sealed class LibraryProgress(Reporter r, string? task) : IProgress<Tessera.Progress>
    {
        private readonly Dictionary<string, ProgressLine> _lines = [];

        public void Report(Tessera.Progress v)
        {
            var stage = task is null ? v.Stage : $"{task}: {v.Stage}";
            if (v.Message is { } m) { r.Info(v.Stage.Length > 0 ? $"{stage}: {m}" : m); return; }
            if (v.Total <= 0) return;
            ProgressLine line;
            lock (_lines)
                if (!_lines.TryGetValue(stage, out line!) || v.Done <= 1) _lines[stage] = line = r.Progress(stage, (int)Math.Min(int.MaxValue, v.Total));
            line.Report((int)Math.Min(int.MaxValue, v.Done), v.Loss is { } l ? $"loss {l:G4}" : null);
        }
    }

    /// <summary>One live progress line.</summary>
    public sealed class ProgressLine
    {
        private readonly Reporter _r; private readonly string _task; private readonly int _total;
        private readonly Stopwatch _sw = Stopwatch.StartNew(); private double _lastPrint = -1e9;
        internal ProgressLine(Reporter r, string task, int total) { _r = r; _task = task; _total = total; }

        /// <summary>Reports that <paramref name="done"/> of the total steps are finished.</summary>
        public void Report(int done, string? detail = null)
        {
            double now = _sw.Elapsed.TotalSeconds;
            bool last = done >= _total;
            double eta = done > 0 ? now / done * (_total - done) : double.NaN;
            var text = $"{_task}: {done}/{_total} ({100.0 * done / Math.Max(1, _total):F0}%)" + (detail != null ? $"  {detail}" : "")
                       + (done > 0 && !last ? $"  eta {eta:F0}s" : $"  {now:F1}s");
            bool interactiveTick = _r._interactive && now - _lastPrint > 0.2;
            bool plainTick = !_r._interactive && now - _lastPrint >= 10;
            if (last || interactiveTick || plainTick)
            {
                _r.Live(text, last || plainTick);
                _lastPrint = now;
            }
        }
    }

    private sealed class Finisher(Action a) : IDisposable
    {
        private bool _done;
        public void Dispose() { if (!_done) { _done = true; a(); } }
    }
}
