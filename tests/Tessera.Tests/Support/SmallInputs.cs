using System.Globalization;
using System.Text;
using Tessera.Data;
using Tessera.IO;
using Tessera.Tests.IO;

namespace Tessera.Tests.Support;

/// <summary>
/// One small dataset (spots on a grid, Poisson-like counts, 10x-style barcodes) written with the library's writers in
/// every input format: h5ad, 10x HDF5 (v3 layout), 10x mtx folder, Space Ranger folder, csv and tsv.
/// </summary>
internal static class SmallInputs
{
    /// <summary>A <paramref name="spots"/> × <paramref name="genes"/> dataset with obsm["spatial"]; deterministic in <paramref name="seed"/>.</summary>
    public static SpatialData Data(int spots = 24, int genes = 12, int seed = 0)
    {
        var rng = new Random(seed);
        var dense = new float[spots, genes];
        for (int i = 0; i < spots; i++)
            for (int g = 0; g < genes; g++) dense[i, g] = rng.NextDouble() < 0.4 ? rng.Next(1, 20) : 0;
        var x = CsrMatrix.FromDense(dense);
        var barcodes = Enumerable.Range(0, spots).Select(Barcode).ToArray();
        var names = Enumerable.Range(0, genes).Select(g => $"Gene{g}").ToArray();
        var data = new SpatialData(x, new Table(barcodes, "barcode"), new Table(names, "gene name"));
        var xy = new double[2 * spots];
        for (int i = 0; i < spots; i++) { xy[2 * i] = 100 + 20 * (i % 6); xy[2 * i + 1] = 100 + 20 * (i / 6); }
        data.SetObsm(SpatialData.SpatialKey, new DenseMatrix(spots, 2, xy));
        return data;
    }

    /// <summary>A 10x-style barcode ("AAAC...-1") for spot <paramref name="i"/>.</summary>
    public static string Barcode(int i)
    {
        var b = new char[12];
        for (int k = 0; k < 12; k++) { b[k] = "ACGT"[i % 4]; i /= 4; }
        return new string(b) + "-1";
    }

    /// <summary>Writes every format of <paramref name="data"/> under <paramref name="dir"/>; returns format → path.</summary>
    public static Dictionary<string, string> WriteAll(string dir, SpatialData data)
    {
        Directory.CreateDirectory(dir);
        var paths = new Dictionary<string, string>
        {
            ["h5ad"] = Path.Combine(dir, "data.h5ad"),
            ["h5"] = Path.Combine(dir, "data.h5"),
            ["mtx"] = Path.Combine(dir, "mtx"),
            ["spaceranger"] = Path.Combine(dir, "spaceranger"),
            ["csv"] = Path.Combine(dir, "data.csv"),
            ["tsv"] = Path.Combine(dir, "data.tsv.gz"),
            ["obs"] = Path.Combine(dir, "obs.csv"),
        };
        H5ad.Write(data, paths["h5ad"]);
        WriteTenXH5(data, paths["h5"]);
        var tenx = new TenXMatrix(data.X, data.ObsNames.ToArray(), data.VarNames.Select(v => "ENSG" + v).ToArray(), data.VarNames.ToArray(), null);
        TenXMtx.Write(tenx, paths["mtx"]);
        WriteSpaceRanger(data, tenx, paths["spaceranger"]);
        WriteTable(data, paths["csv"], ',');
        WriteTable(data, paths["tsv"], '\t');
        // per-spot metadata for --obs: id, a category, a number
        IoTestUtil.Write(paths["obs"], "barcode,region,score\n" + string.Concat(data.ObsNames.Select((b, i) => $"{b},r{i % 3},{(i * 0.37).ToString(CultureInfo.InvariantCulture)}\n")));
        return paths;
    }

    /// <summary>A Cell Ranger v3 HDF5 matrix (features × barcodes in CSC = barcodes × features in CSR).</summary>
    public static void WriteTenXH5(SpatialData data, string path)
    {
        var x = data.X;
        new PureHDF.H5File
        {
            ["matrix"] = new PureHDF.H5Group
            {
                ["barcodes"] = data.ObsNames.ToArray(),
                ["data"] = x.Data[..x.Nnz].Select(v => (int)v).ToArray(),
                ["indices"] = x.Indices[..x.Nnz].Select(v => (long)v).ToArray(),
                ["indptr"] = x.IndPtr.Select(v => (long)v).ToArray(),
                ["shape"] = new int[] { x.Cols, x.Rows },
                ["features"] = new PureHDF.H5Group
                {
                    ["id"] = data.VarNames.Select(v => "ENSG" + v).ToArray(),
                    ["name"] = data.VarNames.ToArray(),
                    ["feature_type"] = data.VarNames.Select(_ => "Gene Expression").ToArray(),
                },
            },
        }.Write(path);
    }

    private static void WriteSpaceRanger(SpatialData data, TenXMatrix tenx, string root)
    {
        TenXMtx.Write(tenx, Path.Combine(root, "filtered_feature_bc_matrix"));
        var spatial = Path.Combine(root, "spatial");
        Directory.CreateDirectory(spatial);
        var xy = data.Obsm[SpatialData.SpatialKey];
        var pos = new StringBuilder();
        for (int i = 0; i < data.NObs; i++)
            pos.Append(CultureInfo.InvariantCulture, $"{data.ObsNames[i]},1,{i / 6},{i % 6},{xy[i, 1]},{xy[i, 0]}\n");
        File.WriteAllText(Path.Combine(spatial, "tissue_positions_list.csv"), pos.ToString());
        File.WriteAllText(Path.Combine(spatial, "scalefactors_json.json"),
            "{\"tissue_hires_scalef\": 0.1, \"tissue_lowres_scalef\": 0.05, \"spot_diameter_fullres\": 30, \"fiducial_diameter_fullres\": 40}");
        IoTestUtil.WritePng(Path.Combine(spatial, "tissue_lowres_image.png"), 16, 12, (x, y) => ((byte)(x * 15), (byte)(y * 20), 128));
    }

    /// <summary>Spots × genes with a spot id column, coordinates as x, y columns.</summary>
    private static void WriteTable(SpatialData data, string path, char sep)
    {
        var b = new StringBuilder();
        b.Append("spot").Append(sep).Append("x").Append(sep).Append('y');
        foreach (var g in data.VarNames) b.Append(sep).Append(g);
        b.Append('\n');
        var xy = data.Obsm[SpatialData.SpatialKey];
        for (int i = 0; i < data.NObs; i++)
        {
            b.Append(data.ObsNames[i]).Append(sep).Append(xy[i, 0].ToString(CultureInfo.InvariantCulture)).Append(sep).Append(xy[i, 1].ToString(CultureInfo.InvariantCulture));
            for (int g = 0; g < data.NVars; g++) b.Append(sep).Append(data.X[i, g].ToString(CultureInfo.InvariantCulture));
            b.Append('\n');
        }
        IoTestUtil.Write(path, b.ToString());
    }
}

/// <summary>Runs the CLI in this process (through its host entry, as `tessera` does), capturing stderr.</summary>
internal static class CliInProcess
{
    /// <summary>Exit code and the error stream of one run.</summary>
    public sealed record Result(int Code, string Err)
    {
        /// <summary>The "error: ..." lines only (the stream also holds progress lines).</summary>
        public string Error => string.Join('\n', Err.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal))).Trim();
    }

    public static Result Run(params string[] args)
    {
        var err = new StringWriter();
        var saved = Console.Error;
        Console.SetError(err);
        try { return new Result(Tessera.Cli.Infrastructure.CommandHost.Invoke(Tessera.Cli.Program.BuildRoot(), args), err.ToString()); }
        finally { Console.SetError(saved); }
    }
}
