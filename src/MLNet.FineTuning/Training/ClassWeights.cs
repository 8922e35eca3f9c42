using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>The loss weights of <see cref="FineTuningOptions.BalanceClasses"/> by <see cref="ClassBalance.LossWeights"/>.</summary>
internal static class ClassWeights
{
    /// <summary>w_c = N / (K · n_c): the loss of each class counts as if the classes were balanced (scikit-learn's
    /// "balanced" class_weight); a class absent from the training rows gets 0.</summary>
    public static Tensor For(int[] labels, int classes) => tensor(Array.ConvertAll(Values(labels, classes), w => (float)w));

    /// <summary>The same weights as numbers, one per class.</summary>
    public static double[] Values(int[] labels, int classes)
    {
        var counts = new double[classes];
        foreach (int l in labels) counts[l]++;
        return counts.Select(c => c == 0 ? 0 : labels.Length / (classes * c)).ToArray();
    }
}
