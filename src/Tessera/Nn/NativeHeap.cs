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
/// </summary>
public static partial class NativeHeap
{
    /// <summary>Blocks at least this large get their own mapping (bytes).</summary>
    public const int DefaultMmapThreshold = 4 << 20;

    private const int M_MMAP_THRESHOLD = -3;

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
        try { return Mallopt(M_MMAP_THRESHOLD, bytes) == 1; }
        catch (DllNotFoundException) { return false; } // musl or another C library
        catch (EntryPointNotFoundException) { return false; }
    }
}
