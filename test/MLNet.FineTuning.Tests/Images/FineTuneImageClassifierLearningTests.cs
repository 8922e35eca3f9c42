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

        // Chance is 1/3. This run reaches 0.975; seeds 1-6 of the same budget gave 0.74-0.96. To reach 0.6 a
        // classifier that guesses would need 72 of 120 right: binomial tail probability below 1e-9.
        Assert.True(metrics.MicroAccuracy >= 0.6, $"micro accuracy {metrics.MicroAccuracy:F3}");
    }

    [Fact]
    public void Fit_EfficientNetB0FromScratch_TrainingLossFalls()
    {
        // The second backbone through the whole loop (catalog, layer groups, stochastic depth, export): no EfficientNet
        // weights ship, so it trains from torchvision's initialisation on the shared rows, and its training loss must
        // fall. Probe (2026-12-05): by epoch 1.272, 1.172, 0.639, 0.293, 0.557, 0.117. Test accuracy stays at chance
        // (0.333): 36 images from scratch fit the training rows without features that carry to new ones, which is why the
        // catalog's EfficientNets want a weights file (WeightsPath) for real use.
        var options = ThreeClassModel.Options(usePretrainedWeights: false);
        options.Backbone = "efficientnet_b0";
        options.Epochs = 6;
        using var model = fixture.Ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options).Fit(fixture.Train);

        var epochs = model.History.Where(p => p.IsEpochEnd).ToArray();
        var metrics = fixture.Ml.MulticlassClassification.Evaluate(model.Transform(fixture.Test));
        output.WriteLine($"train loss by epoch {string.Join(", ", epochs.Select(e => e.TrainLoss.ToString("F3")))}; " +
                         $"test accuracy {metrics.MicroAccuracy:F3}, log-loss {metrics.LogLoss:F3}");

        Assert.Equal(options.Epochs, epochs.Length);
        Assert.True(epochs[^1].TrainLoss < 0.7 * epochs[0].TrainLoss, $"train loss {epochs[0].TrainLoss:F3} -> {epochs[^1].TrainLoss:F3}");
    }

    [Fact]
    public void Fit_PretrainedFeatures_BeatRandomFeatures_WithTheBackboneFrozen()
    {
        // What transfer learning rests on, measured where training noise cannot hide it: the backbone frozen for the
        // whole run (a linear probe on its features), the same budget otherwise. A full fine-tune of a random network on
        // these 36 images is too noisy to compare with: over seeds 1-6 it reached 0.33-0.98 accuracy (log-loss
        // 0.08-6.0), depending mostly on the head's dropout draws. Probes (2026-12-05): this run, pretrained 0.983 accuracy,
        // log-loss 0.10, random 0.79, 0.68; with other dropout draws (seeds 1-3) pretrained 0.975-0.992 and 0.08-0.10,
        // random 0.57-0.73 and 0.78-1.06 (ln 3 = 1.10 is a uniform guess).
        var ml = fixture.Ml;
        ITransformer Probe(bool pretrained)
        {
            var options = ThreeClassModel.Options(usePretrainedWeights: pretrained);
            options.FreezeBackboneEpochs = options.Epochs;
            return ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options).Fit(fixture.Train);
        }
        using var pretrainedProbe = (FineTuneImageClassifierTransformer)Probe(pretrained: true);
        using var randomProbe = (FineTuneImageClassifierTransformer)Probe(pretrained: false);

        var pretrained = ml.MulticlassClassification.Evaluate(pretrainedProbe.Transform(fixture.Test));
        var random = ml.MulticlassClassification.Evaluate(randomProbe.Transform(fixture.Test));
        output.WriteLine($"pretrained features: accuracy {pretrained.MicroAccuracy:F3}, log-loss {pretrained.LogLoss:F3}; " +
                         $"random features: accuracy {random.MicroAccuracy:F3}, log-loss {random.LogLoss:F3}");

        Assert.True(pretrained.LogLoss + 0.4 <= random.LogLoss, $"log-loss pretrained {pretrained.LogLoss:F3}, random {random.LogLoss:F3}");
        Assert.True(pretrained.MicroAccuracy >= random.MicroAccuracy + 0.15,
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
        // the ones that reach it, and must still have learnt (this run: 0.79, α 0.8 chosen; the fixture's plain run 0.975).
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

    [Fact]
    public void Fit_ValidationSetKeyedOnItsOwnRows_IsScoredAgainstTheTrainingClasses()
    {
        // The test rows as a ValidationSet whose MapValueToKey was fitted on them alone, in reverse: Sneaker is key 1
        // there and key 3 in training. Validated by position, a model as good as the fixture's (0.975 on these rows)
        // scores about a third (only Bag, the middle key, agrees): the best epoch, early stopping and the automatic
        // recipe would choose on that. By class name, validation sees the model's real accuracy.
        var options = ThreeClassModel.Options(usePretrainedWeights: true);
        var progress = new MLNet.FineTuning.Tests.Training.ProgressLog();
        options.Progress = progress;
        options.ValidationSet = TestData.Load(fixture.Ml, fixture.TestRows.Reverse());
        using var model = fixture.Ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options).Fit(fixture.Train);

        var validation = progress.Reports.Where(r => r.IsEpochEnd).Select(r => r.ValidationAccuracy!.Value).ToArray();
        var test = fixture.Ml.MulticlassClassification.Evaluate(model.Transform(fixture.Test)).MicroAccuracy;
        output.WriteLine($"validation accuracy by epoch {string.Join(", ", validation.Select(a => a.ToString("F3")))}; test rows keyed as training {test:F3}");
        Assert.True(validation.Max() >= 0.6, $"best validation accuracy {validation.Max():F3}");
        Assert.Equal(test, validation.Max(), 3);     // the same rows and the best epoch's weights, kept: only the key differs
    }
}
