using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using Tessera.Data;
using Tessera.IO;

namespace Tessera.Cli.Infrastructure;

/// <summary>
/// Runs a command body with the CLI's error contract: exit 0 ok; 2 for user errors (bad input or arguments,
/// one-line message, no stack trace); 1 for internal errors (stack trace with --verbose).
/// </summary>
public static class CommandHost
{
    /// <summary>--quiet, on every command.</summary>
    public static readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Only warnings and errors", Recursive = true };
    /// <summary>--verbose, on every command.</summary>
    public static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "More detail (and stack traces of internal errors)", Recursive = true };

    /// <summary>--max-memory, on every command: the memory limit of the readers (see <see cref="MemoryLimit"/>).</summary>
    public static readonly Option<string?> MaxMemory = new("--max-memory")
    {
        Description = $"Most memory one input may take when read, checked against its header before reading (e.g. 8G; default {MemoryLimit.DefaultFraction:P0} of the physical memory)",
        Recursive = true,
    };

    /// <summary>Exit code for user errors.</summary>
    public const int UserError = 2;

    private static readonly AsyncLocal<Reporter?> Current = new();

    /// <summary>The reporter of the command running on this call chain (for shared code such as <see cref="RunOutput"/>), or null.</summary>
    public static Reporter? CurrentReporter => Current.Value;

    /// <summary>Library property names that every command translates to its global flags.</summary>
    private static readonly Dictionary<string, string> GlobalFlags = new(StringComparer.Ordinal)
    {
        // the input options every reading command has (InputOptions), and the global memory limit
        ["MaxMemory"] = "--max-memory", ["Coords"] = "--coords", ["AllowMissing"] = "--allow-missing",
        ["AllowNegative"] = "--allow-negative", ["Transpose"] = "--transpose", ["Bin"] = "--bin",
    };

    /// <summary>
    /// Wires a body into a command's action. <paramref name="flagNames"/> maps the library's option property names (which
    /// its error messages name, e.g. "Epochs must be at least 1") to this command's flags ("--epochs"), so that a user
    /// reads the flag they typed: the library never names CLI flags itself.
    /// </summary>
    public static void SetBody(Command command, Func<ParseResult, Reporter, int> body, IReadOnlyDictionary<string, string>? flagNames = null) =>
        command.SetAction(parse => Run(parse, body, flagNames));

    /// <summary>Replaces whole-word property names in a library message by the flags that set them.</summary>
    public static string TranslateMessage(string message, IReadOnlyDictionary<string, string>? flagNames)
    {
        return System.Text.RegularExpressions.Regex.Replace(message, @"(?<![\w-])[A-Z][A-Za-z0-9]*(?![\w-]|\.\w)",
            m => flagNames?.TryGetValue(m.Value, out var flag) == true || GlobalFlags.TryGetValue(m.Value, out flag) ? flag! : m.Value);
    }

    /// <summary>An error line: one line, control characters from file contents escaped (see <see cref="Names.Escape"/>).</summary>
    private static void PrintError(string message) => Console.Error.WriteLine($"error: {Names.Escape(message)}");

    /// <summary>Runs the body with error handling.</summary>
    public static int Run(ParseResult parse, Func<ParseResult, Reporter, int> body, IReadOnlyDictionary<string, string>? flagNames = null)
    {
        var reporter = new Reporter(parse.GetValue(Quiet), parse.GetValue(Verbose));
        var outer = Current.Value;
        Current.Value = reporter;
        try
        {
            // before any work: an output that is, contains or lies inside an input named on the command line is refused
            OutputGuard.Check(parse);
            using var limit = MemoryLimit.Use(parse.GetValue(MaxMemory) is { } m ? MemoryLimit.Parse(m) : null);
            return body(parse, reporter);
        }
        catch (Exception e) when (Unwrap(e) is TesseraException te)
        {
            PrintError(TranslateMessage(te.Message, flagNames));
            return UserError;
        }
        // I/O errors (an unreadable input, a symbolic-link loop, a full disk) come from the user's files and machine, not
        // from a defect; .NET's messages name the path
        catch (Exception e) when (Unwrap(e) is IOException or UnauthorizedAccessException)
        {
            PrintError(Unwrap(e).Message);
            return UserError;
        }
        catch (Exception e) when (Unwrap(e) is OutOfMemoryException)
        {
            PrintError($"out of memory ({Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} MB in use at the peak); use a smaller input or a machine with more memory");
            if (reporter.Verbose) Console.Error.WriteLine(e.ToString());
            return UserError;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"internal error: {e.GetType().Name}: {Names.Escape(e.Message)}");
            if (reporter.Verbose) Console.Error.WriteLine(e.ToString());
            else Console.Error.WriteLine("(run again with --verbose for the stack trace; please report it)");
            return 1;
        }
        finally { Current.Value = outer; }
    }

    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException && e.InnerException != null) e = e.InnerException!;
        return e;
    }

    /// <summary>Parses and invokes; argument errors exit with code 2 and a short message.</summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && !args.Any(a => a is "-h" or "--help" or "-?"))
        {
            // System.CommandLine lays some messages out on several lines (the allowed values of an option, one per line
            // after a tab): folded into one line, as every other error line
            foreach (var err in parse.Errors) PrintError(System.Text.RegularExpressions.Regex.Replace(err.Message, @"\s*[\r\n]+\s*", " "));
            Console.Error.WriteLine($"(see '{string.Join(' ', parse.CommandResult.Command.Name == root.Name ? ["tessera"] : new[] { "tessera", parse.CommandResult.Command.Name })} --help')");
            return UserError;
        }
        return parse.Invoke();
    }

    /// <summary>Prints a table of key/value lines (used by info and evaluate).</summary>
    public static void PrintTable(string title, IEnumerable<(string Key, string Value)> rows)
    {
        var t = new Spectre.Console.Table().Title(title).AddColumn("").AddColumn("");
        t.HideHeaders();
        foreach (var (k, v) in rows) t.AddRow(Markup.Escape(k), Markup.Escape(v));
        AnsiConsole.Write(t);
    }
}
