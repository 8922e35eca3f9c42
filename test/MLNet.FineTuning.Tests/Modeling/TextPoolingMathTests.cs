using MLNet.FineTuning.Modeling;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Modeling;

public class TextPoolingMathTests
{
    [Fact]
    public void Pool_Mean_AveragesTokensOnlyAndAllPaddingGivesZeros()
    {
        using var scope = NewDisposeScope();
        var hidden = tensor(new float[] { 1, 2, 3, 4, 100, 100, /* row 2: all padding */ 5, 5, 5, 5, 5, 5 }, [2, 3, 2]);
        var mask = tensor(new long[] { 1, 1, 0, 0, 0, 0 }, [2, 3]);

        var pooled = TextPoolingMath.Pool(hidden, mask, TextPooling.Mean);

        Assert.Equal(new float[] { 2, 3, 0, 0 }, pooled.data<float>().ToArray());
    }

    [Fact]
    public void Pool_Cls_TakesFirstPosition()
    {
        using var scope = NewDisposeScope();
        var hidden = arange(12, dtype: float32).view(2, 3, 2);

        var pooled = TextPoolingMath.Pool(hidden, ones(2, 3), TextPooling.Cls);

        Assert.Equal(new float[] { 0, 1, 6, 7 }, pooled.data<float>().ToArray());
    }

    [Fact]
    public void Pool_MaskShapeDiffers_ThrowsGivingBothShapes()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => TextPoolingMath.Pool(zeros(2, 3, 4), ones(2, 4), TextPooling.Mean));
        Assert.Contains("[2,3,4]", e.Message);
        Assert.Contains("[2,4]", e.Message);
    }
}
