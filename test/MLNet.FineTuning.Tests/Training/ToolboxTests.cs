using System.Text.Json.Nodes;
using MLNet.FineTuning.Images;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Tests.Modeling;
using MLNet.FineTuning.Tests.Pretrained;
using MLNet.FineTuning.Text;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>The fine-tuning toolbox in the loop, on the tiny network: weight interpolation (WiSE-FT), the moving average
/// of the weights, L2-SP. Each test compares against a figure the option must change.</summary>
public class ToolboxTests
{
    private static FineTuneImageClassifier.Options Options(int epochs = 3) => new()
    {
        Epochs = epochs, BatchSize = 8, LearningRate = 3e-2, HeadDropout = 0, LogEveryNSteps = 1,
    };

    private static (Dictionary<string, float[]> Start, Dictionary<string, float[]> End, TrainingResult Result) Train(
        FineTuningOptions options, IBatchSource? validation = null, TinyFineTunable? model = null)
    {
        model ??= new TinyFineTunable(3);
        var start = model.Weights();
        var result = new TrainingLoop(options, CPU, null, () => new JsonObject()).Run(model, new SyntheticBatches(32, 8), validation);
        return (start, model.Weights(), result);
    }

    private static void Near(float[] expected, float[] actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], tolerance);
    }

    private static double Distance(float[] a, float[] b) => Math.Sqrt(a.Zip(b).Sum(p => (p.First - p.Second) * (p.First - p.Second)));

    [Fact]
    public void Run_WeightInterpolation_BlendsTheBackboneBetweenStartAndFineTunedAndKeepsTheHead()
    {
        var (start, tuned, plain) = Train(Options());
        var at0 = Options(); at0.WeightInterpolation = 0;
        var half = Options(); half.WeightInterpolation = 0.5;

        var (_, zero, r0) = Train(at0);
        var (_, mid, _) = Train(half);

        Assert.Equal(1, plain.WeightInterpolation);
        Assert.Equal(0, r0.WeightInterpolation);
        foreach (var name in new[] { "backbone.weight", "backbone.bias" })
        {
            Assert.Equal(start[name], zero[name]);   // α = 0: the starting backbone exactly
            Assert.True(Distance(start[name], tuned[name]) > 0.05, "training moved the backbone");
            Near(start[name].Zip(tuned[name], (s, t) => s + 0.5f * (t - s)).ToArray(), mid[name]);
        }
        Near(tuned["head.weight"], zero["head.weight"]);   // the head is the fine-tuned one whatever α
    }

    [Fact]
    public void Run_ChooseWeightInterpolation_KeepsTheAlphaValidationLikesBest()
    {
        // Validation call 0 is the epoch end; calls 1–10 score α = 0.1 … 1.0: the script makes α = 0.3 the best.
        var model = new TinyFineTunable(3);
        var accuracies = new[] { 0.5, 0.25, 0.25, 1, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.75 };
        var options = Options(epochs: 1);
        options.ChooseWeightInterpolation = true;

        var (start, end, result) = Train(options, new ScriptedValidation(model, accuracies), model);

        Assert.Equal(0.3, result.WeightInterpolation, 9);
        Assert.NotEqual(start["backbone.weight"], end["backbone.weight"]);
    }

    [Fact]
    public void Options_ChooseWeightInterpolationWithoutValidation_ThrowsNamingTheOption()
    {
        var e = Assert.Throws<ArgumentException>(() => new FineTuneImageClassifier(new Microsoft.ML.MLContext(1),
            new FineTuneImageClassifier.Options { ChooseWeightInterpolation = true }));
        Assert.Equal(nameof(FineTuningOptions.ChooseWeightInterpolation), e.ParamName);
    }

    [Fact]
    public void Run_WeightAverage_KeepsTheMovingAverageOfTheStepsNotTheLastWeights()
    {
        // The raw weights after every step come from the step reports; the average is recomputed from them by hand.
        var model = new TinyFineTunable(3);
        var steps = new List<Dictionary<string, float[]>>();
        var options = Options();
        options.WeightAverageDecay = 0.9;
        options.Progress = new ProgressLog(r => { if (!r.IsEpochEnd) steps.Add(model.Weights()); });

        var (start, end, _) = Train(options, model: model);

        Assert.Equal(12, steps.Count);   // 4 steps × 3 epochs
        foreach (var name in start.Keys)
        {
            var average = start[name].Select(x => (double)x).ToArray();
            for (int t = 1; t <= steps.Count; t++)
            {
                double d = WeightAverage.DecayAt(0.9, t);
                for (int i = 0; i < average.Length; i++) average[i] = d * average[i] + (1 - d) * steps[t - 1][name][i];
            }
            Near(average.Select(x => (float)x).ToArray(), end[name]);
            Assert.True(Distance(steps[^1][name], end[name]) > 1e-3, $"{name}: the average differs from the last raw weights");
        }
    }

    [Fact]
    public void Run_WeightAverageWithCheckpoints_SavesTheAverage()
    {
        using var dir = new TempDirectory();
        var options = Options(epochs: 1);
        options.WeightAverageDecay = 0.99;
        options.CheckpointDirectory = dir.Path;

        Train(options);

        Assert.True(File.Exists(dir.File(Checkpoint.AverageFile)));
    }

    [Fact]
    public void Run_PretrainedWeightDecay_HoldsTheBackboneNearItsStart()
    {
        // Constant rate r and strength 1/r: each step's pull undoes the whole step, so the backbone never moves; a
        // tenth of that keeps it closer than plain training does. The head trains either way.
        var plainOptions = Options();
        plainOptions.Schedule = LearningRateSchedule.Constant;
        var (start, plain, _) = Train(plainOptions);
        var full = Options(); full.Schedule = LearningRateSchedule.Constant; full.PretrainedWeightDecay = 1 / full.LearningRate;
        var some = Options(); some.Schedule = LearningRateSchedule.Constant; some.PretrainedWeightDecay = 0.1 / some.LearningRate;

        var (_, held, _) = Train(full);
        var (_, pulled, _) = Train(some);

        Near(start["backbone.weight"], held["backbone.weight"], 1e-6);
        Assert.True(Distance(start["head.weight"], held["head.weight"]) > 0.05, "the head still trains");
        double free = Distance(start["backbone.weight"], plain["backbone.weight"]), near = Distance(start["backbone.weight"], pulled["backbone.weight"]);
        Assert.True(near < 0.8 * free, $"pulled {near} vs free {free}");
    }
}

/// <summary>The tiny network with its backbone split in two layer groups: the weight matrix (0) below the bias (1).</summary>
internal sealed class LayeredTiny(TinyFineTunable inner) : IFineTunable
{
    public TinyFineTunable Inner => inner;
    public nn.Module Module => inner.Module;
    public IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> BackboneParameters => inner.BackboneParameters;
    public IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> HeadParameters => inner.HeadParameters;
    public IReadOnlyList<string> InterpolatedState => inner.InterpolatedState;
    public int LayerCount => 2;
    public int LayerOf(string backboneParameterName) => backboneParameterName == "backbone.weight" ? 0 : 1;
    public void SetTrainingMode(bool backboneFrozen) => inner.SetTrainingMode(backboneFrozen);
    public Tensor Forward(Tensor[] inputs) => inner.Forward(inputs);
}

public class LayerwiseTests
{
    private static FineTuneImageClassifier.Options Options(int epochs) => new()
    {
        Epochs = epochs, BatchSize = 8, LearningRate = 1e-2, HeadDropout = 0, WeightDecay = 0, GradientClipNorm = 0,
        Schedule = LearningRateSchedule.Constant, WarmupFraction = 0, LogEveryNSteps = 1,
    };

    private static float MaxChange(float[] before, float[] after) => before.Zip(after).Max(p => Math.Abs(p.First - p.Second));

    [Fact]
    public void Run_LayerwiseDecay_StepsTheLowerGroupByTheFactor()
    {
        // AdamW's first step moves every weight by its rate (m / √v = ±1), so one step shows each group's rate.
        var model = new LayeredTiny(new TinyFineTunable(5));
        var before = model.Inner.Weights();
        var options = Options(epochs: 1);
        options.LayerwiseLearningRateDecay = 0.5;

        new TrainingLoop(options, CPU, null, () => new JsonObject()).Run(model, new SyntheticBatches(8, 8), null);

        var after = model.Inner.Weights();
        Assert.Equal(0.5 * 1e-2, MaxChange(before["backbone.weight"], after["backbone.weight"]), 1e-5);
        Assert.Equal(1e-2, MaxChange(before["backbone.bias"], after["backbone.bias"]), 1e-5);
        Assert.Equal(1e-2, MaxChange(before["head.weight"], after["head.weight"]), 1e-5);
    }

    [Fact]
    public void Run_GradualUnfreezing_TrainsTheTopGroupFirstThenOneMorePerEpoch()
    {
        var model = new LayeredTiny(new TinyFineTunable(5));
        var atEpochEnd = new List<Dictionary<string, float[]>> { model.Inner.Weights() };
        var options = Options(epochs: 3);
        options.FreezeBackboneEpochs = 1;
        options.GradualUnfreezing = true;
        options.Progress = new ProgressLog(r => { if (r.IsEpochEnd) atEpochEnd.Add(model.Inner.Weights()); });

        new TrainingLoop(options, CPU, null, () => new JsonObject()).Run(model, new SyntheticBatches(16, 8), null);

        // epoch 1: head only; epoch 2: the top group (bias) too; epoch 3: the weight matrix as well
        Assert.Equal(atEpochEnd[0]["backbone.bias"], atEpochEnd[1]["backbone.bias"]);
        Assert.NotEqual(atEpochEnd[0]["head.weight"], atEpochEnd[1]["head.weight"]);
        Assert.NotEqual(atEpochEnd[1]["backbone.bias"], atEpochEnd[2]["backbone.bias"]);
        Assert.Equal(atEpochEnd[1]["backbone.weight"], atEpochEnd[2]["backbone.weight"]);
        Assert.NotEqual(atEpochEnd[2]["backbone.weight"], atEpochEnd[3]["backbone.weight"]);
    }

    [Fact]
    public void LayerOf_ResNetAndBert_CountStagesAndLayersFromTheInput()
    {
        using var resnet = new Classifier(new ResNet(bottleneck: false, [2, 2, 2, 2]), new ClassifierHead(512, 2, 0));
        var image = new ImageFineTunable(resnet, ImagePreprocessing.ImageNet, false);
        var imageLayers = image.BackboneParameters.ToDictionary(p => p.Name, p => image.LayerOf(p.Name));
        Assert.Equal(0, imageLayers["backbone.conv1.weight"]);
        Assert.Equal(1, imageLayers["backbone.layer1.0.conv1.weight"]);
        Assert.Equal(4, imageLayers["backbone.layer4.1.bn2.bias"]);
        Assert.Equal(Enumerable.Range(0, 5), imageLayers.Values.Distinct().Order());

        using var encoder = new BertEncoder(BertTestKit.Tiny, addPoolingLayer: true);
        using var text = new TextClassifier(encoder, TextPooling.Cls, new ClassifierHead(32, 2, 0));
        var tunable = new TextFineTunable(text, lora: null);
        var textLayers = tunable.BackboneParameters.ToDictionary(p => p.Name, p => tunable.LayerOf(p.Name));
        Assert.Equal(0, textLayers.Single(kv => kv.Key.Contains("word_embeddings")).Value);
        Assert.Equal(1, textLayers.First(kv => kv.Key.StartsWith("encoder.encoder.layer.0.")).Value);
        Assert.Equal(tunable.LayerCount - 1, textLayers.First(kv => kv.Key.StartsWith("encoder.pooler.")).Value);
        Assert.Equal(Enumerable.Range(0, tunable.LayerCount), textLayers.Values.Distinct().Order());
    }
}

public class BatchMixingTests
{
    /// <summary>n distinct 3×8×8 images of 0..255 pixels, as the image batch source serves them.</summary>
    private static Tensor Images(int n = 6) => arange(n * 3 * 8 * 8, dtype: int64).mul(7).remainder(251).reshape(n, 3, 8, 8).to(uint8);

    [Fact]
    public void Mix_Mixup_BlendsEachImageWithItsPartnerByLambda()
    {
        using var scope = NewDisposeScope();   // holds Mix's temporaries (it relies on its caller's scope) and the test's own
        using var x = Images();
        using var labels = tensor(new long[] { 0, 1, 2, 3, 4, 5 });
        var (mixed, other, lambda) = new BatchMixing(0.4, 0).Mix(x, labels, seed: 1, epoch: 0, batch: 3);

        Assert.InRange(lambda, 0, 1);
        var partner = other.data<long>().ToArray();
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), partner.Order());   // a permutation of the batch
        var xf = x.to(float32);
        for (int i = 0; i < 6; i++)
        {
            var expected = xf[i].mul(lambda).add(xf[partner[i]].mul(1 - lambda));
            Assert.True(allclose(expected, mixed[i], rtol: 1e-5, atol: 1e-3), $"image {i}");
        }
        // the same seed, epoch and batch replay the same draws; another batch does not
        Assert.Equal(lambda, new BatchMixing(0.4, 0).Mix(x, labels, 1, 0, 3).Lambda);
        Assert.NotEqual(lambda, new BatchMixing(0.4, 0).Mix(x, labels, 1, 0, 4).Lambda);
    }

    [Fact]
    public void Mix_CutMix_PastesABoxWhoseAreaIsOneMinusLambda()
    {
        using var scope = NewDisposeScope();   // holds Mix's temporaries (it relies on its caller's scope) and the test's own
        using var x = Images();
        using var labels = tensor(new long[] { 0, 1, 2, 3, 4, 5 });
        for (int batch = 0; batch < 10; batch++)
        {
            var (mixed, other, lambda) = new BatchMixing(0, 1).Mix(x, labels, seed: 2, epoch: 1, batch);
            var partner = other.data<long>().ToArray();
            var xf = x.to(float32);
            for (int i = 0; i < 6; i++)
            {
                if (partner[i] == i) continue;
                // every pixel is the image's own or its partner's, and the partner's share is 1 − λ
                var own = mixed[i].eq(xf[i]).all(0);
                var theirs = mixed[i].eq(xf[partner[i]]).all(0);
                Assert.True(own.logical_or(theirs).all().item<bool>());
                double share = theirs.logical_and(own.logical_not()).to(float32).mean().item<float>();
                Assert.True(Math.Abs(1 - lambda - share) < 1e-6, $"batch {batch} image {i}: λ {lambda}, pasted share {share}, own {own.to(float32).mean().item<float>()}");
            }
        }
    }

    [Fact]
    public void Beta_SmallAlphaIsUShapedAndOneIsUniform()
    {
        var rng = new Random(5);
        var small = Enumerable.Range(0, 20000).Select(_ => BatchMixing.Beta(rng, 0.2)).ToArray();
        var one = Enumerable.Range(0, 20000).Select(_ => BatchMixing.Beta(rng, 1)).ToArray();

        Assert.All(small.Concat(one), v => Assert.InRange(v, 0, 1));
        Assert.Equal(0.5, small.Average(), 0.02);
        Assert.Equal(0.5, one.Average(), 0.02);
        // Beta(0.2, 0.2) puts 67.3 % of its mass within 0.1 of the ends (numerical integral); the uniform puts 20 % there.
        Assert.InRange(small.Count(v => v < 0.1 || v > 0.9) / 20000.0, 0.653, 0.693);
        Assert.InRange(one.Count(v => v < 0.1 || v > 0.9) / 20000.0, 0.18, 0.22);
    }
}
