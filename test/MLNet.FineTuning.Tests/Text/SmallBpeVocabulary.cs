using System.Text;
using System.Text.Json;
using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// Tiny byte-level BPE vocabularies written as vocab.json and merges.txt in memory: RoBERTa's four specials (0–3), one
/// token per byte in GPT-2's alphabet (4–259), one token per merge in rank order, <c>&lt;mask&gt;</c> last.
/// </summary>
internal static class SmallBpeVocabulary
{
    /// <summary>The tokens of such a vocabulary, in id order.</summary>
    public static List<string> Tokens(IEnumerable<(string Left, string Right)> merges) =>
        [.. RobertaVocabulary.Specials, .. Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.Map((byte)b).ToString()),
            .. merges.Select(m => m.Left + m.Right), "<mask>"];

    /// <summary>vocab.json of <paramref name="tokens"/> (id = position).</summary>
    public static MemoryStream VocabJson(IEnumerable<string> tokens) =>
        new(JsonSerializer.SerializeToUtf8Bytes(tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i)));

    /// <summary>merges.txt with the version line.</summary>
    public static MemoryStream MergesText(IEnumerable<(string Left, string Right)> merges) =>
        new(Encoding.UTF8.GetBytes(string.Join("\n", ["#version: 0.2", .. merges.Select(m => m.Left + " " + m.Right)]) + "\n"));

    /// <summary>A tokenizer over such a vocabulary.</summary>
    public static RobertaTextTokenizer Create(params (string Left, string Right)[] merges) =>
        RobertaTextTokenizer.Create(VocabJson(Tokens(merges)), MergesText(merges), addPrefixSpace: false);
}
