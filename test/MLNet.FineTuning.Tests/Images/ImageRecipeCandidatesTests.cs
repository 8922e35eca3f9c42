using MLNet.FineTuning.Images;

namespace MLNet.FineTuning.Tests.Images;

public class ImageRecipeCandidatesTests
{
    [Fact]
    public void For_DefaultOptions_TriesLayerwiseDecayAndLightAugmentationBesideTheDefaultsFirst()
    {
        var candidates = ImageRecipeCandidates.For(new FineTuneImageClassifier.Options(), suggestedRate: 3.14e-4);

        Assert.Equal(["lr=0.001, llrd=1, aug=None", "lr=0.001, llrd=1, aug=Light", "lr=0.001, llrd=0.7, aug=None", "lr=0.001, llrd=0.7, aug=Light",
                      "lr=0.00031, llrd=1, aug=None", "lr=0.00031, llrd=1, aug=Light", "lr=0.00031, llrd=0.7, aug=None", "lr=0.00031, llrd=0.7, aug=Light"],
                     candidates.Select(c => c.Name));
        var options = new FineTuneImageClassifier.Options { BackboneLearningRateFactor = 0.5 };
        candidates[7].Apply(options);
        Assert.Equal((3.1e-4, 0.7, ImageAugmentationPolicy.Light, 0.5),
                     (options.LearningRate, options.LayerwiseLearningRateDecay, options.Augmentation, options.BackboneLearningRateFactor));
    }

    [Fact]
    public void For_OptionsWithTheirOwnDecay_TryTurningItOff()
    {
        var given = new FineTuneImageClassifier.Options { LayerwiseLearningRateDecay = 0.8, Augmentation = ImageAugmentationPolicy.Light };

        var names = ImageRecipeCandidates.For(given, suggestedRate: null).Select(c => c.Name);

        Assert.Equal(["lr=0.001, llrd=0.8, aug=Light", "lr=0.001, llrd=0.8, aug=None", "lr=0.001, llrd=1, aug=Light", "lr=0.001, llrd=1, aug=None"], names);
    }
}
