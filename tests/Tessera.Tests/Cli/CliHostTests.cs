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
