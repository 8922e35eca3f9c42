using Microsoft.ML;
using MLNet.FineTuning.Data;

namespace MLNet.FineTuning.Tests.Images;

public class ImageAugmentationPolicyTests
{
    [Theory]
    [InlineData(ImageAugmentationPolicy.None, null, null, 1.0, false)]
    [InlineData(ImageAugmentationPolicy.Light, null, null, 0.75, false)]
    [InlineData(ImageAugmentationPolicy.Strong, null, null, 0.35, true)]
    [InlineData(ImageAugmentationPolicy.Light, 0.5, null, 0.5, false)]      // an explicit crop overrides the policy's
    [InlineData(ImageAugmentationPolicy.None, null, true, 1.0, true)]       // so does an explicit flip
    [InlineData(ImageAugmentationPolicy.Strong, 1.0, false, 1.0, false)]
    public void Options_PolicyAndOverrides_GiveTheCropAndFlipTrainingUses(ImageAugmentationPolicy policy, double? crop, bool? flip,
                                                                            double expectedCrop, bool expectedFlip)
    {
        var o = new FineTuneImageClassifier.Options { Augmentation = policy, RandomCropMinScale = crop, HorizontalFlip = flip };

        Assert.Equal(expectedCrop, o.EffectiveCropMinScale);
        Assert.Equal(expectedFlip, o.EffectiveHorizontalFlip);
    }

    [Fact]
    public void Options_Defaults_NeitherFlipNorCropBelowThreeQuarters()
    {
        // The suite's finding (docs/quality.md): label-changing augmentation is not on by default.
        var o = new FineTuneImageClassifier.Options();

        Assert.False(o.EffectiveHorizontalFlip);
        Assert.True(o.EffectiveCropMinScale >= 0.75);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    public void Estimator_CropOutOfRange_ThrowsNamingTheOption(double crop)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new MLContext(1).MulticlassClassification.Trainers.FineTuneImageClassifier(new FineTuneImageClassifier.Options { RandomCropMinScale = crop }));

        Assert.Equal(nameof(FineTuneImageClassifier.Options.RandomCropMinScale), e.ParamName);
    }

    [Theory]
    [InlineData(-0.1, 0)]
    [InlineData(1.0, 0)]
    [InlineData(0, -1)]
    [InlineData(0, 129)]
    public void Estimator_PhotometricOutOfRange_ThrowsNamingTheOption(double jitter, double noise)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new MLContext(1).MulticlassClassification.Trainers.FineTuneImageClassifier(new FineTuneImageClassifier.Options { ColorJitter = jitter, NoiseLevel = noise }));

        Assert.Equal(jitter != 0 ? nameof(FineTuneImageClassifier.Options.ColorJitter) : nameof(FineTuneImageClassifier.Options.NoiseLevel), e.ParamName);
    }

    [Fact]
    public void Batches_PolicyNone_TrainingSeesTheCentreCropOfEveryImage()
    {
        // None must mean what scoring sees: training batches hold exactly the evaluation pixels, only shuffled.
        var ml = new MLContext(1);
        var data = ImageDataset.Read(TestData.Load(ml, TestData.Fashion("train", 2, ["Bag", "Sandal", "Trouser"])), "Image", "Label",
            cacheBudgetBytes: 1 << 20, skipUnreadable: false, "training", CancellationToken.None);
        var none = ImageAugmentationPolicy.None;
        var train = new ImageBatchSource(data, 32, 6, train: true, seed: 3, new ImageAugmentationSettings(none.CropMinScale(), none.Flips()));
        var eval = new ImageBatchSource(data, 32, 6, train: false, seed: 3, ImageAugmentationSettings.None);

        var trained = Images(train);
        var evaluated = Images(eval);

        Assert.Equal(evaluated.Count, trained.Count);
        Assert.True(evaluated.SetEquals(trained));
    }

    /// <summary>Each image of the first epoch's batches as a string of its bytes (order-free comparison).</summary>
    private static HashSet<string> Images(ImageBatchSource source) =>
        source.Batches(0, CancellationToken.None).SelectMany(b =>
        {
            using (b)
            {
                var bytes = b.Inputs[0].data<byte>().ToArray();
                int per = bytes.Length / b.Count;
                return Enumerable.Range(0, b.Count).Select(i => Convert.ToHexString(bytes, i * per, per)).ToArray();
            }
        }).ToHashSet();
}
