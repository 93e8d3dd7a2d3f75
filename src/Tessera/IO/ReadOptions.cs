namespace Tessera.IO;

/// <summary>Which feature column becomes the gene index of 10x data.</summary>
public enum GeneNames
{
    /// <summary>Gene symbols (features.tsv column 2), made unique scanpy-style ("NAME-1") when duplicated.</summary>
    Symbols,
    /// <summary>Feature ids (features.tsv column 1, e.g. Ensembl ids).</summary>
    Ids,
}

/// <summary>Options of <see cref="DataReader.Read"/> and the format readers.</summary>
public sealed record ReadOptions
{
    /// <summary>A csv/tsv[.gz] table of per-spot metadata joined into obs by spot/cell id (see <see cref="ObsJoin"/>).</summary>
    public string? ObsFile { get; init; }
    /// <summary>Names of 2 (or 3) numeric columns (of the joined obs or of a delimited count table) that become obsm["spatial"].</summary>
    public string[]? Coords { get; init; }
    /// <summary>Delimited tables only: the table is genes × spots (otherwise detected from the header when the column names are spot ids).</summary>
    public bool Transpose { get; init; }
    /// <summary>Gene index of 10x data: symbols (default) or feature ids.</summary>
    public GeneNames GeneNames { get; init; } = GeneNames.Symbols;
    /// <summary>Keep spots absent from <see cref="ObsFile"/> (their joined values are missing) instead of failing.</summary>
    public bool AllowMissing { get; init; }
    /// <summary>Accept negative expression values (z-scored or log-ratio data); counts must never be negative.</summary>
    public bool AllowNegative { get; init; }
    /// <summary>
    /// Bin size. Visium HD: the bin in µm (2, 8 or 16) read from an outs/ or binned_outputs/ folder; null = 16
    /// (<see cref="VisiumHd.DefaultBin"/>); a bin folder (square_NNNum/) given directly is read whatever this says.
    /// Stereo-seq GEM: the side in DNBs (0.5 µm each) of the squares the records are summed into; null = 50
    /// (<see cref="StereoSeq.DefaultBin"/>).
    /// </summary>
    public int? Bin { get; init; }
    /// <summary>
    /// Most memory, in bytes, that reading one input may take, estimated from its header before anything is allocated;
    /// null: <see cref="MemoryLimit.Current"/> (half the physical memory unless the caller installed another limit).
    /// </summary>
    public long? MaxMemory { get; init; }
    /// <summary>Receives information lines (what was read, joined, renamed) as message reports; null = silent.</summary>
    public IProgress<Progress>? Progress { get; init; }

    internal void Info(string message) => Progress.Note("read", message);
}
