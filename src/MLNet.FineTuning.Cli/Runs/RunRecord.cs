using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLNet.FineTuning.Cli.Evaluation;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>What the data of a run held: the class or label names (none for a regression), the labels in a phrase,
/// the inputs in a phrase.</summary>
internal sealed record DataSummary(int TrainRows, int ValidationRows, int TestRows, IReadOnlyList<string> Classes, string Labels, string Inputs);

/// <summary>One epoch of training as the record keeps it (the report's curves are drawn from these).</summary>
internal sealed record EpochRecord(int Epoch, double TrainLoss, double TrainAccuracy, double LearningRate, double? ValidationLoss, double? ValidationAccuracy, double SamplesPerSecond);

/// <summary>
/// finetune.json: the fully resolved run. <see cref="Arguments"/> is the command line (every option given, paths
/// absolute) that <c>train --config</c> runs again; <see cref="Options"/> is every estimator option with the value
/// the model trained with, library defaults included (with <c>--time-budget</c>: the recipe the search kept); then
/// the data, the package versions, the machine, the times, the headline metrics of the task (e.g. micro and macro
/// accuracy, R², micro F1) for the model and the baseline, and with <c>--time-budget</c> what the automatic recipe
/// tried and kept.
/// </summary>
internal sealed record RunRecord(
    string Tool, string Command, string Task, IReadOnlyDictionary<string, string> Arguments, JsonObject Options, DataSummary Data,
    IReadOnlyList<EpochRecord> Epochs, IReadOnlyDictionary<string, string> Packages, IReadOnlyDictionary<string, string> Machine,
    DateTimeOffset Started, DateTimeOffset Finished, string EvaluatedOn, IReadOnlyDictionary<string, double> Result,
    IReadOnlyDictionary<string, double>? BaselineResult, SearchRecord? Search = null)
{
    public static RunRecord Create(string command, string task, RunSettings settings, FineTuningOptions options, DataSummary data,
                                   IReadOnlyList<TrainingProgress> epochs, RecipeSearchResult? search, string evaluatedOn, TaskOutcome outcome,
                                   DateTimeOffset started, DateTimeOffset finished, int? gpu) =>
        new($"mlnet-finetune {Version(typeof(RunRecord).Assembly)}", command, task, settings.Arguments, TrainedWith(options, search), data,
            [.. epochs.Select(e => new EpochRecord(e.Epoch, e.TrainLoss, e.TrainAccuracy, e.LearningRate, e.ValidationLoss, e.ValidationAccuracy, e.SamplesPerSecond))],
            PackageVersions(), MachineOf(gpu), started, finished, evaluatedOn, outcome.Headline, outcome.BaselineHeadline, SearchRecord.Of(search));

    public void Write(string path) => AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this, MetricsFile.Json), "run record");

    public static RunRecord Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<RunRecord>(File.ReadAllBytes(path), MetricsFile.Json) ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new UserError($"--config: '{path}' is not a finetune.json that mlnet-finetune wrote ({e.Message}).");
        }
    }

    // What the model trained with: the options given, or with --time-budget the recipe the search kept (its rate, decay,
    // augmentation, ...), with the budget it searched in; train --config replays that recipe.
    static JsonObject TrainedWith(FineTuningOptions given, RecipeSearchResult? search)
    {
        if (search == null) return OptionValues(given);
        var values = OptionValues(search.KeptOptions);
        values[nameof(FineTuningOptions.TimeBudget)] = OptionValues(given)[nameof(FineTuningOptions.TimeBudget)]?.DeepClone();
        return values;
    }

    // Every option with a plain value (numbers, text, flags, enums, lists of text, time spans); data views, progress
    // sinks and tokens are the run's plumbing, not settings.
    static JsonObject OptionValues(FineTuningOptions options)
    {
        var values = new JsonObject();
        foreach (var p in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (p.Name is nameof(FineTuningOptions.CheckpointDirectory) or nameof(FineTuningOptions.ResumeFromCheckpoint)) continue;
            var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            object? value = p.GetValue(options);
            JsonNode? node = value switch
            {
                null => null,
                string or bool or int or long or float or double => JsonValue.Create(value),
                Enum e => JsonValue.Create(e.ToString()),
                TimeSpan t => JsonValue.Create(t.ToString("c")),
                IEnumerable<string> list => new JsonArray([.. list.Select(s => (JsonNode?)JsonValue.Create(s))]),
                _ => (JsonNode?)null,
            };
            if (node != null || (value == null && (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan))))
                values[p.Name] = node;
        }
        return values;
    }

    static Dictionary<string, string> PackageVersions()
    {
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, type) in new[] {
            ("MLNet.FineTuning", typeof(FineTuningOptions)), ("Microsoft.ML", typeof(Microsoft.ML.MLContext)),
            ("Microsoft.ML.OnnxTransformer", typeof(Microsoft.ML.Transforms.Onnx.OnnxTransformer)), ("TorchSharp", typeof(TorchSharp.torch)) })
            versions[name] = Version(type.Assembly);
        return versions;
    }

    static Dictionary<string, string> MachineOf(int? gpu) => new(StringComparer.Ordinal)
    {
        ["os"] = RuntimeInformation.OSDescription,
        ["architecture"] = RuntimeInformation.ProcessArchitecture.ToString(),
        ["processors"] = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["dotnet"] = RuntimeInformation.FrameworkDescription,
        ["training device"] = gpu is int id ? $"cuda:{id}" : "cpu",
    };

    /// <summary>An assembly's package version (its informational version without the commit suffix).</summary>
    internal static string Version(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "unknown";
}
