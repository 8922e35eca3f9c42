using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

public sealed partial class FineTuneImageClassifier
{
    /// <summary>Options of <see cref="FineTuneImageClassifier"/>: the image options (<see cref="ImageFineTuningOptions"/>) and
    /// the shared training options (<see cref="FineTuningOptions"/>); the label is a key.</summary>
    public sealed class Options : ImageFineTuningOptions
    {
        internal Options Clone() => (Options)MemberwiseClone();
    }
}
