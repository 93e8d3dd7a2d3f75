using System.Runtime.InteropServices;

namespace Tessera.Nn;

/// <summary>
/// Keeps glibc's heap from hoarding freed tensor memory.
/// <para>
/// Why: libtorch allocates every tensor with malloc. glibc serves blocks below a "dynamic" mmap threshold (which rises to
/// 32 MiB as soon as one large block is freed) from its heap, and tensors of a few to tens of MiB freed in varying order fragment
/// it: a STEM fit on 5.6k cells × 1k spots grew to 1.8 GiB resident in 110 epochs (7.5 GiB in 400), a single-slice Spotscape run
/// to 5 GiB, though the live tensors never exceed a few hundred MiB. A fixed threshold makes large blocks their own mappings,
/// returned to the system when freed.
/// </para>
/// </summary>
public static partial class NativeHeap
{
    /// <summary>Blocks at least this large get their own mapping (bytes).</summary>
    public const int DefaultMmapThreshold = 4 << 20;

    private const int M_MMAP_THRESHOLD = -3;

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);

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
