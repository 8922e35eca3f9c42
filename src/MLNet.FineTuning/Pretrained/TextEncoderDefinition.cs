using MLNet.FineTuning.Modeling;

namespace MLNet.FineTuning.Pretrained;

/// <summary>One text encoder entry of <see cref="PretrainedCatalog"/>.</summary>
public sealed class TextEncoderDefinition
{
    internal TextEncoderDefinition(string name, WeightSource source, BertConfig? config, string description,
        EmbeddedEncoderResources? resources = null, string? baseModelName = null)
    {
        Name = name;
        Source = source;
        Config = config;
        Description = description;
        Resources = resources;
        BaseModelName = baseModelName;
    }

    /// <summary>Where an embedded encoder's files are (null for a folder).</summary>
    internal EmbeddedEncoderResources? Resources { get; }

    /// <summary>The Hugging Face name of the embedded encoder, which a saved PEFT adapter records as its base model
    /// (null for a folder: the folder's path is recorded).</summary>
    internal string? BaseModelName { get; }

    /// <summary>Catalog name, e.g. <c>minilm-l6</c>.</summary>
    public string Name { get; }

    /// <summary>Where the pretrained weights come from.</summary>
    public WeightSource Source { get; }

    /// <summary>The encoder's shape; null where it is read from the checkpoint folder's config.json.</summary>
    public BertConfig? Config { get; }

    /// <summary>One line for logs and docs.</summary>
    public string Description { get; }

    /// <summary>Whether the encoder is read from a folder the user gives (as <c>EncoderPath</c>).</summary>
    public bool IsFolder => Source is WeightSource.HuggingFaceBertFolder or WeightSource.HuggingFaceRobertaFolder;

    /// <summary>
    /// The encoder with its pretrained weights, vocabulary and casing. <paramref name="path"/> is the checkpoint
    /// folder for the folder sources (<see cref="IsFolder"/>) and must be null for the embedded encoders.
    /// </summary>
    /// <param name="path">Folder of a Hugging Face BERT or RoBERTa checkpoint (see <see cref="BertCheckpoint.Load"/>).</param>
    /// <param name="addPoolingLayer">Whether to include BERT's pooler (and load its weights).</param>
    /// <exception cref="ArgumentException">A folder is needed and missing, or given where none is taken.</exception>
    /// <exception cref="FileNotFoundException">The embedded weights' assembly is missing.</exception>
    /// <exception cref="InvalidDataException">The weights do not fit (the message lists them).</exception>
    public BertCheckpoint CreatePretrained(string? path = null, bool addPoolingLayer = false)
    {
        switch (Source)
        {
            case WeightSource.MiniLmOnnxResource or WeightSource.EmbeddedOnnxResource:
                if (path is not null)
                    throw new ArgumentException(
                        $"Text encoder '{Name}' is embedded and takes no path; for a local checkpoint folder use '{PretrainedCatalog.BertFolder}'.",
                        nameof(path));
                return BertCheckpoint.LoadEmbedded(Resources!, Config!, addPoolingLayer);
            case WeightSource.HuggingFaceBertFolder or WeightSource.HuggingFaceRobertaFolder:
                bool roberta = Source == WeightSource.HuggingFaceRobertaFolder;
                if (string.IsNullOrEmpty(path))
                    throw new ArgumentException(
                        $"Text encoder '{Name}' needs the path of a Hugging Face {(roberta ? "RoBERTa" : "BERT")} folder ({Description[(Description.IndexOf(':') + 2)..].TrimEnd('.')}).",
                        nameof(path));
                return BertCheckpoint.LoadAs(path, addPoolingLayer, roberta ? BertConfig.Roberta : BertConfig.Bert);
            default:
                throw new NotSupportedException($"Text encoder '{Name}' has weight source {Source}, which is not a text source.");
        }
    }
}
