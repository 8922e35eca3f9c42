using Microsoft.ML;
using Xunit.Abstractions;

namespace MLNet.FineTuning.Tests.Images;

[Collection(ThreeClassModelCollection.Name)]
public class FineTuneImageClassifierLearningTests(ThreeClassModel fixture, ITestOutputHelper output)
{
    [Fact]
    public void Fit_PretrainedOnThreeClasses_AccuracyAboveChance()
    {
        var metrics = fixture.Ml.MulticlassClassification.Evaluate(fixture.Model.Transform(fixture.Test));
        output.WriteLine($"micro accuracy {metrics.MicroAccuracy:F3}, log-loss {metrics.LogLoss:F3}");

        // Chance is 1/3. This run reaches 0.96; seeds 1-6 of the same budget gave 0.74-0.96. To reach 0.6 a
        // classifier that guesses would need 72 of 120 right: binomial tail probability below 1e-9.
        Assert.True(metrics.MicroAccuracy >= 0.6, $"micro accuracy {metrics.MicroAccuracy:F3}");
    }

    [Fact]
    public void Fit_Pretrained_BeatsRandomInitialisation()
    {
        var ml = fixture.Ml;
        using var scratch = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(ThreeClassModel.Options(usePretrainedWeights: false)).Fit(fixture.Train);

        var pretrained = ml.MulticlassClassification.Evaluate(fixture.Model.Transform(fixture.Test));
        var random = ml.MulticlassClassification.Evaluate(scratch.Transform(fixture.Test));
        output.WriteLine($"pretrained: accuracy {pretrained.MicroAccuracy:F3}, log-loss {pretrained.LogLoss:F3}; " +
                         $"random initialisation: accuracy {random.MicroAccuracy:F3}, log-loss {random.LogLoss:F3}");

        // Held-out log-loss is the robust signal. Seeds 1-6 of this budget: pretrained 0.23-0.68, random
        // initialisation 1.03-1.07 (ln 3 = 1.10: near-uniform probabilities, nothing learnt that carries over
        // to new images); the 0.25 margin holds between any two of those runs. Accuracy separates most runs
        // too (0.74-0.96 against 0.33-0.48), but a random network sometimes sorts these three unlike classes
        // by luck (0.67 in one run with disturbed draws), so it only has to come second.
        Assert.True(pretrained.LogLoss + 0.25 <= random.LogLoss, $"log-loss pretrained {pretrained.LogLoss:F3}, random {random.LogLoss:F3}");
        Assert.True(pretrained.MicroAccuracy > random.MicroAccuracy,
            $"accuracy pretrained {pretrained.MicroAccuracy:F3}, random {random.MicroAccuracy:F3}");
    }

    [Fact]
    public void Fit_BFloat16MixedPrecision_AccuracyAboveChanceWithFp32Export()
    {
        // The CUDA default (bf16 compute, fp32 master weights) run on the CPU with the shared budget: the
        // fitted model is scored through its ONNX export, which is written from fp32 weights, so a model left
        // in bf16 or masters never copied back would fail here or score at chance.
        var options = ThreeClassModel.Options(usePretrainedWeights: true);
        options.Precision = MLNet.FineTuning.Training.TrainingPrecision.BFloat16;
        using var model = fixture.Ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options).Fit(fixture.Train);

        var metrics = fixture.Ml.MulticlassClassification.Evaluate(model.Transform(fixture.Test));
        output.WriteLine($"bf16: micro accuracy {metrics.MicroAccuracy:F3}, log-loss {metrics.LogLoss:F3}");
        Assert.True(metrics.MicroAccuracy >= 0.6, $"micro accuracy {metrics.MicroAccuracy:F3}");
    }

    [Fact]
    public void Fit_WholeToolboxOn_AccuracyAboveChanceThroughTheExport()
    {
        // Mixup and CutMix, the moving average, L2-SP and weight interpolation chosen on a held-out fifth, together, with
        // the shared budget: the model scored here is the ONNX export, so the averaged, interpolated weights must be
        // the ones that reach it, and must still have learnt (this run: 0.79, α 0.8 chosen; the fixture's plain run 0.96).
        var options = ThreeClassModel.Options(usePretrainedWeights: true);
        options.MixupAlpha = 0.2;
        options.CutMixAlpha = 0.2;
        options.WeightAverageDecay = 0.99;
        options.PretrainedWeightDecay = 1;
        options.ValidationFraction = 0.2;
        options.ChooseWeightInterpolation = true;
        using var model = fixture.Ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options).Fit(fixture.Train);

        var metrics = fixture.Ml.MulticlassClassification.Evaluate(model.Transform(fixture.Test));
        output.WriteLine($"toolbox: micro accuracy {metrics.MicroAccuracy:F3}, log-loss {metrics.LogLoss:F3}, α {model.WeightInterpolation}");
        Assert.InRange(model.WeightInterpolation, 0.1, 1);
        Assert.True(metrics.MicroAccuracy >= 0.6, $"micro accuracy {metrics.MicroAccuracy:F3}");
    }
}
