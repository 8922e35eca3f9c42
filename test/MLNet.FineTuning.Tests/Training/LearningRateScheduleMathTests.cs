using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.Training;

public class LearningRateScheduleMathTests
{
    private const long Total = 1000;

    private static double F(LearningRateSchedule s, long step, double warmup = 0.1) =>
        LearningRateScheduleMath.Factor(s, step, Total, warmup);

    [Fact]
    public void Factor_WarmupCosine_StartsNearZeroReachesOneAfterWarmupEndsNearZero()
    {
        Assert.Equal(1.0 / 100, F(LearningRateSchedule.WarmupCosine, 0), 12);   // (step + 1) / warm-up steps
        Assert.Equal(0.5, F(LearningRateSchedule.WarmupCosine, 49), 12);
        Assert.Equal(1.0, F(LearningRateSchedule.WarmupCosine, 99), 12);
        Assert.Equal(1.0, F(LearningRateSchedule.WarmupCosine, 100), 12);
        Assert.Equal(0.5, F(LearningRateSchedule.WarmupCosine, 550), 12);        // half-way through the decay
        Assert.InRange(F(LearningRateSchedule.WarmupCosine, Total - 1), 0, 1e-4);
    }

    [Fact]
    public void Factor_WarmupCosine_RisesThenNeverIncreases()
    {
        var f = Enumerable.Range(0, (int)Total).Select(s => F(LearningRateSchedule.WarmupCosine, s)).ToArray();
        for (int s = 1; s < 100; s++) Assert.True(f[s] > f[s - 1], $"step {s}");
        for (int s = 101; s < Total; s++) Assert.True(f[s] <= f[s - 1], $"step {s}");
    }

    [Fact]
    public void Factor_WarmupCosineWithoutWarmup_StartsAtOne()
    {
        Assert.Equal(1.0, F(LearningRateSchedule.WarmupCosine, 0, warmup: 0), 12);
    }

    [Fact]
    public void Factor_OneCycle_StartsAtOneTwentyFifthPeaksAtOneEndsAtOne25e4th()
    {
        // PyTorch OneCycleLR defaults: div_factor 25, final_div_factor 1e4.
        Assert.Equal(1.0 / 25, F(LearningRateSchedule.OneCycle, 0, warmup: 0.3), 12);
        Assert.Equal(1.0, F(LearningRateSchedule.OneCycle, 300, warmup: 0.3), 12);
        double last = F(LearningRateSchedule.OneCycle, Total - 1, warmup: 0.3);
        Assert.InRange(last, 1.0 / 25e4, 1.0 / 25e4 + 1e-4);
        Assert.Equal(1.0 / 25e4, F(LearningRateSchedule.OneCycle, Total, warmup: 0.3), 12);
    }

    [Fact]
    public void Factor_Constant_IsOneEverywhere()
    {
        Assert.All(new long[] { 0, 1, 500, Total - 1 }, s => Assert.Equal(1.0, F(LearningRateSchedule.Constant, s)));
    }

    [Theory]
    [InlineData(LearningRateSchedule.WarmupCosine)]
    [InlineData(LearningRateSchedule.OneCycle)]
    [InlineData(LearningRateSchedule.Constant)]
    public void Factor_AnyStep_StaysWithinZeroAndOne(LearningRateSchedule schedule)
    {
        foreach (var warmup in new[] { 0.0, 0.05, 0.5, 0.99 })
            for (long s = 0; s < Total; s += 7)
                Assert.InRange(F(schedule, s, warmup), 0, 1);
    }

    [Fact]
    public void Factor_SingleStepRun_IsFinite()
    {
        // One step in all (a tiny dataset, one epoch): no division by zero.
        foreach (var s in Enum.GetValues<LearningRateSchedule>())
            Assert.True(double.IsFinite(LearningRateScheduleMath.Factor(s, 0, 1, 0.1)), s.ToString());
    }
}
