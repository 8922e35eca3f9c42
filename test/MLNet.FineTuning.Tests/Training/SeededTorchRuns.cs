namespace MLNet.FineTuning.Tests.Training;

/// <summary>
/// Tests that compare seeded runs exactly run alone: weight initialisation and dropout draw from TorchSharp's
/// global generator, which any test on another thread may be drawing from at the same time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SeededTorchRuns
{
    public const string Name = "Seeded TorchSharp runs, alone";
}
