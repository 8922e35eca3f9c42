using System.Text.Json;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>
/// The epoch reports and learning rates of a run so far, kept beside its checkpoint (rewritten atomically at each
/// epoch end) so that a resumed run's finetune.json and report show the whole run, not only what came after the
/// resume. The checkpoint folder itself is swapped whole by the training loop, so the file lives next to it.
/// </summary>
internal sealed record ProgressHistory(List<TrainingProgress> Epochs, List<ProgressHistory.RatePoint> Rates)
{
    public sealed record RatePoint(long Step, double Rate);

    // A regression or multi-label run reports its accuracy as NaN, which plain JSON numbers cannot hold.
    static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static ProgressHistory Empty() => new([], []);

    /// <summary>The history a stopped run left, or an empty one (none was written, or it cannot be read: the
    /// curves then start at the resume, which the report says).</summary>
    public static ProgressHistory Load(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<ProgressHistory>(File.ReadAllText(path), Json) ?? Empty() : Empty();
        }
        catch (JsonException)
        {
            return Empty();
        }
    }

    public void Save(string path) =>
        AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this, Json), "training progress");

    /// <summary>A report from the resumed run replaces what the stopped run had recorded from that point on (a run
    /// stopped in the middle of an epoch ends that epoch again after the resume).</summary>
    public void Add(TrainingProgress p)
    {
        if (Rates.Count > 0 && Rates[^1].Step >= p.Step) Rates.RemoveAll(r => r.Step >= p.Step);
        Rates.Add(new RatePoint(p.Step, p.LearningRate));
        if (!p.IsEpochEnd) return;
        Epochs.RemoveAll(e => e.Epoch >= p.Epoch);
        Epochs.Add(p);
    }
}
