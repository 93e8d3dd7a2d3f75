using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using StbImageSharp;
using Tessera.Tests.Support;

namespace Tessera.Tests.Reporting;

/// <summary>
/// The demo's report in a real browser (headless Chromium, Debian's `chromium`, installed by .ci/run): it loads without
/// console errors, and every figure and the interactive view paint pixels where the page lays them out.
/// </summary>
[Collection(ReportDemoCollection.Name)]
public class ReportBrowserTests(DemoRunFixture demo)
{
    private const int Width = 1280, Height = 7000;

    /// <summary>Chromium's executable on PATH, or null.</summary>
    internal static string? FindChromium() =>
        new[] { "chromium", "chromium-browser", "google-chrome" }
            .SelectMany(n => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, n)))
            .FirstOrDefault(File.Exists);

    /// <summary>Runs headless Chromium on a page; returns its stdout and stderr.</summary>
    internal static (string Out, string Err) Chromium(string exe, string page, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
                     "--no-first-run", "--disable-extensions", "--disable-background-networking", $"--window-size={Width},{Height}",
                     "--enable-logging=stderr", "--v=0", $"--user-data-dir={Path.Combine(Path.GetDirectoryName(page)!, "chromium-profile")}" })
            psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(new Uri(page).AbsoluteUri);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync(); var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2))) { p.Kill(true); throw new TimeoutException("chromium ran over 2 minutes"); }
        return (o.Result, e.Result);
    }

    /// <summary>The page's console messages as chromium logs them (a report writes none, so any is a defect: an uncaught exception, console.error...).</summary>
    internal static List<string> ConsoleErrors(string stderr) =>
        stderr.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).ToList();

    [SkippableFact]
    public void ConsoleCheckSeesScriptErrors()
    {
        var exe = FindChromium();
        Skip.If(exe == null, "chromium not found on PATH (Debian package `chromium`; .ci/run installs it): browser check skipped");
        var page = Path.Combine(demo.NewFolder("bad"), "bad.html");
        File.WriteAllText(page, "<html><body><script>console.error('boom'); undefinedFunction();</script></body></html>");
        var errors = ConsoleErrors(Chromium(exe!, page, "--dump-dom").Err);
        Assert.Equal(2, errors.Count);
        Assert.Contains("boom", errors[0]);
        Assert.Contains("Uncaught ReferenceError", errors[1]);
    }

    [SkippableFact]
    public void DemoReportLoadsWithoutErrorsAndItsFiguresPaint()
    {
        var exe = FindChromium();
        Skip.If(exe == null, "chromium not found on PATH (Debian package `chromium`; .ci/run installs it): browser check of report.html skipped");
        Assert.True(demo.Result.Code == 0, demo.Result.Err);
        var folder = demo.NewFolder("browser");
        // a copy of the report that also records where the page laid out its figures (the report itself stays script-light)
        var html = File.ReadAllText(Path.Combine(demo.Run, "report.html"));
        const string probe = "<script>window.addEventListener('load',function(){var r=[].map.call(document.querySelectorAll('figure img, .viewer canvas'),function(e){var b=e.getBoundingClientRect();return [Math.round(b.left),Math.round(b.top+window.scrollY),Math.round(b.width),Math.round(b.height),e.tagName];});document.body.setAttribute('data-rects',JSON.stringify(r));});</script>";
        var page = Path.Combine(folder, "report.html");
        File.WriteAllText(page, html.Replace("</body>", probe + "</body>", StringComparison.Ordinal));

        var (dom, domErr) = Chromium(exe!, page, "--dump-dom", "--virtual-time-budget=5000");
        Assert.Empty(ConsoleErrors(domErr));
        var m = Regex.Match(dom, "data-rects=\"([^\"]*)\"");
        Assert.True(m.Success, "the page did not finish loading: " + domErr[..Math.Min(2000, domErr.Length)]);
        using var rects = JsonDocument.Parse(System.Net.WebUtility.HtmlDecode(m.Groups[1].Value));
        var boxes = rects.RootElement.EnumerateArray().Select(e => (X: e[0].GetInt32(), Y: e[1].GetInt32(), W: e[2].GetInt32(), H: e[3].GetInt32(), Tag: e[4].GetString())).ToList();
        Assert.Equal(5, boxes.Count(b => b.Tag == "IMG"));
        Assert.Equal(1, boxes.Count(b => b.Tag == "CANVAS"));

        var shot = Path.Combine(folder, "screenshot.png");
        var (_, shotErr) = Chromium(exe!, page, $"--screenshot={shot}", "--virtual-time-budget=5000");
        Assert.Empty(ConsoleErrors(shotErr));
        Assert.True(File.Exists(shot), "no screenshot: " + shotErr[..Math.Min(2000, shotErr.Length)]);
        var img = ImageResult.FromMemory(File.ReadAllBytes(shot), ColorComponents.RedGreenBlue);
        Assert.Equal(Width, img.Width);
        foreach (var b in boxes)
        {
            Assert.True(b.W > 200 && b.H > 100, $"{b.Tag} at ({b.X},{b.Y}) is only {b.W}x{b.H}");
            Assert.True(b.Y + b.H <= img.Height, $"{b.Tag} at y {b.Y} lies below the {img.Height}-pixel screenshot");
            // figures are drawn on white: the share of non-white pixels in the box says whether anything painted there
            double ink = Ink(img, b.X, b.Y, b.W, b.H);
            Assert.True(ink > 0.02, $"{b.Tag} at ({b.X},{b.Y},{b.W}x{b.H}) is blank: {ink.ToString("P2", CultureInfo.InvariantCulture)} non-white pixels");
        }
        // and the page's margins are white: the check above is not passing on a grey page
        Assert.True(Ink(img, 0, 0, 20, Math.Min(img.Height, 2000)) < 0.001);
    }

    /// <summary>Fraction of pixels in a box that are not (near-)white.</summary>
    internal static double Ink(ImageResult img, int x, int y, int w, int h)
    {
        long ink = 0, all = 0;
        for (int v = Math.Max(0, y); v < Math.Min(img.Height, y + h); v++)
            for (int u = Math.Max(0, x); u < Math.Min(img.Width, x + w); u++)
            {
                int i = (v * img.Width + u) * 3;
                all++;
                if (img.Data[i] < 235 || img.Data[i + 1] < 235 || img.Data[i + 2] < 235) ink++;
            }
        return all == 0 ? 0 : (double)ink / all;
    }
}
