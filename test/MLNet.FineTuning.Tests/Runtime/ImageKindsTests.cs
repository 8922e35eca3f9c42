using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime.Images;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>
/// One 48 × 48 picture (a red-to-blue gradient) stored the ways a user's images come (test/fixtures/images, written by
/// its make.sh): 8- and 16-bit RGB PNG, grey PNG, palette PNG, PNG with alpha, JPEG, CMYK JPEG and JPEG with an EXIF
/// orientation. What the decoder makes of each is what training (by path or by bytes), model.zip and the runtime's
/// <see cref="ImagePixels"/> feed the network; docs/reliability.md says the same in words.
/// </summary>
public class ImageKindsTests
{
    private const int Side = 48;
    private static readonly string Folder = Path.Combine(TestData.RepoRoot, "test", "fixtures", "images");
    private readonly ImagePixels pixels = new(Side);

    private float[] Decode(string file) => pixels.FromEncoded(File.ReadAllBytes(Path.Combine(Folder, file)));

    /// <summary>Channel c (0 R, 1 G, 2 B) of pixel (x, y) in planar pixels.</summary>
    private static float At(float[] p, int c, int x, int y) => p[c * Side * Side + y * Side + x];

    private static double MeanDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Average();

    private static float MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    /// <summary>The pixels of each file read by path, as training reads it: ML.NET's LoadImages, then the preparation
    /// <see cref="ImagePixels"/> shares with the saved model.</summary>
    private static float[][] ByPath(params string[] paths)
    {
        var ml = new MLContext(1);
        var view = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { Path = p }));
        return ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(PathRow.Path))
            .Append(ImagePixels.Steps(ml, "Image", Side))
            .Fit(view).Transform(view).GetColumn<float[]>(ImagePixels.PixelsColumn).ToArray();
    }

    [Fact]
    public void SixteenBitAndPalettePng_DecodeToThe8BitRgbPixels()
    {
        var rgb = Decode("rgb8.png");
        Assert.Equal((255f, 0f, 0f), (At(rgb, 0, 0, 0), At(rgb, 1, 0, 0), At(rgb, 2, 0, 0)));   // red at the top
        Assert.Equal((0f, 0f, 255f), (At(rgb, 0, 0, Side - 1), At(rgb, 1, 0, Side - 1), At(rgb, 2, 0, Side - 1)));   // blue at the bottom

        Assert.True(MaxDifference(Decode("rgb16.png"), rgb) <= 1, "16 bits are rounded to 8");
        Assert.Equal(rgb, Decode("palette.png"));
    }

    [Fact]
    public void GreyPng_GivesThreeEqualChannels()
    {
        var grey = Decode("grey.png");
        var plane = Side * Side;
        Assert.Equal(grey[..plane], grey[plane..(2 * plane)]);
        Assert.Equal(grey[..plane], grey[(2 * plane)..]);
        Assert.True(grey.Distinct().Count() > 10, "the gradient's levels, not a flat fill");
    }

    [Fact]
    public void PngWithAlpha_IsCompositedOntoBlack()
    {
        var rgb = Decode("rgb8.png");
        var rgba = Decode("rgba.png");   // opaque at the top, transparent at the bottom
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(At(rgb, c, 0, 0), At(rgba, c, 0, 0), 1f);   // opaque: the colour
            Assert.Equal(0f, At(rgba, c, Side / 2, Side - 1));         // transparent: black, not the stored colour
        }
        // Half-transparent: about half the colour (premultiplied), whatever colour the file stores there.
        Assert.InRange(At(rgba, 0, 0, Side / 2) / At(rgb, 0, 0, Side / 2), 0.4, 0.6);
        Assert.All(rgba.Zip(rgb), p => Assert.True(p.First <= p.Second + 1));
    }

    [Fact]
    public void CmykJpeg_DecodesToTheColoursOfTheRgbImage()
    {
        var rgb = Decode("rgb8.png");
        var cmyk = Decode("cmyk.jpg");
        Assert.True(MeanDifference(cmyk, rgb) < 2, $"mean difference {MeanDifference(cmyk, rgb):F2}");
        Assert.True(MaxDifference(cmyk, rgb) <= 8, $"largest difference {MaxDifference(cmyk, rgb)}");
    }

    [Fact]
    public void ExifOrientation_IsNotApplied_ThePixelsAreThoseStored()
    {
        // Orientation 6 asks a viewer to turn the picture a quarter: the decoder does not (as torchvision's read_image
        // and PIL's open do not), so the red-to-blue gradient stays vertical.
        Assert.Equal(Decode("plain.jpg"), Decode("exif-orientation-6.jpg"));
    }

    [Fact]
    public void EveryKind_ReadByPathThroughLoadImages_GivesTheSamePixelsAsFromBytes()
    {
        // Training by path (ML.NET's LoadImages) and a service by bytes (ImagePixels, model.zip's decoding step) must
        // agree on every kind, alpha and EXIF included.
        string[] files = ["rgb8.png", "rgb16.png", "grey.png", "palette.png", "rgba.png", "plain.jpg", "cmyk.jpg", "exif-orientation-6.jpg"];
        var byPath = ByPath(files.Select(f => Path.Combine(Folder, f)).ToArray());

        for (int i = 0; i < files.Length; i++)
            Assert.True(byPath[i].SequenceEqual(Decode(files[i])), files[i]);
    }

    [Fact]
    public void PngNamedJpgAndJpegNamedPng_AreDecodedByTheirContent()
    {
        using var dir = new TempDirectory();
        string png = dir.File("png-named.jpg"), jpeg = dir.File("jpeg-named.png");
        File.Copy(Path.Combine(Folder, "rgb8.png"), png);
        File.Copy(Path.Combine(Folder, "plain.jpg"), jpeg);

        var byPath = ByPath(png, jpeg);

        Assert.Equal(Decode("rgb8.png"), byPath[0]);
        Assert.Equal(Decode("plain.jpg"), byPath[1]);
    }

    private sealed class PathRow
    {
        public string Path { get; set; } = "";
    }
}
