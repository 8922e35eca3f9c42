using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLNet.FineTuning.Cli.Evaluation;

/// <summary>metrics.json: the fine-tuned model and the ML.NET-only baseline on the same evaluation rows, each as its
/// task reports it (<see cref="ClassificationReport"/>, <see cref="RegressionReport"/>, <see cref="LabelSetReport"/>;
/// declared as object so that each is written with its own fields).</summary>
internal sealed record MetricsFile(
    string Task, string EvaluatedOn, int Rows, IReadOnlyList<string> Classes, object FineTuned, object? Baseline)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,   // log-loss can be infinite
    };

    public void Write(string path) => AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this, Json), "metrics file");
}
