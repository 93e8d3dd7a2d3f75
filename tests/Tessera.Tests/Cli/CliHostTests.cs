using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

public class CliHostTests
{
    [Fact]
    public void UnknownOptionIsAUserErrorWithExitCode2()
    {
        var r = CliRunner.Run("demo", "--bogus");
        Assert.Equal(2, r.Code);
        Assert.Contains("error: Unrecognized command or argument '--bogus'", r.Err);
        Assert.DoesNotContain("   at ", r.Err); // no stack trace
    }

    // A value outside an option's allowed set: System.CommandLine lists the allowed values on lines of their own; the
    // error still reads as one line.
    [Fact]
    public void ValueOutsideTheAllowedSetIsOneErrorLine()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("map", "--sc", dir.File("sc.h5ad"), "--st", dir.File("st.h5ad"), "--out", dir.File("map"), "--minibatch-epoch", "epochs");
        Assert.Equal(2, r.Code);
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("error: Argument 'epochs' not recognized. Must be one of: 'step' 'pass'", lines[0].Trim());
        Assert.Equal("(see 'tessera map --help')", lines[1].Trim());
        Assert.Equal(2, lines.Length);
        Assert.False(Directory.Exists(dir.File("map")));
    }

    [Fact]
    public void NonEmptyOutputFolderIsRefusedWithoutOverwrite()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("keep.txt"), "mine");
        var r = CliRunner.Run("demo", "--out", dir.Path);
        Assert.Equal(2, r.Code);
        Assert.Equal($"error: output folder '{dir.Path}' exists and is not empty; use --overwrite to replace it", r.Err.Trim());
        Assert.Equal("mine", File.ReadAllText(dir.File("keep.txt")));
        Assert.Single(Directory.GetFiles(dir.Path));
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(dir.Path)!, $".{Path.GetFileName(dir.Path)}.tmp-*"));
    }
}
