namespace Tessera;

/// <summary>
/// The one progress type of the library: every long-running call (<c>Fit</c>, <c>Transform</c>, readers of large files)
/// takes an <see cref="IProgress{T}"/> of it. A stage reports <see cref="Done"/> of <see cref="Total"/> steps (epochs,
/// batches, genes, sections); a free-text line is a report with only <see cref="Message"/> set.
/// </summary>
/// <param name="Stage">What is running, e.g. "Spotscape training" or "CoSTA model 2/5".</param>
/// <param name="Done">Steps finished in this stage.</param>
/// <param name="Total">Steps in this stage (0 when unknown or for a message).</param>
/// <param name="Elapsed">Wall time since the stage started.</param>
public sealed record Progress(string Stage, long Done, long Total, TimeSpan Elapsed)
{
    /// <summary>The training loss after this step, when the stage trains.</summary>
    public double? Loss { get; init; }

    /// <summary>Named values of this step (unweighted loss components, NMI to the previous labels, ...).</summary>
    public IReadOnlyDictionary<string, double>? Values { get; init; }

    /// <summary>A line for the log (a summary of settings, a warning-free note); null for plain step reports.</summary>
    public string? Message { get; init; }

    /// <summary>Fraction done in [0, 1], or NaN when the total is unknown.</summary>
    public double Fraction => Total > 0 ? Math.Clamp((double)Done / Total, 0, 1) : double.NaN;

    /// <summary>Linear estimate of the time left, or null before the first step or when the total is unknown.</summary>
    public TimeSpan? Eta => Done > 0 && Total > 0 ? TimeSpan.FromSeconds(Elapsed.TotalSeconds / Done * Math.Max(0, Total - Done)) : null;

    /// <summary>A message-only report of <paramref name="stage"/>.</summary>
    public static Progress Note(string stage, string message) => new(stage, 0, 0, TimeSpan.Zero) { Message = message };
}

/// <summary>Helpers for reporting <see cref="Progress"/>.</summary>
public static class ProgressExtensions
{
    /// <summary>Reports a message-only line of <paramref name="stage"/> (no-op when <paramref name="progress"/> is null).</summary>
    public static void Note(this IProgress<Progress>? progress, string stage, string message) => progress?.Report(Progress.Note(stage, message));

    /// <summary>
    /// Wraps <paramref name="progress"/> so that every report's stage is prefixed with <paramref name="prefix"/> (e.g. a model
    /// of an ensemble or a fold); null stays null.
    /// </summary>
    public static IProgress<Progress>? Prefixed(this IProgress<Progress>? progress, string prefix) =>
        progress is null ? null : new PrefixedProgress(progress, prefix);

    private sealed class PrefixedProgress(IProgress<Progress> inner, string prefix) : IProgress<Progress>
    {
        public void Report(Progress value) => inner.Report(value with { Stage = prefix + ": " + value.Stage });
    }
}
