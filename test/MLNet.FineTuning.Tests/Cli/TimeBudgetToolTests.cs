using System.Text.Json;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>`mlnet-finetune image --time-budget`: the automatic recipe through the tool, its trials in finetune.json and
/// the report, and `train --config` replaying the recipe it kept.</summary>
public sealed class TimeBudgetToolTests
{
    [Fact]
    public void Image_WithATimeBudget_RecordsAndReportsEveryTrial_AndTheOneKept()
    {
        string root = Directory.CreateTempSubdirectory("mlnet-finetune-budget-").FullName;
        try
        {
            // 3 classes × 16 images at 32 px: the whole search (range test, 8 one-epoch trials, the halving, the final run)
            // takes about 20 s on 2 cores, so 2 minutes leave room for a loaded machine.
            string output = Path.Combine(root, "out");
            var result = Tool.Run("image", "--data", Tool.ImageFolder(root, "train", 16), "--test", Tool.ImageFolder(root, "test", 8), "--output", output,
                                  "--image-size", "32", "--epochs", "2", "--batch-size", "16", "--time-budget", "2", "--no-baseline");
            Assert.True(result.ExitCode == 0, result.ToString());

            using var record = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "finetune.json")));
            Assert.Equal("00:02:00", record.RootElement.GetProperty("options").GetProperty("TimeBudget").GetString());
            var search = record.RootElement.GetProperty("search");
            var trials = search.GetProperty("trials").EnumerateArray().ToArray();
            Assert.True(trials.Length >= 3, $"{trials.Length} runs: {search}");   // at least two candidates compared, then the final run
            Assert.All(trials[..^1], t => Assert.Equal(JsonValueKind.Number, t.GetProperty("validation").ValueKind));
            string kept = search.GetProperty("kept").GetProperty("recipe").GetString()!;
            Assert.Contains(kept, trials.Select(t => t.GetProperty("recipe").GetString()));
            Assert.True(search.GetProperty("seconds").GetDouble() > 0);

            string report = File.ReadAllText(Path.Combine(output, "report.md"));
            Assert.Contains("Automatic recipe", report);
            Assert.Contains($"kept: {kept}", report);
            Assert.All(trials, t => Assert.Contains(t.GetProperty("recipe").GetString()!, report));
            Assert.Contains("trains that recipe again without a search", report);

            // train --config trains the kept recipe again, without a search, to the same model; the record of the rerun
            // gives that recipe as options, which the report's options show as the settings the model trained with.
            string again = Path.Combine(root, "again");
            var rerun = Tool.Run("train", "--config", Path.Combine(output, "finetune.json"), "--output", again);
            Assert.True(rerun.ExitCode == 0, rerun.ToString());
            Assert.Contains($"replaying the recipe the search kept ({kept})", rerun.Output);
            Assert.True(File.ReadAllBytes(Path.Combine(output, "model.onnx")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(again, "model.onnx"))),
                        "the replay's model.onnx differs from the budget run's");
            using var replayed = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(again, "finetune.json")));
            var arguments = replayed.RootElement.GetProperty("arguments");
            Assert.False(arguments.TryGetProperty("--time-budget", out _), arguments.ToString());
            var keptOptions = record.RootElement.GetProperty("options");
            Assert.Equal(keptOptions.GetProperty("LearningRate").GetDouble(), double.Parse(arguments.GetProperty("--learning-rate").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(keptOptions.GetProperty("Augmentation").GetString(), arguments.GetProperty("--augmentation").GetString());
            Assert.False(replayed.RootElement.TryGetProperty("search", out _));
            foreach (var name in new[] { "LearningRate", "LayerwiseLearningRateDecay", "Augmentation", "Epochs" })
                Assert.Equal(keptOptions.GetProperty(name).ToString(), replayed.RootElement.GetProperty("options").GetProperty(name).ToString());

            // A kept recipe that sets what the tool has no option for is refused before anything is written, never
            // replayed as something else.
            var edited = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(output, "finetune.json")))!;
            edited["search"]!["kept"]!["recipe"] = "lr=0.001, bb=0.5";
            string editedPath = Path.Combine(root, "edited.json");
            File.WriteAllText(editedPath, edited.ToJsonString());
            var refused = Tool.Run("train", "--config", editedPath, "--output", Path.Combine(root, "refused"));
            Assert.True(refused.ExitCode == 1, refused.ToString());
            Assert.Contains("'bb'", refused.Error);
            Assert.Contains("--search-again", refused.Error);
            Assert.False(Directory.Exists(Path.Combine(root, "refused")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
