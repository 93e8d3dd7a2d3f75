using TorchSharp;

namespace Tessera.Nn;

/// <summary>
/// Torch's process-wide state (intra-op thread count, the global generator that initialises weights) scoped to one
/// library call. Every method's <c>Fit</c>/<c>Transform</c> runs inside <see cref="Enter"/>: the scope holds a
/// process-wide lock, so two fits started on different threads run one after the other instead of re-seeding or
/// re-threading each other, and it restores the caller's thread count on exit.
/// </summary>
public static class TorchScope
{
    private static readonly object Gate = new();

    /// <summary>
    /// Enters the scope: waits for any other thread's scope, then sets the thread count to <paramref name="threads"/>
    /// (null keeps the current one). Nested calls on the same thread re-enter. Dispose to leave.
    /// </summary>
    public static IDisposable Enter(int? threads = null)
    {
        if (threads is { } t && t < 1) throw new TesseraException($"Threads must be at least 1 but is {t}");
        Monitor.Enter(Gate);
        int before;
        try
        {
            before = torch.get_num_threads();
            if (threads is { } n && n != before) torch.set_num_threads(n);
        }
        catch
        {
            Monitor.Exit(Gate);
            throw;
        }
        return new Exit(before);
    }

    private sealed class Exit(int threadsBefore) : IDisposable
    {
        private bool done;

        public void Dispose()
        {
            if (done) return;
            done = true;
            try { if (torch.get_num_threads() != threadsBefore) torch.set_num_threads(threadsBefore); }
            finally { Monitor.Exit(Gate); }
        }
    }
}
