using Tessera.Cli.Infrastructure;

namespace Tessera.Tests.Cli;

public class CommandHostTests
{
    private static readonly Dictionary<string, string> Flags = new() { ["Epochs"] = "--epochs", ["LearningRate"] = "--lr" };

    [Theory]
    [InlineData("Epochs must be at least 1 but is 0", "--epochs must be at least 1 but is 0")]
    [InlineData("LearningRate must be positive but is -1", "--lr must be positive but is -1")]
    // only whole property names are replaced: longer words, other capitalised words and file names stay
    [InlineData("EpochsPerModel must be at least 1; Epochs too", "EpochsPerModel must be at least 1; --epochs too")]
    [InlineData("file 'Epochs.csv' not found", "file 'Epochs.csv' not found")]
    public void TranslateMessage_ReplacesPropertyNamesByFlags(string message, string expected) =>
        Assert.Equal(expected, CommandHost.TranslateMessage(message, Flags));

    [Fact]
    public void TranslateMessage_WithoutMap_KeepsTheMessage() =>
        Assert.Equal("Epochs must be at least 1", CommandHost.TranslateMessage("Epochs must be at least 1", null));
}
