using System.Globalization;
using System.Text;
using System.Text.Json;
using Tessera.Data;
using Tessera.IO;
using Tessera.Plotting;

namespace Tessera.Reporting;

/// <summary>
/// The report's interactive spatial view: spots drawn on a canvas by a few lines of inline JavaScript (wheel to zoom,
/// drag to pan, double-click to reset, hover for the spot's id and labels). Positions come from the run's
/// <c>result.h5ad</c> (obsm spatial), labels from its <c>domains.csv</c> / <c>clusters.csv</c>, whose rows follow the
/// h5ad's spots. No library and no network: Plotly.NET 6.0.0 can inline plotly.js, but that is 3.6 MB of script per
/// report (and F# runtime dependencies in the library) for one scatter plot.
/// </summary>
internal static class SpatialViewer
{
    /// <summary>Above this many spots the view is left out (the PNGs show them; the page would grow by tens of MB).</summary>
    private const int MaxSpots = 150_000;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The viewer's HTML, or null when the run has no labelled spots with positions (or too many).</summary>
    public static string? Build(RunFolder run, out string? note)
    {
        note = null;
        var table = new[] { "domains.csv", "clusters.csv" }.Select(f => Path.Combine(run.Dir, f)).FirstOrDefault(File.Exists);
        var h5ad = Path.Combine(run.Dir, "result.h5ad");
        if (table == null || !File.Exists(h5ad)) return null;
        ObsJoin.TextTable labels;
        SpatialData data;
        try
        {
            labels = ObsJoin.ReadTextTable(table);
            if (labels.Rows.Count > MaxSpots) { note = $"{labels.Rows.Count:#,0} spots: too many for the interactive view; see the figures."; return null; }
            data = H5ad.Read(h5ad);
        }
        catch (TesseraException e) { note = $"no interactive view: {e.Message}"; return null; }
        if (!data.HasSpatial || data.NObs != labels.Rows.Count) return null;
        var header = labels.RowNames ? ["spot", .. labels.Header] : labels.Header;
        int labelCol = Array.FindIndex(header, h => h is "domain" or "cluster");
        if (labelCol < 0) return null;
        int sliceCol = Array.IndexOf(header, "slice");
        string Cell(string[] row, int j) => labels.RowNames ? (j == 0 ? row[0] : row[j]) : row[j];

        // slices of an integration side by side, each from its own origin
        var xy = data.Spatial;
        var xs = new double[data.NObs]; var ys = new double[data.NObs];
        var offset = new Dictionary<string, double>(StringComparer.Ordinal);
        if (sliceCol >= 0)
        {
            double next = 0;
            foreach (var s in labels.Rows.Select(r => Cell(r, sliceCol)).Distinct(StringComparer.Ordinal).ToList())
            {
                var idx = Enumerable.Range(0, data.NObs).Where(i => Cell(labels.Rows[i], sliceCol) == s).ToList();
                double min = idx.Min(i => xy[i, 0]), max = idx.Max(i => xy[i, 0]);
                offset[s] = next - min;
                next += (max - min) * 1.08;
            }
        }
        for (int i = 0; i < data.NObs; i++)
        {
            xs[i] = xy[i, 0] + (sliceCol >= 0 ? offset[Cell(labels.Rows[i], sliceCol)] : 0);
            ys[i] = xy[i, 1];
        }
        // the reference labels the run was scored against, when its table does not carry them (domains.csv of `domains`)
        var fields = header.ToList();
        var rowCells = labels.Rows.Select(r => header.Select((_, j) => Cell(r, j)).ToList()).ToList();
        if (RunReport.FindString(run.Run["parameters"], "TruthColumn") is { } truth && !fields.Contains(truth) && data.Obs.Contains(truth))
        {
            fields.Add(truth);
            var col = data.Obs[truth];
            for (int i = 0; i < data.NObs; i++) rowCells[i].Add(col.Format(i));
        }
        var values = labels.Rows.Select(r => Cell(r, labelCol)).ToArray();
        var categories = values.Distinct(StringComparer.Ordinal).Order(NaturalComparer.Instance).ToList();
        var index = categories.Select((c, i) => (c, i)).ToDictionary(t => t.c, t => t.i, StringComparer.Ordinal);
        var colours = categories.Select((c, i) => string.IsNullOrEmpty(c) || c == "NA" ? CategoryPalette.MissingColor.ToHex() : CategoryPalette.ColorAt(i).ToHex()).ToList();

        var payload = new
        {
            x = xs.Select(v => Math.Round(v, 2)), y = ys.Select(v => Math.Round(v, 2)),
            c = values.Select(v => index[v]),
            cats = categories, colours,
            fields,
            rows = rowCells,
        };
        var json = JsonSerializer.Serialize(payload).Replace("</", "<\\/", StringComparison.Ordinal);
        var sb = new StringBuilder();
        sb.Append("<div class=\"viewer\" id=\"spatial-viewer\"><canvas width=\"1000\" height=\"720\"></canvas>")
          .Append("<div class=\"tip\">Hover a spot for its ").Append(Html.E(string.Join(", ", fields))).Append("; wheel zooms, drag pans, double-click resets.</div>")
          .Append("<div class=\"legend\">");
        for (int i = 0; i < categories.Count; i++)
            sb.Append("<span><i style=\"background:").Append(colours[i]).Append("\"></i>").Append(Html.E(header[labelCol])).Append(' ').Append(Html.E(categories[i])).Append("</span>");
        sb.Append("</div></div>\n<script type=\"application/json\" id=\"spatial-data\">").Append(json).Append("</script>\n<script>").Append(Script).Append("</script>\n");
        return sb.ToString();
    }

    private const string Script = """
(function(){
  var d = JSON.parse(document.getElementById('spatial-data').textContent);
  var box = document.getElementById('spatial-viewer'), cv = box.querySelector('canvas'), tip = box.querySelector('.tip');
  var g = cv.getContext('2d'), n = d.x.length, i;
  var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (i = 0; i < n; i++) { x0 = Math.min(x0, d.x[i]); x1 = Math.max(x1, d.x[i]); y0 = Math.min(y0, d.y[i]); y1 = Math.max(y1, d.y[i]); }
  var W = cv.width, H = cv.height, pad = 20, view;
  function reset() { var s = Math.min((W - 2 * pad) / Math.max(x1 - x0, 1e-9), (H - 2 * pad) / Math.max(y1 - y0, 1e-9));
    view = { s: s, tx: (W - s * (x1 - x0)) / 2 - s * x0, ty: (H - s * (y1 - y0)) / 2 - s * y0 }; }
  // dot radius: about half the typical spacing between neighbouring spots
  var area = Math.max((x1 - x0) * (y1 - y0), 1e-9), r0 = 0.5 * Math.sqrt(area / Math.max(n, 1));
  function draw() {
    g.clearRect(0, 0, W, H);
    var r = Math.max(0.8, r0 * view.s);
    for (i = 0; i < n; i++) {
      var px = d.x[i] * view.s + view.tx, py = d.y[i] * view.s + view.ty;
      if (px < -r || py < -r || px > W + r || py > H + r) continue;
      g.fillStyle = d.colours[d.c[i]]; g.beginPath(); g.arc(px, py, r, 0, 6.2832); g.fill();
    }
  }
  function toCanvas(e) { var b = cv.getBoundingClientRect(); return [(e.clientX - b.left) * W / b.width, (e.clientY - b.top) * H / b.height]; }
  cv.addEventListener('wheel', function(e) { e.preventDefault(); var p = toCanvas(e), f = e.deltaY < 0 ? 1.25 : 0.8;
    view.tx = p[0] - f * (p[0] - view.tx); view.ty = p[1] - f * (p[1] - view.ty); view.s *= f; draw(); }, { passive: false });
  var drag = null;
  cv.addEventListener('mousedown', function(e) { drag = toCanvas(e); });
  window.addEventListener('mouseup', function() { drag = null; });
  cv.addEventListener('dblclick', function() { reset(); draw(); });
  cv.addEventListener('mousemove', function(e) {
    var p = toCanvas(e);
    if (drag) { view.tx += p[0] - drag[0]; view.ty += p[1] - drag[1]; drag = p; draw(); return; }
    var best = -1, bd = Infinity, r = Math.max(0.8, r0 * view.s) * 1.5;
    for (i = 0; i < n; i++) { var dx = d.x[i] * view.s + view.tx - p[0], dy = d.y[i] * view.s + view.ty - p[1], dd = dx * dx + dy * dy; if (dd < bd) { bd = dd; best = i; } }
    tip.textContent = best >= 0 && bd <= r * r ? d.fields.map(function(f, j) { return f + ': ' + d.rows[best][j]; }).join('   ') : ' ';
  });
  reset(); draw();
})();
""";
}
