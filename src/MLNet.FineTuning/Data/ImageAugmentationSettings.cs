namespace MLNet.FineTuning.Data;

/// <summary>
/// What the training batches do to each image, resolved from the options once: the geometry (random resized crop
/// down to <see cref="MinCropScale"/> of the area, horizontal flips) and the photometry (brightness and contrast
/// factors in [1 − <see cref="ColorJitter"/>, 1 + <see cref="ColorJitter"/>], Gaussian noise of up to
/// <see cref="NoiseLevel"/> grey levels). Evaluation batches ignore it: they always see the centre square.
/// </summary>
internal readonly record struct ImageAugmentationSettings(double MinCropScale, bool Flip, double ColorJitter = 0, double NoiseLevel = 0)
{
    /// <summary>Nothing changed: training sees what scoring sees.</summary>
    public static ImageAugmentationSettings None => new(1, false);

    /// <summary>Whether any photometric change is on (the geometry alone skips that pass over the pixels).</summary>
    public bool Photometric => ColorJitter > 0 || NoiseLevel > 0;

    /// <summary>Whether training sees exactly what scoring sees, the centre square: no crop (a crop of the whole area
    /// always falls back to the centre square), no flip, no photometric change. Every epoch then has the same pixels.</summary>
    public bool LeavesImagesAsTheyAre => MinCropScale >= 1 && !Flip && !Photometric;
}
