using Tessera.Analysis;
using Tessera.Data;

namespace Tessera.Tests.Analysis;

public class GaussianMixtureTests
{
    private static (DenseMatrix X, DenseMatrix Resp) Fixture()
    {
        var (x, y) = ClusterTestData.Blobs(300, 3, 3, 1.2, 5);
        var resp = new DenseMatrix(300, 3);
        for (int i = 0; i < 300; i++) resp[i, i % 7 != 0 ? y[i] : (i / 7) % 3] = 1;
        return (x, resp);
    }

    // sklearn 1.2.1 GaussianMixture(3, covariance_type=ct, tol=1e-3, max_iter=100) started from _initialize(X, resp)
    [Theory]
    [InlineData(CovarianceType.Full, -5.854325812052315, 3, -5.854245861388096, 3677.9572085978875, 3570.5475168328576, 0.33340790120564207, 1.5244703313582788, 0.9995798304259051)]
    [InlineData(CovarianceType.Diag, -5.8647767126431285, 2, -5.864763406160398, 3632.9336931893627, 3558.858043696239, 0.33337586373354, 1.5239959556753362, 0.9993052550182435)]
    [InlineData(CovarianceType.Tied, -5.864873461799198, 2, -5.864822127590388, 3615.8575786233887, 3552.893276554233, 0.3333719042217998, 1.5120293333780421, 0.999253843655373)]
    [InlineData(CovarianceType.Spherical, -5.868120573480949, 2, -5.868117250132324, 3600.7233047245813, 3548.8703500793945, 0.3333517601593651, 1.4513935158449645, 0.999218609039962)]
    public void MatchesSklearnFromSameResponsibilities(CovarianceType ct, double lb, int nIter, double score, double bic, double aic, double w0, double cov0, double proba00)
    {
        var (x, resp) = Fixture();
        var m = new GaussianMixture(new GaussianMixtureOptions { Components = 3, Covariance = ct }).Fit(x, resp);
        ClusterTestData.Rel(lb, m.LowerBound, 1e-9);
        Assert.Equal(nIter, m.NIter);
        Assert.True(m.Converged);
        ClusterTestData.Rel(score, m.LogLikelihood(x), 1e-9);
        ClusterTestData.Rel(bic, m.Bic(x), 1e-9);
        ClusterTestData.Rel(aic, m.Aic(x), 1e-9);
        ClusterTestData.Rel(w0, m.Weights[0], 1e-8);
        ClusterTestData.Rel(cov0, m.Covariances[0], 1e-8);
        ClusterTestData.Rel(proba00, m.PredictProba(x)[0, 0], 1e-8);
        Assert.Equal(1.0, m.Weights.Sum(), 12);
    }

    // sklearn with tol=1e-10, max_iter=5: five full EM steps, not converged
    [Theory]
    [InlineData(CovarianceType.Full, -5.854192548845299, -5.854156406128994)]
    [InlineData(CovarianceType.Diag, -5.864761084404639, -5.864760788693308)]
    [InlineData(CovarianceType.Tied, -5.86481342946547, -5.864813174754407)]
    [InlineData(CovarianceType.Spherical, -5.868116582970601, -5.868116554714775)]
    public void FiveEmStepsMatchSklearn(CovarianceType ct, double lb, double score)
    {
        var (x, resp) = Fixture();
        var m = new GaussianMixture(new GaussianMixtureOptions { Components = 3, Covariance = ct, Tol = 1e-10, MaxIter = 5 }).Fit(x, resp);
        Assert.False(m.Converged);
        Assert.Equal(5, m.NIter);
        ClusterTestData.Rel(lb, m.LowerBound, 1e-9);
        ClusterTestData.Rel(score, m.LogLikelihood(x), 1e-9);
    }

    [Fact]
    public void KMeansInitRecoversBlobsAndIsDeterministic()
    {
        var (x, y) = ClusterTestData.Blobs(400, 5, 5, 0.3, 3);
        var o = new GaussianMixtureOptions { Components = 5, Seed = 3 };
        var a = new GaussianMixture(o).Fit(x);
        var b = new GaussianMixture(o).Fit(x);
        Assert.Equal(1.0, Metrics.AdjustedRandIndex(y, a.Predict(x)), 12);
        Assert.Equal(a.Predict(x), b.Predict(x));
        Assert.Equal(a.LowerBound, b.LowerBound);
        Assert.Equal(a.Means.Data, b.Means.Data);
        var p = a.PredictProba(x);
        for (int i = 0; i < 400; i += 37) Assert.Equal(1.0, Enumerable.Range(0, 5).Sum(c => p[i, c]), 12);
    }

    // Predict takes the argmax of the weighted log-probabilities without normalising them (as sklearn): on overlapping
    // blobs, where many rows are close calls, it must still be the most probable component of PredictProba.
    [Theory]
    [InlineData(CovarianceType.Full)]
    [InlineData(CovarianceType.Tied)]
    [InlineData(CovarianceType.Diag)]
    [InlineData(CovarianceType.Spherical)]
    public void PredictIsTheArgmaxOfThePosterior(CovarianceType cov)
    {
        var (x, _) = ClusterTestData.Blobs(3000, 4, 4, 2.5, 11);
        var m = new GaussianMixture(new GaussianMixtureOptions { Components = 4, Covariance = cov, Seed = 1 }) { BlockRows = 512 }.Fit(x);
        var labels = m.Predict(x);
        var p = m.PredictProba(x);
        int uncertain = 0;
        for (int i = 0; i < x.Rows; i++)
        {
            int arg = 0;
            for (int c = 1; c < 4; c++) if (p[i, c] > p[i, arg]) arg = c;
            Assert.Equal(arg, labels[i]);
            if (p[i, arg] < 0.9) uncertain++;
        }
        Assert.True(uncertain > 30, $"only {uncertain} close calls: the data do not test the argmax");
    }

    [Fact]
    public void ComponentCovarianceExpandsEachType()
    {
        var (x, resp) = Fixture();
        foreach (var ct in Enum.GetValues<CovarianceType>())
        {
            var m = new GaussianMixture(new GaussianMixtureOptions { Components = 3, Covariance = ct }).Fit(x, resp);
            var c1 = m.ComponentCovariance(1);
            int expectedLength = ct switch { CovarianceType.Full => 27, CovarianceType.Tied => 9, CovarianceType.Diag => 9, _ => 3 };
            Assert.Equal(expectedLength, m.Covariances.Length);
            Assert.Equal(c1[0, 1], c1[1, 0], 14);
            Assert.True(c1[2, 2] > 0.5);
        }
    }

    [Fact]
    public void BadInputMessages()
    {
        var (x, resp) = Fixture();
        Assert.Equal("initial responsibilities have shape (300, 3) but (300, 2) is needed",
            Assert.Throws<TesseraException>(() => new GaussianMixture(new GaussianMixtureOptions { Components = 2 }).Fit(x, resp)).Message);
        Assert.Equal("GaussianMixture needs at least Components=5 rows but x has 4",
            Assert.Throws<TesseraException>(() => new GaussianMixture(new GaussianMixtureOptions { Components = 5 }).Fit(x.SubsetRows(new[] { 0, 1, 2, 3 }))).Message);
        // two identical points per component with no regularisation: singular covariance
        var collapsed = new DenseMatrix(4, 2, new double[] { 0, 0, 0, 0, 5, 5, 5, 5 });
        var ex = Assert.Throws<TesseraException>(() => new GaussianMixture(new GaussianMixtureOptions { Components = 2, RegCovar = 0 }).Fit(collapsed));
        Assert.StartsWith("Fitting the Gaussian mixture failed because some components have ill-defined empirical covariance", ex.Message);
        var m = new GaussianMixture(new GaussianMixtureOptions { Components = 3 }).Fit(x, resp);
        Assert.Equal("x has 2 columns but the model was fitted on 3", Assert.Throws<TesseraException>(() => m.Predict(new DenseMatrix(1, 2))).Message);
        Assert.Equal("component 3 is out of range 0..2", Assert.Throws<TesseraException>(() => m.ComponentCovariance(3)).Message);
    }

    [Fact]
    public void MoreInitialisationsNeverLowerTheBoundAndRandomInitIsSeeded()
    {
        var (x, _) = ClusterTestData.Blobs(300, 3, 4, 1.5, 9);
        var one = new GaussianMixture(new GaussianMixtureOptions { Components = 4, Init = GaussianMixtureInit.Random, Seed = 2 }).Fit(x);
        var again = new GaussianMixture(new GaussianMixtureOptions { Components = 4, Init = GaussianMixtureInit.Random, Seed = 2 }).Fit(x);
        Assert.Equal(one.LowerBound, again.LowerBound);
        // run 0 of NInit=4 is the same start as NInit=1, so the kept bound can only be higher or equal
        var four = new GaussianMixture(new GaussianMixtureOptions { Components = 4, Init = GaussianMixtureInit.Random, Seed = 2, Restarts = 4 }).Fit(x);
        Assert.True(four.LowerBound >= one.LowerBound, $"{four.LowerBound} < {one.LowerBound}");
        // BIC / AIC are the sklearn formulas: −2·N·score + p·ln N and −2·N·score + 2p with p = 4·(3·4/2) + 3·4 + 3 = 39
        Assert.Equal(39, four.NParameters);
        double ll = four.LogLikelihood(x);
        Assert.Equal(-2 * ll * 300 + 39 * Math.Log(300), four.Bic(x), 9);
        Assert.Equal(-2 * ll * 300 + 78, four.Aic(x), 9);
    }

    [Fact]
    public void FloatOverloadsAgreeWithDenseMatrix()
    {
        var (x, y) = ClusterTestData.Blobs(400, 5, 5, 0.3, 3);
        var f = x.ToFloatArray();
        var a = new GaussianMixture(new GaussianMixtureOptions { Components = 5, Seed = 1 }).Fit(f, 400, 5);
        Assert.Equal(1.0, Metrics.AdjustedRandIndex(y, a.Predict(f, 400, 5)), 12);
        var k = new KMeans(new KMeansOptions { Clusters = 5, Seed = 1 }).Fit(f, 400, 5);
        Assert.Equal(new KMeans(new KMeansOptions { Clusters = 5, Seed = 1 }).Fit(DenseMatrix.FromFloat(400, 5, f)).Labels, k.Labels);
        Assert.Equal("data has 2000 values but rows × cols = 400 × 6 = 2400",
            Assert.Throws<TesseraException>(() => new KMeans(new KMeansOptions { Clusters = 5 }).Fit(f, 400, 6)).Message);
    }

    // The E- and M-steps run over fixed row blocks on parallel workers with per-block sums added in block order: 43 blocks
    // of 7 rows (the last one short) give the one-block fit's numbers, and the thread count changes no bit.
    [Theory]
    [InlineData(CovarianceType.Full)]
    [InlineData(CovarianceType.Diag)]
    [InlineData(CovarianceType.Tied)]
    [InlineData(CovarianceType.Spherical)]
    public void RowBlocksAndThreadsDoNotChangeTheFit(CovarianceType ct)
    {
        var (x, resp) = Fixture();
        var o = new GaussianMixtureOptions { Components = 3, Covariance = ct, Tol = 1e-10, MaxIter = 5 };
        var one = new GaussianMixture(o) { BlockRows = 300 }.Fit(x, resp);
        var blocked = new GaussianMixture(o) { BlockRows = 7 }.Fit(x, resp);
        ClusterTestData.Rel(one.LowerBound, blocked.LowerBound, 1e-12);
        for (int i = 0; i < one.Covariances.Length; i++) ClusterTestData.Rel(one.Covariances[i], blocked.Covariances[i], 1e-10);
        for (int i = 0; i < one.Means.Data.Length; i++) Assert.Equal(one.Means.Data[i], blocked.Means.Data[i], 10);
        int before = TorchSharp.torch.get_num_threads();
        try
        {
            TorchSharp.torch.set_num_threads(1);
            var single = new GaussianMixture(o) { BlockRows = 7 }.Fit(x, resp);
            TorchSharp.torch.set_num_threads(2);
            var two = new GaussianMixture(o) { BlockRows = 7 }.Fit(x, resp);
            Assert.Equal(single.LowerBound, two.LowerBound);
            Assert.Equal(single.Covariances, two.Covariances);
            Assert.Equal(single.Means.Data, two.Means.Data);
            Assert.Equal(single.Predict(x), blocked.Predict(x));
        }
        finally { TorchSharp.torch.set_num_threads(before); }
    }
}
