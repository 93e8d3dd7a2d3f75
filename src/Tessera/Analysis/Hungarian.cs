using Tessera.Data;

namespace Tessera.Analysis;

/// <summary>
/// Linear sum assignment (scipy.optimize.linear_sum_assignment) for rectangular cost matrices, by the
/// shortest-augmenting-path Hungarian method with potentials, O(n²m) for n = min(rows, cols).
/// </summary>
public static class Hungarian
{
    /// <summary>
    /// Assigns each row to a distinct column (or each column to a distinct row when there are fewer columns),
    /// minimising (or maximising) the total cost. Returns pairs sorted by row, as scipy.
    /// </summary>
    public static (int[] Rows, int[] Cols) LinearSumAssignment(double[,] cost, bool maximize = false)
    {
        ArgumentNullException.ThrowIfNull(cost);
        int r = cost.GetLength(0), c = cost.GetLength(1);
        var flat = new double[(long)r * c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) flat[(long)i * c + j] = cost[i, j];
        return Solve(flat, r, c, maximize);
    }

    /// <summary>As <see cref="LinearSumAssignment(double[,], bool)"/> for a <see cref="DenseMatrix"/> cost.</summary>
    public static (int[] Rows, int[] Cols) LinearSumAssignment(DenseMatrix cost, bool maximize = false)
    {
        ArgumentNullException.ThrowIfNull(cost);
        return Solve(cost.Data, cost.Rows, cost.Cols, maximize);
    }

    private static (int[] Rows, int[] Cols) Solve(double[] flat, int r, int c, bool maximize)
    {
        for (long i = 0; i < flat.LongLength; i++)
            if (!double.IsFinite(flat[i]))
                throw new TesseraException($"cost matrix contains {(double.IsNaN(flat[i]) ? "NaN" : "an infinite value")} at ({i / c}, {i % c})");
        if (r == 0 || c == 0) return (Array.Empty<int>(), Array.Empty<int>());
        bool transpose = r > c;
        int n = transpose ? c : r, m = transpose ? r : c;
        double sign = maximize ? -1 : 1;
        // a[i, j] with i over the shorter side; 1-based for the classic formulation.
        double A(int i, int j) => sign * (transpose ? flat[(long)(j - 1) * c + (i - 1)] : flat[(long)(i - 1) * c + (j - 1)]);

        var u = new double[n + 1];
        var v = new double[m + 1];
        var p = new int[m + 1];
        var way = new int[m + 1];
        var minv = new double[m + 1];
        var used = new bool[m + 1];
        for (int i = 1; i <= n; i++)
        {
            p[0] = i;
            int j0 = 0;
            Array.Fill(minv, double.PositiveInfinity);
            Array.Clear(used);
            do
            {
                used[j0] = true;
                int i0 = p[j0], j1 = 0;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= m; j++)
                {
                    if (used[j]) continue;
                    double cur = A(i0, j) - u[i0] - v[j];
                    if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                    if (minv[j] < delta) { delta = minv[j]; j1 = j; }
                }
                for (int j = 0; j <= m; j++)
                {
                    if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
                    else minv[j] -= delta;
                }
                j0 = j1;
            } while (p[j0] != 0);
            do { int j1 = way[j0]; p[j0] = p[j1]; j0 = j1; } while (j0 != 0);
        }

        var pairs = new List<(int row, int col)>(n);
        for (int j = 1; j <= m; j++)
        {
            if (p[j] == 0) continue;
            pairs.Add(transpose ? (j - 1, p[j] - 1) : (p[j] - 1, j - 1));
        }
        pairs.Sort((a, b) => a.row.CompareTo(b.row));
        return (pairs.Select(t => t.row).ToArray(), pairs.Select(t => t.col).ToArray());
    }
}
