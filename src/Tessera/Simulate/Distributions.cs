namespace Tessera.Simulate;

/// <summary>Seeded samplers for count simulation (Gamma, Poisson, negative binomial as a Gamma–Poisson mixture).</summary>
public static class Distributions
{
    /// <summary>Standard normal by Box–Muller.</summary>
    public static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Gamma(shape, scale) by Marsaglia–Tsang (boosted for shape &lt; 1).</summary>
    public static double Gamma(Random rng, double shape, double scale)
    {
        if (!(shape > 0) || !(scale > 0)) throw new ArgumentException($"gamma shape and scale must be positive, got {shape} and {scale}");
        if (shape < 1)
            return Gamma(rng, shape + 1, scale) * Math.Pow(1.0 - rng.NextDouble(), 1.0 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do { x = Normal(rng); v = 1 + c * x; } while (v <= 0);
            v = v * v * v;
            double u = 1.0 - rng.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v * scale;
        }
    }

    /// <summary>Poisson(lambda): multiplication method for small lambda, Hörmann's PTRS transformed rejection otherwise.</summary>
    public static int Poisson(Random rng, double lambda)
    {
        if (lambda < 0 || double.IsNaN(lambda)) throw new ArgumentException($"Poisson mean must be non-negative, got {lambda}");
        if (lambda == 0) return 0;
        if (lambda < 10)
        {
            double l = Math.Exp(-lambda), p = 1; int k = 0;
            do { k++; p *= rng.NextDouble(); } while (p > l);
            return k - 1;
        }
        double slam = Math.Sqrt(lambda), loglam = Math.Log(lambda);
        double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b, invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
        while (true)
        {
            double u = rng.NextDouble() - 0.5, v = rng.NextDouble(), us = 0.5 - Math.Abs(u);
            int k = (int)Math.Floor((2 * a / us + b) * u + lambda + 0.43);
            if (us >= 0.07 && v <= vr) return k;
            if (k < 0 || (us < 0.013 && v > us)) continue;
            if (Math.Log(v) + Math.Log(invalpha) - Math.Log(a / (us * us) + b) <= -lambda + k * loglam - LogFactorial(k)) return k;
        }
    }

    /// <summary>Negative binomial with mean mu and inverse dispersion theta (variance mu + mu²/theta).</summary>
    public static int NegativeBinomial(Random rng, double mu, double theta) =>
        mu <= 0 ? 0 : Poisson(rng, Gamma(rng, theta, mu / theta));

    private static double LogFactorial(int k)
    {
        if (k < 2) return 0;
        // Stirling series; exact enough for the rejection test at k >= 10
        double x = k + 1.0;
        return (x - 0.5) * Math.Log(x) - x + 0.5 * Math.Log(2 * Math.PI) + 1.0 / (12 * x) - 1.0 / (360 * x * x * x);
    }
}
