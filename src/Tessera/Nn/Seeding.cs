using TorchSharp;

namespace Tessera.Nn;

/// <summary>
/// The one seeding helper: every random choice in Tessera flows from a single user seed through here,
/// so the same seed on CPU gives identical outputs.
/// </summary>
public static class Seeding
{
    /// <summary>Seeds torch's global generator (weights init, dropout, randperm...).</summary>
    public static void SeedTorch(int seed) => torch.manual_seed(seed);

    /// <summary>A managed generator for a named stage; different stages get independent but reproducible streams.</summary>
    public static Random Rng(int seed, string stage = "") => new(Derive(seed, stage));

    /// <summary>Derives a stage seed from the user seed with a stable hash (string.GetHashCode is randomised per process).</summary>
    public static int Derive(int seed, string stage)
    {
        unchecked
        {
            uint h = 2166136261u ^ (uint)seed;
            foreach (char c in stage) { h ^= c; h *= 16777619u; }
            h ^= h >> 16; h *= 0x85ebca6bu; h ^= h >> 13;
            return (int)(h & 0x7fffffff);
        }
    }
}
