using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Runtime.Onnx;
using static TorchSharp.torch;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// Writes a fine-tuned text classifier as ONE ONNX graph from token ids to a label: BERT encoder, pooling,
/// head, softmax, argmax and the class-name lookup. The output contract is <see cref="ImageClassifierExporter"/>'s.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> (inputs)</term><description>int64
/// [batch, sequence], as a BERT tokenizer gives them; both axes symbolic.</description></item>
/// <item><term><c>probabilities</c></term><description>float [batch, K]: softmax of the logits.</description></item>
/// <item><term><c>predicted_index</c></term><description>int64 [batch]: argmax (first on ties).</description></item>
/// <item><term><c>predicted_label</c></term><description>string [batch]: the class name at that index.</description></item>
/// </list>
/// The encoder is written as given: a LoRA model must be merged first (an unmerged layer is refused by name).
/// Reads weights only: the modules' training mode and weights are unchanged.
/// </remarks>
internal static class TextClassifierExporter
{
    /// <summary>Name of the float [batch, K] output.</summary>
    public const string ProbabilitiesOutput = ImageClassifierExporter.ProbabilitiesOutput;

    /// <summary>Name of the int64 [batch] output.</summary>
    public const string PredictedIndexOutput = ImageClassifierExporter.PredictedIndexOutput;

    /// <summary>Name of the string [batch] output.</summary>
    public const string PredictedLabelOutput = ImageClassifierExporter.PredictedLabelOutput;

    /// <summary>Writes the classifier to ONNX bytes.</summary>
    /// <param name="encoder">The (merged) text encoder.</param>
    /// <param name="pooling">How the last hidden state becomes one vector per text; the same as in training (<see cref="TextPoolingMath"/>).</param>
    /// <param name="head">The head; its input size must be the encoder's hidden size.</param>
    /// <param name="classNames">K names, in the order of the head's outputs.</param>
    /// <exception cref="ArgumentException">Sizes disagree (the message gives both numbers), or a class name is null.</exception>
    /// <exception cref="NotSupportedException">A module of the encoder is not what <see cref="BertEncoder"/> builds (named).</exception>
    /// <param name="precision">Float32 (the default) or the dynamically quantized int8 encoder (<see cref="OnnxPrecision.Int8"/>);
    /// the embeddings, pooling, head and softmax stay float32 either way.</param>
    public static byte[] Export(BertEncoder encoder, TextPooling pooling, ClassifierHead head, IReadOnlyList<string> classNames,
        OnnxPrecision precision = OnnxPrecision.Float32) =>
        Export(encoder, pooling, head, classNames, precision switch
        {
            OnnxPrecision.Float32 => BertExporter.Int8Projections.None,
            OnnxPrecision.Int8 => Int8Projections,
            _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown ONNX precision."),
        });

    /// <summary>
    /// The projections <see cref="OnnxPrecision.Int8"/> quantizes: the feed-forward ones, so that ONNX Runtime still fuses
    /// attention (measured, docs/text-saved-model.md).
    /// </summary>
    internal const BertExporter.Int8Projections Int8Projections = BertExporter.Int8Projections.FeedForward;

    /// <summary><see cref="Export(BertEncoder, TextPooling, ClassifierHead, IReadOnlyList{string}, OnnxPrecision)"/> with the
    /// quantized projections chosen one by one (the benchmark compares the choices).</summary>
    internal static byte[] Export(BertEncoder encoder, TextPooling pooling, ClassifierHead head, IReadOnlyList<string> classNames,
        BertExporter.Int8Projections int8, bool textPairs = false) =>
        Export(encoder, pooling, head, new ClassificationOutputs(classNames, ExportedModelContract.TextClassificationTask), int8, textPairs);

    /// <summary>The same graph with the task's outputs (<see cref="ModelOutputs"/>): a regression's <c>score</c>, say.
    /// <paramref name="textPairs"/>: the model was trained on sentence pairs, which the metadata then says
    /// (<see cref="ExportedModelContract.TextPairsKey"/>) so that a service asks for both texts.</summary>
    internal static byte[] Export(BertEncoder encoder, TextPooling pooling, ClassifierHead head, ModelOutputs outputs,
        BertExporter.Int8Projections int8 = BertExporter.Int8Projections.None, bool textPairs = false)
    {
        Check(encoder, pooling, head, outputs);
        using var scope = NewDisposeScope();
        var writer = new OnnxGraphWriter(outputs is ClassificationOutputs ? "text_classifier" : "text_regressor", OnnxGraphWriter.TextOpset);   // ONNX Runtime fuses attention only at opset 12
        var (ids, mask, types) = BertExporter.AddInputs(writer);
        string hidden = BertExporter.Write(writer, encoder, ids, mask, types, int8);
        string features = Pool(writer, hidden, mask, pooling);
        string logits = ClassifierHeadExporter.Write(writer, head, features, "logits");
        outputs.Write(writer, logits);
        if (textPairs) writer.SetMetadata(ExportedModelContract.TextPairsKey, "true");
        return writer.ToBytes();
    }

    /// <summary><see cref="Export(BertEncoder, TextPooling, ClassifierHead, IReadOnlyList{string}, OnnxPrecision)"/>, then writes the bytes to <paramref name="path"/> atomically (see <see cref="AtomicFile"/>).</summary>
    /// <exception cref="IOException">The file could not be written (the message names the path); nothing is left behind.</exception>
    public static void Save(BertEncoder encoder, TextPooling pooling, ClassifierHead head, IReadOnlyList<string> classNames, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var bytes = Export(encoder, pooling, head, classNames);
        AtomicFile.Write(path, bytes, "ONNX model");
    }

    /// <summary><see cref="TextPoolingMath.Pool"/> as ops: [b,s,h] and the int64 mask [b,s] → [b,h].</summary>
    private static string Pool(OnnxGraphWriter w, string hidden, string attentionMask, TextPooling pooling)
    {
        switch (pooling)
        {
            case TextPooling.Cls:
                // A scalar index drops the axis: [b,s,h] → [b,h].
                return w.Gather(hidden, w.AddInt64Initializer("cls_position", [0]), axis: 1, output: "pooled");
            case TextPooling.Mean:
                string mask = w.Cast(attentionMask, DataType.Float);
                string sum = w.ReduceSum(w.Mul(hidden, w.Unsqueeze(mask, [2])), [1], keepDims: false);
                string count = w.Max(w.ReduceSum(mask, [1], keepDims: true),
                    w.AddFloatInitializer("min_token_count", [TextPoolingMath.MinTokenCount]));
                return w.Div(sum, count, output: "pooled");
            default:
                throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown text pooling.");
        }
    }

    private static void Check(BertEncoder encoder, TextPooling pooling, ClassifierHead head, ModelOutputs outputs)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(head);
        outputs.Check();
        if (!Enum.IsDefined(pooling))
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown text pooling.");
        var fc = head.Fc;
        if (fc.in_features != encoder.Config.HiddenSize)
            throw new ArgumentException($"ONNX export: the head takes {fc.in_features} features; the encoder gives {encoder.Config.HiddenSize}.", nameof(head));
        if (outputs is ClassificationOutputs { ClassNames: var classNames } && classNames.Count != fc.out_features)
            throw new ArgumentException($"ONNX export: {classNames.Count} class names given; the head has {fc.out_features} outputs.", "classNames");
        if (outputs.HeadOutputs != fc.out_features)
            throw new ArgumentException($"ONNX export: the {outputs.Task} outputs need a head of {outputs.HeadOutputs}; it has {fc.out_features}.", nameof(head));
    }
}
