using System.Text.Json;
using MLNet.FineTuning.Tests.Pretrained;
using MLNet.FineTuning.Tests.Text;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>`mlnet-finetune text --encoder roberta-folder --encoder-path <folder>` on the two-topic rows with a tiny random
/// RoBERTa folder (<see cref="RobertaFolderFitTests.WriteFolder"/>): the tool writes the RoBERTa tokenizer's files beside
/// model.onnx, and predict on model.onnx answers as on model.zip.</summary>
public sealed class RobertaToolTests
{
    [Fact]
    public void Text_OnARobertaFolder_WritesItsTokenizerFiles_AndModelOnnxPredictsAsModelZip()
    {
        using var dir = new TempDirectory();
        string encoder = Path.Combine(dir.Path, "roberta");
        Directory.CreateDirectory(encoder);
        RobertaFolderFitTests.WriteFolder(encoder);
        var rows = TopicRows.Create(24);
        string data = Path.Combine(dir.Path, "topics.csv");
        File.WriteAllLines(data, ["text,topic", .. rows.Select(r => $"{r.Text},{r.Label}")]);
        string output = Path.Combine(dir.Path, "out");

        var run = Tool.Run("text", "--data", data, "--text-column", "text", "--label-column", "topic", "--encoder", "roberta-folder",
            "--encoder-path", encoder, "--max-length", "16", "--epochs", "12", "--batch-size", "8", "--validation-fraction", "0", "--output", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (var file in new[] { "model.onnx", "vocab.json", "merges.txt", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(output, file)), $"{file} is missing from the output folder");
        Assert.False(File.Exists(Path.Combine(output, "vocab.txt")));
        using (var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "tokenizer_config.json"))))
            Assert.Equal("RobertaTokenizer", config.RootElement.GetProperty("tokenizer_class").GetString());
        string texts = Path.Combine(dir.Path, "texts.txt");
        File.WriteAllLines(texts, rows.Take(6).Select(r => r.Text));
        PredictAnswers.AssertOnnxMatchesZip(output, texts);
    }
}
