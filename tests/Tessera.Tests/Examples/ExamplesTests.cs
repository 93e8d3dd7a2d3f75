using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tessera.Tests.Examples;

/// <summary>
/// The README's library programs, the example console project that CI compiles against the packed library and runs
/// (examples/Tessera.Examples, via .ci/run), and the example notebooks must show the same code.
/// </summary>
public class ExamplesTests
{
    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Tessera.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root (Tessera.sln) not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The lines between "// README:begin" and "// README:end", de-indented.</summary>
    private static string Block(string file)
    {
        var m = Regex.Match(File.ReadAllText(file).Replace("\r\n", "\n"), @"// README:begin\n(.*?)\n\s*// README:end", RegexOptions.Singleline);
        Assert.True(m.Success, $"{file} has no README block");
        var lines = m.Groups[1].Value.Split('\n');
        int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    public static TheoryData<string, string> Methods => new() { { "Spotscape", "spotscape" }, { "Costa", "costa" }, { "Stem", "stem" }, { "StNet", "stnet" } };

    [Theory]
    [MemberData(nameof(Methods))]
    public void ReadmeShowsTheExampleProgram(string cls, string _)
    {
        var root = Root();
        var block = Block(Path.Combine(root, "examples", "Tessera.Examples", cls + "Example.cs"));
        Assert.InRange(block.Split('\n').Length, 3, 5);   // read → Fit → AddTo → write
        Assert.Contains(block, File.ReadAllText(Path.Combine(root, "README.md")).Replace("\r\n", "\n"));
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void NotebookRunsTheExampleProgram(string cls, string notebook)
    {
        var root = Root();
        var block = Block(Path.Combine(root, "examples", "Tessera.Examples", cls + "Example.cs"));
        using var nb = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "examples", "notebooks", notebook + ".ipynb")));
        var code = nb.RootElement.GetProperty("cells").EnumerateArray()
            .Where(c => c.GetProperty("cell_type").GetString() == "code")
            .Select(c => string.Concat(c.GetProperty("source").EnumerateArray().Select(s => s.GetString())).TrimEnd('\n'))
            .ToList();
        Assert.Contains(block, code);
        Assert.Contains(code, c => c.Contains("#r \"nuget: Tessera.Interactive"));
    }
}
