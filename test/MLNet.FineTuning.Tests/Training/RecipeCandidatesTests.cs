using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.Training;

public class RecipeCandidatesTests
{
    [Theory]
    [InlineData(1e-3, 3.14159e-4, new[] { 1e-3, 3.1e-4 })]   // the options' rate first, the suggestion rounded to two digits
    [InlineData(1e-3, 1e-3, new[] { 1e-3 })]                 // the two agree: one trial per other setting, not two
    [InlineData(1e-3, 1.0004e-3, new[] { 1e-3 })]            // they agree once rounded
    [InlineData(1e-2, 5.0, new[] { 1e-2, 1e-1 })]            // a suggestion past 1e-1 is clamped
    [InlineData(1e-3, 1e-9, new[] { 1e-3, 1e-5 })]           // ...and one below 1e-5
    public void Rates_GivenAndSuggested_OptionsRateFirstThenTheRoundedSuggestion(double given, double suggested, double[] expected)
    {
        Assert.Equal(expected, RecipeCandidates.Rates(given, suggested));
    }

    [Fact]
    public void Rates_NoSuggestion_TheOptionsRateAlone()
    {
        Assert.Equal([2e-3], RecipeCandidates.Rates(2e-3, suggested: null));
    }
}
