namespace Tessera.Tests.Support;

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (System.Progress posts to the thread pool, too late for asserts).</summary>
internal sealed class SyncProgress(Action<Tessera.Progress> report) : IProgress<Tessera.Progress>
{
    public void Report(Tessera.Progress value) => report(value);
}
