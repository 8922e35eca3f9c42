using Microsoft.ML.Tokenizers;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// RoBERTa's tokenizer (GPT-2's byte-level BPE) with the ids of Hugging Face's <c>RobertaTokenizerFast</c>, read from a
/// model folder's vocab.json and merges.txt, producing the int64 <c>input_ids</c>, <c>attention_mask</c> and
/// <c>token_type_ids</c> that RoBERTa-family encoders (roberta-base, distilroberta, CodeBERT, all-distilroberta-v1) take.
/// </summary>
/// <remarks>
/// <para>
/// Steps, as in HF: special tokens written in the text (<c>&lt;s&gt;</c>, <c>&lt;pad&gt;</c>, <c>&lt;/s&gt;</c>,
/// <c>&lt;unk&gt;</c>, <c>&lt;mask&gt;</c>, case-sensitive, even inside a word) are kept as such, and <c>&lt;mask&gt;</c>
/// takes in the whitespace before it (lstrip); with <see cref="AddPrefixSpace"/> each stretch of text between them gets
/// a leading space; GPT-2's pattern cuts it into pre-tokens (words with their leading space, numbers, runs of symbols,
/// whitespace, contractions like 's); each pre-token's UTF-8 bytes are spelled in GPT-2's byte alphabet (space = Ġ) and
/// BPE merges them, lowest merge rank first. No normalisation, no unknown token: every byte has a token.
/// </para>
/// <para>
/// Layout (HF's <c>RobertaProcessing</c>): <c>&lt;s&gt; A &lt;/s&gt;</c>, or <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>
/// for a pair, so a pair spends 4 tokens on specials; every token type is 0 (RoBERTa has one). A pair is cut with the
/// Rust tokenizers' "longest_first" (the odd token of an odd budget goes to the longer segment; BERT's slow rule gives it
/// to the first).
/// </para>
/// <para>
/// The pre-tokenization (special tokens, prefix space, GPT-2's pattern, byte alphabet) is MLNet.FineTuning.Runtime's
/// <c>ByteLevelWordSplitter</c>, the one copy that the saved model's tokenization steps use too. Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/> merges each pre-token: given the mapped bytes, with no pre-tokenizer or normaliser of its
/// own, it gives HF's ids (test <c>RobertaHuggingFaceParityTests</c>). Its GPT-2-style tokenizers are not used whole:
/// their regex classifies UTF-16 units, so a supplementary-plane letter is not a letter there.
/// A lone surrogate is encoded as U+FFFD, as .NET's UTF-8 encoder does when a string is handed to HF's native library.
/// </para>
/// <para>Instances are immutable and thread-safe.</para>
/// </remarks>
public sealed class RobertaTextTokenizer : ITextTokenizer
{
    private readonly BpeTokenizer _bpe;
    private readonly ByteLevelWordSplitter _words;
    private readonly int[] _specialIds;

    private RobertaTextTokenizer(ByteLevelBpeFiles files, bool addPrefixSpace)
    {
        Vocabulary = files.Vocabulary.AsReadOnly();
        Merges = files.Merges.AsReadOnly();
        VocabularySize = files.VocabularySize;
        AddPrefixSpace = addPrefixSpace;
        _specialIds = [.. RobertaSpecialTokens.All.Select(t => files.Vocabulary[t])];
        _words = ByteLevelWordSplitter.For(addPrefixSpace);
        // BPE only: words arrive from _words already in GPT-2's byte alphabet, so ByteLevel stays off (it would
        // encode them a second time) and no pre-tokenizer or normaliser runs.
        _bpe = BpeTokenizer.Create(new BpeOptions(files.Vocabulary)
        {
            Merges = files.Merges.Select(m => m.Left + " " + m.Right),
            PreTokenizer = null,
            Normalizer = null,
        });
    }

    /// <summary>Reads a model folder's vocab.json and merges.txt.</summary>
    /// <param name="vocabJsonPath">Path of vocab.json (a JSON object, token → id).</param>
    /// <param name="mergesPath">Path of merges.txt (one merge "left right" per line, in rank order, after an optional <c>#version</c> line).</param>
    /// <param name="addPrefixSpace">HF's <c>add_prefix_space</c>: <see langword="false"/> (the default) for roberta-base and its family.</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, vocab.json lacks a special token or a byte, or a merge names a token that vocab.json lacks; the message names the file.</exception>
    public static RobertaTextTokenizer Create(string vocabJsonPath, string mergesPath, bool addPrefixSpace = false) =>
        new(ByteLevelBpeFiles.Read(ReadFile(vocabJsonPath, nameof(vocabJsonPath)), vocabJsonPath,
            ReadFile(mergesPath, nameof(mergesPath)), mergesPath), addPrefixSpace);

    /// <summary>Reads vocab.json and merges.txt from streams (read to their end, not disposed), e.g. manifest resources.</summary>
    /// <param name="vocabJson">vocab.json's UTF-8 content.</param>
    /// <param name="merges">merges.txt's UTF-8 content.</param>
    /// <param name="addPrefixSpace">HF's <c>add_prefix_space</c>: <see langword="false"/> for roberta-base and its family.</param>
    /// <exception cref="InvalidDataException">As for the paths; the message names the parameter.</exception>
    public static RobertaTextTokenizer Create(Stream vocabJson, Stream merges, bool addPrefixSpace) =>
        new(ByteLevelBpeFiles.Read(ReadStream(vocabJson, nameof(vocabJson)), $"{nameof(vocabJson)} (vocab.json)",
            ReadStream(merges, nameof(merges)), $"{nameof(merges)} (merges.txt)"), addPrefixSpace);

    /// <summary>Whether a space is put before text that does not start with one (HF's <c>add_prefix_space</c>).</summary>
    public bool AddPrefixSpace { get; }

    /// <summary>Token → id, as read from vocab.json (tokens in GPT-2's byte alphabet: a leading space is <c>Ġ</c>).</summary>
    public IReadOnlyDictionary<string, int> Vocabulary { get; }

    /// <summary>The merges of merges.txt in rank order (rank 0 first).</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>Largest id + 1: the row count of the model's word embedding (50,265 for roberta-base).</summary>
    public int VocabularySize { get; }

    /// <summary>Id of <c>&lt;s&gt;</c>, the first token of every sequence (0 in RoBERTa's vocabularies).</summary>
    public int ClsId => _specialIds[0];

    /// <summary>Id of <c>&lt;pad&gt;</c>, which fills batch rows after their end (1 in RoBERTa's vocabularies).</summary>
    public int PadId => _specialIds[1];

    /// <summary>Id of <c>&lt;/s&gt;</c>, which ends each segment (2 in RoBERTa's vocabularies).</summary>
    public int SepId => _specialIds[2];

    /// <summary>Id of <c>&lt;unk&gt;</c> (3 in RoBERTa's vocabularies); byte-level BPE never produces it, only text that spells it.</summary>
    public int UnkId => _specialIds[3];

    /// <summary>Id of <c>&lt;mask&gt;</c> (50264 in roberta-base).</summary>
    public int MaskId => _specialIds[4];

    /// <summary>Encodes one text, or one text pair, without padding.</summary>
    /// <param name="text">The text; <see langword="null"/> is treated as empty, which encodes as <c>&lt;s&gt; &lt;/s&gt;</c>.</param>
    /// <param name="pair">The second segment, or <see langword="null"/> for none. An empty string is a pair with an empty second segment (<c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt;&lt;/s&gt;</c>), as in HF.</param>
    /// <param name="maxLength">Most tokens, special tokens included: at least 2, or 4 with a pair. Longer input is truncated; a pair by the Rust tokenizers' "longest_first" (see remarks).</param>
    public BertEncoding Encode(string? text, string? pair, int maxLength)
    {
        CheckMaxLength(maxLength, pair is not null);
        var row = new List<int>();
        AppendRow(text, pair, maxLength, row, new List<int>());
        var ids = new long[row.Count];
        for (int j = 0; j < ids.Length; j++) ids[j] = row[j];
        return new BertEncoding(ids, new long[ids.Length]);
    }

    /// <summary>Encodes a batch, padded with <c>&lt;pad&gt;</c> to its longest sequence (not to <paramref name="maxLength"/>).</summary>
    /// <param name="texts">The texts; a <see langword="null"/> entry is treated as empty. An empty list gives a 0×0 batch.</param>
    /// <param name="pairs">One second segment per text, or <see langword="null"/> for single texts. A <see langword="null"/> entry is an empty second segment, so every row has the pair layout.</param>
    /// <param name="maxLength">Most tokens per row, special tokens included: at least 2, or 4 with pairs; see <see cref="Encode"/>.</param>
    public BertBatch EncodeBatch(IReadOnlyList<string?> texts, IReadOnlyList<string?>? pairs, int maxLength)
    {
        Check.NotNull(texts, nameof(texts));
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"pairs has {pairs.Count} entries and texts {texts.Count}: give one pair per text, or null.", nameof(pairs));
        CheckMaxLength(maxLength, pairs is not null);

        var flat = new List<int>();
        var scratch = new List<int>();
        var starts = new int[texts.Count + 1];
        for (int i = 0; i < texts.Count; i++)
        {
            starts[i] = flat.Count;
            AppendRow(texts[i], pairs is null ? null : pairs[i] ?? string.Empty, maxLength, flat, scratch);
        }
        starts[texts.Count] = flat.Count;
        return BertBatch.Padded(flat, starts, firstSegments: null, PadId);
    }

    /// <summary>Appends <c>&lt;s&gt; A &lt;/s&gt;</c> or <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>, truncated.</summary>
    private void AppendRow(string? text, string? pair, int maxLength, List<int> row, List<int> second)
    {
        int budget = maxLength - (pair is null ? 2 : 4);
        row.Add(ClsId);
        int start = row.Count;
        AppendTokens(text, budget, row);
        int keptFirst = Math.Min(row.Count - start, budget), keptSecond = 0;
        if (pair is not null)
        {
            second.Clear();
            AppendTokens(pair, budget, second);
            int firstCount = keptFirst, secondCount = Math.Min(second.Count, budget);
            if (BertTruncation.FastNeedsFullLengths(firstCount, secondCount, budget))
            {
                // Which segment is longer decides who keeps the odd token: count both to the end, as HF does.
                row.RemoveRange(start, row.Count - start);
                second.Clear();
                AppendTokens(text, int.MaxValue, row);
                AppendTokens(pair, int.MaxValue, second);
                (firstCount, secondCount) = (row.Count - start, second.Count);
            }
            (keptFirst, keptSecond) = BertTruncation.LongestFirstFast(firstCount, secondCount, budget);
        }
        row.RemoveRange(start + keptFirst, row.Count - start - keptFirst);
        row.Add(SepId);
        if (pair is not null)
        {
            row.Add(SepId);
            for (int k = 0; k < keptSecond; k++) row.Add(second[k]);
            row.Add(SepId);
        }
    }

    /// <summary>Appends the tokens of <paramref name="text"/>: all of them, or at least the first <paramref name="needed"/>.</summary>
    private void AppendTokens(string? text, int needed, List<int> into)
    {
        if (string.IsNullOrEmpty(text) || needed <= 0) return;
        var words = new List<ByteLevelWord>();
        _words.AppendWords(text, needed, words);
        int start = into.Count;
        foreach (var word in words)
        {
            if (into.Count - start >= needed) break;
            if (word.IsSpecial) into.Add(_specialIds[word.Special]);
            else into.AddRange(_bpe.EncodeToIds(word.Text, considerPreTokenization: false, considerNormalization: false));
        }
    }

    private static byte[] ReadFile(string path, string parameter)
    {
        Check.NotNull(path, parameter);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{parameter}: no file at '{path}'; expected the model folder's " +
                (parameter == "mergesPath" ? "merges.txt." : "vocab.json."), path);
        return File.ReadAllBytes(path);
    }

    private static byte[] ReadStream(Stream stream, string parameter)
    {
        using var copy = new MemoryStream();
        Check.NotNull(stream, parameter).CopyTo(copy);
        return copy.ToArray();
    }

    private static void CheckMaxLength(int maxLength, bool pairs) =>
        Check.Range(maxLength >= (pairs ? 4 : 2), nameof(maxLength),
            pairs ? "at least 4 with a pair (<s>, </s>, </s>, </s>)" : "at least 2 (<s> and </s>)", maxLength);
}
