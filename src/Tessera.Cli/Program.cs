using System.CommandLine;
using Tessera.Cli.Commands;
using Tessera.Cli.Infrastructure;

namespace Tessera.Cli;

/// <summary>The `tessera` command.</summary>
public static class Program
{
    /// <summary>Builds the command tree (also used by tests).</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Tessera: deep representation learning for spatial transcriptomics");
        root.Options.Add(CommandHost.Quiet);
        root.Options.Add(CommandHost.Verbose);
        root.Options.Add(CommandHost.MaxMemory);
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(PreprocessCommand.Create());
        root.Subcommands.Add(ClusterCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(UmapCommand.Create());
        root.Subcommands.Add(DomainsCommand.CreateDomains());
        root.Subcommands.Add(DomainsCommand.CreateIntegrate());
        root.Subcommands.Add(SimulateCommand.Create());
        root.Subcommands.Add(MapCommand.Create());
        root.Subcommands.Add(PatternsCommand.Create());
        root.Subcommands.Add(CorrelatedCommand.Create());
        root.Subcommands.Add(HistologyCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        return root;
    }

    /// <summary>Entry point; returns the exit code (0 ok, 1 internal error, 2 user error).</summary>
    public static int Main(string[] args)
    {
        // Ctrl-C / kill: remove the temporary output folders of the runs in progress before exiting
        using var signals = RunOutput.CleanUpOnSignals();
        return CommandHost.Invoke(BuildRoot(), args);
    }
}
