using Tessera.Data;
using Tessera.Nn;

namespace Tessera.Simulate;

/// <summary>How a pseudo-spot combines the expression of its captured cells.</summary>
public enum SpotAggregate
{
    /// <summary>Sum of counts (what a capture spot measures).</summary>
    Sum,
    /// <summary>Mean of the cells' values (for normalised or z-scored input).</summary>
    Mean,
}

/// <summary>Where pseudo-spots sit and which cells they hold.</summary>
public enum PseudoSpotDesign
{
    /// <summary>
    /// GridX × GridY equal bins tile the field's bounding box, spot centre = bin centre; each spot captures a random fraction
    /// (<see cref="PseudoSpotOptions.CaptureMin"/>–<see cref="PseudoSpotOptions.CaptureMax"/>) of its bin's cells (the STEM
    /// paper's text: 50–70 %). Tessera's default.
    /// </summary>
    Tiled,
    /// <summary>
    /// STEM's own simulation (SourceforFigure/GenerateData.ipynb): spot centres on a GridX × GridY <c>np.linspace</c> grid
    /// from the field's minimum to its maximum on each axis; each spot holds every cell within a square window of
    /// <see cref="PseudoSpotOptions.BinFraction"/> × the grid step (0.55 in <see cref="PseudoSpotOptions.Authors"/>), so most
    /// cells lie in no spot.
    /// </summary>
    Authors,
}

/// <summary>Settings for <see cref="PseudoSpots.Simulate"/>.</summary>
public sealed record PseudoSpotOptions
{
    /// <summary>STEM's own design (GenerateData.ipynb): linspace centres, windows of 0.55 × the grid step, every cell inside captured.</summary>
    public static PseudoSpotOptions Authors { get; } = new() { Design = PseudoSpotDesign.Authors, BinFraction = 0.55, CaptureMin = 1, CaptureMax = 1 };

    /// <summary>Spot placement (<see cref="PseudoSpotDesign.Tiled"/> by default; <see cref="Authors"/> holds the authors' whole setting).</summary>
    public PseudoSpotDesign Design { get; init; } = PseudoSpotDesign.Tiled;
    /// <summary>Bins along x (STEM's GenerateData notebook: 30).</summary>
    public int GridX { get; init; } = 30;
    /// <summary>Bins along y (STEM: 40).</summary>
    public int GridY { get; init; } = 40;
    /// <summary>
    /// Side of each bin as a fraction of the grid step. 1 (default) tiles the field as the issue specifies; STEM's seqFISH
    /// notebook used 0.55 (separated bins), which on MERFISH leaves only ~200 spots of ~2 cells.
    /// </summary>
    public double BinFraction { get; init; } = 1.0;
    /// <summary>Minimum number of cells inside a bin (before capture) for it to become a spot (STEM: 3).</summary>
    public int MinCells { get; init; } = 3;
    /// <summary>Lower end of the per-spot capture fraction (uniform draw per spot).</summary>
    public double CaptureMin { get; init; } = 0.5;
    /// <summary>Upper end of the per-spot capture fraction.</summary>
    public double CaptureMax { get; init; } = 0.7;
    /// <summary>obs column with cell types; true per-spot proportions are stored for each category.</summary>
    public string? CellTypeColumn { get; init; }
    /// <summary>Seed for the capture draws.</summary>
    public int Seed { get; init; } = 0;
    /// <summary>
    /// How a spot's expression is formed from its captured cells: <see cref="SpotAggregate.Sum"/> for counts (STEM's simulation),
    /// <see cref="SpotAggregate.Mean"/> for values that do not add up, such as z-scores (the seqFISH cortex data).
    /// </summary>
    public SpotAggregate Aggregate { get; init; } = SpotAggregate.Sum;

    /// <summary>Throws a <see cref="TesseraException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (GridX < 1) throw new TesseraException($"GridX must be at least 1 but is {GridX}");
        if (GridY < 1) throw new TesseraException($"GridY must be at least 1 but is {GridY}");
        if (!Enum.IsDefined(Design)) throw new TesseraException($"Design must be Tiled or Authors but is {Design}");
        if (Design == PseudoSpotDesign.Authors && (GridX < 2 || GridY < 2))
            throw new TesseraException($"the authors' design places spots on a linspace grid and needs at least 2 points per axis, got {GridX}x{GridY}");
        if (!(BinFraction > 0) || BinFraction > 1) throw new TesseraException($"BinFraction must be in (0, 1] but is {BinFraction}");
        if (!(CaptureMin > 0) || CaptureMin > 1) throw new TesseraException($"CaptureMin must be in (0, 1] but is {CaptureMin}");
        if (!(CaptureMax >= CaptureMin) || CaptureMax > 1) throw new TesseraException($"CaptureMax must be in [{CaptureMin}, 1] but is {CaptureMax}");
        if (MinCells < 1) throw new TesseraException($"MinCells must be at least 1 but is {MinCells}");
        if (!Enum.IsDefined(Aggregate)) throw new TesseraException($"Aggregate must be Sum or Mean but is {Aggregate}");
    }
}

/// <summary>The SC input (all cells, true coordinates in obsm["spatial_true"], none in obsm["spatial"]) and the pseudo-spots.</summary>
/// <param name="Sc">Cells; obsm "spatial_true" holds their real coordinates, obs "pseudo_spot" the spot that captured them (or empty).</param>
/// <param name="St">Spots: summed counts of captured cells, obsm "spatial" = bin centre, obs "n_cells", "n_captured", and with a
/// cell-type column obsm "proportions" (spots × types, rows sum to 1) whose column names are in uns "proportion_types".</param>
/// <param name="Types">Cell-type categories in proportion column order (empty without a cell-type column).</param>
public sealed record PseudoSpotResult(SpatialData Sc, SpatialData St, string[] Types)
{
    /// <summary>Each spot's type with the largest true proportion (first type on ties); null entries without cell types.</summary>
    public string?[] DominantTypes()
    {
        if (Types.Length == 0) return new string?[St.NObs];
        var props = St.Obsm[PseudoSpots.ProportionsKey];
        return Enumerable.Range(0, St.NObs).Select(s => (string?)Types[Enumerable.Range(0, Types.Length).MaxBy(t => props[s, t])]).ToArray();
    }
}

/// <summary>
/// Pseudo-spots from single-cell-resolution spatial data (STEM's evaluation simulation): a regular grid over the field's
/// bounding box (GridX × GridY), either tiling bins whose spots sum a random 50–70 % of their cells (the paper's text) or the
/// authors' separated windows that sum every cell inside (GridX × GridY linspace centres; <see cref="PseudoSpotDesign"/>).
/// </summary>
public static class PseudoSpots
{
    /// <summary>obsm key holding the hidden true coordinates of the cells.</summary>
    public const string TrueCoordsKey = "spatial_true";
    /// <summary>obsm key of the spots' true cell-type proportions.</summary>
    public const string ProportionsKey = "proportions";
    /// <summary>uns key listing the proportion columns' type names.</summary>
    public const string ProportionTypesKey = "proportion_types";

    /// <summary>Simulates pseudo-spots from <paramref name="cells"/> (which must have obsm["spatial"]); the input is not modified.</summary>
    public static PseudoSpotResult Simulate(SpatialData cells, PseudoSpotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var o = options ?? new PseudoSpotOptions();
        o.Validate();
        if (!cells.HasSpatial) throw new TesseraException("pseudo-spot simulation needs cell coordinates (obsm 'spatial')");
        var xy = cells.Spatial;
        int n = cells.NObs;
        if (n == 0) throw new TesseraException("pseudo-spot simulation: the input has no cells");

        CategoricalColumn? types = null;
        if (o.CellTypeColumn != null)
        {
            if (!cells.Obs.Contains(o.CellTypeColumn))
                throw new TesseraException($"cell-type column '{o.CellTypeColumn}' not found; available: {(cells.Obs.ColumnNames.Count == 0 ? "(none)" : string.Join(", ", cells.Obs.ColumnNames))}");
            types = CategoricalColumn.FromLabels(cells.Obs.Labels(o.CellTypeColumn));
            int miss = Array.IndexOf(types.Codes, -1);
            if (miss >= 0) throw new TesseraException($"cell-type column '{o.CellTypeColumn}' has no value for cell '{cells.ObsNames[miss]}'");
        }

        double minX = double.MaxValue, maxX = double.MinValue, minY = double.MaxValue, maxY = double.MinValue;
        for (int i = 0; i < n; i++)
        {
            minX = Math.Min(minX, xy[i, 0]); maxX = Math.Max(maxX, xy[i, 0]);
            minY = Math.Min(minY, xy[i, 1]); maxY = Math.Max(maxY, xy[i, 1]);
        }
        // Tiled: GridX × GridY equal bins tile the bounding box; spot centre = bin centre. Authors: centres at linspace(min, max, n)
        // on each axis, step = (max − min) / (n − 1). Either way a cell belongs to the spot whose centre is nearest along both
        // axes if it lies within BinFraction × step / 2 of it (a tiling bin includes its far edge).
        bool tiled = o.Design == PseudoSpotDesign.Tiled;
        double stepX = Math.Max(maxX - minX, 1e-12) / (tiled ? o.GridX : o.GridX - 1), stepY = Math.Max(maxY - minY, 1e-12) / (tiled ? o.GridY : o.GridY - 1);
        double offset = tiled ? 0.5 : 0;
        double halfX = o.BinFraction * stepX / 2, halfY = o.BinFraction * stepY / 2;
        int Cell(double v, double min, double step, int n) => Math.Clamp(tiled ? (int)Math.Floor((v - min) / step) : (int)Math.Round((v - min) / step), 0, n - 1);

        var members = new List<int>[o.GridX * o.GridY];
        for (int i = 0; i < n; i++)
        {
            int gx = Cell(xy[i, 0], minX, stepX, o.GridX), gy = Cell(xy[i, 1], minY, stepY, o.GridY);
            double cx = minX + (gx + offset) * stepX, cy = minY + (gy + offset) * stepY;
            if ((!tiled || o.BinFraction < 1) && (Math.Abs(xy[i, 0] - cx) > halfX || Math.Abs(xy[i, 1] - cy) > halfY)) continue;
            (members[gy * o.GridX + gx] ??= []).Add(i);
        }

        var rng = Seeding.Rng(o.Seed, "pseudo-spots");
        var spotOf = new string?[n];
        var names = new List<string>();
        var centres = new List<double>();
        var nCells = new List<double>();
        var nCapt = new List<double>();
        var rowsR = new List<int>(); var rowsC = new List<int>(); var rowsV = new List<float>();
        int nTypes = types?.Categories.Length ?? 0;
        var props = new List<double>();
        var x = cells.X;
        for (int b = 0; b < members.Length; b++)
        {
            var m = members[b];
            if (m == null || m.Count < o.MinCells) continue;
            int gx = b % o.GridX, gy = b / o.GridX;
            double frac = o.CaptureMin + (o.CaptureMax - o.CaptureMin) * rng.NextDouble();
            int take = Math.Max(1, (int)Math.Round(frac * m.Count));
            // Partial Fisher–Yates: the first `take` entries are a uniform sample without replacement.
            var pool = m.ToArray();
            for (int t = 0; t < take; t++) { int j = t + rng.Next(pool.Length - t); (pool[t], pool[j]) = (pool[j], pool[t]); }
            var chosen = pool.Take(take).OrderBy(v => v).ToArray();
            int s = names.Count;
            string name = $"spot_{gx}_{gy}";
            names.Add(name);
            centres.Add(minX + (gx + offset) * stepX); centres.Add(minY + (gy + offset) * stepY);
            nCells.Add(m.Count); nCapt.Add(take);
            var sum = new Dictionary<int, double>();
            var tp = new double[nTypes];
            foreach (int c in chosen)
            {
                spotOf[c] = name;
                for (int k = x.IndPtr[c]; k < x.IndPtr[c + 1]; k++) { sum.TryGetValue(x.Indices[k], out var v); sum[x.Indices[k]] = v + x.Data[k]; }
                if (types != null) tp[types.Codes[c]] += 1.0 / take;
            }
            double scale = o.Aggregate == SpotAggregate.Mean ? 1.0 / take : 1.0;
            foreach (var kv in sum.OrderBy(kv => kv.Key)) { rowsR.Add(s); rowsC.Add(kv.Key); rowsV.Add((float)(kv.Value * scale)); }
            props.AddRange(tp);
        }
        if (names.Count == 0)
            throw new TesseraException($"no bin of the {o.GridX}x{o.GridY} grid holds at least {o.MinCells} cells; use a coarser grid");

        int ns = names.Count;
        var stX = CsrMatrix.FromTriplets(ns, cells.NVars, rowsR, rowsC, rowsV);
        var obs = new Table(names.ToArray(), "spot");
        obs.Set("n_cells", new NumericColumn(nCells.ToArray(), true));
        obs.Set("n_captured", new NumericColumn(nCapt.ToArray(), true));
        var st = new SpatialData(stX, obs, cells.Var.Clone());
        st.SetObsm(SpatialData.SpatialKey, new DenseMatrix(ns, 2, centres.ToArray()));
        string[] typeNames = types?.Categories ?? [];
        if (types != null)
        {
            st.SetObsm(ProportionsKey, new DenseMatrix(ns, nTypes, props.ToArray()));
            st.Uns[ProportionTypesKey] = typeNames;
            for (int t = 0; t < nTypes; t++)
                obs.Set("prop_" + typeNames[t], new NumericColumn(Enumerable.Range(0, ns).Select(r => props[r * nTypes + t]).ToArray()));
        }
        st.Uns["pseudo_spots"] = new Dictionary<string, object>
        {
            ["design"] = o.Design.ToString().ToLowerInvariant(), ["grid"] = $"{o.GridX}x{o.GridY}", ["bin_fraction"] = o.BinFraction, ["min_cells"] = o.MinCells,
            ["capture"] = $"{o.CaptureMin}-{o.CaptureMax}", ["seed"] = o.Seed, ["step_x"] = stepX, ["step_y"] = stepY,
        };

        var sc = cells.Subset();
        sc.Obsm.Remove(SpatialData.SpatialKey);
        sc.SetObsm(TrueCoordsKey, new DenseMatrix(n, 2, Enumerable.Range(0, n).SelectMany(i => new[] { xy[i, 0], xy[i, 1] }).ToArray()));
        sc.Obs.Set("pseudo_spot", new StringColumn(spotOf));
        return new PseudoSpotResult(sc, st, typeNames);
    }
}
