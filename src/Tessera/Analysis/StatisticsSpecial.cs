namespace Tessera.Analysis;

/// <summary>Special functions (log-gamma, erfc, ranks) accurate to about 1e-15 relative, shared by Metrics and Statistics.</summary>
internal static class SpecialFunctions
{
    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>ln Γ(x) for x &gt; 0: Stirling's series for x ≥ 10, upward recurrence below.</summary>
    public static double LogGamma(double x)
    {
        if (double.IsNaN(x) || x <= 0) return double.NaN;
        if (x < 10)
        {
            int shift = (int)Math.Ceiling(10 - x);
            double logProd = 0;
            double prod = 1;
            for (int i = 0; i < shift; i++)
            {
                prod *= x + i;
                if (prod > 1e280) { logProd += Math.Log(prod); prod = 1; }
            }
            logProd += Math.Log(prod);
            return LogGamma(x + shift) - logProd;
        }
        double inv = 1.0 / x, inv2 = inv * inv;
        // Stirling series coefficients B_{2m} / (2m(2m-1)).
        double series = inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 * (1.0 / 1680 - inv2 * (1.0 / 1188
                        - inv2 * (691.0 / 360360 - inv2 * (1.0 / 156)))))));
        return (x - 0.5) * Math.Log(x) - x + HalfLog2Pi + series;
    }

    /// <summary>Complementary error function: positive series below 2.5, continued fraction (Lentz) above.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return 2 - Erfc(-x);
        if (x < 2.5) return 1 - Erf(x);
        if (x > 27.3) return 0;
        // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
        const double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int j = 1; j < 500; j++)
        {
            double a = j * 0.5;
            d = x + a * d; if (Math.Abs(d) < tiny) d = tiny; d = 1 / d;
            c = x + a / c; if (Math.Abs(c) < tiny) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }

    /// <summary>erf(x) by the all-positive series 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(2n+1)!!.</summary>
    public static double Erf(double x)
    {
        if (x < 0) return -Erf(-x);
        if (x >= 2.5) return 1 - Erfc(x);
        double term = x, sum = x, x2 = x * x;
        for (int n = 1; n < 200; n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
    }

    /// <summary>Upper tail of the standard normal, P(Z &gt; z).</summary>
    public static double NormalSf(double z) => 0.5 * Erfc(z / Math.Sqrt(2));

    /// <summary>Average (fractional) ranks, 1-based, as scipy.stats.rankdata(method="average"); also Σ(t³−t) over tie groups.</summary>
    public static double[] AverageRanks(ReadOnlySpan<double> values, out double tieTerm)
    {
        int n = values.Length;
        var idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        var keys = values.ToArray();
        Array.Sort(keys, idx);
        var ranks = new double[n];
        tieTerm = 0;
        int s = 0;
        while (s < n)
        {
            int e = s + 1;
            while (e < n && keys[e] == keys[s]) e++;
            double r = (s + 1 + e) / 2.0;
            for (int i = s; i < e; i++) ranks[idx[i]] = r;
            double t = e - s;
            tieTerm += t * t * t - t;
            s = e;
        }
        return ranks;
    }
}
