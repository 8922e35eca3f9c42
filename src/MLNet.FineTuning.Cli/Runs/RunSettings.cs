namespace MLNet.FineTuning.Cli.Runs;

/// <summary>What the shared options of a training command resolved to; <see cref="Arguments"/> is the command line
/// as recorded in finetune.json.</summary>
internal sealed record RunSettings(
    string Data, string? Valid, double ValidationFraction, string? Test, string Output,
    bool Force, bool Resume, bool NoBaseline, int Seed, int? Gpu, IReadOnlyDictionary<string, string> Arguments);
