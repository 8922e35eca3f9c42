using Microsoft.ML;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Text;

/// <summary>
/// A fitted text model's input steps in its saved chain (docs/text-saved-model.md): public ML.NET components plus the
/// runtime package's stateless mappings, the vocabulary persisted in a MapValue table, ending in the encoder's three
/// inputs; the shared <see cref="OnnxScoringChain"/> follows.
/// </summary>
internal static class TextScoringPipeline
{
    /// <param name="ml">The context.</param>
    /// <param name="textColumn">The text column; <paramref name="pairColumn"/> the second text's, or null.</param>
    /// <param name="pairColumn">The second text column of sentence pairs, or null.</param>
    /// <param name="tokenizer">The model's tokenizer: its kind picks the steps, its vocabulary and settings go into them.</param>
    /// <param name="maxLength">Most tokens per row, special tokens included.</param>
    public static ScoringInput Input(MLContext ml, string textColumn, string? pairColumn, ITextTokenizer tokenizer, int maxLength)
    {
        string[] inputs = [BertExporter.InputIdsInput, BertExporter.AttentionMaskInput, BertExporter.TokenTypeIdsInput];
        var steps = tokenizer switch
        {
            RobertaTextTokenizer bpe => ByteLevelBpeTokenizationPipeline.Build(ml, textColumn, pairColumn, bpe.Vocabulary, bpe.Merges, bpe.AddPrefixSpace, maxLength),
            BertTextTokenizer wordPiece => TextTokenizationPipeline.Build(ml, textColumn, pairColumn, wordPiece.Vocabulary, wordPiece.LowerCase, maxLength),
            _ => throw new NotSupportedException($"No saved-model tokenization steps for {tokenizer.GetType().Name}."),
        };
        return new ScoringInput(steps, inputs, inputs.ToDictionary(n => n, _ => new[] { 1, -1 }), []);
    }
}
