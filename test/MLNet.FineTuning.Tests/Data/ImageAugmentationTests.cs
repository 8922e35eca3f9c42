using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using MLNet.FineTuning.Data;

namespace MLNet.FineTuning.Tests.Data;

public class ImageAugmentationTests
{
    /// <summary>A width × height RGB image whose pixel is (r, g, b) = colour(x, y).</summary>
    private static DecodedImage Synthetic(int width, int height, Func<int, int, (byte R, byte G, byte B)> colour)
    {
        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = colour(x, y);
                int o = 3 * (y * width + x);
                (rgb[o], rgb[o + 1], rgb[o + 2]) = (r, g, b);
            }
        return new DecodedImage(width, height, rgb);
    }

    [Theory]
    [InlineData(60, 20)]
    [InlineData(20, 60)]
    public void CenterCrop_NonSquareImage_KeepsTheCentredSquareOnly(int width, int height)
    {
        // Bright inside the centred 20 × 20 square, black outside it: at the square's own size the crop is exact.
        int x0 = (width - 20) / 2, y0 = (height - 20) / 2;
        var image = Synthetic(width, height, (x, y) =>
            x >= x0 && x < x0 + 20 && y >= y0 && y < y0 + 20 ? ((byte)200, (byte)200, (byte)200) : ((byte)0, (byte)0, (byte)0));
        var pixels = new float[3 * 20 * 20];

        ImageAugmentation.CenterCrop(image, 20, pixels);

        Assert.All(pixels, p => Assert.Equal(200f, p));
    }

    [Fact]
    public void CenterCrop_ColouredImage_PlanarRgbIn0To255()
    {
        var image = Synthetic(10, 10, (_, _) => (10, 20, 30));
        var pixels = new float[3 * 8 * 8];

        ImageAugmentation.CenterCrop(image, 8, pixels);

        Assert.All(pixels.AsSpan(0, 64).ToArray(), p => Assert.Equal(10f, p));
        Assert.All(pixels.AsSpan(64, 64).ToArray(), p => Assert.Equal(20f, p));
        Assert.All(pixels.AsSpan(128, 64).ToArray(), p => Assert.Equal(30f, p));
    }

    [Theory]
    [InlineData(true, 16, 48)]
    [InlineData(false, 0, 0)]
    public void RandomResizedCrop_CroppingOff_FlipsAboutHalfTheDrawsOnlyWhenAsked(bool flip, int fewest, int most)
    {
        // Left half dark, right half bright. Cropping off (minScale 1) leaves every draw at the full frame,
        // so a bright top-left pixel means the draw was mirrored.
        var image = Synthetic(16, 16, (x, _) => x < 8 ? ((byte)0, (byte)0, (byte)0) : ((byte)255, (byte)255, (byte)255));
        var pixels = new float[3 * 16 * 16];
        int mirrored = 0;

        for (int seed = 0; seed < 64; seed++)
        {
            ImageAugmentation.RandomResizedCrop(image, 16, minScale: 1, flip, new Random(seed), pixels);
            Assert.NotEqual(pixels[0], pixels[15]);   // the full frame, one way round or the other
            if (pixels[0] == 255f) mirrored++;
        }

        Assert.InRange(mirrored, fewest, most);
    }

    [Theory]
    [InlineData(24)]
    [InlineData(32)]
    [InlineData(64)]
    public void CenterCrop_RealImages_CloseToMlNetIsoCropResize(int size)
    {
        // Training evaluates on CenterCrop, scoring runs ML.NET's ResizeImages(IsoCrop): the same geometry with
        // a different interpolation. Measured on these 12 images: mean |diff| at most 1.7 of 255, max 18
        // (at item edges). A wrong crop box or channel order gives tens on average.
        var ml = new MLContext(1);
        var rows = TestData.Fashion("test", 3, "Trouser", "Bag", "Sneaker", "Coat");
        var view = TestData.Load(ml, rows);
        var pixels = ml.Transforms.ResizeImages("Resized", size, size, "Image", ImageResizingEstimator.ResizingKind.IsoCrop, ImageResizingEstimator.Anchor.Center)
            .Append(ml.Transforms.ExtractPixels("Pixels", "Resized")).Fit(view).Transform(view);
        var mlnet = ml.Data.CreateEnumerable<PixelRow>(pixels, reuseRowObject: false).Select(r => r.Pixels).ToArray();

        for (int i = 0; i < rows.Length; i++)
        {
            using var image = MLImage.CreateFromFile(rows[i].ImagePath);
            var ours = new float[3 * size * size];
            ImageAugmentation.CenterCrop(DecodedImage.From(image), size, ours);
            var diff = ours.Zip(mlnet[i]).Select(p => Math.Abs(p.First - p.Second)).ToArray();
            Assert.InRange(diff.Average(), 0, 3);
            Assert.InRange(diff.Max(), 0, 32);
        }
    }

    private sealed class PixelRow
    {
        public float[] Pixels { get; set; } = [];
    }
}
