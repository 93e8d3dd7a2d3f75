using System.Runtime.InteropServices;
using Tessera.Nn;

namespace Tessera.Tests.Nn;

/// <summary>Runs alone: the heap settings are process-wide, and a scope held by a parallel test would change what this one sees.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeHeapCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "native heap";
}

[Collection(NativeHeapCollection.Name)]
public class NativeHeapTests
{
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc.so.6", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 Mallinfo2();

    // Number of blocks glibc has given their own mapping, after allocating (and before freeing) one block of `bytes`.
    private static long MappedWith(int bytes)
    {
        var p = Marshal.AllocHGlobal(bytes); // malloc
        try { return (long)Mallinfo2().Hblks; }
        finally { Marshal.FreeHGlobal(p); }
    }

    [SkippableFact]
    public void LargeBlocksStayInTheHeapWithinTheScopeOnly()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "glibc only");
        Skip.If(Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("malloc", StringComparison.Ordinal) == true, "malloc tuned by the user");
        long baseline;
        try { baseline = (long)Mallinfo2().Hblks; }
        catch (EntryPointNotFoundException) { throw new SkipException("no mallinfo2 (glibc < 2.33)"); }
        catch (DllNotFoundException) { throw new SkipException("not glibc"); }
        // 48 MiB: above glibc's 32 MiB mmap ceiling but within the 64 MiB a thread's own arena heap can hold (larger blocks are
        // always mapped off the main thread). First the heap's free space that could serve such a block is used up, so that
        // outside a scope one is mapped (checked) and inside one it can only come from growing the heap. Pages never touched.
        const int big = 48 << 20;
        var fillers = new List<IntPtr>();
        try
        {
            while (fillers.Count < 64)
            {
                long before = (long)Mallinfo2().Hblks;
                fillers.Add(Marshal.AllocHGlobal(big));
                if ((long)Mallinfo2().Hblks > before) break; // mapped: no free space left that fits
            }
            baseline = (long)Mallinfo2().Hblks;
            Assert.Equal(baseline + 1, MappedWith(big));
            using (NativeHeap.ReuseLargeBlocks())
            {
                Assert.Equal(baseline, MappedWith(big));
                using (NativeHeap.ReuseLargeBlocks()) Assert.Equal(baseline, MappedWith(big));
                Assert.Equal(baseline, MappedWith(big)); // the inner scope's end does not restore while the outer one is open
            }
            Assert.Equal(baseline + 1, MappedWith(1 << 30)); // mapped again after the scope (1 GiB: more than any heap holds free)
        }
        finally { foreach (var p in fillers) Marshal.FreeHGlobal(p); }
    }
}
