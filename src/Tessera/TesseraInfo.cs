namespace Tessera;

/// <summary>Library identity.</summary>
public static class TesseraInfo
{
    /// <summary>Tessera's version (also written to every run.json).</summary>
    public const string Version = "0.1.0";
}
