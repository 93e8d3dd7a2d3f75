namespace Tessera.Preprocess;

/// <summary>
/// Local regression (loess) of one predictor, as Cleveland's netlib dloess computes it with
/// surface = "direct" (R: <c>loess(y ~ x, span, degree, surface = "direct")</c>; scikit-misc wraps the same code).
/// </summary>
/// <remarks>
/// For every point the <c>floor(n·span)</c> nearest neighbours are taken; the squared distance of the farthest one
/// (times span when span &gt; 1) is the bandwidth ρ; weights are tricube (1 − (d/√ρ)³)³, so the farthest neighbour
/// gets weight 0 exactly as in netlib's ehg127. The weighted polynomial fit uses column equilibration, a Householder QR
/// and an SVD pseudo-inverse with netlib's tolerance σ₁·100·ε, so rank-deficient neighbourhoods (many tied x) give
/// netlib's answer too. scikit-misc's default surface = "interpolate" evaluates this fit only at k-d tree vertices and
/// blends cubically between them; it differs from the direct fit by about 1e-3 of the response range (see the tests
/// for measured numbers), which is why scanpy's seurat_v3 ranks computed here can differ in the last few genes.
/// </remarks>
public static class Loess
{
    /// <summary>Fitted values at each input point (direct local regression, gaussian family, no robustness iterations).</summary>
    /// <param name="x">Predictor values (finite).</param>
    /// <param name="y">Responses (finite), same length.</param>
    /// <param name="span">Fraction of points in each neighbourhood (scanpy's seurat_v3 uses 0.3).</param>
    /// <param name="degree">Local polynomial degree, 0, 1 or 2.</param>
    public static double[] FitDirect(IReadOnlyList<double> x, IReadOnlyList<double> y, double span = 0.3, int degree = 2)
    {
        int n = x.Count;
        if (y.Count != n) throw new ArgumentException($"x has {n} values but y has {y.Count}");
        if (degree is < 0 or > 2) throw new ArgumentException($"loess degree must be 0, 1 or 2, got {degree}");
        if (!(span > 0) || double.IsInfinity(span)) throw new ArgumentException($"loess span must be positive, got {span}");
        if (n == 0) return [];
        var (order, xs, ys, nf, k) = SortedInput(x, y, span, degree);

        var fitted = new double[n];
        var b = new double[nf * k];
        var eta = new double[nf];
        int lo = 0;
        double eps = Math.Pow(2, -52);
        for (int p = 0; p < n; p++)
        {
            double x0 = xs[p];
            // slide the window of the nf nearest neighbours (x sorted, x0 increasing)
            while (lo + nf < n && x0 - xs[lo] > xs[lo + nf] - x0) lo++;
            WeightedDesign(xs, ys, lo, nf, k, x0, span, b, eta);
            fitted[order[p]] = Solve(b, eta, nf, k, eps).Value;
        }
        return fitted;
    }

    /// <summary>
    /// Fitted values with netlib's default surface = "interpolate" (R's loess default and scikit-misc's, hence scanpy's
    /// seurat_v3): the local fit (value and slope) is computed only at the vertices of a k-d tree whose cells hold at most
    /// floor(n·span·cell) points, and blended in between by cubic Hermite interpolation (netlib ehg126/ehg124/ehg128, 1-D).
    /// </summary>
    /// <param name="x">Predictor values (finite).</param>
    /// <param name="y">Responses (finite), same length.</param>
    /// <param name="span">Fraction of points in each neighbourhood.</param>
    /// <param name="degree">Local polynomial degree, 1 or 2 (the slope at vertices needs degree ≥ 1).</param>
    /// <param name="cell">Cell size relative to the span (R and scikit-misc default 0.2).</param>
    public static double[] FitInterpolate(IReadOnlyList<double> x, IReadOnlyList<double> y, double span = 0.3, int degree = 2, double cell = 0.2)
    {
        int n = x.Count;
        if (y.Count != n) throw new ArgumentException($"x has {n} values but y has {y.Count}");
        if (degree is < 1 or > 2) throw new ArgumentException($"interpolated loess needs degree 1 or 2, got {degree}");
        if (!(span > 0) || double.IsInfinity(span)) throw new ArgumentException($"loess span must be positive, got {span}");
        if (!(cell > 0)) throw new ArgumentException($"loess cell must be positive, got {cell}");
        if (n == 0) return [];
        var (order, xs, ys, nf, k) = SortedInput(x, y, span, degree);

        // ehg126: bounding box widened by 0.5%
        double alpha = xs[0], beta = xs[n - 1];
        double mu = 0.005 * Math.Max(beta - alpha, 1e-10 * Math.Max(Math.Abs(alpha), Math.Abs(beta)) + 1e-30);
        var vert = new List<double> { alpha - mu, beta + mu };
        // ehg124 in 1-D; indices l, u are 1-based positions in the sorted x, as in the Fortran
        int fc = (int)Math.Floor(n * (span * cell));
        int nvmax = Math.Max(200, n), ncmax = nvmax;
        var lo = new List<int> { 1 }; var hi = new List<int> { n };
        var cv0 = new List<int> { 0 }; var cv1 = new List<int> { 1 };
        var split = new List<double> { double.NaN };
        var child = new List<(int Lo, int Hi)> { (-1, -1) };
        double X1(int i) => xs[i - 1];
        for (int p = 0; p < lo.Count; p++)
        {
            int l = lo[p], u = hi[p];
            double diam = vert[cv1[p]] - vert[cv0[p]];
            bool leaf = u - l + 1 <= fc || diam <= 0 || ncmax < lo.Count + 2 || nvmax < vert.Count + 1;
            int m = 0;
            if (!leaf)
            {
                m = (l + u) / 2;
                // all ties go with one son (btyner 2006 fix): move m to the nearest position where x changes
                int offset = 0;
                while (m + offset < u && m + offset >= l)
                {
                    if (X1(m + offset) == X1(m + offset + 1))
                    {
                        offset = -offset;
                        if (offset >= 0) offset++;
                    }
                    else { m += offset; break; }
                }
                leaf = vert[cv0[p]] == X1(m) || vert[cv1[p]] == X1(m);
            }
            if (leaf) continue;
            double xi = X1(m);
            vert.Add(xi);
            int nv = vert.Count - 1;
            split[p] = xi;
            child[p] = (lo.Count, lo.Count + 1);
            lo.Add(l); hi.Add(m); cv0.Add(cv0[p]); cv1.Add(nv); split.Add(double.NaN); child.Add((-1, -1));
            lo.Add(m + 1); hi.Add(u); cv0.Add(nv); cv1.Add(cv1[p]); split.Add(double.NaN); child.Add((-1, -1));
        }
        // local fit (value, slope) at every vertex
        var val = new double[vert.Count]; var slope = new double[vert.Count];
        var b = new double[nf * k];
        var eta = new double[nf];
        double eps = Math.Pow(2, -52);
        for (int t = 0; t < vert.Count; t++)
        {
            double x0 = vert[t];
            int right = LowerBound(xs, x0), left = right - 1;
            for (int c = 0; c < nf; c++)
            {
                if (left < 0) right++;
                else if (right >= n) left--;
                else if (x0 - xs[left] <= xs[right] - x0) left--;
                else right++;
            }
            int wlo = left + 1;
            WeightedDesign(xs, ys, wlo, nf, k, x0, span, b, eta);
            (val[t], slope[t]) = Solve(b, eta, nf, k, eps);
        }
        // ehg128: descend to the leaf, cubic Hermite between its two vertices
        var fitted = new double[n];
        for (int i = 0; i < n; i++)
        {
            double z = xs[i];
            int p = 0;
            while (child[p].Lo >= 0) p = z <= split[p] ? child[p].Lo : child[p].Hi;
            double v0 = vert[cv0[p]], v1 = vert[cv1[p]];
            double h = (z - v0) / (v1 - v0);
            double phi0 = (1 - h) * (1 - h) * (1 + 2 * h), phi1 = h * h * (3 - 2 * h);
            double psi0 = h * (1 - h) * (1 - h), psi1 = h * h * (h - 1);
            fitted[order[i]] = phi0 * val[cv0[p]] + phi1 * val[cv1[p]] + (psi0 * slope[cv0[p]] + psi1 * slope[cv1[p]]) * (v1 - v0);
        }
        return fitted;
    }

    /// <summary>
    /// The weighted local design at <paramref name="x0"/> over the <paramref name="nf"/> sorted points from
    /// <paramref name="lo"/>: tricube weights of the distance scaled by the farthest neighbour (R's ehg127, span &gt; 1
    /// widening it), rows w·(1, dx, dx²) into <paramref name="b"/> (nf × k) and w·y into <paramref name="eta"/>.
    /// </summary>
    private static void WeightedDesign(double[] xs, double[] ys, int lo, int nf, int k, double x0, double span, double[] b, double[] eta)
    {
        double far = Math.Max(x0 - xs[lo], xs[lo + nf - 1] - x0);
        double rho = far * far * Math.Max(1.0, span);
        if (!(rho > 0)) throw new TesseraException($"loess span {span} is too small: all {nf} neighbours of x = {x0} have the same x");
        for (int i = 0; i < nf; i++)
        {
            double dx = xs[lo + i] - x0;
            double r = Math.Sqrt(dx * dx / rho);
            double t = 1 - r * r * r;
            double w = t > 0 ? Math.Sqrt(t * t * t) : 0;
            b[i * k] = w;
            if (k > 1) b[i * k + 1] = w * dx;
            if (k > 2) b[i * k + 2] = w * dx * dx;
            eta[i] = w * ys[lo + i];
        }
    }

    private static int LowerBound(double[] xs, double v)
    {
        int lo = 0, hi = xs.Length;
        while (lo < hi) { int mid = (lo + hi) >> 1; if (xs[mid] < v) lo = mid + 1; else hi = mid; }
        return lo;
    }

    /// <summary>Least squares min |B c − eta| with equilibrated columns, QR and SVD pseudo-inverse; returns c[0] and c[1].</summary>
    private static (double Value, double Slope) Solve(double[] b, double[] eta, int m, int k, double eps)
    {
        Span<double> colnor = stackalloc double[3];
        for (int j = 0; j < k; j++)
        {
            double s = 0;
            for (int i = 0; i < m; i++) s += b[i * k + j] * b[i * k + j];
            s = Math.Sqrt(s);
            if (s > 0) { for (int i = 0; i < m; i++) b[i * k + j] /= s; colnor[j] = s; }
            else colnor[j] = 1;
        }
        // Householder QR, applying reflections to eta
        for (int j = 0; j < k; j++)
        {
            double norm = 0;
            for (int i = j; i < m; i++) norm += b[i * k + j] * b[i * k + j];
            norm = Math.Sqrt(norm);
            if (norm == 0) continue;
            double alpha = b[j * k + j] > 0 ? -norm : norm;
            double v0 = b[j * k + j] - alpha;
            // v = (v0, b[j+1..m-1, j]); H = I - 2 v v^T / (v^T v)
            double vtv = v0 * v0;
            for (int i = j + 1; i < m; i++) vtv += b[i * k + j] * b[i * k + j];
            if (vtv == 0) continue;
            for (int c = j + 1; c < k; c++)
            {
                double dot = v0 * b[j * k + c];
                for (int i = j + 1; i < m; i++) dot += b[i * k + j] * b[i * k + c];
                double f = 2 * dot / vtv;
                b[j * k + c] -= f * v0;
                for (int i = j + 1; i < m; i++) b[i * k + c] -= f * b[i * k + j];
            }
            {
                double dot = v0 * eta[j];
                for (int i = j + 1; i < m; i++) dot += b[i * k + j] * eta[i];
                double f = 2 * dot / vtv;
                eta[j] -= f * v0;
                for (int i = j + 1; i < m; i++) eta[i] -= f * b[i * k + j];
            }
            b[j * k + j] = alpha;
            for (int i = j + 1; i < m; i++) b[i * k + j] = 0;
        }
        // one-sided Jacobi SVD of the k x k upper triangle R = U S V^T
        Span<double> a = stackalloc double[9];
        Span<double> v = stackalloc double[9];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) { a[i * 3 + j] = j >= i ? b[i * k + j] : 0; v[i * 3 + j] = i == j ? 1 : 0; }
        for (int sweep = 0; sweep < 60; sweep++)
        {
            bool rotated = false;
            for (int p = 0; p < k - 1; p++)
                for (int q = p + 1; q < k; q++)
                {
                    double alpha = 0, beta = 0, gamma = 0;
                    for (int i = 0; i < k; i++) { alpha += a[i * 3 + p] * a[i * 3 + p]; beta += a[i * 3 + q] * a[i * 3 + q]; gamma += a[i * 3 + p] * a[i * 3 + q]; }
                    if (gamma == 0 || Math.Abs(gamma) <= 1e-15 * Math.Sqrt(alpha * beta)) continue;
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.Sign(zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    if (zeta == 0) t = 1;
                    double c = 1 / Math.Sqrt(1 + t * t), s = c * t;
                    for (int i = 0; i < k; i++)
                    {
                        double ap = a[i * 3 + p], aq = a[i * 3 + q];
                        a[i * 3 + p] = c * ap - s * aq; a[i * 3 + q] = s * ap + c * aq;
                        double vp = v[i * 3 + p], vq = v[i * 3 + q];
                        v[i * 3 + p] = c * vp - s * vq; v[i * 3 + q] = s * vp + c * vq;
                    }
                }
            if (!rotated) break;
        }
        Span<double> sigma = stackalloc double[3];
        double smax = 0;
        for (int j = 0; j < k; j++)
        {
            double s = 0;
            for (int i = 0; i < k; i++) s += a[i * 3 + j] * a[i * 3 + j];
            sigma[j] = Math.Sqrt(s);
            smax = Math.Max(smax, sigma[j]);
        }
        double tol = smax * 100 * eps;
        double c0 = 0, c1 = 0;
        for (int j = 0; j < k; j++)
        {
            if (!(sigma[j] > tol)) continue;
            // gamma_j = u_j . eta / sigma_j with u_j = a[:, j] / sigma_j
            double dot = 0;
            for (int i = 0; i < k; i++) dot += a[i * 3 + j] * eta[i];
            c0 += v[0 * 3 + j] * dot / (sigma[j] * sigma[j]);
            if (k > 1) c1 += v[1 * 3 + j] * dot / (sigma[j] * sigma[j]);
        }
        return (c0 / colnor[0], k > 1 ? c1 / colnor[1] : 0);
    }

    // Shared by both surfaces: finite inputs, enough neighbours for the degree, points sorted by x (ys follow).
    private static (int[] Order, double[] Xs, double[] Ys, int Nf, int K) SortedInput(IReadOnlyList<double> x, IReadOnlyList<double> y, double span, int degree)
    {
        int n = x.Count;
        for (int i = 0; i < n; i++)
            if (!double.IsFinite(x[i]) || !double.IsFinite(y[i])) throw new TesseraException($"loess input {i} is not finite (x = {x[i]}, y = {y[i]})");
        int nf = (int)Math.Min(n, Math.Floor(n * span));
        int k = degree + 1;
        if (nf < k) throw new TesseraException($"loess span {span} is too small: {nf} neighbours for {n} points cannot fit degree {degree}");
        var order = Enumerable.Range(0, n).ToArray();
        var xs = new double[n];
        for (int i = 0; i < n; i++) xs[i] = x[i];
        Array.Sort(xs, order);
        var ys = new double[n];
        for (int i = 0; i < n; i++) ys[i] = y[order[i]];
        return (order, xs, ys, nf, k);
    }
}
