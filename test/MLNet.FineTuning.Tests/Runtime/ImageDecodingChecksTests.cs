using MLNet.FineTuning.Runtime.Images;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>What the runtime's decoder (<see cref="ImagePixels"/>, the saved model's decoding step, training on encoded
/// bytes) refuses before or instead of decoding, and what it still accepts.</summary>
public class ImageDecodingChecksTests
{
    private readonly ImagePixels pixels = new(32);

    [Fact]
    public void WholePngAndJpeg_AreDecoded()
    {
        Assert.Equal(pixels.Length, pixels.FromEncoded(HostileImages.Png).Length);
        Assert.Equal(pixels.Length, pixels.FromEncoded(HostileImages.Jpeg).Length);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(-12)]   // all but the IEND chunk
    public void TruncatedPng_IsRefusedAsTruncated(int keep)
    {
        byte[] png = HostileImages.Png;
        byte[] cut = png[..(keep > 0 ? keep : png.Length + keep)];

        var e = Assert.Throws<InvalidDataException>(() => pixels.FromEncoded(cut));
        Assert.Contains("truncated Png", e.Message);
    }

    [Fact]
    public void TruncatedJpeg_IsRefusedAsTruncated()
    {
        byte[] jpeg = HostileImages.Jpeg;

        var e = Assert.Throws<InvalidDataException>(() => pixels.FromEncoded(jpeg[..(jpeg.Length / 2)]));
        Assert.Contains("truncated Jpeg", e.Message);
    }

    public static TheoryData<string> OtherFormats => ["Bmp", "Gif", "Webp"];

    private static byte[] Encoded(string format) => format switch
    {
        "Bmp" => BmpAndGif.Bmp,
        "Gif" => BmpAndGif.Gif,
        _ => MutatedImages.WebP,
    };

    [Theory]
    [MemberData(nameof(OtherFormats))]
    public void WholeBmpGifAndWebP_AreDecoded(string format)
    {
        var decoded = pixels.FromEncoded(Encoded(format));
        Assert.Equal(pixels.Length, decoded.Length);
        Assert.True(decoded.Distinct().Count() > 10, "an image, not a flat fill");
    }

    [Theory]
    [MemberData(nameof(OtherFormats))]
    public void TruncatedBmpGifAndWebP_AreRefusedAsTruncated(string format)
    {
        byte[] whole = Encoded(format);
        foreach (int keep in new[] { whole.Length / 2, whole.Length - 2 })
        {
            var e = Assert.Throws<InvalidDataException>(() => pixels.FromEncoded(whole[..keep]));
            Assert.Contains($"truncated {format}", e.Message);
        }
    }

    [Fact]
    public void PngDeclaring20000By20000_IsRefusedByItsHeader()
    {
        byte[] bomb = HostileImages.PngDeclaring(20_000, 20_000);
        Assert.True(bomb.Length < 2_000, $"{bomb.Length} bytes");

        var e = Assert.Throws<InvalidDataException>(() => pixels.FromEncoded(bomb));
        Assert.Contains("20,000 × 20,000", e.Message);
        Assert.Contains("refused before decoding", e.Message);
    }

    [Fact]
    public void PngDeclaringASizeWithinTheLimit_IsDecoded()
    {
        // The same construction as the bomb, 64 × 64: what the check refuses above is the size, not the file's form.
        Assert.Equal(pixels.Length, pixels.FromEncoded(HostileImages.PngDeclaring(64, 64)).Length);
    }

    [Fact]
    public void MaxPixels_BelowOne_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageLimits.MaxPixels = 0);
}
