namespace MLNet.FineTuning.Modeling;

/// <summary>
/// How a text classifier turns the encoder's last hidden state [batch, sequence, hidden] into one vector
/// per text [batch, hidden] for its head.
/// </summary>
/// <remarks>
/// MiniLM-L6 (all-MiniLM-L6-v2) was trained by sentence-transformers with mean pooling, so its token
/// vectors are meant to be averaged and <see cref="Mean"/> is the default for it; its first token was never
/// trained as a sentence summary. <see cref="Cls"/> suits BERT checkpoints fine-tuned the original way.
/// </remarks>
public enum TextPooling
{
    /// <summary>The hidden state of the first token (<c>[CLS]</c>), as the original BERT classifier uses.</summary>
    Cls,

    /// <summary>
    /// The mean of the hidden states of the real tokens: sum(h·mask) / max(sum(mask), 1e-9) over the sequence,
    /// so padding never counts (sentence-transformers' mean pooling). The default for MiniLM-L6.
    /// </summary>
    Mean,
}
