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
    /// <param name="files">The tokenizer's files: which kind of steps, and their settings.</param>
    /// <param name="tokenizer">The tokenizer built from <paramref name="files"/> (its vocabulary goes into the lookup).</param>
    /// <param name="maxLength">Most tokens per row, special tokens included.</param>
    public static ScoringInput Input(MLContext ml, string textColumn, string? pairColumn, TextTokenizerFiles files, ITextTokenizer tokenizer, int maxLength)
    {
        string[] inputs = [BertExporter.InputIdsInput, BertExporter.AttentionMaskInput, BertExporter.TokenTypeIdsInput];
        var steps = tokenizer switch
        {
            RobertaTextTokenizer bpe => ByteLevelBpeTokenizationPipeline.Build(ml, textColumn, pairColumn, bpe.Vocabulary, bpe.Merges, files.AddPrefixSpace, maxLength),
            _ => TextTokenizationPipeline.Build(ml, textColumn, pairColumn, tokenizer.Vocabulary, files.LowerCase, maxLength),
        };
        return new ScoringInput(steps, inputs, inputs.ToDictionary(n => n, _ => new[] { 1, -1 }), []);
    }
}
