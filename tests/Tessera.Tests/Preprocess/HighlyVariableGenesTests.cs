using Tessera.Data;
using Tessera.Preprocess;

namespace Tessera.Tests.Preprocess;

public class HighlyVariableGenesTests
{
    // Reference: numpy re-implementation of scanpy 1.10's seurat_v3 code (mean/var ddof=1, clip at mean + sqrt(N)·reg_std,
    // variance of standardised values, ranks, median over batches) with R 4.2.2 loess(span=0.3, degree=2, surface="direct")
    // fitted values, on Fixtures.Counts60x40 (script in the branch report).
    private static readonly double[] Means = [5.4, 7.5, 16.15, 21.8, 6.766666666666667, 10.266666666666667, 18.2, 24.4, 4.6, 11.666666666666666, 16.3, 21.933333333333334, 6.733333333333333, 10.666666666666666, 16.55, 15.8, 5.233333333333333, 10.533333333333333, 12.0, 22.8, 5.3, 13.2, 15.95, 23.6, 5.8, 9.3, 17.8, 23.4, 5.116666666666666, 13.633333333333333, 16.0, 21.2, 4.016666666666667, 10.766666666666667, 15.6, 16.2, 5.15, 10.766666666666667, 2.0, 0.0];
    private static readonly double[] Variances = [25.667796610169486, 68.83050847457628, 306.94322033898294, 426.53559322033914, 37.87683615819209, 132.67344632768356, 333.7220338983053, 468.4474576271185, 29.396610169491538, 113.64971751412429, 315.8745762711864, 563.7920903954803, 38.23276836158192, 98.93785310734461, 315.9127118644069, 306.671186440678, 25.063276836158185, 102.89717514124298, 165.66101694915255, 578.8745762711866, 25.094915254237286, 152.43389830508468, 309.2008474576271, 592.6508474576268, 26.738983050847466, 117.12881355932197, 265.6881355932204, 595.4305084745764, 33.32514124293784, 148.81242937853105, 222.61016949152543, 531.1457627118641, 19.508192090395486, 103.87683615819206, 221.43050847457633, 296.9084745762712, 32.80762711864407, 102.7920903954802, 0.0, 0.0];
    private static readonly double[] V3Norm = [0.9296729332962292, 1.1426020239949792, 1.047219811677652, 0.8045331042393228, 0.9443534759862717, 1.2325645040889706, 1.053699898130485, 0.8901132389538268, 1.1543169265567403, 0.9267497247277097, 1.0463676664332482, 1.056015744255198, 0.9742317133742925, 0.8939083750531109, 1.0114595916475986, 1.171665762823676, 0.894345094047521, 0.9380340326963491, 1.241760144033612, 1.0592109420573965, 0.8955808993814258, 1.0154500598718301, 1.1148896102302637, 1.091799580166834, 0.9713629732189427, 1.0863997240323227, 0.8635304095320698, 1.0925320836771468, 1.2002796769993946, 0.9702687121651903, 0.7899979355497218, 1.048694047120779, 0.9339487086896566, 0.9320581546469415, 0.8732941113850127, 1.0021255572280399, 1.1776121982720777, 0.9223250305814884, 0.0, 0.0];
    private static readonly double[] V3Rank = [double.NaN, 6.0, double.NaN, double.NaN, double.NaN, 1.0, double.NaN, double.NaN, 5.0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 4.0, double.NaN, double.NaN, 0.0, double.NaN, double.NaN, double.NaN, 7.0, 9.0, double.NaN, double.NaN, double.NaN, 8.0, 2.0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 3.0, double.NaN, double.NaN, double.NaN];
    private static readonly double[] V3BatchNorm = [0.9247743420402896, 1.1526920510009426, 1.1426212624158953, 0.8279909358973225, 0.9614402050830895, 1.2076127397053078, 1.0410699357975868, 0.8701586601502638, 1.15367293636705, 0.9412289213680185, 0.9821883021848, 1.0483958665466302, 0.9602131129926674, 0.8732991326357262, 1.1412486052548636, 1.0055288555130169, 0.923543560516821, 0.914803142383066, 1.2478247133905709, 1.0613049647586457, 0.9040330885228538, 0.974217436194923, 1.0922820375943325, 1.0868509168854592, 0.9177314661322205, 1.0901891388259632, 0.8558740524301274, 1.0699006785020608, 1.2376020516236617, 0.866047058448155, 0.8718270429533482, 1.2080727919469558, 0.9164001229324458, 0.9392764823895249, 0.8922630862533965, 1.1161947770110605, 1.1917309812950316, 0.9318469794997726, 0.0, 0.0];
    private static readonly double[] V3BatchRank = [double.NaN, 5.5, 5.5, double.NaN, double.NaN, 3.5, double.NaN, double.NaN, 3.0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0.0, double.NaN, double.NaN, double.NaN, 3.5, 9.0, double.NaN, double.NaN, double.NaN, 8.0, double.NaN, 9.0, double.NaN, double.NaN, 2.5, double.NaN, double.NaN, 3.5, double.NaN, double.NaN, double.NaN, 4.0, 4.5, double.NaN, double.NaN, double.NaN];
    private static readonly int[] V3BatchNBatches = [0, 2, 2, 0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 1, 0, 1, 0, 0, 2, 0, 0, 2, 0, 0, 0, 1, 2, 0, 0, 0];
    // numpy/pandas re-implementation of scanpy's flavor="seurat" (expm1, log dispersion, pd.cut 20 bins, single-gene bins
    // get dev = avg, avg = 0) on log1p(normalize_total(1e4)) of the fixture; 14 of its bins hold a single gene.
    private static readonly double[] SeuratMeans = [4.693279319542343, 4.990310369731311, 5.788897444001775, 6.076998870887635, 4.912181778024091, 5.352795623394995, 5.906001404606064, 6.183459653072472, 4.549273792175391, 5.457183028989775, 5.772356360653306, 6.0879510206348595, 4.923614221948729, 5.361641822167875, 5.80678816452795, 5.751926529637739, 4.658028973756042, 5.357523227271797, 5.477450956491223, 6.1178617519699845, 4.682480668272813, 5.589794955320629, 5.7575359762118525, 6.166070051440109, 4.768934301347765, 5.2264578450618195, 5.878322487985693, 6.157424852838679, 4.6414390309544284, 5.629776763764587, 5.772777652930314, 6.033665329128099, 4.397391116846529, 5.38869285803455, 5.740961037360654, 5.787470805417949, 4.648469500650651, 5.373133349674348, 3.7218106891479503, 9.999999999995e-13];
    private static readonly double[] SeuratDisp = [4.5687014156577, 5.1415513775247765, 5.959240580883121, 5.958843776464655, 4.735571338842971, 5.60305781930529, 5.935956275813798, 5.951208927498433, 4.88434296616499, 5.277351830159161, 5.946442335509242, 6.244151178897534, 4.785297536622675, 5.235644462994295, 5.945913347264727, 5.948008207412481, 4.5683783414537995, 5.257671258505234, 5.604512119518788, 6.2410174735510076, 4.583940211510075, 5.49250946849165, 5.962886294706313, 6.239839383381569, 4.552190756480924, 5.535334909634818, 5.689102814432159, 6.269030175175787, 4.893312830520208, 5.4382393417318715, 5.619161440956034, 6.187455011508216, 4.567135115872019, 5.307169750994414, 5.661056231257971, 5.906853853427226, 4.866537398596144, 5.27893117745907, -1.1994127245306048, double.NaN];
    private static readonly double[] SeuratNorm = [-0.8775383562362796, -0.7071067811865451, 0.8081410930386937, -0.5942123465514682, 0.2889024288524792, 1.4464171666162533, -0.7068149936287995, -0.6317745171329916, 0.7071067811865446, -0.5436945781904904, 0.7477309535646017, 0.8094520043437389, 0.6364945177709754, -0.7985327574249785, 0.74523402897082, 0.7551221651963371, -0.8797966836858668, -0.6639457804961951, 1.4553031559188927, 0.7940347020108165, -0.7710173447888384, -1.3949180586489074, 0.8253495520194206, 0.7882386968638069, -0.9929498449268435, 0.7071067811865483, -1.9212924333370456, 0.9318524743772982, 1.3915343824177917, -1.65108332435996, -0.7970967872378885, 0.5305164130546356, -0.7071067811865486, -0.36150267372007217, -0.5993454509067866, 0.560865828363661, 1.2043709005965633, -0.5340445327034044, 1.0, double.NaN];

    private static void Close(double[] expected, double[]? actual, double tol)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Length, actual!.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNaN(expected[i])) Assert.True(double.IsNaN(actual[i]), $"entry {i}: expected NaN, got {actual[i]}");
            else Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"entry {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    [Fact]
    public void SeuratV3MatchesReferenceOnFixture()
    {
        var d = Fixtures.Counts60x40();
        var r = HighlyVariableGenes.Select(d, 10, HvgFlavor.SeuratV3, surface: LoessSurface.Direct);
        Close(Means, r.Means, 1e-12);
        Close(Variances, r.Variances, 1e-12);
        Close(V3Norm, r.VariancesNorm, 1e-10);
        Close(V3Rank, r.Rank, 0);
        Assert.Equal([1, 5, 8, 15, 18, 22, 23, 27, 28, 36], r.SelectedIndices());
        Assert.Equal(1, r.BatchCount);
    }

    // the same references with R's default surface = "interpolate" (scanpy's loess evaluation)
    private static readonly double[] V3NormInterp = [0.9296729332962286, 1.1878627122630967, 1.047219811677652, 0.804558825261878, 0.9443534759862728, 1.2325645040889706, 1.0536998981304884, 0.8903412167981192, 1.1543169265567397, 0.8962309712411675, 1.0453706066799189, 1.056015744255198, 0.9677699448105868, 0.8939083750531109, 1.0114595916475955, 1.1535190395137085, 0.8943450940475213, 0.9391034550662386, 1.2417601440336108, 1.059526081206672, 0.8984892560323785, 1.0345561605870561, 1.1148896102302654, 1.0918408329564986, 0.9713629732189402, 1.0863997240323238, 0.890781908656611, 1.0925320836771468, 1.2002796769993946, 0.9702687121651852, 0.7899406103167779, 1.0486940471207773, 0.9349115494980977, 0.9320581546469395, 0.8732941113850107, 1.0021255572280388, 1.1776933820888644, 0.9223250305814876, 0.0, 0.0];
    private static readonly double[] V3RankInterp = [double.NaN, 3.0, double.NaN, double.NaN, double.NaN, 1.0, double.NaN, double.NaN, 5.0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 6.0, double.NaN, double.NaN, 0.0, double.NaN, double.NaN, double.NaN, 7.0, 9.0, double.NaN, double.NaN, double.NaN, 8.0, 2.0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 4.0, double.NaN, double.NaN, double.NaN];
    private static readonly double[] V3BatchNormInterp = [0.9247743420402905, 1.1913380507359292, 1.1426212624158936, 0.8339155604468587, 0.9260318118925731, 1.2075591619562762, 1.0418888354627351, 0.8703767977626402, 1.1536729363670502, 0.9351601602270161, 0.9980610554954872, 1.0447470261389602, 0.9486245298261595, 0.8732991326357272, 1.141248605254865, 1.0084323712038268, 0.923543560516821, 0.914803142383066, 1.2569689680531981, 1.0613049647586457, 0.9100305626245018, 0.974217436194922, 1.090486390884395, 1.0870110858110111, 0.9158106632423126, 1.0901891388259632, 0.8558740524301274, 1.0698708350306694, 1.2376546966827127, 0.8445949340579388, 0.8552344248116879, 1.2070239938560738, 0.9173541638057303, 0.9407557834482722, 0.893123288625907, 1.116194777011061, 1.1917309812950316, 0.9318942052476453, 0.0, 0.0];
    private static readonly double[] V3BatchRankInterp = [double.NaN, 4.0, 6.0, double.NaN, double.NaN, 4.0, double.NaN, double.NaN, 3.0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0.0, double.NaN, double.NaN, double.NaN, 3.0, 9.0, double.NaN, double.NaN, double.NaN, 8.0, double.NaN, 9.0, double.NaN, double.NaN, 3.0, double.NaN, double.NaN, 4.0, double.NaN, double.NaN, double.NaN, 4.0, 4.5, double.NaN, double.NaN, double.NaN];

    [Fact]
    public void SeuratV3WithScanpyDefaultSurfaceMatchesReference()
    {
        var d = Fixtures.Counts60x40();
        var r = HighlyVariableGenes.Select(d, 10, HvgFlavor.SeuratV3);
        Close(V3NormInterp, r.VariancesNorm, 1e-10);
        Close(V3RankInterp, r.Rank, 0);
        Assert.Equal([1, 5, 8, 15, 18, 22, 23, 27, 28, 36], r.SelectedIndices());
        var rb = HighlyVariableGenes.Select(d, 10, HvgFlavor.SeuratV3, batchKey: "batch");
        Close(V3BatchNormInterp, rb.VariancesNorm, 1e-10);
        Close(V3BatchRankInterp, rb.Rank, 0);
        Assert.Equal([0, 2, 2, 0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 1, 0, 1, 0, 0, 2, 0, 0, 2, 0, 0, 0, 1, 2, 0, 0, 0], rb.NBatches);
        Assert.Equal([1, 2, 5, 8, 14, 18, 28, 31, 35, 36], rb.SelectedIndices());
    }

    [Fact]
    public void SeuratV3CombinesBatchesAsScanpy()
    {
        var d = Fixtures.Counts60x40();
        var r = HighlyVariableGenes.Select(d, 10, HvgFlavor.SeuratV3, batchKey: "batch", surface: LoessSurface.Direct);
        Close(V3BatchNorm, r.VariancesNorm, 1e-10);
        Close(V3BatchRank, r.Rank, 0);
        Assert.Equal(V3BatchNBatches, r.NBatches);
        Assert.Equal([1, 2, 5, 8, 14, 18, 28, 31, 35, 36], r.SelectedIndices());
        Assert.Equal(2, r.BatchCount);
        r.AddToVar(d);
        Assert.Equal(V3BatchNBatches.Select(v => (double)v).ToArray(), d.Var.Get<NumericColumn>("highly_variable_nbatches").Values);
        Assert.Equal((double)(float)V3BatchNorm[0], d.Var.Get<NumericColumn>("variances_norm").Values[0]);
        Assert.True(d.Var.Get<BoolColumn>("highly_variable").Values[14]);
    }

    [Fact]
    public void SeuratMatchesReferenceOnFixture()
    {
        var d = Normalize.Log1p(Normalize.Total(Fixtures.Counts60x40()));
        var r = HighlyVariableGenes.Select(d, 10, HvgFlavor.Seurat);
        // float32 log data: agreement to float32 rounding of the normalised values
        Close(SeuratMeans, r.Means, 1e-6);
        Close(SeuratDisp, r.Dispersions, 1e-6);
        Close(SeuratNorm, r.DispersionsNorm, 1e-4);
        Assert.Equal(1.0, r.DispersionsNorm![38]);
        Assert.Equal([2, 5, 11, 18, 19, 22, 27, 28, 36, 38], r.SelectedIndices());
        r.AddToVar(d);
        Assert.Equal(["highly_variable", "means", "dispersions", "dispersions_norm"], d.Var.ColumnNames);
    }

    [Fact]
    public void SeuratCombinesBatchesAsScanpy()
    {
        // reference/seurat_batch_reference.py: per batch on genes detected there, zeros for the others, then means and
        // the number of batches selecting each gene; top 10 by (nbatches, mean dispersions_norm)
        double[] means = [4.691080635165795, 4.988606611571312, 5.785103058577953, 6.076968424989316, 4.91081443890098, 5.352169831230787, 5.904596033357517, 6.1811621190280945, 4.548634854544495, 5.456299894596267, 5.772354920346922, 6.087844113650993, 4.922237973225059, 5.358574636924654, 5.798793681059124, 5.7518621509947, 4.6556946809220925, 5.354808420703453, 5.475016068771789, 6.113416002205206, 4.681701809073099, 5.58812841870198, 5.757082345607138, 6.164264430229575, 4.768103109371014, 5.226415398145584, 5.8760814994202955, 6.157400412573942, 4.641089538964557, 5.627010112140333, 5.771816513201012, 6.02838101320437, 4.397081634229732, 5.388658715092977, 5.738250102819955, 5.780812419223728, 4.643295474879416, 5.373125702968595, 3.7217874615249475, 0.0];
        double[] norm = [-0.8736754771475325, 0.7071067811865446, 0.9919754938299504, -0.957400602258597, 2.4424906541753444e-15, 0.9184253154398156, 0.41881276626633474, -1.316459696584648, 0.6389486416183487, -0.3888493075404675, -0.10506891506111524, 0.5396003735752201, 0.14644660940672521, -0.6603851107009557, 0.20654046837882317, 0.5255293367913514, -0.5924680914979688, -0.5847362875339295, 1.3642681894653086, 0.5554328387297995, -0.42247178654856954, -0.04050825149722004, 0.994151020626717, 0.5925099638244266, -0.572827333523982, 0.8535533905932744, -1.0371048320319936, 0.8085804489035502, 1.2851848125617487, -0.24421815840138938, -1.0396363283722514, 0.8537775449708509, 1.0, -0.47989264513223767, -0.7971775173526245, 0.6276253243577183, 0.18375584394468386, -0.5993448232856904, 1.0, 0.0];
        var d = Normalize.Log1p(Normalize.Total(Fixtures.Counts60x40()));
        var r = HighlyVariableGenes.Select(d, 10, HvgFlavor.Seurat, batchKey: "batch");
        Close(means, r.Means, 1e-6);
        Close(norm, r.DispersionsNorm, 1e-4);
        Assert.Equal([0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 1, 0, 1, 1, 1, 0, 1, 0, 1, 2, 1, 0, 1, 2, 0, 0, 0, 1, 0, 2, 0], r.NBatches);
        Assert.Equal([2, 5, 18, 22, 25, 27, 28, 31, 32, 38], r.SelectedIndices());
        Assert.Equal(2, r.BatchCount);
    }

    [Fact]
    public void SingleGeneBinGetsNormalisedDispersionOne()
    {
        // hand-worked: 3 genes; gene 2 has a much larger mean and sits alone in the top bin -> scanpy sets its dispersions_norm to 1
        var x = CsrMatrix.FromDense(new float[,] { { 1, 2, 9 }, { 2, 1, 8 }, { 0, 0.5f, 7 }, { 1, 1, 9.5f } });
        var d = new SpatialData(x, new Table(["a", "b", "c", "d"]), new Table(["g0", "g1", "g2"]));
        var r = HighlyVariableGenes.Select(d, 1, HvgFlavor.Seurat);
        Assert.Equal(1.0, r.DispersionsNorm![2]);
        // genes 0 and 1 share the lowest bin: z-scores of two values are -1/sqrt(2) and +1/sqrt(2)
        Assert.Equal(1 / Math.Sqrt(2), Math.Abs(r.DispersionsNorm[0]), 12);
        Assert.Equal(-r.DispersionsNorm[0], r.DispersionsNorm[1], 12);
        Assert.Equal([2], r.SelectedIndices());
    }

    [Fact]
    public void BadInputIsReported()
    {
        var d = Fixtures.Counts60x40();
        var ex = Assert.Throws<TesseraException>(() => HighlyVariableGenes.Select(d, 60, HvgFlavor.SeuratV3));
        Assert.Equal("60 highly variable genes were asked for but the data has 40 genes", ex.Message);
        ex = Assert.Throws<TesseraException>(() => HighlyVariableGenes.Select(d, 0, HvgFlavor.Seurat));
        Assert.Equal("the number of highly variable genes must be positive but is 0", ex.Message);
        var logd = Normalize.Log1p(Normalize.Total(d));
        ex = Assert.Throws<TesseraException>(() => HighlyVariableGenes.Select(logd, 10, HvgFlavor.SeuratV3));
        Assert.Equal("seurat_v3 needs raw counts but X has non-integer value 5.6147237 (spot 'spot0', gene 'g1'); pass the count layer", ex.Message);
        var neg = new SpatialData(CsrMatrix.FromDense(new float[,] { { 1, 2 }, { 3, -1 } }), new Table(["a", "b"]), new Table(["x", "y"]));
        ex = Assert.Throws<TesseraException>(() => HighlyVariableGenes.Select(neg, 1, HvgFlavor.SeuratV3));
        Assert.Equal("seurat_v3 needs raw counts but X has negative value -1 (spot 'b', gene 'y'); pass the count layer", ex.Message);
        ex = Assert.Throws<TesseraException>(() => HighlyVariableGenes.Select(d, 10, HvgFlavor.Seurat, batchKey: "sample"));
        Assert.Equal("unknown column 'sample'; available: batch", ex.Message);
        ex = Assert.Throws<TesseraException>(() => HighlyVariableGenes.Select(d, 10, HvgFlavor.SeuratV3, layer: "counts"));
        Assert.Equal("unknown layer 'counts'; available: (none)", ex.Message);
    }

    [Fact]
    public void LayerIsUsedAndInputUntouched()
    {
        var d = Fixtures.Counts60x40();
        var logd = Normalize.Log1p(Normalize.Total(d));
        logd.Layers["counts"] = d.X;
        var r = HighlyVariableGenes.Select(logd, 10, HvgFlavor.SeuratV3, layer: "counts", surface: LoessSurface.Direct);
        Assert.Equal([1, 5, 8, 15, 18, 22, 23, 27, 28, 36], r.SelectedIndices());
        Assert.Empty(logd.Var.ColumnNames);
    }
}
