using TorchSharp;
using static TorchSharp.torch;

namespace Tessera.Methods.Spotscape;

/// <summary>
/// Small torch k-means for the prototypical loss, following faiss.Kmeans defaults as the authors use it: L2 Lloyd iterations,
/// init = K random training points, training on a random subsample of at most maxPerCentroid·K points, then every point
/// assigned to its nearest centroid. Deviation: an empty cluster keeps its previous centroid (faiss splits a large one).
/// </summary>
internal static class PrototypeKMeans
{
    public static (Tensor Centroids, Tensor Assignments) Run(Tensor z, int k, int iterations, int maxPerCentroid, Generator generator)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long n = z.shape[0];
        k = (int)Math.Min(k, n);
        var train = z;
        long maxPoints = (long)maxPerCentroid * k;
        if (n > maxPoints) train = z.index_select(0, randperm(n, generator: generator).narrow(0, 0, maxPoints));
        long nt = train.shape[0];
        var c = train.index_select(0, randperm(nt, generator: generator).narrow(0, 0, k));
        var trainSq = train.pow(2).sum(1, keepdim: true);
        for (int it = 0; it < iterations; it++)
        {
            var a = Nearest(train, trainSq, c);
            var onehot = nn.functional.one_hot(a, k).to_type(ScalarType.Float32);
            var counts = onehot.sum(dim: 0).unsqueeze(1);
            var sums = onehot.t().mm(train);
            c = where(counts.gt(0), sums / counts.clamp_min(1), c);
        }
        var assign = Nearest(z, z.pow(2).sum(1, keepdim: true), c);
        return (c.MoveToOuterDisposeScope(), assign.MoveToOuterDisposeScope());
    }

    private static Tensor Nearest(Tensor x, Tensor xSq, Tensor c)
    {
        var d = xSq - 2 * x.mm(c.t()) + c.pow(2).sum(dim: 1).unsqueeze(0);
        return d.argmin(1);
    }
}
