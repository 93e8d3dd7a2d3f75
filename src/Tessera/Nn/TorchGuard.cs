using System.Runtime;

namespace Tessera.Nn;

/// <summary>
/// Runs a block of TorchSharp work with the .NET garbage collector held off (a no-GC region).
/// <para>
/// Why: TorchSharp 0.107 hands temporary <c>Scalar</c> objects to native calls without keeping them alive
/// (<c>Tensor.add(Tensor)</c> is <c>add(t, 1)</c>; Adam's <c>mul_(beta)</c>, BatchNorm's <c>add_(1)</c>). When a garbage
/// collection started by any other thread lands during such a call, the Scalar's finalizer frees its native handle while
/// libtorch still reads it, and training dies with "Expected false to be true ... toFloat". No collection can start inside
/// a no-GC region, so every training step and every inference pass runs inside one.
/// </para>
/// Regions are process-wide: one thread holds the region at a time (others wait), nested calls on the holding thread
/// reuse it, and a block that allocates more than <see cref="BudgetBytes"/> simply ends the region early (a collection
/// then runs as usual).
/// </summary>
public static class TorchGuard
{
    private static readonly object Gate = new();
    [ThreadStatic] private static int depth;

    /// <summary>Managed bytes a guarded block may allocate before the collector is allowed to run again (64 MiB).</summary>
    public const long BudgetBytes = 64L << 20;

    /// <summary>Runs <paramref name="body"/> inside a no-GC region and returns its result.</summary>
    public static T Run<T>(Func<T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (depth > 0) return body();
        lock (Gate)
        {
            bool started = false;
            try
            {
                started = GC.TryStartNoGCRegion(BudgetBytes, disallowFullBlockingGC: false);
            }
            catch (InvalidOperationException) { } // a region begun elsewhere (outside this class) is still open
            catch (ArgumentOutOfRangeException) { } // budget larger than this GC configuration allows
            depth++;
            try { return body(); }
            finally
            {
                depth--;
                if (started && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                {
                    try { GC.EndNoGCRegion(); }
                    catch (InvalidOperationException) { } // the budget was exceeded and a collection already ended it
                }
            }
        }
    }

    /// <summary>Runs <paramref name="body"/> inside a no-GC region.</summary>
    public static void Run(Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        Run<bool>(() => { body(); return true; });
    }
}
