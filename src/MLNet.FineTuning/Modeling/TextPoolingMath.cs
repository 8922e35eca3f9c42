using static TorchSharp.torch;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// The one definition of <see cref="TextPooling"/> in TorchSharp: the text classifier trains with it and
/// the ONNX export (Onnx/TextClassifierExporter.cs) writes the same arithmetic, in the same order.
/// </summary>
internal static class TextPoolingMath
{
    /// <summary>
    /// Floor of the token count in <see cref="TextPooling.Mean"/>: a text with no token at all pools to zeros,
    /// not NaN (sentence-transformers clamps with the same 1e-9).
    /// </summary>
    public const float MinTokenCount = 1e-9f;

    /// <summary>Last hidden state [b,s,h] and attention mask [b,s] (1 token, 0 padding; any numeric or bool type) → [b,h].</summary>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public static Tensor Pool(Tensor hidden, Tensor attentionMask, TextPooling pooling)
    {
        if (hidden.dim() != 3 || attentionMask.dim() != 2 || hidden.shape[0] != attentionMask.shape[0] || hidden.shape[1] != attentionMask.shape[1])
            throw new ArgumentException(
                $"Pooling needs hidden states [b,s,h] and a mask [b,s]; got [{string.Join(",", hidden.shape)}] and [{string.Join(",", attentionMask.shape)}].");
        using var scope = NewDisposeScope();
        switch (pooling)
        {
            case TextPooling.Cls:
                return hidden.select(1, 0).MoveToOuterDisposeScope();
            case TextPooling.Mean:
            {
                var mask = attentionMask.to(hidden.dtype);
                var sum = hidden.mul(mask.unsqueeze(-1)).sum(1);
                using var least = KeptScalars.Of(MinTokenCount);
                var count = mask.sum(1, keepdim: true).clamp_min(least);
                return sum.div(count).MoveToOuterDisposeScope();
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown text pooling.");
        }
    }
}
