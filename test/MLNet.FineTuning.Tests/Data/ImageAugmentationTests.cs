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

    /// <summary>A 32 × 32 planar image of bytes: a gradient, so mean and spread are known.</summary>
    private static byte[] Gradient() => Enumerable.Range(0, 3 * 32 * 32).Select(i => (byte)(64 + (i % 32) * 4)).ToArray();

    private static (double Mean, double Sd) Moments(IReadOnlyList<byte> v)
    {
        double mean = v.Average(x => (double)x);
        return (mean, Math.Sqrt(v.Average(x => (x - mean) * (x - mean))));
    }

    [Fact]
    public void Photometric_Off_LeavesThePixelsAlone()
    {
        var image = Gradient();
        var copy = image.ToArray();

        ImageAugmentation.Photometric(image, jitter: 0, noiseLevel: 0, new Random(1));

        Assert.Equal(copy, image);
    }

    [Fact]
    public void Photometric_Noise_AddsZeroMeanNoiseNoLargerThanTheLevel()
    {
        // σ is drawn in [0, 20] per image: over 50 images the residual's spread stays in that range, reaches well
        // above zero, and the mean stays where it was (the gradient keeps clear of 0 and 255, so nothing clips).
        var rng = new Random(3);
        var spreads = new List<double>();
        for (int k = 0; k < 50; k++)
        {
            var image = Gradient();
            var original = image.ToArray();
            ImageAugmentation.Photometric(image, jitter: 0, noiseLevel: 20, rng);
            var residual = image.Select((v, i) => (byte)(v - original[i] + 128)).ToArray();
            var (mean, sd) = Moments(residual);
            Assert.InRange(mean, 126.5, 129.5);   // 128 ± 4 standard errors (σ ≤ 20 over 3,072 values)
            spreads.Add(sd);
        }
        Assert.True(spreads.Max() <= 21, $"largest spread {spreads.Max():F1} > 20");
        Assert.True(spreads.Max() >= 15, $"largest spread {spreads.Max():F1}: the level is not reached");
        Assert.True(spreads.Min() <= 5, $"smallest spread {spreads.Min():F1}: σ is not drawn from [0, level]");
    }

    [Fact]
    public void Photometric_Jitter_ScalesContrastAndBrightnessWithinTheRange()
    {
        // No noise: the image stays an affine map of itself, so its spread changes by b·c ∈ [0.25, 2.25] at jitter 0.5,
        // and different draws give different maps.
        var (mean0, sd0) = Moments(Gradient());
        var rng = new Random(5);
        var ratios = new List<double>();
        for (int k = 0; k < 40; k++)
        {
            var image = Gradient();
            ImageAugmentation.Photometric(image, jitter: 0.5, noiseLevel: 0, rng);
            var (mean, sd) = Moments(image);
            if (image.Any(v => v is 0 or 255)) continue;   // clipped: the moments no longer tell the factors
            ratios.Add(sd / sd0);
            Assert.InRange(mean / mean0, 0.5 - 0.02, 1.5 + 0.02);   // contrast keeps the mean; brightness scales it
        }
        Assert.True(ratios.Count >= 20);
        Assert.All(ratios, r => Assert.InRange(r, 0.25 - 0.02, 2.25 + 0.02));
        Assert.True(ratios.Max() - ratios.Min() > 0.3, "the factors do not vary between draws");
    }

    [Fact]
    public void Batches_TrainingWithNoise_DifferFromEvaluationButReplayPerEpoch()
    {
        var ml = new MLContext(1);
        var data = ImageDataset.Read(TestData.Load(ml, TestData.Fashion("train", 2, ["Bag", "Sandal", "Trouser"])), "Image", "Label",
            cacheBudgetBytes: 1 << 20, skipUnreadable: false, "training", CancellationToken.None);
        var noisy = new ImageBatchSource(data, 32, 6, train: true, seed: 3, ImageAugmentationSettings.None with { NoiseLevel = 30 });
        var clean = new ImageBatchSource(data, 32, 6, train: true, seed: 3, ImageAugmentationSettings.None);

        byte[] First(ImageBatchSource s, int epoch) { using var b = s.Batches(epoch, CancellationToken.None).First(); return b.Inputs[0].data<byte>().ToArray(); }

        var a = First(noisy, 0);
        var c = First(clean, 0);
        Assert.Equal(a, First(noisy, 0));                       // an epoch replays exactly (resume depends on it)
        Assert.NotEqual(a, First(noisy, 1));                    // the next epoch draws new noise
        double meanDifference = a.Zip(c, (x, y) => Math.Abs(x - y)).Average();
        Assert.InRange(meanDifference, 1, 30);                   // noise, not another image
    }
}
