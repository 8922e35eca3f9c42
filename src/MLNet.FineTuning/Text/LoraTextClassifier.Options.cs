namespace MLNet.FineTuning;

public sealed partial class LoraTextClassifier
{
    /// <summary>Options of <see cref="LoraTextClassifier"/>: the text options (<see cref="TextFineTuningOptions"/>) and the
    /// shared training options (<see cref="Training.FineTuningOptions"/>); the label is a key.</summary>
    public sealed class Options : TextFineTuningOptions
    {
        internal Options Clone() => (Options)MemberwiseClone();
    }
}
