namespace Tessera;

/// <summary>
/// A problem with the user's input or arguments (missing file, wrong shape, unknown gene...).
/// The CLI prints only <see cref="Exception.Message"/> and exits with code 2; anything else is an internal error (exit 1).
/// </summary>
public sealed class TesseraException : Exception
{
    /// <summary>Creates a user-facing error with a one-line message naming the problem.</summary>
    public TesseraException(string message) : base(message) { }

    /// <summary>Creates a user-facing error wrapping the low-level cause.</summary>
    public TesseraException(string message, Exception inner) : base(message, inner) { }
}
