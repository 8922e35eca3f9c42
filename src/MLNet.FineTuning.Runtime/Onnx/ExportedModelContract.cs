namespace MLNet.FineTuning.Runtime.Onnx;

/// <summary>
/// What every <c>model.onnx</c> that MLNet.FineTuning exports promises a service: the names of its inputs and outputs
/// and the metadata it carries (ONNX <c>metadata_props</c>, read with ONNX Runtime's <c>ModelMetadata.CustomMetadataMap</c>).
/// The exporters write these names and <see cref="ExportedClassifier"/> reads them: one list, so the two cannot drift.
/// </summary>
public static class ExportedModelContract
{
    /// <summary>Image models' input: float [batch, 3, S, S], planar RGB 0..255 (ML.NET's <c>ExtractPixels</c> defaults);
    /// the graph normalises it as the backbone was trained.</summary>
    public const string PixelsInput = "pixels";

    /// <summary>Text models' input: int64 [batch, sequence], BERT WordPiece ids.</summary>
    public const string InputIdsInput = "input_ids";

    /// <summary>Text models' input: int64 [batch, sequence], 1 for a token, 0 for padding.</summary>
    public const string AttentionMaskInput = "attention_mask";

    /// <summary>Text models' input: int64 [batch, sequence], 0 for the first text, 1 for the pair's.</summary>
    public const string TokenTypeIdsInput = "token_type_ids";

    /// <summary>Output: float [batch, K], the softmax of the logits.</summary>
    public const string ProbabilitiesOutput = "probabilities";

    /// <summary>Output: int64 [batch], the index of the largest logit (the first on ties).</summary>
    public const string PredictedIndexOutput = "predicted_index";

    /// <summary>Output: string [batch], the class name at <see cref="PredictedIndexOutput"/>.</summary>
    public const string PredictedLabelOutput = "predicted_label";

    /// <summary>Multi-label models' output: bool [batch, K], true where the label's probability (the sigmoid of its logit,
    /// in <see cref="ProbabilitiesOutput"/>) reaches its threshold (<see cref="ThresholdsKey"/>).</summary>
    public const string PredictedLabelsOutput = "predicted_labels";

    /// <summary>Regression models' output: float [batch, 1], the predicted target in the training labels' unit.</summary>
    public const string ScoreOutput = "score";

    /// <summary>The symbolic batch dimension of every input and output.</summary>
    public const string BatchDim = "batch";

    /// <summary>Metadata key: <see cref="ImageClassificationTask"/>, <see cref="TextClassificationTask"/>, <see cref="ImageRegressionTask"/>, <see cref="TextRegressionTask"/>,
    /// <see cref="ImageMultiLabelTask"/> or <see cref="TextMultiLabelTask"/>.</summary>
    public const string TaskKey = "mlnet_finetuning.task";

    /// <summary>Metadata key: the K class names as a JSON array of strings, in the order of <see cref="ProbabilitiesOutput"/>.</summary>
    public const string ClassNamesKey = "mlnet_finetuning.class_names";

    /// <summary>Metadata key (multi-label models): the K decision thresholds as a JSON array of numbers, in label order.</summary>
    public const string ThresholdsKey = "mlnet_finetuning.thresholds";

    /// <summary>Metadata key (image models): the side S of the square input, as a decimal number.</summary>
    public const string ImageSizeKey = "mlnet_finetuning.image_size";

    /// <summary>Metadata key (text models trained on sentence pairs): "true". Such a model reads a pair of texts per input,
    /// the second with <see cref="TokenTypeIdsInput"/> 1; a text model without the key reads one text.</summary>
    public const string TextPairsKey = "mlnet_finetuning.text_pairs";

    /// <summary>Metadata key: the ONNX opset of the default domain, as a decimal number (ONNX Runtime's API does not
    /// return a model's opset imports).</summary>
    public const string OpsetKey = "mlnet_finetuning.opset";

    /// <summary>Value of <see cref="TaskKey"/> for image classifiers.</summary>
    public const string ImageClassificationTask = "image_classification";

    /// <summary>Value of <see cref="TaskKey"/> for text classifiers.</summary>
    public const string TextClassificationTask = "text_classification";

    /// <summary>Value of <see cref="TaskKey"/> for image multi-label classifiers (outputs <see cref="ProbabilitiesOutput"/> as
    /// independent sigmoids and <see cref="PredictedLabelsOutput"/>; <see cref="ClassNamesKey"/> holds the label names).</summary>
    public const string ImageMultiLabelTask = "image_multilabel";

    /// <summary>Value of <see cref="TaskKey"/> for text multi-label classifiers (as <see cref="ImageMultiLabelTask"/>).</summary>
    public const string TextMultiLabelTask = "text_multilabel";

    /// <summary>Value of <see cref="TaskKey"/> for image regressors (output <see cref="ScoreOutput"/>, no class names).</summary>
    public const string ImageRegressionTask = "image_regression";

    /// <summary>Value of <see cref="TaskKey"/> for text regressors (output <see cref="ScoreOutput"/>, no class names).</summary>
    public const string TextRegressionTask = "text_regression";
}
