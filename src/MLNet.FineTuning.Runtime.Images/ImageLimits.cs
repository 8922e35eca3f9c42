namespace MLNet.FineTuning.Runtime.Images;

/// <summary>
/// Limits on the encoded images that this package decodes (<see cref="ImagePixels"/>, the saved model's decoding step,
/// training on encoded bytes), for every model in the process: a saved model's steps cannot carry settings of their own.
/// </summary>
public static class ImageLimits
{
    private static long maxPixels = DefaultMaxPixels;

    /// <summary>The default of <see cref="MaxPixels"/>: 100 megapixels (400 MB decoded; a 48-megapixel phone photo
    /// passes, the 20,000 × 20,000 bomb does not).</summary>
    public const long DefaultMaxPixels = 100_000_000;

    /// <summary>The most pixels (width × height, as the file's header declares them) an image may have; larger ones are
    /// refused before any pixel is decoded. At least 1.</summary>
    public static long MaxPixels
    {
        get => Interlocked.Read(ref maxPixels);
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(MaxPixels), value, "MaxPixels must be at least 1.");
            Interlocked.Exchange(ref maxPixels, value);
        }
    }
}
