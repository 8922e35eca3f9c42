using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Images;

/// <summary>What the automatic recipe tries for every image task.</summary>
internal static class ImageRecipeCandidates
{
    /// <summary>The learning rate (the options' and the range test's suggestion, when it has one), layer-wise rate decay (the options' and
    /// 0.7, or off when the options set one) and the augmentation policy (the options' and None or Light): what the
    /// quality suite showed matters for images (docs/quality.md: layer-wise decay 0.7 gained 2.6 points on its photos
    /// and nothing elsewhere; it replaced a backbone factor of 0.3, which lost 2.0 on average). The options as given come
    /// first, so that a tie keeps them.</summary>
    public static IReadOnlyList<RecipeCandidate<TOptions>> For<TOptions>(TOptions o, double? suggestedRate) where TOptions : ImageFineTuningOptions
    {
        var rates = RecipeCandidates.Rates(o.LearningRate, suggestedRate);
        var decays = new[] { o.LayerwiseLearningRateDecay, o.LayerwiseLearningRateDecay == 1 ? 0.7 : 1 };
        var policies = new[] { o.Augmentation, o.Augmentation == ImageAugmentationPolicy.None ? ImageAugmentationPolicy.Light : ImageAugmentationPolicy.None };
        return (from lr in rates from llrd in decays from aug in policies
                select new RecipeCandidate<TOptions>($"lr={lr:G2}, llrd={llrd:G2}, aug={aug}", x =>
                {
                    x.LearningRate = lr;
                    x.LayerwiseLearningRateDecay = llrd;
                    x.Augmentation = aug;
                })).ToList();
    }
}
