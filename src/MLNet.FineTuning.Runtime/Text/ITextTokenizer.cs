namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// What training and scoring need of a BERT-family model's tokenizer: ids, attention mask and token types for a text or
/// a text pair, and the ids of the special tokens. <see cref="BertTextTokenizer"/> (WordPiece) and
/// <see cref="RobertaTextTokenizer"/> (byte-level BPE) implement it; <see cref="TextTokenizerFiles.GetTokenizer"/>
/// picks the one a model's files describe.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Token → id, as read from the vocabulary file.</summary>
    IReadOnlyDictionary<string, int> Vocabulary { get; }

    /// <summary>Number of ids: the row count of the model's word embedding at the least.</summary>
    int VocabularySize { get; }

    /// <summary>Id of the token that starts every sequence (<c>[CLS]</c>, <c>&lt;s&gt;</c>).</summary>
    int ClsId { get; }

    /// <summary>Id of the token that ends each segment (<c>[SEP]</c>, <c>&lt;/s&gt;</c>).</summary>
    int SepId { get; }

    /// <summary>Id that fills batch rows after their end (<c>[PAD]</c>, <c>&lt;pad&gt;</c>).</summary>
    int PadId { get; }

    /// <summary>Id of the unknown token (<c>[UNK]</c>, <c>&lt;unk&gt;</c>).</summary>
    int UnkId { get; }

    /// <summary>Id of the mask token of masked-language-model pretraining (<c>[MASK]</c>, <c>&lt;mask&gt;</c>).</summary>
    int MaskId { get; }

    /// <summary>Encodes one text, or one text pair, without padding, truncated to <paramref name="maxLength"/> tokens
    /// (special tokens included) by Hugging Face's "longest_first" rule.</summary>
    BertEncoding Encode(string? text, string? pair, int maxLength);

    /// <summary>Encodes a batch, padded with <see cref="PadId"/> to its longest sequence.</summary>
    BertBatch EncodeBatch(IReadOnlyList<string?> texts, IReadOnlyList<string?>? pairs, int maxLength);
}
