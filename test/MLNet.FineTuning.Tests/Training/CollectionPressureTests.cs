using Microsoft.ML;
using MLNet.FineTuning.Tests.Images;
using MLNet.FineTuning.Tests.Text;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>
/// <c>Fit</c> while another thread makes garbage collections run (<see cref="CollectionPressure"/>): a tensor or scalar
/// that only a finalizer frees, handed to native code as a raw handle, can be freed mid-call, which crashes the process
/// or reads garbage (docs/scalar-lifetime.md). The training loop's steps run inside a dispose scope; these fits also
/// run what does not (building the model, laying kernels and batches out channels-last, the export), and must give the
/// bytes of the same fit without the pressure. The race's window is small: where it shows is the benchmark's
/// <c>tensor-lifetime</c> (the old channels-last relayout, one chain, took a process down within 2-8 s there, while a
/// loop of it in this test host ran 6 s four times without failing), so these check that the paths stay right under
/// collections; they do not reproduce the crash. Alone (<see cref="SeededTorchRuns"/>): they compare two fits
/// exactly, and the pressure would slow the tests beside them.
/// </summary>
[Collection(SeededTorchRuns.Name)]
public class CollectionPressureTests
{
    [Fact]
    public void Fit_ImagesChannelsLastOnTheCpuUnderCollectionPressure_GivesTheSameOnnxBytes()
    {
        var options = ThreeClassModel.Options(usePretrainedWeights: true);
        options.Epochs = 1;
        options.ChannelsLast = true;
        options.ChannelsLastOnTheCpu = true;   // the relayout of kernels and batches, on the CPU (tests only)
        byte[] Fit()
        {
            var ml = new MLContext(seed: 1);
            using var model = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options)
                .Fit(TestData.Load(ml, TestData.Fashion("train", 6, ThreeClassModel.Classes)));
            return model.OnnxModel.ToArray();
        }

        byte[] quiet = Fit();
        byte[] pressed;
        using (new CollectionPressure()) pressed = Fit();

        Assert.True(quiet.AsSpan().SequenceEqual(pressed), "the fit under collection pressure exported other bytes");
    }

    [Fact]
    public void Fit_LoraTextUnderCollectionPressure_GivesTheSameOnnxBytes()
    {
        var rows = LoraTextClassifierSmokeTests.Sport.Select(t => new LoraTextClassifierSmokeTests.Row { Label = "sport", Text = t })
            .Concat(LoraTextClassifierSmokeTests.Food.Select(t => new LoraTextClassifierSmokeTests.Row { Label = "food", Text = t })).ToArray();
        byte[] Fit()
        {
            var ml = new MLContext(seed: 1);
            var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
            using var model = ml.MulticlassClassification.Trainers.LoraTextClassifier(new LoraTextClassifier.Options
            {
                Epochs = 1, BatchSize = 8, MaxSequenceLength = 32, Seed = 1,
            }).Fit(data);
            return model.OnnxModel.ToArray();
        }

        byte[] quiet = Fit();
        byte[] pressed;
        using (new CollectionPressure()) pressed = Fit();

        Assert.True(quiet.AsSpan().SequenceEqual(pressed), "the fit under collection pressure exported other bytes");
    }
}
