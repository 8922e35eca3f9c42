using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>The kinds of tokenizer a text model can have.</summary>
public enum TextTokenizerKind
{
    /// <summary>BERT's WordPiece (<c>vocab.txt</c>, <c>do_lower_case</c>): <see cref="BertTextTokenizer"/>.</summary>
    WordPiece,

    /// <summary>RoBERTa's (GPT-2's) byte-level BPE (<c>vocab.json</c>, <c>merges.txt</c>, <c>add_prefix_space</c>):
    /// <see cref="RobertaTextTokenizer"/>.</summary>
    ByteLevelBpe,
}

/// <summary>
/// A text model's tokenizer as files: what a fitted model keeps, writes beside its <c>model.onnx</c> (with a
/// <c>tokenizer_config.json</c> naming the kind, its setting and the trained length) and builds its
/// <see cref="ITextTokenizer"/> from. One place knows the file names of each kind, for the library, the exported
/// folder and <see cref="Onnx.ExportedClassifier"/>.
/// </summary>
public sealed class TextTokenizerFiles
{
    /// <summary>WordPiece's vocabulary: one token per line, the line index is the id.</summary>
    public const string WordPieceVocabularyFile = "vocab.txt";

    /// <summary>Byte-level BPE's vocabulary: a JSON object, token → id.</summary>
    public const string BpeVocabularyFile = "vocab.json";

    /// <summary>Byte-level BPE's merges, one "left right" per line in rank order.</summary>
    public const string BpeMergesFile = "merges.txt";

    /// <summary>The settings file of a Hugging Face tokenizer folder.</summary>
    public const string ConfigFile = "tokenizer_config.json";

    private TextTokenizerFiles(TextTokenizerKind kind, IReadOnlyDictionary<string, byte[]> files, bool lowerCase, bool addPrefixSpace = false)
    {
        Kind = kind;
        Files = files;
        LowerCase = lowerCase;
        AddPrefixSpace = addPrefixSpace;
    }

    /// <summary>Which tokenizer.</summary>
    public TextTokenizerKind Kind { get; }

    /// <summary>File name → contents: the vocabulary file(s), without <see cref="ConfigFile"/>.</summary>
    public IReadOnlyDictionary<string, byte[]> Files { get; }

    /// <summary>WordPiece: whether text is lower-cased and accents stripped (Hugging Face's <c>do_lower_case</c>).</summary>
    public bool LowerCase { get; }

    /// <summary>Byte-level BPE: whether a space is put before text that does not start with one (<c>add_prefix_space</c>).</summary>
    public bool AddPrefixSpace { get; }

    /// <summary>BERT's WordPiece from a <c>vocab.txt</c>'s bytes.</summary>
    public static TextTokenizerFiles WordPiece(byte[] vocabulary, bool lowerCase) =>
        new(TextTokenizerKind.WordPiece, new Dictionary<string, byte[]> { [WordPieceVocabularyFile] = Check.NotNull(vocabulary, nameof(vocabulary)) }, lowerCase);

    /// <summary>RoBERTa's byte-level BPE from the bytes of <c>vocab.json</c> and <c>merges.txt</c>.</summary>
    public static TextTokenizerFiles ByteLevelBpe(byte[] vocabulary, byte[] merges, bool addPrefixSpace) =>
        new(TextTokenizerKind.ByteLevelBpe, new Dictionary<string, byte[]>
        {
            [BpeVocabularyFile] = Check.NotNull(vocabulary, nameof(vocabulary)),
            [BpeMergesFile] = Check.NotNull(merges, nameof(merges)),
        }, lowerCase: false, addPrefixSpace);

    /// <summary>The tokenizer these files describe, built on first use and kept (tokenizers are immutable and thread-safe):
    /// a folder's check of its vocabulary and the training that follows read the files once.</summary>
    /// <exception cref="ArgumentException">A WordPiece vocabulary that lacks a special token or lists a token twice (the message says which).</exception>
    /// <exception cref="InvalidDataException">A BPE vocabulary or merges file that is malformed or lacks a special token.</exception>
    public ITextTokenizer GetTokenizer() => tokenizer ??= Kind switch
    {
        TextTokenizerKind.ByteLevelBpe => RobertaTextTokenizer.Create(new MemoryStream(Files[BpeVocabularyFile], writable: false),
            new MemoryStream(Files[BpeMergesFile], writable: false), AddPrefixSpace),
        _ => BertTextTokenizer.Create(new MemoryStream(Files[WordPieceVocabularyFile], writable: false), LowerCase),
    };

    // A benign race: two threads may each build one, and either is the same tokenizer.
    private ITextTokenizer? tokenizer;

    /// <summary>The <see cref="ConfigFile"/> written beside an exported model: Hugging Face's tokenizer class, this kind's
    /// setting and <c>model_max_length</c> (the tokens per text the model was trained with).</summary>
    public JsonObject Config(int maxLength) => Kind switch
    {
        TextTokenizerKind.ByteLevelBpe => new JsonObject
        {
            ["tokenizer_class"] = RobertaClass, ["add_prefix_space"] = AddPrefixSpace, ["model_max_length"] = maxLength,
        },
        _ => new JsonObject { ["tokenizer_class"] = "BertTokenizer", ["do_lower_case"] = LowerCase, ["model_max_length"] = maxLength },
    };

    /// <summary>Reads the tokenizer files an exported model's folder holds (what <see cref="Config"/> and <see cref="Files"/>
    /// wrote) and its trained length.</summary>
    /// <exception cref="FileNotFoundException">A file the folder must hold is missing (named).</exception>
    /// <exception cref="InvalidDataException">The settings file is not JSON or lacks <c>model_max_length</c>.</exception>
    public static (TextTokenizerFiles Files, int MaxLength) ReadExported(string folder)
    {
        string configPath = Path.Combine(folder, ConfigFile);
        var config = ReadConfig(configPath)
            ?? throw new FileNotFoundException($"'{configPath}' does not exist: a text model.onnx needs the tokenizer files " +
                                               $"that SaveOnnx (or mlnet-finetune) wrote beside it ({ConfigFile} and {WordPieceVocabularyFile}, or {BpeVocabularyFile} and {BpeMergesFile}).", configPath);
        if (config["model_max_length"] is not JsonValue m || !m.TryGetValue(out int maxLength) || maxLength < 2)
            throw new InvalidDataException($"'{configPath}': model_max_length (the tokens per text the model was trained with) is missing or not a whole number ≥ 2.");
        return (IsByteLevelBpe(config) ? ReadByteLevelBpe(folder, config) : ReadWordPiece(folder, config), maxLength);
    }

    /// <summary>Reads <c>vocab.json</c>, <c>merges.txt</c> and <c>add_prefix_space</c> of <see cref="ConfigFile"/> (false when
    /// either is absent, as for roberta-base) from a Hugging Face RoBERTa folder or an exported model's folder.</summary>
    /// <exception cref="FileNotFoundException">No <c>vocab.json</c> or <c>merges.txt</c> (named).</exception>
    /// <exception cref="InvalidDataException">The settings file is not JSON, or <c>add_prefix_space</c> is not a Boolean.</exception>
    public static TextTokenizerFiles ReadByteLevelBpe(string folder) => ReadByteLevelBpe(folder, ReadConfig(Path.Combine(folder, ConfigFile)));

    private const string RobertaClass = "RobertaTokenizer";

    // The exports write tokenizer_class; Hugging Face folders may name the fast variant.
    private static bool IsByteLevelBpe(JsonObject config) =>
        config["tokenizer_class"] is JsonValue v && v.TryGetValue(out string? name) && name is RobertaClass or RobertaClass + "Fast";

    private static TextTokenizerFiles ReadByteLevelBpe(string folder, JsonObject? config)
    {
        string vocabulary = Path.Combine(folder, BpeVocabularyFile), merges = Path.Combine(folder, BpeMergesFile);
        foreach (var needed in new[] { vocabulary, merges })
            if (!File.Exists(needed))
                throw new FileNotFoundException($"'{needed}' does not exist: a RoBERTa (byte-level BPE) tokenizer needs {BpeVocabularyFile} and {BpeMergesFile}.", needed);
        return ByteLevelBpe(File.ReadAllBytes(vocabulary), File.ReadAllBytes(merges), ReadFlag(folder, config, "add_prefix_space", fallback: false));
    }

    /// <summary>Reads <c>vocab.txt</c> and <c>do_lower_case</c> of <see cref="ConfigFile"/> (true when either is absent,
    /// as Hugging Face's BertTokenizer defaults) from a Hugging Face BERT folder or an exported model's folder.</summary>
    /// <exception cref="FileNotFoundException">No <c>vocab.txt</c> (named).</exception>
    /// <exception cref="InvalidDataException">The settings file is not JSON, or <c>do_lower_case</c> is not a Boolean.</exception>
    public static TextTokenizerFiles ReadWordPiece(string folder) => ReadWordPiece(folder, ReadConfig(Path.Combine(folder, ConfigFile)));

    private static TextTokenizerFiles ReadWordPiece(string folder, JsonObject? config)
    {
        string vocabulary = Path.Combine(folder, WordPieceVocabularyFile);
        if (!File.Exists(vocabulary))
            throw new FileNotFoundException($"'{vocabulary}' does not exist: a BERT tokenizer needs its vocabulary.", vocabulary);
        return WordPiece(File.ReadAllBytes(vocabulary), ReadFlag(folder, config, "do_lower_case", fallback: true));
    }

    private static bool ReadFlag(string folder, JsonObject? config, string field, bool fallback)
    {
        if (config?[field] is not { } value) return fallback;
        if (value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            throw new InvalidDataException($"'{Path.Combine(folder, ConfigFile)}': {field} must be true or false; got {value.ToJsonString()}.");
        return value.GetValue<bool>();
    }

    /// <summary>The settings file as JSON, or null where there is none. A settings file is small; a large one is refused
    /// before it is read (a hostile folder must not make this read gigabytes).</summary>
    private static JsonObject? ReadConfig(string path)
    {
        if (!File.Exists(path)) return null;
        const long Largest = 16 << 20;
        if (new FileInfo(path).Length > Largest)
            throw new InvalidDataException($"'{path}' has {new FileInfo(path).Length:N0} bytes; a tokenizer settings file has a few hundred (at most {Largest:N0} read).");
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"'{path}' is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }
}
