using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.Training;

public class ValidationMarginTests
{
    private static bool[] Hits(string rows) => rows.Select(c => c == '1').ToArray();

    [Fact]
    public void Paired_IsTheStandardErrorOfTheMeanOfThePerRowDifferences()
    {
        // differences 1, 0, 0, 0, -1, 1, 0, 0: mean 0.125, sample variance (3 − 8·0.125²) / 7 = 2.875 / 7
        double se = ValidationMargin.Paired(Hits("11010110"), Hits("01011010"));
        Assert.Equal(Math.Sqrt(2.875 / 7 / 8), se, 12);
        Assert.Equal(se, ValidationMargin.Paired(Hits("01011010"), Hits("11010110")), 12);   // symmetric
    }

    [Fact]
    public void Paired_OnlyTheRowsTheRunsDisagreeOnCount()
    {
        // The same 4-row lead on 100 rows: alone, and among 10 rows each way more. Agreement (right or wrong) adds nothing.
        var given = Enumerable.Range(0, 100).Select(i => i < 60).ToArray();
        var clean = Enumerable.Range(0, 100).Select(i => i < 64).ToArray();
        var noisy = Enumerable.Range(0, 100).Select(i => i >= 10 && i < 74).ToArray();
        double small = ValidationMargin.Paired(clean, given), large = ValidationMargin.Paired(noisy, given);
        Assert.InRange(small, 0.019, 0.020);   // √((4 − 100·0.04²)/99/100)
        Assert.InRange(large, 0.049, 0.050);   // √((24 − 100·0.04²)/99/100)
        Assert.Equal(0, ValidationMargin.Paired(given, given));
        Assert.Equal(0.01, ValidationMargin.Paired(Enumerable.Range(0, 100).Select(i => i < 61).ToArray(), given), 12);   // one row: 1/n
    }

    [Fact]
    public void For_AccuracyWithoutPerRowHits_FallsBackToTheAccuracysOwnError_AndALossHasNone()
    {
        var margin = ValidationMargin.For(EarlyStoppingMetric.Accuracy, 100)!;
        var withHits = new TrainingResult(1, false, 0, 0.6, []) { ValidationHits = Enumerable.Range(0, 100).Select(i => i < 60).ToArray() };
        var withoutHits = new TrainingResult(1, false, 0, 0.6, []);
        Assert.Equal(Math.Sqrt(0.6 * 0.4 / 100), margin(withHits, withoutHits), 12);
        Assert.Equal(0, margin(withHits, withHits));
        Assert.Null(ValidationMargin.For(EarlyStoppingMetric.Loss, 100));
        Assert.Null(ValidationMargin.For(EarlyStoppingMetric.Accuracy, 0));
        Assert.Throws<ArgumentException>(() => ValidationMargin.Paired([true, false], [true]));
    }
}
