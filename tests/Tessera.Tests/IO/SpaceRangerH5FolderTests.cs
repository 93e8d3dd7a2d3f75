using Tessera.IO;
using Tessera.Tests.Support;

namespace Tessera.Tests.IO;

/// <summary>The scanpy Visium fixture read as a whole Space Ranger folder (10x HDF5 matrix + spatial/), values from h5py.</summary>
public class SpaceRangerH5FolderTests
{
    [SkippableFact]
    public void ScanpyVisiumFixtureReadsWithCoordinatesAndImages()
    {
        var folder = SharedData.Require("visium_scanpy_testdata/1.0.0");
        var d = DataReader.Read(folder, new ReadOptions { GeneNames = GeneNames.Ids });
        Assert.Equal(100, d.NObs);
        Assert.Equal(100, d.NVars);
        Assert.Equal(656, d.X.Nnz);
        Assert.Equal(932.0, d.X.Data.Sum(v => (double)v));
        Assert.Equal("AAACAAGTATCTCCCA-1", d.ObsNames[0]);
        Assert.Equal("ENSG00000243485", d.VarNames[0]);
        // tissue_positions_list: AAACAAGTATCTCCCA-1,1,50,102,8513,9811 -> x = pxl_col, y = pxl_row
        Assert.Equal(9811.0, d.Spatial[0, 0]);
        Assert.Equal(8513.0, d.Spatial[0, 1]);
        Assert.Equal(50.0, ((Tessera.Data.NumericColumn)d.Obs["array_row"]).Values[0]);
        var hires = d.Images.Single(i => i.Name == "hires");
        Assert.Equal((2000, 2000), (hires.Width, hires.Height));
        Assert.Equal(0.150015, hires.Scale, 9);
        var lowres = d.Images.Single(i => i.Name == "lowres");
        Assert.Equal(0.045004502, lowres.Scale, 12);
    }
}
