using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.Training;

public class ClassWeightsTests
{
    [Fact]
    public void For_ImbalancedLabels_EachClassWeighsAsMuchInTotal()
    {
        // 6 rows of class 0, 2 of class 1, none of class 2 (3 classes): w = N / (K · n_c).
        int[] labels = [0, 0, 0, 0, 0, 0, 1, 1];

        using var w = ClassWeights.For(labels, 3);
        var values = w.data<float>().ToArray();

        Assert.Equal(8f / (3 * 6), values[0], 1e-6);
        Assert.Equal(8f / (3 * 2), values[1], 1e-6);
        Assert.Equal(0f, values[2]);
        Assert.Equal(6 * values[0], 2 * values[1], 1e-5);   // both classes carry the same total weight
    }
}
