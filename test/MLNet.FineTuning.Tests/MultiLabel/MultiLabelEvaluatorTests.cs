using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Evaluation;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.MultiLabel;

/// <summary>The evaluator's figures on a case small enough to count by hand, and the thresholds' choice.</summary>
public class MultiLabelEvaluatorTests
{
    private sealed class Scored
    {
        [VectorType(2)] public bool[] Label { get; set; } = [];
        [VectorType(2)] public float[] Score { get; set; } = [];
        [VectorType(2)] public bool[] PredictedLabel { get; set; } = [];
    }

    [Fact]
    public void Evaluate_FourRowsTwoLabels_GivesTheCountedFigures()
    {
        // Label a: actual 1,1,0,0, predicted 1,0,1,0 → TP 1, FP 1, FN 1: P ½, R ½, F1 ½.
        // Label b: actual 1,0,0,0, predicted 1,0,0,0 → TP 1: P 1, R 1, F1 1.
        // Micro: TP 2, FP 1, FN 1 → P ⅔, R ⅔, F1 ⅔. Exact rows: 0 and 3 → ½. Wrong decisions 2 of 8 → ¼.
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[]
        {
            new Scored { Label = [true, true], Score = [0.9f, 0.8f], PredictedLabel = [true, true] },
            new Scored { Label = [true, false], Score = [0.4f, 0.1f], PredictedLabel = [false, false] },
            new Scored { Label = [false, false], Score = [0.7f, 0.2f], PredictedLabel = [true, false] },
            new Scored { Label = [false, false], Score = [0.1f, 0.1f], PredictedLabel = [false, false] },
        });
        var m = ml.MultiLabelClassification().Evaluate(data);
        Assert.Equal(4, m.Rows);
        Assert.Equal([0.5, 1.0], m.PerLabel.Select(l => l.F1));
        Assert.Equal([2, 1], m.PerLabel.Select(l => l.Support));
        Assert.Equal(2.0 / 3, m.MicroF1, 12);
        Assert.Equal(2.0 / 3, m.MicroPrecision, 12);
        Assert.Equal(0.75, m.MacroF1, 12);
        Assert.Equal(0.5, m.SubsetAccuracy, 12);
        Assert.Equal(0.25, m.HammingLoss, 12);
        double expectedLogLoss = -(Math.Log(0.9) + Math.Log(0.8) + Math.Log(0.4) + Math.Log(0.9) + Math.Log(0.3) + Math.Log(0.8) + Math.Log(0.9) + Math.Log(0.9)) / 8;
        Assert.Equal(expectedLogLoss, m.LogLoss, 6);
    }

    [Fact]
    public void Evaluate_ScoreOfAnotherSize_ThrowsNamingTheColumn()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { new { Label = new[] { 1f, 0f }, Score = 0.5f, PredictedLabel = true } });
        var labelled = ml.Transforms.Conversion.ConvertType("Label", outputKind: DataKind.Single).Fit(data).Transform(data);
        var e = Assert.ThrowsAny<Exception>(() => ml.MultiLabelClassification().Evaluate(labelled));
        Assert.Contains("'Label'", e.Message);   // a variable-size vector from an anonymous type: the label is refused first
    }

    [Fact]
    public void Thresholds_ChosenPerLabelForF1_AndKeptAtTheDefaultWithFewPositives()
    {
        // Label 0: positives have logits 1..6, negatives −1..−6 plus one at 3.5: the chosen threshold must give label 0 the
        // best F1 any threshold gives on these rows (here: all six positives and the negative at 3.5, F1 12/13).
        // Label 1: only 2 positive rows → the default 0.5 stays.
        var logits0 = new float[] { 1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6, 3.5f };
        var flags0 = new float[] { 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0 };
        var logits1 = new float[] { -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, 2, 2 };
        var flags1 = new float[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 };
        int n = logits0.Length;
        var outputs = Enumerable.Range(0, n).SelectMany(i => new[] { logits0[i], logits1[i] }).ToArray();
        var labels = Enumerable.Range(0, n).SelectMany(i => new[] { flags0[i], flags1[i] }).ToArray();
        var thresholds = LabelThresholds.Choose(new RowOutputs(outputs, 2, labels, 2), 2, 0.5f);

        static float Sigmoid(float x) => 1 / (1 + MathF.Exp(-x));
        static double F1(float[] logits, float[] flags, float t)
        {
            int tp = logits.Where((l, i) => Sigmoid(l) >= t && flags[i] > 0).Count();
            int predicted = logits.Count(l => Sigmoid(l) >= t), actual = flags.Count(f => f > 0);
            return 2.0 * tp / (predicted + actual);
        }
        double best = logits0.Select(l => F1(logits0, flags0, Sigmoid(l))).Max();
        Assert.Equal(best, F1(logits0, flags0, thresholds[0]), 12);
        Assert.Equal(0.5f, thresholds[1]);
        Assert.Equal([0.5f, 0.5f], LabelThresholds.Choose(null, 2, 0.5f));
    }

    private sealed class FeatureRow
    {
        [VectorType(3)] public float[] Features { get; set; } = [];
        [VectorType(2)] public float[] Label { get; set; } = [];
    }

    [Fact]
    public void BinaryRelevanceBaseline_LabelsThatTheFeaturesSpellOut_AreAllFound()
    {
        // Label 0 is feature 0, label 1 is feature 1, feature 2 is noise: one logistic regression per label separates them.
        var random = new Random(1);
        FeatureRow Row(int i) { float a = i % 2, b = i / 2 % 2; return new FeatureRow { Features = [a, b, (float)random.NextDouble()], Label = [a, b] }; }
        var ml = new MLContext(1);
        var train = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 200).Select(Row).ToList());
        var test = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(Row).ToList());
        var m = BinaryRelevanceBaseline.Evaluate(ml, train, test, ["a", "b"]);
        Assert.Equal(1.0, m.MicroF1, 6);
        Assert.Equal(1.0, m.SubsetAccuracy, 6);
    }
}
