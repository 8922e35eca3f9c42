using System.Text;
using System.Text.Json;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// Reads a byte-level BPE tokenizer's two Hugging Face files, vocab.json (token → id) and merges.txt (one merge per line,
/// "left right", rank = line order after the optional <c>#version</c> line), and checks what HF's loader checks plus what
/// exact ids need. Every error is an <see cref="InvalidDataException"/> that names the file and what was expected.
/// </summary>
internal sealed class ByteLevelBpeFiles
{
    private ByteLevelBpeFiles(Dictionary<string, int> vocabulary, List<(string Left, string Right)> merges, int size)
    {
        Vocabulary = vocabulary;
        Merges = merges;
        VocabularySize = size;
    }

    /// <summary>Token → id.</summary>
    public Dictionary<string, int> Vocabulary { get; }

    /// <summary>The merges in rank order (rank 0 first).</summary>
    public List<(string Left, string Right)> Merges { get; }

    /// <summary>Largest id + 1: the rows of the model's word embedding.</summary>
    public int VocabularySize { get; }

    /// <summary>Reads and checks both files; <paramref name="vocabularyName"/> and <paramref name="mergesName"/> name them in errors.</summary>
    public static ByteLevelBpeFiles Read(byte[] vocabularyJson, string vocabularyName, byte[] mergesText, string mergesName)
    {
        var vocabulary = ReadVocabulary(vocabularyJson, vocabularyName);
        foreach (string token in RobertaSpecialTokens.All)
            if (!vocabulary.ContainsKey(token))
                throw new InvalidDataException($"{vocabularyName} has no '{token}'; RoBERTa needs {string.Join(", ", RobertaSpecialTokens.All)}.");
        // Byte-level BPE starts from one token per byte. HF drops a byte whose token is missing (no unk_token), so the
        // ids would then depend on more than the merges; real byte-level vocabularies have all 256.
        for (int b = 0; b < 256; b++)
        {
            string token = ByteLevelAlphabet.Map((byte)b).ToString();
            if (!vocabulary.ContainsKey(token))
                throw new InvalidDataException($"{vocabularyName} has no token for byte 0x{b:X2} ('{token}'); a byte-level BPE vocabulary has all 256.");
        }

        var merges = ReadMerges(mergesText, mergesName, vocabulary, vocabularyName);
        int size = 0;
        foreach (int id in vocabulary.Values) size = Math.Max(size, id + 1);
        return new ByteLevelBpeFiles(vocabulary, merges, size);
    }

    private static Dictionary<string, int> ReadVocabulary(byte[] json, string name)
    {
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var ids = new HashSet<int>();
        try
        {
            // Utf8JsonReader does not skip a byte-order mark; editors on Windows write one.
            ReadOnlySpan<byte> content = json.AsSpan().StartsWith("\uFEFF"u8) ? json.AsSpan(3) : json;
            var reader = new Utf8JsonReader(content, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new InvalidDataException($"{name} must be one JSON object of token → id; it does not start with '{{'.");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string token = reader.GetString()!;
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int id) || id < 0 || id == int.MaxValue)
                    throw new InvalidDataException($"{name}: the id of '{token}' must be an integer in [0, {int.MaxValue}).");
                if (!vocabulary.TryAdd(token, id))
                    throw new InvalidDataException($"{name} lists '{token}' twice.");
                if (!ids.Add(id))
                    throw new InvalidDataException($"{name} gives id {id} to two tokens (one is '{token}'); ids must be distinct.");
            }
            if (reader.TokenType != JsonTokenType.EndObject)
                throw new InvalidDataException($"{name} must be one JSON object of token → id; found {reader.TokenType} where a token was expected.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{name} is not valid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }
        if (vocabulary.Count == 0) throw new InvalidDataException($"{name} has no tokens.");
        return vocabulary;
    }

    private static List<(string Left, string Right)> ReadMerges(byte[] text, string name, Dictionary<string, int> vocabulary, string vocabularyName)
    {
        var merges = new List<(string Left, string Right)>();
        using var reader = new StreamReader(new MemoryStream(text, writable: false), Encoding.UTF8);
        int lineNumber = 0;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
            // HF splits on ' ' and wants exactly two parts (tokenizers' convert_merges_to_hashmap).
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                throw new InvalidDataException($"{name} line {lineNumber}: expected two tokens separated by one space, got \"{line}\".");
            string left = line[..space], right = line[(space + 1)..];
            foreach (string part in new[] { left, right, left + right })
                if (!vocabulary.ContainsKey(part))
                    throw new InvalidDataException($"{name} line {lineNumber}: '{part}' of the merge \"{line}\" is not in {vocabularyName}; every merge's parts and result must be tokens.");
            merges.Add((left, right));
        }
        return merges;
    }
}
