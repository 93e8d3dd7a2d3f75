using Tessera.Data;

namespace Tessera.Methods.Stem;

/// <summary>
/// What STEM maps: single cells (<paramref name="Sc"/>, coordinates never read) onto spots (<paramref name="St"/>, with
/// obsm "spatial"). Optional SC obs columns name the cell types (per-spot proportions; with the simulation's truth, the
/// evaluation metrics) and the groups for spatially dominant genes.
/// </summary>
/// <param name="Sc">Single cells × genes.</param>
/// <param name="St">Spots × genes with spot coordinates.</param>
public sealed record StemData(SpatialData Sc, SpatialData St)
{
    /// <summary>SC obs column with cell types: mapped type proportions per spot, and metrics when the truth is present; null = none.</summary>
    public string? CellTypeColumn { get; init; }

    /// <summary>SC obs column grouping cells for spatially dominant genes; null = <see cref="CellTypeColumn"/>.</summary>
    public string? GroupColumn { get; init; }

    /// <summary>The column the spatially dominant genes are tested over (null = none).</summary>
    public string? Groups => GroupColumn ?? CellTypeColumn;

    /// <summary>Throws a <see cref="TesseraException"/> when a dataset is missing or a named column is not in the SC obs.</summary>
    public void Validate()
    {
        if (Sc is null) throw new TesseraException("Sc is missing");
        if (St is null) throw new TesseraException("St is missing");
        foreach (var c in new[] { CellTypeColumn, GroupColumn })
            if (c != null && !Sc.Obs.Contains(c))
                throw new TesseraException($"SC obs column '{c}' not found; available: {(Sc.Obs.ColumnNames.Count == 0 ? "(none)" : string.Join(", ", Sc.Obs.ColumnNames))}");
    }

    /// <summary>The spots' coordinates (obsm "spatial"), checked to be present and finite.</summary>
    internal DenseMatrix SpotCoordinates()
    {
        if (!St.HasSpatial) throw new TesseraException("ST data has no spot coordinates (obsm 'spatial')");
        var coords = St.Spatial;
        for (int i = 0; i < coords.Data.Length; i++)
            if (!double.IsFinite(coords.Data[i])) throw new TesseraException($"ST coordinates: spot '{St.ObsNames[i / coords.Cols]}' has a non-finite coordinate");
        return coords;
    }
}
