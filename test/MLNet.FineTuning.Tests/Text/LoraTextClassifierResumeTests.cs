using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>Exact resume of a text Fit. It compares two seeded runs to the bit, so it runs alone: any test that creates
/// TorchSharp modules on another thread meanwhile draws from the same global generator (Training/SeededTorchRuns).</summary>
[Collection(Training.SeededTorchRuns.Name)]
public sealed class LoraTextClassifierResumeTests
{
    [Fact]
    public void Fit_CancelledInTheMiddleOfAnEpoch_ResumeMatchesUninterruptedRunExactly()
    {
        // LoRA dropout and head dropout both draw in every step; 16 texts in batches of 4: 4 steps an epoch, cut at step 6.
        LoraTextClassifier.Options Options() => new()
        {
            Epochs = 2, BatchSize = 4, MaxSequenceLength = 32, LearningRate = 3e-3, LogEveryNSteps = 1, Seed = 5,
            Dropout = 0.3, HeadDropout = 0.3,
        };
        var ml = new MLContext(seed: 1);
        var rows = LoraTextClassifierSmokeTests.Sport.Select(t => new LoraTextClassifierSmokeTests.Row { Label = "sport", Text = t }).Concat(LoraTextClassifierSmokeTests.Food.Select(t => new LoraTextClassifierSmokeTests.Row { Label = "food", Text = t })).ToArray();
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
        string checkpoint = Path.Combine(Path.GetTempPath(), "lora-resume-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var uninterrupted = new LoraTextClassifier(ml, Options()).Fit(data);

            using var cts = new CancellationTokenSource();
            var cancelled = Options();
            cancelled.CheckpointDirectory = checkpoint;
            cancelled.CancellationToken = cts.Token;
            cancelled.Progress = new Training.ProgressLog(r => { if (!r.IsEpochEnd && r.Step == 6) cts.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() => new LoraTextClassifier(ml, cancelled).Fit(data));

            var resume = Options();
            resume.ResumeFromCheckpoint = checkpoint;
            using var resumed = new LoraTextClassifier(ml, resume).Fit(data);

            Assert.Equal(uninterrupted.Transform(data).GetColumn<float[]>("Score").ToArray(), resumed.Transform(data).GetColumn<float[]>("Score").ToArray());
        }
        finally
        {
            if (Directory.Exists(checkpoint)) Directory.Delete(checkpoint, recursive: true);
        }
    }
}
