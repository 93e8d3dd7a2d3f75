using Tessera.Data;

namespace Tessera.IO;

/// <summary>
/// The one entry point that loads a dataset whatever its format (detected from the path), then applies
/// <see cref="ReadOptions.ObsFile"/>, <see cref="ReadOptions.Coords"/> and validates X.
/// </summary>
public static class DataReader
{
    /// <summary>
    /// Reads <paramref name="path"/>: .h5ad (AnnData), .h5 (10x matrix, no coordinates), a folder (Visium HD
    /// (<see cref="VisiumHd"/>), Xenium (<see cref="Xenium"/>), Space Ranger output when it has spatial/ or outs/spatial/,
    /// else a 10x mtx folder), or .csv/.tsv/.txt[.gz] (<see cref="DelimitedReader"/>).
    /// </summary>
    /// <remarks>
    /// Memory is bounded by <see cref="ReadOptions.MaxMemory"/> (see <see cref="MemoryLimit"/>), and any I/O error on the
    /// input (unreadable file, symbolic-link loop, a folder where a file is expected) is a <see cref="TesseraException"/>
    /// naming the path.
    /// </remarks>
    public static SpatialData Read(string path, ReadOptions? options = null)
    {
        options ??= new ReadOptions();
        using var budget = ReadBudget.Enter(options);
        try { return ReadAny(path, options); }
        catch (IOException e) { throw new TesseraException($"cannot read '{path}': {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new TesseraException($"cannot read '{path}': {e.Message}", e); }
    }

    private static SpatialData ReadAny(string path, ReadOptions options)
    {
        SpatialData data;
        if (Directory.Exists(path)) data = ReadFolder(path, options);
        else if (!File.Exists(path)) throw new TesseraException($"input '{path}' does not exist");
        else
        {
            var lower = Path.GetFileName(path).ToLowerInvariant();
            var bare = lower.EndsWith(".gz", StringComparison.Ordinal) ? lower[..^3] : lower;
            if (lower.EndsWith(".h5ad", StringComparison.Ordinal)) data = H5ad.Read(path, options);
            else if (bare.EndsWith(".gem", StringComparison.Ordinal)) data = StereoSeq.Read(path, options);
            else if (lower.EndsWith(".h5", StringComparison.Ordinal))
            {
                data = TenXMtx.ToSpatialData(TenXH5.Read(path, options), options);
                options.Info($"read {data.NObs} barcodes x {data.NVars} genes from {Path.GetFileName(path)} (no coordinates)");
            }
            else if (bare.EndsWith(".csv", StringComparison.Ordinal) || bare.EndsWith(".tsv", StringComparison.Ordinal) || bare.EndsWith(".txt", StringComparison.Ordinal))
                data = DelimitedReader.Read(path, options);
            else throw new TesseraException($"unknown format for '{path}': expected .h5ad, .h5, .gem[.gz] (Stereo-seq), a Space Ranger or 10x mtx folder, or .csv/.tsv[.gz]");
        }
        if (options.ObsFile != null) ObsJoin.Join(data, options.ObsFile, options);
        if (options.Coords != null) ApplyCoords(data, options.Coords, options);
        Validate(data, options.AllowNegative);
        return data;
    }

    private static SpatialData ReadFolder(string path, ReadOptions options)
    {
        if (VisiumHd.IsVisiumHd(path)) return VisiumHd.Read(path, options);
        if (Xenium.IsXenium(path)) return Xenium.Read(path, options);
        if (SpaceRanger.FindRoot(path) != null) return SpaceRanger.Read(path, options);
        if (Merscope.IsMerscope(path)) return Merscope.Read(path, options);
        if (CosMx.IsCosMx(path)) return CosMx.Read(path, options);
        if (SlideSeq.IsSlideSeq(path)) return SlideSeq.Read(path, options);
        foreach (var dir in new[] { path, Path.Combine(path, "filtered_feature_bc_matrix"), Path.Combine(path, "outs", "filtered_feature_bc_matrix") })
        {
            if (!TenXMtx.IsMtxFolder(dir)) continue;
            var data = TenXMtx.ToSpatialData(TenXMtx.Read(dir, options), options);
            options.Info($"read {data.NObs} barcodes x {data.NVars} genes from 10x mtx folder '{dir}' (no coordinates)");
            return data;
        }
        var h5 = new[] { Path.Combine(path, "filtered_feature_bc_matrix.h5"), Path.Combine(path, "outs", "filtered_feature_bc_matrix.h5") }.FirstOrDefault(File.Exists);
        if (h5 != null) return TenXMtx.ToSpatialData(TenXH5.Read(h5, options), options);
        throw new TesseraException($"folder '{path}' is neither a Visium HD, Xenium, MERSCOPE, CosMx, Slide-seq or Space Ranger output (spatial/ plus a matrix) nor a 10x mtx folder (matrix.mtx[.gz], features.tsv[.gz], barcodes.tsv[.gz])");
    }

    /// <summary>Sets obsm["spatial"] from 2 or 3 numeric obs columns; every spot must have a value.</summary>
    public static void ApplyCoords(SpatialData data, IReadOnlyList<string> columns, ReadOptions? options = null)
    {
        if (columns.Count is < 2 or > 3) throw new TesseraException($"coordinates need 2 or 3 column names, got {columns.Count}");
        int n = data.NObs, d = columns.Count;
        var xy = new double[n * d];
        for (int c = 0; c < d; c++)
        {
            if (!data.Obs.Contains(columns[c]))
                throw new TesseraException($"coordinate column '{columns[c]}' not found; available: {(data.Obs.ColumnNames.Count == 0 ? "(none)" : string.Join(", ", data.Obs.ColumnNames))}");
            var col = data.Obs[columns[c]];
            if (col is not NumericColumn num)
            {
                int bad = Enumerable.Range(0, n).First(i => !double.TryParse(col.Format(i), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _));
                throw new TesseraException($"coordinate column '{columns[c]}' is not numeric: spot '{data.ObsNames[bad]}' has '{col.Format(bad)}'");
            }
            for (int i = 0; i < n; i++)
            {
                if (!double.IsFinite(num.Values[i])) throw new TesseraException($"coordinate column '{columns[c]}' has no value for spot '{data.ObsNames[i]}'");
                xy[i * d + c] = num.Values[i];
            }
        }
        if (data.HasSpatial) options?.Info($"coordinates from columns {string.Join(", ", columns)} replace the existing obsm['spatial']");
        else options?.Info($"coordinates from columns {string.Join(", ", columns)}");
        data.SetObsm(SpatialData.SpatialKey, new DenseMatrix(n, d, xy));
    }

    /// <summary>Throws on the first NaN, infinite or (unless allowed) negative value of X, naming spot and gene.</summary>
    public static void Validate(SpatialData data, bool allowNegative = false)
    {
        var x = data.X;
        for (int r = 0; r < x.Rows; r++)
            for (int k = x.IndPtr[r]; k < x.IndPtr[r + 1]; k++)
            {
                var problem = Numbers.Problem(x.Data[k], allowNegative);
                if (problem != null) throw new TesseraException($"X: {problem} at spot '{data.ObsNames[r]}', gene '{data.VarNames[x.Indices[k]]}'");
            }
    }
}
