using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Nn;

/// <summary>
/// Makes the Intel MKL inside libtorch give bit-identical results from run to run.
/// <para>
/// Why: without conditional numerical reproducibility MKL may pick a different code path for the same call depending on
/// how its inputs happen to be aligned, so float64 products differ in the last bits between runs. Most of Tessera does
/// not notice, but iterative eigensolvers amplify it: UMAP's spectral initialisation (LOBPCG on a 10,000-gene kNN graph,
/// the CoSTA per-epoch UMAP) came out different in two runs of the same process (largest coordinate difference 0.17),
/// breaking "same seed → same output". With <c>MKL_CBWR=AUTO,STRICT</c> the two runs are identical.
/// </para>
/// <para>
/// MKL reads <c>MKL_CBWR</c> when it first initialises, i.e. at libtorch's first MKL call, which comes after this module
/// has loaded. .NET's <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach the C environment on
/// Unix, so the variable is set with libc's <c>setenv</c>. A value the user already set is kept.
/// </para>
/// </summary>
public static partial class MklReproducibility
{
    /// <summary>The value set when the user has not set <c>MKL_CBWR</c>: MKL's own code-path choice, strict reproducibility.</summary>
    public const string Mode = "AUTO,STRICT";

    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    /// <summary>Whether <c>MKL_CBWR</c> is set for this process (by the user or by <see cref="Apply"/>).</summary>
    public static bool IsSet => Environment.GetEnvironmentVariable("MKL_CBWR") != null || applied;

    private static bool applied;

    /// <summary>Sets <c>MKL_CBWR</c> in the C environment unless the user set it; runs when the Tessera assembly loads.</summary>
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "Must run before libtorch's first MKL call, whichever Tessera entry point a caller uses first.")]
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MKL_CBWR") != null) return;
        try { applied = SetEnv("MKL_CBWR", Mode, 0) == 0; }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
    }
}
