using Microsoft.ML;
using MLNet.FineTuning.Onnx;

namespace MLNet.FineTuning.Text;

/// <summary>
/// A fitted text model's input steps in its saved chain (docs/text-saved-model.md): public ML.NET components plus the
/// runtime package's stateless mappings, the vocabulary persisted in a MapValue table, ending in the encoder's three
/// inputs; the shared <see cref="OnnxScoringChain"/> follows.
/// </summary>
internal static class TextScoringPipeline
{
    public static ScoringInput Input(MLContext ml, string textColumn, string? pairColumn, IReadOnlyDictionary<string, int> vocabulary,
        bool lowerCase, int maxLength)
    {
        string[] inputs = [BertExporter.InputIdsInput, BertExporter.AttentionMaskInput, BertExporter.TokenTypeIdsInput];
        return new ScoringInput(TextTokenizationPipeline.Build(ml, textColumn, pairColumn, vocabulary, lowerCase, maxLength),
            inputs, inputs.ToDictionary(n => n, _ => new[] { 1, -1 }), []);
    }
}
