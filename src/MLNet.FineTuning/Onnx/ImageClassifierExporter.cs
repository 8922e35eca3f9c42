using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Runtime.Onnx;
using static TorchSharp.torch;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// Writes a fine-tuned image classifier as ONE ONNX graph that goes from ML.NET's pixels to a label:
/// preprocessing, backbone (each kind by its own exporter), head, softmax, argmax and the class-name lookup.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>pixels</c> (input)</term><description>float [batch, 3, S, S]: RGB 0..255 planar, what ML.NET's
/// <c>ExtractPixels</c> gives with its default options.</description></item>
/// <item><term><c>probabilities</c></term><description>float [batch, K]: softmax of the logits.</description></item>
/// <item><term><c>predicted_index</c></term><description>int64 [batch]: argmax (first on ties).</description></item>
/// <item><term><c>predicted_label</c></term><description>string [batch]: the class name at that index.</description></item>
/// </list>
/// The batch axis is symbolic so that services can batch, although ML.NET's <c>OnnxTransformer</c> feeds one
/// row at a time (one ONNX Runtime call per row).
/// </remarks>
internal static class ImageClassifierExporter
{
    /// <summary>Name of the graph input.</summary>
    public const string PixelsInput = ExportedModelContract.PixelsInput;

    /// <summary>Name of the float [batch, K] output.</summary>
    public const string ProbabilitiesOutput = ExportedModelContract.ProbabilitiesOutput;

    /// <summary>Name of the int64 [batch] output.</summary>
    public const string PredictedIndexOutput = ExportedModelContract.PredictedIndexOutput;

    /// <summary>Name of the string [batch] output.</summary>
    public const string PredictedLabelOutput = ExportedModelContract.PredictedLabelOutput;

    /// <summary>The symbolic batch dimension of every input and output.</summary>
    public const string BatchDim = ExportedModelContract.BatchDim;

    /// <summary>Writes the model to ONNX bytes. Reads weights only: the model's training mode and weights are unchanged.</summary>
    /// <param name="model">A classifier whose backbone has an exporter (<see cref="WriteBackbone"/>).</param>
    /// <param name="preprocessing">The normalisation the backbone was trained with.</param>
    /// <param name="imageSize">Side S of the square input, ≥ the backbone's <see cref="ImageBackbone.MinImageSize"/>.</param>
    /// <param name="classNames">K names, in the order of the head's outputs.</param>
    /// <exception cref="ArgumentException">Sizes disagree (the message gives both numbers).</exception>
    /// <exception cref="NotSupportedException">The backbone has no exporter.</exception>
    public static byte[] Export(Classifier model, ImagePreprocessing preprocessing, int imageSize, IReadOnlyList<string> classNames) =>
        Export(model, preprocessing, imageSize, new ClassificationOutputs(classNames, ExportedModelContract.ImageClassificationTask));

    /// <summary>The same graph with the task's outputs (<see cref="ModelOutputs"/>): a regression's <c>score</c>, say.</summary>
    internal static byte[] Export(Classifier model, ImagePreprocessing preprocessing, int imageSize, ModelOutputs outputs)
    {
        Check(model, preprocessing, imageSize, outputs);
        using var scope = NewDisposeScope();
        var writer = new OnnxGraphWriter(outputs is ClassificationOutputs ? "image_classifier" : "image_regressor");
        string x = writer.AddInput(PixelsInput, DataType.Float, BatchDim, 3, imageSize, imageSize);
        x = Preprocess(writer, x, preprocessing);
        string features = WriteBackbone(writer, model.Backbone, x);
        string logits = ClassifierHeadExporter.Write(writer, model.Head, features, "logits");
        outputs.Write(writer, logits);
        writer.SetMetadata(ExportedModelContract.ImageSizeKey, imageSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return writer.ToBytes();
    }

    /// <summary>
    /// <see cref="Export(Classifier, ImagePreprocessing, int, IReadOnlyList{string})"/>, then writes the bytes to <paramref name="path"/> atomically: into a temporary
    /// file in the same folder, then moved over the target, so a reader never sees half a model.
    /// </summary>
    /// <exception cref="IOException">The file could not be written (the message names the path); nothing is left behind.</exception>
    public static void Save(Classifier model, ImagePreprocessing preprocessing, int imageSize,
        IReadOnlyList<string> classNames, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var bytes = Export(model, preprocessing, imageSize, classNames);
        AtomicFile.Write(path, bytes, "ONNX model");
    }

    /// <summary>The one place a backbone's type picks its exporter (a new backbone adds its line here).</summary>
    private static string WriteBackbone(OnnxGraphWriter writer, ImageBackbone backbone, string x) => backbone switch
    {
        ResNet resNet => ResNetExporter.Write(writer, resNet, x),
        EfficientNet efficientNet => EfficientNetExporter.Write(writer, efficientNet, x),
        VisionTransformer vit => VisionTransformerExporter.Write(writer, vit, x),
        _ => throw new NotSupportedException($"ONNX export: backbone {backbone.GetType().Name} has no exporter."),
    };

    private static string Preprocess(OnnxGraphWriter writer, string x, ImagePreprocessing p)
    {
        // Kept as separate ops, not folded into conv1: conv1 zero-pads the *normalised* image, so a mean
        // folded into its bias would be wrong along the border. The ops are skipped where they would be
        // identities (Scale 1, Std all 1), each being a full pass over the image.
        if (p.Bgr) x = writer.Gather(x, writer.AddInt64Initializer("bgr_order", [2, 1, 0], 3), axis: 1);
        if (p.Scale != 1f) x = writer.Mul(x, writer.AddFloatInitializer("pixel_scale", [p.Scale]));
        x = writer.Sub(x, writer.AddFloatInitializer("pixel_mean", p.Mean, 1, 3, 1, 1));
        if (p.Std.Any(s => s != 1f)) x = writer.Div(x, writer.AddFloatInitializer("pixel_std", p.Std, 1, 3, 1, 1));
        return x;
    }

    private static void Check(Classifier model, ImagePreprocessing preprocessing, int imageSize, ModelOutputs outputs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(preprocessing);
        outputs.Check();
        var backbone = model.Backbone;
        if (imageSize < backbone.MinImageSize)
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, $"ONNX export: the image size must be at least {backbone.MinImageSize}.");
        if (backbone.FixedImageSize is int size && imageSize != size)
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, $"ONNX export: the backbone {backbone.Shape} takes {size} px images only.");
        if (preprocessing.Mean.Length != 3 || preprocessing.Std.Length != 3)
            throw new ArgumentException($"ONNX export: preprocessing has {preprocessing.Mean.Length} means and {preprocessing.Std.Length} stds; 3 channels need 3 of each.", nameof(preprocessing));
        if (preprocessing.Std.Any(s => s == 0f || !float.IsFinite(s)))
            throw new ArgumentException("ONNX export: every preprocessing std must be finite and non-zero.", nameof(preprocessing));
        var fc = model.Head.Fc;
        if (fc.in_features != backbone.FeatureCount)
            throw new ArgumentException($"ONNX export: the head takes {fc.in_features} features; the backbone gives {backbone.FeatureCount}.", nameof(model));
        if (outputs is ClassificationOutputs { ClassNames: var classNames } && classNames.Count != fc.out_features)
            throw new ArgumentException($"ONNX export: {classNames.Count} class names given; the head has {fc.out_features} outputs.", "classNames");
        if (outputs.HeadOutputs != fc.out_features)
            throw new ArgumentException($"ONNX export: the {outputs.Task} outputs need a head of {outputs.HeadOutputs}; it has {fc.out_features}.", nameof(model));
    }
}
