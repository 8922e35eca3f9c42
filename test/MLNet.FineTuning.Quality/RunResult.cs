using System.Text.Json;

namespace MLNet.FineTuning.Quality;

/// <summary>One run of the suite: a data set, a recipe and a seed, trained and scored on the profile's rows. Written as one
/// JSON line per run, so that runs append, resume, and merge across machines (<c>report</c> reads any number of files).</summary>
/// <remarks><c>Chosen</c>: what the run chose itself (the automatic recipe's kept recipe and trial count; the weight
/// interpolation's α). <c>ShiftedMicroAccuracy</c>: accuracy on the shifted copy of the test rows (<see cref="ShiftedTestSet"/>).</remarks>
internal sealed record RunResult(
    string Profile, string Device, string Precision, string DataSet, string Kind, string Recipe, int Seed,
    int TrainRows, int TestRows, int Classes, int Epochs, int InputSize,
    double MicroAccuracy, double MacroAccuracy, double LogLoss, double FitSeconds, double EvalSeconds, string Finished,
    string? Chosen = null, double? ShiftedMicroAccuracy = null)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>Same data set, recipe, seed and settings: a run that need not be repeated.</summary>
    public string Key => $"{Profile}|{Device}|{DataSet}|{Recipe}|{Seed}";

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static IEnumerable<RunResult> Read(string path) =>
        File.Exists(path)
            ? File.ReadLines(path).Where(l => l.Trim().Length > 0).Select(l => JsonSerializer.Deserialize<RunResult>(l, Json)!)
            : [];

    /// <summary>Appends one line and flushes it: a killed run loses only the run in progress.</summary>
    public void Append(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var writer = new StreamWriter(path, append: true);
        writer.WriteLine(ToJson());
    }
}
