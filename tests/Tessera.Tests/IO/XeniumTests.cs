using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.Support;
using static Tessera.Tests.IO.IoTestUtil;

namespace Tessera.Tests.IO;

/// <summary>
/// Xenium output folders. The expected numbers were read independently of Tessera (hyparquet for cells.parquet, h5wasm
/// for cell_feature_matrix.h5, in node) from shared/data/platforms/xenium/sfe_toy_human_526cells.
/// </summary>
public class XeniumTests
{
    private const string Toy = "platforms/xenium/sfe_toy_human_526cells";
    private const string Patch = "platforms/xenium/moleculeexperiment_mouse_brain_patch/sample1";

    private static double At(SpatialData d, int r, string gene)
    {
        int j = Array.IndexOf(d.VarNames.ToArray(), gene);
        Assert.True(j >= 0, $"gene {gene} not in var");
        for (int k = d.X.IndPtr[r]; k < d.X.IndPtr[r + 1]; k++) if (d.X.Indices[k] == j) return d.X.Data[k];
        return 0;
    }

    [SkippableFact]
    public void ReadsTheToyFolderWithControlsOutOfX()
    {
        var folder = SharedData.Require(Toy);
        var (o, log) = Logged();
        var d = DataReader.Read(folder, o);
        // 30 features: 27 genes, NegControlProbe_00003 (Negative Control Probe), BLANK_0070 and BLANK_0464 (Unassigned Codeword)
        Assert.Equal((526, 27), (d.NObs, d.NVars));
        Assert.DoesNotContain("BLANK_0070", d.VarNames);
        Assert.Equal(7825, d.X.Nnz);
        Assert.Equal(45726, d.X.Data.Sum(v => (double)v));
        var probe = d.Obs.Get<NumericColumn>("qc_negative_control_probe").Values;
        var blank = d.Obs.Get<NumericColumn>("qc_unassigned_codeword").Values;
        Assert.Equal(1, probe.Sum()); Assert.Equal(2, blank.Sum());
        Assert.Equal(1, probe[d.ObsNames.ToList().IndexOf("jckgipci-1")]);
        Assert.Equal(1, blank[d.ObsNames.ToList().IndexOf("keajjehl-1")]);
        Assert.Contains(log, l => l.Contains("moved 3 control features out of X", StringComparison.Ordinal));
        // the cell table's own QC counts (over the full panel) come along
        Assert.Equal(3, d.Obs.Get<NumericColumn>("control_probe_counts").Values.Sum());
        Assert.Equal(14, d.Obs.Get<NumericColumn>("unassigned_codeword_counts").Values.Sum());

        var xy = d.Spatial.Data;
        var xs = Enumerable.Range(0, d.NObs).Select(i => xy[2 * i]).ToArray();
        var ys = Enumerable.Range(0, d.NObs).Select(i => xy[2 * i + 1]).ToArray();
        Assert.Equal(994.9124450683594, xs.Min(), 9); Assert.Equal(1405.3255859375, xs.Max(), 9);
        Assert.Equal(996.4965454101563, ys.Min(), 9); Assert.Equal(1403.4285461425782, ys.Max(), 9);
        Assert.Equal("jcccmpde-1", d.ObsNames[0]);
        Assert.Equal(new[] { 1303.9040466308593, 1345.7049133300782 }, new[] { xs[0], ys[0] });
        Assert.Equal(3, At(d, 0, "AKT1")); Assert.Equal(1, At(d, 0, "SPIB"));
        Assert.Equal(342.51015625, d.Obs.Get<NumericColumn>("cell_area").Values[0]);
        Assert.Equal("jejdoedn-1", d.ObsNames[100]);
        Assert.Equal(new[] { 1238.6055358886717, 1195.655322265625 }, new[] { xs[100], ys[100] });
        Assert.Equal(4, At(d, 100, "SNHG32"));
        Assert.Equal("kgekblac-1", d.ObsNames[525]);
        Assert.Equal(7, At(d, 525, "SPIB"));
        Assert.Equal("xenium", d.Uns["platform"]);
        Assert.Equal(1.0, d.Uns["microns_per_unit"]);
    }

    private static string CopyToy(TempDir t, bool parquet)
    {
        var src = SharedData.Require(Toy);
        var folder = Path.Combine(t.Path, "xenium");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(src, "cell_feature_matrix.h5"), Path.Combine(folder, "cell_feature_matrix.h5"));
        var cells = parquet ? "cells.parquet" : "cells.csv.gz";
        File.Copy(Path.Combine(src, cells), Path.Combine(folder, cells));
        return folder;
    }

    [SkippableFact]
    public void TheCsvCellTableAndExperimentFileGiveTheSameCellsAndTheRunMetadata()
    {
        using var t = new TempDir();
        var folder = CopyToy(t, parquet: false);
        File.Copy(SharedData.Require(Patch + "/experiment.xenium"), Path.Combine(folder, "experiment.xenium"));
        var d = Xenium.Read(folder);
        var p = DataReader.Read(SharedData.Require(Toy));
        Assert.Equal(p.ObsNames, d.ObsNames);
        for (int i = 0; i < d.Spatial.Data.Length; i++) Assert.True(Math.Abs(p.Spatial.Data[i] - d.Spatial.Data[i]) < 1e-8, $"coordinate {i}");
        Assert.Equal(1303.90404663086, d.Spatial.Data[0]); // the csv's own digits
        Assert.Equal(p.Obs.Get<NumericColumn>("nucleus_area").Values.Sum(), d.Obs.Get<NumericColumn>("nucleus_area").Values.Sum(), 6);
        Assert.Equal(26.50671875, d.Obs.Get<NumericColumn>("nucleus_area").Values[1]);
        var exp = (Dictionary<string, object>)d.Uns["xenium"];
        Assert.Equal("Xenium Mouse Brain GEX", exp["panel_name"]);
        Assert.Equal("xenium-1.0.2", exp["analysis_sw_version"]);
        Assert.False(exp.ContainsKey("images")); // nested objects are left out
        Assert.Equal(0.2125, d.Uns["pixel_size_um"]);
    }

    [SkippableFact]
    public void AFolderWithoutAMatrixNamesTheMissingFile()
    {
        var folder = SharedData.Require(Patch);
        Assert.True(Xenium.IsXenium(folder));
        Fails(folder, $"Xenium folder '{folder}' has no cell_feature_matrix.h5 nor cell_feature_matrix/ (matrix.mtx.gz, features.tsv.gz, barcodes.tsv.gz): the cell x gene matrix is needed",
            () => DataReader.Read(folder));
    }

    [SkippableFact]
    public void BadCellTablesAreNamedErrors()
    {
        using var t = new TempDir();
        var folder = CopyToy(t, parquet: false);
        var csv = Path.Combine(folder, "cells.csv.gz");
        var lines = ReadGz(csv).TrimEnd('\n').Split('\n');

        File.Delete(csv);
        File.Copy(SharedData.Require(Patch + "/experiment.xenium"), Path.Combine(folder, "experiment.xenium"));
        Fails(folder, $"Xenium folder '{folder}' has no cells.parquet nor cells.csv.gz: the cell centroids (x_centroid, y_centroid) are needed", () => DataReader.Read(folder));

        Write(csv, string.Join('\n', lines.Where((_, i) => i != 1)) + "\n");
        Fails(folder, "1 of 526 matrix cells are not in cells.csv.gz (first: 'jcccmpde-1'); the matrix and the cell table must come from the same run (set AllowMissing to drop them)",
            () => DataReader.Read(folder));
        var dropped = DataReader.Read(folder, new ReadOptions { AllowMissing = true });
        Assert.Equal(525, dropped.NObs);

        Write(csv, string.Join('\n', lines.Append(lines[3])) + "\n");
        Fails(folder, "cells.csv.gz: duplicate cell_id 'jcckfddc-1' (rows 3 and 527)", () => DataReader.Read(folder));

        var nan = lines.ToArray();
        nan[2] = string.Join(',', nan[2].Split(',').Select((f, k) => k == 1 ? "NaN" : f));
        Write(csv, string.Join('\n', nan) + "\n");
        Fails(folder, "cells.csv.gz: cell 'jccimfne-1' has no finite centroid (x_centroid NaN, y_centroid 1365.46481933594)", () => DataReader.Read(folder));

        Write(csv, string.Join('\n', lines.Select(l => string.Join(',', l.Split(',').Where((_, k) => k != 2)))) + "\n");
        Fails(folder, "cells.csv.gz: no column 'y_centroid'; it has cell_id, x_centroid, transcript_counts, control_probe_counts, control_codeword_counts, unassigned_codeword_counts, total_counts, cell_area, nucleus_area",
            () => DataReader.Read(folder));
    }

    [SkippableFact]
    public void ATruncatedCellsParquetIsANamedError()
    {
        using var t = new TempDir();
        var folder = CopyToy(t, parquet: true);
        var pq = Path.Combine(folder, "cells.parquet");
        var bytes = File.ReadAllBytes(pq);
        File.WriteAllBytes(pq, bytes[..(bytes.Length - 100)]);
        var e = Assert.Throws<TesseraException>(() => DataReader.Read(folder));
        Assert.StartsWith($"cannot read parquet file '{pq}': ", e.Message);
    }
}
