using System.Globalization;

namespace Tessera.IO;

/// <summary>
/// The memory guard of the readers. Every reader estimates from a file's header (declared shapes, entry counts, image
/// sizes) what it is about to allocate and refuses, before allocating, when the running total for the input would
/// pass the limit: a hostile or corrupt header then costs an error message, never gigabytes.
/// </summary>
/// <remarks>
/// The limit is <see cref="ReadOptions.MaxMemory"/> when set, else the one installed with <see cref="Use"/> for the
/// current call chain (the command line's memory option; it reaches readers that commands and methods call without options), else
/// <see cref="DefaultFraction"/> of the memory available to the process.
/// </remarks>
public static class MemoryLimit
{
    private static readonly AsyncLocal<long?> Ambient = new();

    /// <summary>Share of the available physical memory that one input may take by default.</summary>
    public const double DefaultFraction = 0.5;

    /// <summary>The limit in force when <see cref="ReadOptions.MaxMemory"/> is not set.</summary>
    public static long Current => Ambient.Value ?? (long)(DefaultFraction * GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    /// <summary>Installs <paramref name="bytes"/> as the limit of the readers called from this call chain until disposed (null: no change).</summary>
    public static IDisposable Use(long? bytes)
    {
        if (bytes is <= 0) throw new TesseraException($"MaxMemory must be positive but is {bytes}");
        var previous = Ambient.Value;
        if (bytes != null) Ambient.Value = bytes;
        return new Restore(previous);
    }

    private sealed class Restore(long? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }

    /// <summary>Parses a size such as "512M", "4G", "1.5GB", "2048" (bytes); units are powers of 1024.</summary>
    public static long Parse(string text)
    {
        var t = text.Trim().ToUpperInvariant();
        if (t.EndsWith("IB", StringComparison.Ordinal)) t = t[..^2];
        else if (t.EndsWith('B')) t = t[..^1];
        double unit = 1;
        if (t.Length > 0 && "KMGT".Contains(t[^1]))
        {
            unit = Math.Pow(1024, "KMGT".IndexOf(t[^1]) + 1);
            t = t[..^1];
        }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !(v > 0) || v * unit >= long.MaxValue)
            throw new TesseraException($"'{text}' is not a memory size (examples: 512M, 4G, 1.5GB)");
        return (long)(v * unit);
    }

    /// <summary>Bytes as "3.4 GB", "512 MB", "12 KB" (powers of 1024).</summary>
    public static string Format(double bytes)
    {
        string[] units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
        int u = 0;
        while (bytes >= 1024 && u < units.Length - 1) { bytes /= 1024; u++; }
        return u == 0 ? $"{bytes:0} bytes" : string.Create(CultureInfo.InvariantCulture, $"{bytes:0.#} {units[u]}");
    }
}

/// <summary>The running memory estimate of one input against the limit (see <see cref="MemoryLimit"/>).</summary>
internal sealed class ReadBudget(long limit)
{
    [ThreadStatic] private static ReadBudget? t_current;

    /// <summary>The limit, in bytes.</summary>
    public long Limit { get; } = limit;
    /// <summary>Bytes reserved so far.</summary>
    public double Used { get; private set; }

    /// <summary>The budget of the read in progress on this thread (the outermost reader's), or a fresh one from the ambient limit.</summary>
    public static ReadBudget Current => t_current ?? new ReadBudget(MemoryLimit.Current);

    /// <summary>
    /// Makes a budget for <paramref name="options"/> the current one for nested readers until disposed; a reader called
    /// inside another (the 10x reader inside the Space Ranger reader) shares the outer budget.
    /// </summary>
    public static Scope Enter(ReadOptions? options)
    {
        var outer = t_current;
        t_current = outer ?? new ReadBudget(options?.MaxMemory ?? MemoryLimit.Current);
        return new Scope(outer);
    }

    /// <summary>Restores the previous budget.</summary>
    public readonly struct Scope(ReadBudget? outer) : IDisposable
    {
        /// <summary>Restores the outer budget.</summary>
        public void Dispose() => t_current = outer;
    }

    /// <summary>
    /// Reserves <paramref name="bytes"/> for <paramref name="what"/> (e.g. "X, declared 30000 x 30000 dense float32") and
    /// throws, naming the declared size, the need and the limit, when the input's total would pass the limit.
    /// </summary>
    public void Reserve(double bytes, string what)
    {
        if (Used + bytes > Limit)
            throw new TesseraException($"{what} needs {MemoryLimit.Format(bytes)} of memory"
                + (Used > 0 ? $" ({MemoryLimit.Format(Used + bytes)} with the rest of the input)" : "")
                + $", more than the limit of {MemoryLimit.Format(Limit)} (MaxMemory)");
        Used += bytes;
    }

    /// <summary>Reserves on the current budget.</summary>
    public static void Need(double bytes, string what) => Current.Reserve(bytes, what);

    /// <summary>
    /// Ends a phase of a large read (the matrix, before the cell table): when the reservations so far pass 128 MB, one
    /// blocking full collection returns the phase's transients (stored-type slabs, decompressed chunks, name sets)
    /// before the next phase allocates, instead of leaving them committed until the GC's own schedule. A full
    /// collection with a few hundred MB live takes about 0.1 s; without it a 1M-cell Xenium read peaked ~100 MB higher.
    /// </summary>
    public static void EndPhase()
    {
        if (Current.Used < 128.0 * 1024 * 1024) return;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}
