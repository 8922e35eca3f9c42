namespace MLNet.FineTuning;

/// <summary>
/// How much <see cref="FineTuneImageClassifier"/> distorts the training images (evaluation and scoring always see the
/// centre square, resized). An augmentation that can change the label is not safe by default: a flip turns a 'b' into
/// a 'd' and an arrow to the right into one to the left, and a tight crop can cut a small object or a glyph away.
/// <see cref="ImageFineTuningOptions.RandomCropMinScale"/> and <see cref="ImageFineTuningOptions.HorizontalFlip"/>,
/// when set, override the policy's values; docs/quality.md has the measurements behind each policy.
/// </summary>
public enum ImageAugmentationPolicy
{
    /// <summary>No augmentation: every epoch sees the centre square, as scoring does. The default.</summary>
    None,

    /// <summary>Random resized crops of 75–100 % of the image's area (aspect ratio 3/4 to 4/3), no flip: a little
    /// zoom and shift that keeps the whole object and its orientation.</summary>
    Light,

    /// <summary>Random resized crops of 35–100 % of the area and horizontal flips: more variety for photos of objects
    /// whose mirror image is the same class; wrong for text, digits, symbols and anything oriented.</summary>
    Strong,
}

internal static class ImageAugmentationPolicies
{
    /// <summary>The smallest crop area fraction of a policy (1 = no cropping).</summary>
    public static double CropMinScale(this ImageAugmentationPolicy policy) => policy switch
    {
        ImageAugmentationPolicy.None => 1,
        ImageAugmentationPolicy.Light => 0.75,
        ImageAugmentationPolicy.Strong => 0.35,
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown augmentation policy."),
    };

    /// <summary>Whether a policy flips images horizontally.</summary>
    public static bool Flips(this ImageAugmentationPolicy policy) => policy == ImageAugmentationPolicy.Strong;
}
