using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLNet.FineTuning.Cli.Evaluation;

/// <summary>metrics.json: the fine-tuned model and the ML.NET-only baseline on the same evaluation rows.</summary>
internal sealed record MetricsFile(
    string EvaluatedOn, int Rows, IReadOnlyList<string> Classes, ClassificationReport FineTuned, ClassificationReport? Baseline)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,   // log-loss can be infinite
    };

    public void Write(string path) => AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this, Json), "metrics file");

    public static MetricsFile Read(string path) =>
        JsonSerializer.Deserialize<MetricsFile>(File.ReadAllBytes(path), Json) ?? throw new InvalidDataException($"'{path}' is not a metrics file.");
}
