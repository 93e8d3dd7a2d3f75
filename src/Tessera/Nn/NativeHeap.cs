using System.Runtime.InteropServices;

namespace Tessera.Nn;

/// <summary>
/// Keeps glibc's heap from hoarding freed tensor memory.
/// <para>
/// Why: libtorch allocates every tensor with malloc. glibc serves blocks below a "dynamic" mmap threshold (which rises to
/// 32 MiB as soon as one large block is freed) from its heap, and tensors of a few to tens of MiB freed in varying order fragment
/// it: a STEM fit on 5.6k cells × 1k spots reached 1.7 GiB resident in 250 epochs (7.5 GiB in one 400-epoch run) though its live
/// tensors stay near 1 GiB with the data. <see cref="TrainingLoop"/> calls <see cref="Trim"/> every
/// <see cref="TrainingLoop.TrimEvery"/> epochs (STEM, 250 epochs: 1.26 GiB, 2 % slower). <see cref="LimitFragmentation"/> is the
/// stricter option (0.95 GiB but 1.75× slower on STEM: every large tensor is then a fresh mapping whose pages fault in anew).
/// </para>
/// <para>
/// Convolution nets are the opposite case: the same few activation sizes (tens to hundreds of MiB) are allocated and freed
/// at every step, each above glibc's 32 MiB mmap ceiling, so each is a fresh mapping that the kernel zeroes page by page:
/// 18 % of CoSTA's training step was page faults. <see cref="ReuseLargeBlocks"/> keeps such blocks in the heap for the length
/// of a pass (CoSTA's step 1.16× and feature pass 1.5× faster, DenseNet-121 features 1.6×, at about 0.2 GB more resident).
/// </para>
/// </summary>
public static partial class NativeHeap
{
    /// <summary>Blocks at least this large get their own mapping (bytes).</summary>
    public const int DefaultMmapThreshold = 4 << 20;

    private const int M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3, M_MMAP_MAX = -4;
    // glibc's defaults for the number of mappings and, once a large block has been freed, its dynamic thresholds' ceilings.
    private const int DefaultMmapMax = 65536, CeilingMmapThreshold = 32 << 20, CeilingTrimThreshold = 64 << 20;
    private static readonly object Gate = new();
    private static int reuseDepth;
    private static int? fragmentationLimit;

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    private static bool trimUnavailable;

    /// <summary>
    /// Returns the heap's free pages to the system (glibc malloc_trim); a no-op off glibc. Cheap enough to call every few
    /// epochs: the pages it releases are faulted in again only when reused.
    /// </summary>
    public static void Trim()
    {
        if (trimUnavailable || !OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (DllNotFoundException) { trimUnavailable = true; }
        catch (EntryPointNotFoundException) { trimUnavailable = true; }
    }

    /// <summary>
    /// Sets glibc's mmap threshold to <paramref name="bytes"/> (process-wide; call once at start-up). Does nothing off Linux, when
    /// the C library is not glibc, or when the user set <c>MALLOC_MMAP_THRESHOLD_</c> (glibc's own variable wins). Returns whether
    /// the setting was applied.
    /// </summary>
    public static bool LimitFragmentation(int bytes = DefaultMmapThreshold)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") != null) return false;
        if (!Apply((M_MMAP_THRESHOLD, bytes))) return false;
        fragmentationLimit = bytes;
        return true;
    }

    /// <summary>
    /// Until the returned scope is disposed, freed blocks of any size stay in glibc's heap for reuse instead of being handed
    /// back (no mmap for large blocks, no trimming of the heap's top); on dispose the heap is trimmed and large blocks get
    /// their own mappings again. Process-wide; scopes may nest and overlap across threads (the last one out restores).
    /// Afterwards the thresholds are fixed at the values glibc's dynamic ones reach after the first freed large block (mmap
    /// at 32 MiB, trim at 64 MiB), or at <see cref="LimitFragmentation"/>'s setting. Does nothing off Linux, off glibc, or
    /// when the user tunes malloc through <c>GLIBC_TUNABLES</c> or <c>MALLOC_*_</c> variables.
    /// </summary>
    public static IDisposable ReuseLargeBlocks()
    {
        if (!OperatingSystem.IsLinux() || UserTunesMalloc()) return new Scope(false);
        lock (Gate)
        {
            if (reuseDepth == 0 && !Apply((M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, int.MaxValue))) return new Scope(false);
            reuseDepth++;
        }
        return new Scope(true);
    }

    private static bool UserTunesMalloc() =>
        Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { Length: > 0 } t && t.Contains("malloc", StringComparison.Ordinal)
        || Environment.GetEnvironmentVariable("MALLOC_MMAP_MAX_") != null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") != null
        || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") != null;

    // mallopt for each setting; false when one is refused or the C library is not glibc (musl has no mallopt).
    private static bool Apply(params (int Param, int Value)[] settings)
    {
        try
        {
            foreach (var (param, value) in settings) if (Mallopt(param, value) != 1) return false;
            return true;
        }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; }
    }

    private sealed class Scope(bool active) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed || !active) return;
            disposed = true;
            lock (Gate)
            {
                if (--reuseDepth > 0) return;
                Apply((M_MMAP_MAX, DefaultMmapMax), (M_TRIM_THRESHOLD, CeilingTrimThreshold), (M_MMAP_THRESHOLD, fragmentationLimit ?? CeilingMmapThreshold));
            }
            Trim();
        }
    }
}
