using System.CommandLine;
using System.CommandLine.Parsing;

namespace Tessera.Cli.Infrastructure;

/// <summary>
/// Refuses an output that would replace or change an input: an output that is an input, lies inside an input folder, or
/// contains an input (an --overwrite would delete it). Paths are compared physically, after resolving symbolic links
/// and "..", so no spelling of the same place slips through.
/// </summary>
public static class OutputGuard
{
    private static readonly StringComparison Compare = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
    private static readonly char[] Separators = [Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar];

    /// <summary>Names of the options that name a command's output.</summary>
    public static readonly IReadOnlySet<string> OutputOptions = new HashSet<string>(StringComparer.Ordinal) { "--out", "--output" };

    /// <summary>
    /// The physical absolute path: every symbolic link resolved, "." and ".." applied to the folder they are in after the
    /// links before them (as the kernel does); the part that does not exist is appended as written. A symbolic-link loop
    /// is a <see cref="TesseraException"/> naming the path.
    /// </summary>
    public static string Resolve(string path)
    {
        var full = Path.IsPathRooted(path) ? path : Path.Combine(Environment.CurrentDirectory, path);
        var root = Path.GetPathRoot(full)!;
        var pending = new Stack<string>(full[root.Length..].Split(Separators, StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = root;
        int links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? current; continue; }
            var next = Path.Combine(current, part);
            string? target = null;
            try { target = new FileInfo(next).LinkTarget; }
            catch (IOException) { } // not a link, or unreadable: compared as written
            catch (UnauthorizedAccessException) { }
            if (target == null) { current = next; continue; }
            if (++links > 40) throw new TesseraException($"'{path}': too many levels of symbolic links (a link loop?)");
            foreach (var t in target.Split(Separators, StringSplitOptions.RemoveEmptyEntries).Reverse()) pending.Push(t);
            if (Path.IsPathRooted(target)) current = Path.GetPathRoot(target)!;
        }
        return current;
    }

    /// <summary>Whether <paramref name="inner"/> is <paramref name="outer"/> or lies inside it (both resolved).</summary>
    private static bool Within(string inner, string outer) =>
        inner.Equals(outer, Compare) || inner.StartsWith(Path.TrimEndingDirectorySeparator(outer) + Path.DirectorySeparatorChar, Compare);

    /// <summary>Throws when the output <paramref name="output"/> is, lies inside or contains <paramref name="input"/>.</summary>
    public static void Check(string output, string input)
    {
        string o = Resolve(output), i = Resolve(input);
        string? how = o.Equals(i, Compare) ? "is" : Within(o, i) ? "lies inside" : Within(i, o) ? "contains" : null;
        if (how != null)
            throw new TesseraException($"the output '{output}' {how} the input '{input}'{(how == "is" ? "" : $" ({i})")}: it would replace or change the input; choose an output outside every input");
    }

    /// <summary>
    /// The check on a command line, before the command does any work: the output (the value of --out/--output) against
    /// every other existing path named on the command line (input arguments, --obs, --image, --spots, --manifest...).
    /// </summary>
    public static void Check(ParseResult parse)
    {
        var outputs = new List<string>();
        var paths = new List<string>();
        for (SymbolResult? c = parse.CommandResult; c is CommandResult cr; c = cr.Parent)
            foreach (var child in cr.Children)
            {
                var tokens = child.Tokens.Select(t => t.Value);
                if (child is OptionResult { Implicit: false } or && OutputOptions.Contains(or.Option.Name)) outputs.AddRange(tokens);
                else paths.AddRange(tokens.Where(Exists));
            }
        foreach (var output in outputs)
            foreach (var input in paths)
                Check(output, input);
    }

    /// <summary>Whether a path names something on disk (a dangling or looping link included).</summary>
    internal static bool Exists(string path)
    {
        if (path.Length == 0 || path.IndexOfAny(Path.GetInvalidPathChars()) >= 0) return false;
        if (File.Exists(path) || Directory.Exists(path)) return true;
        try { return new FileInfo(path).LinkTarget != null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException) { return false; }
    }

    /// <summary>Refuses a non-.h5ad target, writing over or into the input (<see cref="Check(string, string)"/>), and an existing file without --overwrite.</summary>
    public static void CheckH5adTarget(string dst, string src, bool overwrite)
    {
        if (!dst.EndsWith(".h5ad", StringComparison.OrdinalIgnoreCase)) throw new TesseraException($"output '{dst}' must end with .h5ad");
        Check(dst, src);
        if (File.Exists(dst) && !overwrite) throw new TesseraException($"output '{dst}' exists; use --overwrite to replace it");
    }
}
