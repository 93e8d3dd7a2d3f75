using System.CommandLine;
using System.Globalization;
using Tessera.Cli.Infrastructure;
using Tessera.Data;
using Tessera.IO;
using Tessera.Simulate;

namespace Tessera.Cli.Commands;

/// <summary>`tessera simulate pseudo-spots ...` (STEM's evaluation simulation) and `tessera simulate patterns ...` (CoSTA's).</summary>
public static class SimulateCommand
{
    public static Command Create()
    {
        var cmd = new Command("simulate", "Simulate data for method evaluation");
        cmd.Subcommands.Add(PseudoSpotsCommand());
        cmd.Subcommands.Add(SimulatePatternsCommand.Create());
        cmd.Subcommands.Add(SimulateTissueCommand.Create());
        return cmd;
    }

    private static readonly PseudoSpotOptions Defaults = new();

    /// <summary>Options whose library messages name a property, and the flags that set them.</summary>
    private static readonly Dictionary<string, string> Flags = new()
    {
        ["GridX"] = "--grid", ["GridY"] = "--grid", ["CaptureMin"] = "--capture", ["CaptureMax"] = "--capture", ["BinFraction"] = "--bin-fraction",
        ["MinCells"] = "--min-cells", ["Seed"] = "--seed",
    };

    private static Command PseudoSpotsCommand()
    {
        var inv = CultureInfo.InvariantCulture;
        var input = new Argument<string>("input") { Description = "Single-cell-resolution spatial data (cells with coordinates)" };
        var outOpt = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var grid = new Option<string>("--grid") { Description = "Bins along x and y, NXxNY", DefaultValueFactory = _ => $"{Defaults.GridX}x{Defaults.GridY}" };
        var design = new Option<string>("--design") { Description = "tiled (default: bins tile the field, each spot captures a random share of its cells) or authors (STEM's GenerateData notebook: windows of 0.55 x the step at linspace centres, every cell inside)", DefaultValueFactory = _ => "tiled" };
        design.AcceptOnlyFromAmong("tiled", "authors");
        var capture = new Option<string?>("--capture") { Description = $"Range of the fraction of each bin's cells captured, MIN-MAX (default {Range(Defaults)} tiled, {Range(PseudoSpotOptions.Authors)} authors)" };
        var binFraction = new Option<double?>("--bin-fraction") { Description = $"Bin side as a fraction of the grid step (default {Defaults.BinFraction.ToString(inv)} tiled, {PseudoSpotOptions.Authors.BinFraction.ToString(inv)} authors)" };
        var minCells = new Option<int>("--min-cells") { Description = "Minimum cells in a bin for it to become a spot", DefaultValueFactory = _ => Defaults.MinCells };
        var typeCol = new Option<string?>("--cell-type-column") { Description = "obs column with cell types (true proportions are stored per spot)" };
        var where = new Option<string?>("--where") { Description = "Keep only cells with COLUMN=VALUE (e.g. one MERFISH plane: sdimz=0.26)" };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => Defaults.Seed };
        var aggregate = new Option<string>("--aggregate") { Description = "Spot expression from its captured cells: sum (counts) or mean (z-scored or normalised values)", DefaultValueFactory = _ => Defaults.Aggregate.ToString().ToLowerInvariant() };
        aggregate.AcceptOnlyFromAmong("sum", "mean");
        var inputs = new InputOptions();
        var cmd = new Command("pseudo-spots", "Pseudo-spots from single-cell spatial data: sc.h5ad (cells, true coordinates in obsm spatial_true) and st.h5ad")
            { input, outOpt, overwrite, design, grid, capture, binFraction, minCells, typeCol, where, seed, aggregate };
        inputs.AddTo(cmd);
        CommandHost.SetBody(cmd, (p, r) =>
        {
            var g = p.GetValue(grid)!.Split('x', 'X');
            if (g.Length != 2 || !int.TryParse(g[0], out int gx) || !int.TryParse(g[1], out int gy))
                throw new TesseraException($"--grid must look like 30x40, got '{p.GetValue(grid)}'");
            var preset = p.GetValue(design) == "authors" ? PseudoSpotOptions.Authors : Defaults;
            var captureText = p.GetValue(capture) ?? Range(preset);
            var c = captureText.Split('-');
            if (c.Length != 2 || !double.TryParse(c[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double cmin)
                || !double.TryParse(c[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double cmax))
                throw new TesseraException($"--capture must look like 0.5-0.7, got '{captureText}'");
            var options = preset with
            {
                GridX = gx, GridY = gy, CaptureMin = cmin, CaptureMax = cmax, BinFraction = p.GetValue(binFraction) ?? preset.BinFraction, MinCells = p.GetValue(minCells),
                CellTypeColumn = p.GetValue(typeCol), Seed = p.GetValue(seed),
                Aggregate = p.GetValue(aggregate) == "mean" ? SpotAggregate.Mean : SpotAggregate.Sum,
            };
            options.Validate();
            using var run = new RunOutput(p.GetValue(outOpt)!, p.GetValue(overwrite));
            r.Info($"design: {p.GetValue(design)}{(p.GetResult(design) is { Implicit: false } ? "" : " (the default; --design authors for STEM's own simulation)")}, " +
                   $"bin side {options.BinFraction.ToString(inv)} x step, capture {options.CaptureMin.ToString(inv)}-{options.CaptureMax.ToString(inv)}");
            var data = inputs.Load(p, r, p.GetValue(input)!, run);
            if (p.GetValue(where) is { } w) data = Filter(data, w, r);
            if (!data.HasSpatial) throw new TesseraException("pseudo-spot simulation needs cell coordinates (obsm 'spatial'); give them with --coords X,Y");
            PseudoSpotResult res;
            using (r.Stage($"simulate pseudo-spots ({gx}x{gy} grid)")) res = PseudoSpots.Simulate(data, options);
            var captured = res.St.Obs.Get<NumericColumn>("n_captured").Values;
            r.Info($"{res.St.NObs} spots from {data.NObs} cells; {captured.Average():F2} captured cells per spot on average ({captured.Sum():F0} cells in spots)");
            using (r.Stage("write results"))
            {
                H5ad.Write(res.Sc, run.File("sc.h5ad"));
                H5ad.Write(res.St, run.File("st.h5ad"));
                if (res.Types.Length > 0)
                    RunFigures.Spatial(res.St, res.DominantTypes(), "spots_dominant_type.png", "dominant true cell type per spot", run);
            }
            run.Extra["spots"] = res.St.NObs;
            run.Commit("simulate pseudo-spots", options, options.Seed, r);
            r.Info($"results in {run.FinalDir}");
            return 0;
        }, Flags);
        return cmd;
    }

    private static string Range(PseudoSpotOptions o) =>
        $"{o.CaptureMin.ToString(CultureInfo.InvariantCulture)}-{o.CaptureMax.ToString(CultureInfo.InvariantCulture)}";

    private static SpatialData Filter(SpatialData data, string where, Reporter r)
    {
        int eq = where.IndexOf('=');
        if (eq <= 0) throw new TesseraException($"--where must look like COLUMN=VALUE, got '{where}'");
        string col = where[..eq], value = where[(eq + 1)..];
        if (!data.Obs.Contains(col)) throw new TesseraException($"--where: column '{col}' not found; available: {string.Join(", ", data.Obs.ColumnNames)}");
        var column = data.Obs[col];
        bool numeric = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v);
        var mask = Enumerable.Range(0, data.NObs).Select(i =>
            column is NumericColumn nc && numeric ? Math.Abs(nc.Values[i] - v) <= 1e-9 * Math.Max(1, Math.Abs(v)) : column.Format(i) == value).ToArray();
        int kept = mask.Count(b => b);
        if (kept == 0) throw new TesseraException($"--where {where}: no cell has {col} = {value}");
        r.Info($"--where {where}: kept {kept} of {data.NObs} cells");
        return data.SubsetObs(mask);
    }
}
