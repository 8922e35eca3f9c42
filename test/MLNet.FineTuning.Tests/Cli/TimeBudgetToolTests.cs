using System.Text.Json;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>`mlnet-finetune image --time-budget`: the automatic recipe through the tool, its trials in finetune.json and
/// the report.</summary>
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
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
