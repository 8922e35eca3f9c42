namespace MLNet.FineTuning.Tests.Images;

/// <summary>
/// The tests that share one <see cref="ThreeClassModel"/> (trained once per run). They run alone, so that the
/// seeded runs are not disturbed by other tests drawing from TorchSharp's global generator: the learning
/// tests then see the same seed-1 runs that their thresholds were chosen from.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreeClassModelCollection : ICollectionFixture<ThreeClassModel>
{
    public const string Name = "Three-class pretrained model";
}
