using Microsoft.ML;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Tests.Pretrained;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Images;

/// <summary>
/// The channels-last layout's plumbing (<c>ChannelsLast</c>, meant for CUDA): kernels take the layout and give it back
/// with every value kept, checkpoints written from such kernels hold the model's weights, and the fitted model is
/// contiguous again. Checked on the CPU through the tests-only switch; no test here compares the two layouts' training
/// numerically, because on some processors libtorch's CPU convolution is wrong in this layout (docs/benchmarks.md).
/// </summary>
public class ChannelsLastTests
{
    [Fact]
    public void ApplyThenUndo_ResNet_KeepsEveryValueAndSwitchesTheLayout()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var backbone = PretrainedCatalog.GetImageBackbone(PretrainedCatalog.ResNet18MlNet).CreateRandom(32);
        var before = backbone.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var kernels = backbone.named_parameters().Where(p => p.parameter.dim() == 4).Select(p => p.name).ToHashSet();
        Assert.NotEmpty(kernels);

        ChannelsLast.Apply(backbone);
        foreach (var (name, p) in backbone.named_parameters())
        {
            Assert.Equal(kernels.Contains(name), ChannelsLast.Is(p));
            Assert.True(p.allclose(before[name], rtol: 0, atol: 0), name);
        }

        ChannelsLast.Undo(backbone);
        foreach (var (name, p) in backbone.named_parameters())
        {
            Assert.True(p.is_contiguous(), name);
            Assert.True(p.allclose(before[name], rtol: 0, atol: 0), name);
        }
        foreach (var t in before.Values) t.Dispose();
    }

    [Theory]
    [InlineData(TrainingPrecision.Float32)]
    [InlineData(TrainingPrecision.BFloat16)]   // the CUDA default: bf16 copies of the kernels, fp32 masters
    public void Fit_ChannelsLastOnTheCpu_CheckpointHoldsTheWeightsAndTheFittedModelIsContiguous(TrainingPrecision precision)
    {
        using var dir = new TempDirectory();
        var ml = new MLContext(seed: 1);
        var train = TestData.Load(ml, TestData.Fashion("train", 6, ThreeClassModel.Classes));
        var options = ThreeClassModel.Options(usePretrainedWeights: true);
        options.Epochs = 1;
        options.Precision = precision;
        options.ChannelsLast = true;
        options.ChannelsLastOnTheCpu = true;
        options.CheckpointDirectory = dir.File("checkpoint");
        var said = new List<string>();
        ml.Log += (_, e) => { lock (said) said.Add(e.Message); };

        using var model = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options).Fit(train);

        Assert.Contains(said, m => m.Contains("channels-last layout for the kernels and batches", StringComparison.Ordinal));
        // The safetensors writer refuses channels-last tensors: the checkpoint was written from contiguous copies, and
        // holds what training ended with (one epoch: the last checkpoint is the fitted weights).
        var saved = TorchSharp.PyBridge.Safetensors.LoadStateDict(Path.Combine(options.CheckpointDirectory, Checkpoint.ModelFile));
        var fitted = model.Model.state_dict();
        Assert.Equal(fitted.Keys.Order(), saved.Keys.Order());
        foreach (var (name, t) in fitted)
            Assert.True(t.allclose(saved[name], rtol: 0, atol: 0), name);
        Assert.All(model.Model.parameters(), p => Assert.True(p.is_contiguous()));
    }

    [Fact]
    public void Fit_ChannelsLastOnTheCpuWithoutTheTestSwitch_TrainsContiguousAndSaysSo()
    {
        var ml = new MLContext(seed: 1);
        var said = new List<string>();
        ml.Log += (_, e) => { lock (said) said.Add(e.Message); };
        var train = TestData.Load(ml, TestData.Fashion("train", 4, ThreeClassModel.Classes));
        var options = ThreeClassModel.Options(usePretrainedWeights: true);
        options.Epochs = 1;
        options.ChannelsLast = true;

        using var model = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options).Fit(train);

        Assert.Contains(said, m => m.Contains("ChannelsLast applies on a CUDA device only", StringComparison.Ordinal));
    }
}
