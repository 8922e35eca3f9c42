using Microsoft.ML.Tokenizers;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// BERT's tokenizer (basic tokenization + WordPiece) with the ids of Hugging Face's <c>BertTokenizer</c>, for
/// uncased and cased <c>vocab.txt</c> files, producing the int64 <c>input_ids</c>, <c>attention_mask</c> and
/// <c>token_type_ids</c> that BERT-family models (MiniLM included) take in TorchSharp and ONNX.
/// </summary>
/// <remarks>
/// <para>
/// Steps, as in HF: special tokens written in the text (<c>[CLS]</c>, <c>[SEP]</c>, <c>[PAD]</c>, <c>[UNK]</c>,
/// <c>[MASK]</c>, case-sensitive) are kept as such; uncased: each character is lower-cased; control characters
/// are dropped and whitespace becomes spaces; CJK ideographs become words of their own; cased: NFC; uncased:
/// accents stripped (NFD, Mn removed); split on whitespace; every punctuation character (Unicode P* and all
/// non-alphanumeric printable ASCII, so <c>$ + = ^ | ~ `</c> and <c>_</c> too) becomes a token; WordPiece with
/// <c>##</c> continuations, a word that cannot be covered or is longer than 100 characters becomes <c>[UNK]</c>.
/// </para>
/// <para>
/// Basic tokenization (special tokens, cleaning, splitting) is MLNet.FineTuning.Runtime's <c>BertWordSplitter</c>,
/// the one copy that the saved model's tokenization steps use too, so a model scores on the ids it trained on.
/// Microsoft.ML.Tokenizers' <see cref="BertTokenizer"/> does the WordPiece step on each word. Its own normaliser
/// and pre-tokenizer give other ids than HF and no <see cref="BertOptions"/> setting fixes that (see
/// <c>BertBasicNormalizer</c> and <c>BertBasicPreTokenizer</c>). One known gap: the 100-character limit is measured
/// in UTF-16 units, HF's in code points; both give <c>[UNK]</c> unless the vocabulary has supplementary-plane
/// tokens (BERT's and MiniLM's have none).
/// </para>
/// <para>
/// The reference is the Python <c>BertTokenizer</c> of transformers 4.x. Checked once during development against
/// Hugging Face's Rust <c>tokenizers</c> (<c>BertTokenizerFast</c>, through Tokenizers.DotNet 1.4.1) with the MiniLM
/// vocabulary: the same ids for 3,000 varied strings (accents, CJK, emoji, symbols, control characters, special
/// tokens), uncased and cased. Where the two differ this follows Python: cased text is NFC-composed, unassigned
/// code points are dropped as control characters (category Cn), a word that cleaning turns into a special token is
/// kept whole, and Unicode categories come from .NET's tables, which are newer than the Rust crate's.
/// </para>
/// <para>Instances are immutable and thread-safe.</para>
/// </remarks>
public sealed class BertTextTokenizer : ITextTokenizer
{
    private static IReadOnlyList<string> SpecialTokens => BertSpecialTokens.All;

    private readonly BertTokenizer _wordPiece;
    private readonly BertWordSplitter _words;
    private readonly int[] _specialIds;

    private BertTextTokenizer(byte[] vocabulary, bool lowerCase)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var reader = new StreamReader(new MemoryStream(vocabulary, writable: false)))
        {
            // The line index is the id; an empty line takes an id but names no token (as HF and the library read it).
            int id = 0;
            for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine(), id++)
                if (line.Length != 0 && !vocab.TryAdd(line, id))
                    throw new ArgumentException($"The vocabulary lists '{line}' twice (lines {vocab[line] + 1} and {id + 1}).", nameof(vocabulary));
            VocabularySize = id;
        }
        foreach (string token in SpecialTokens)
            if (!vocab.ContainsKey(token))
                throw new ArgumentException($"The vocabulary has no '{token}' line; BERT needs {string.Join(", ", SpecialTokens)}.", nameof(vocabulary));

        Vocabulary = vocab.AsReadOnly();
        LowerCase = lowerCase;
        _specialIds = [.. SpecialTokens.Select(t => vocab[t])];
        _words = BertWordSplitter.For(lowerCase);
        // WordPiece only: words arrive from _words. Special tokens are found there, in the raw text, as HF does;
        // the library would look for them after lower-casing (so "[sep]" would match too) and add lower-cased
        // copies to its vocabulary.
        _wordPiece = BertTokenizer.Create(new MemoryStream(vocabulary, writable: false), new BertOptions
        {
            ApplyBasicTokenization = false,
            SplitOnSpecialTokens = false,
        });
    }

    /// <summary>Reads a BERT <c>vocab.txt</c> (one token per line, the line index is the id).</summary>
    /// <param name="vocabularyPath">Path of the vocabulary file.</param>
    /// <param name="lowerCase">HF's <c>do_lower_case</c>: <see langword="true"/> for uncased vocabularies (lower-cases and strips accents), <see langword="false"/> for cased ones.</param>
    public static BertTextTokenizer Create(string vocabularyPath, bool lowerCase) =>
        new(File.ReadAllBytes(Check.NotNull(vocabularyPath, nameof(vocabularyPath))), lowerCase);

    /// <summary>Reads a BERT <c>vocab.txt</c> from a stream (read to its end, not disposed), e.g. a manifest resource.</summary>
    /// <param name="vocabulary">UTF-8 text, one token per line, the line index is the id.</param>
    /// <param name="lowerCase">HF's <c>do_lower_case</c>: <see langword="true"/> for uncased vocabularies (lower-cases and strips accents), <see langword="false"/> for cased ones.</param>
    public static BertTextTokenizer Create(Stream vocabulary, bool lowerCase)
    {
        using var copy = new MemoryStream();
        Check.NotNull(vocabulary, nameof(vocabulary)).CopyTo(copy);
        return new(copy.ToArray(), lowerCase);
    }

    /// <summary>Whether text is lower-cased and accents stripped (HF's <c>do_lower_case</c>).</summary>
    public bool LowerCase { get; }

    /// <summary>Token → id, as read from the vocabulary file.</summary>
    public IReadOnlyDictionary<string, int> Vocabulary { get; }

    /// <summary>Number of ids (the file's line count): the row count of the model's word embedding.</summary>
    public int VocabularySize { get; }

    /// <summary>Id of <c>[CLS]</c>, the first token of every sequence (101 in BERT's vocabularies).</summary>
    public int ClsId => _specialIds[0];

    /// <summary>Id of <c>[SEP]</c>, which ends each segment (102 in BERT's vocabularies).</summary>
    public int SepId => _specialIds[1];

    /// <summary>Id of <c>[PAD]</c>, which fills batch rows after their end (0 in BERT's vocabularies).</summary>
    public int PadId => _specialIds[2];

    /// <summary>Id of <c>[UNK]</c>, for words the vocabulary cannot cover (100 in BERT's vocabularies).</summary>
    public int UnkId => _specialIds[3];

    /// <summary>Id of <c>[MASK]</c> (103 in BERT's vocabularies).</summary>
    public int MaskId => _specialIds[4];

    /// <summary>Encodes one text, or one text pair, without padding.</summary>
    /// <param name="text">The text; <see langword="null"/> is treated as empty, which encodes as <c>[CLS] [SEP]</c>.</param>
    /// <param name="pair">The second segment, or <see langword="null"/> for none. An empty string is a pair with an empty second segment (<c>[CLS] text [SEP] [SEP]</c>), as in HF.</param>
    /// <param name="maxLength">Most tokens, special tokens included: at least 2, or 3 with a pair. Longer input is truncated; for a pair HF's "longest_first" rule applies (drop the last token of the longer segment, of the pair on a tie, until it fits).</param>
    public BertEncoding Encode(string? text, string? pair, int maxLength)
    {
        CheckMaxLength(maxLength, pair is not null);
        var row = new List<int>();
        int firstSegment = AppendRow(text, pair, maxLength, row, new List<int>());
        var ids = new long[row.Count];
        var types = new long[row.Count];
        for (int j = 0; j < ids.Length; j++)
        {
            ids[j] = row[j];
            types[j] = j < firstSegment ? 0 : 1;
        }
        return new BertEncoding(ids, types);
    }

    /// <summary>Encodes a batch, padded to its longest sequence (not to <paramref name="maxLength"/>).</summary>
    /// <param name="texts">The texts; a <see langword="null"/> entry is treated as empty. An empty list gives a 0×0 batch.</param>
    /// <param name="pairs">One second segment per text, or <see langword="null"/> for single texts. A <see langword="null"/> entry is an empty second segment, so every row has the pair layout.</param>
    /// <param name="maxLength">Most tokens per row, special tokens included: at least 2, or 3 with pairs; see <see cref="Encode"/>.</param>
    public BertBatch EncodeBatch(IReadOnlyList<string?> texts, IReadOnlyList<string?>? pairs, int maxLength)
    {
        Check.NotNull(texts, nameof(texts));
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"pairs has {pairs.Count} entries and texts {texts.Count}: give one pair per text, or null.", nameof(pairs));
        CheckMaxLength(maxLength, pairs is not null);

        // All rows go into one list, so that the only per-text allocations are the library's own.
        var flat = new List<int>();
        var scratch = new List<int>();
        var starts = new int[texts.Count + 1];
        var firstSegments = new int[texts.Count];
        for (int i = 0; i < texts.Count; i++)
        {
            starts[i] = flat.Count;
            firstSegments[i] = AppendRow(texts[i], pairs is null ? null : pairs[i] ?? string.Empty, maxLength, flat, scratch);
        }
        starts[texts.Count] = flat.Count;
        return BertBatch.Padded(flat, starts, firstSegments, PadId);
    }

    /// <summary>Appends <c>[CLS] text [SEP] (pair [SEP])</c>, truncated; returns the first segment's length with its specials.</summary>
    private int AppendRow(string? text, string? pair, int maxLength, List<int> row, List<int> scratch)
    {
        int budget = maxLength - (pair is null ? 2 : 3);
        row.Add(ClsId);
        int start = row.Count;
        AppendTokens(text, budget, row);
        // Tokenizing each segment only up to the budget keeps the result (BertTruncation.LongestFirst).
        int first = Math.Min(row.Count - start, budget);
        int second = 0;
        if (pair is not null)
        {
            scratch.Clear();
            AppendTokens(pair, budget, scratch);
            (first, second) = BertTruncation.LongestFirst(first, Math.Min(scratch.Count, budget), budget);
        }
        row.RemoveRange(start + first, row.Count - start - first);
        row.Add(SepId);
        if (pair is not null)
        {
            for (int k = 0; k < second; k++) row.Add(scratch[k]);
            row.Add(SepId);
        }
        return first + 2;
    }

    /// <summary>Appends the tokens of <paramref name="text"/>: all of them, or at least the first <paramref name="needed"/>.</summary>
    private void AppendTokens(string? text, int needed, List<int> into)
    {
        if (string.IsNullOrEmpty(text) || needed <= 0) return;
        // Every word gives at least one token, so `needed` words are enough.
        var words = new List<ReadOnlyMemory<char>>();
        _words.AppendWords(text, needed, words);
        int start = into.Count;
        foreach (var word in words)
        {
            if (into.Count - start >= needed) break;
            into.AddRange(_wordPiece.EncodeToIds(word.Span, addSpecialTokens: false, considerPreTokenization: false, considerNormalization: false));
        }
    }

    private static void CheckMaxLength(int maxLength, bool pairs) =>
        Check.Range(maxLength >= (pairs ? 3 : 2), nameof(maxLength),
            pairs ? "at least 3 with a pair ([CLS], [SEP], [SEP])" : "at least 2 ([CLS] and [SEP])", maxLength);
}
