using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Tests.Modeling;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>Two topics a tiny random encoder can learn to tell apart: five-word sentences drawn from a sport and a food
/// word list, alternating, for the folder fit tests; and that encoder, as a Hugging Face BERT folder.</summary>
internal static class TopicRows
{
    public sealed class Row
    {
        public string Label { get; set; } = "";
        public string Text { get; set; } = "";
    }

    public static readonly string[] SportWords = ["goal", "match", "team", "cup", "coach", "referee", "striker", "penalty"];
    public static readonly string[] FoodWords = ["sauce", "bread", "garlic", "soup", "pasta", "basil", "cheese", "oven"];

    /// <summary><paramref name="pairs"/> sport rows and as many food rows, alternating, drawn with a fixed seed.</summary>
    public static Row[] Create(int pairs)
    {
        var random = new Random(3);
        string Sentence(string[] words) => string.Join(" ", Enumerable.Range(0, 5).Select(_ => words[random.Next(words.Length)]));
        return [.. Enumerable.Range(0, pairs).SelectMany(_ => new[] { new Row { Label = "sport", Text = Sentence(SportWords) }, new Row { Label = "food", Text = Sentence(FoodWords) } })];
    }

    /// <summary>Writes a tiny random BERT (<c>BertTestKit.Tiny</c>) into <paramref name="dir"/> as config.json, vocab.txt and
    /// model.safetensors; its vocabulary: BERT's special tokens, the topics' words, then fillers up to the config's size.</summary>
    public static void WriteEncoderFolder(TempDirectory dir)
    {
        using (var source = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 5))
            BertTestKit.WriteFolder(dir.Path, BertTestKit.Tiny, source.state_dict(), "model.safetensors");
        string[] vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. SportWords, .. FoodWords];
        File.WriteAllLines(dir.File("vocab.txt"), [.. vocabulary, .. Enumerable.Range(0, BertTestKit.Tiny.VocabSize - vocabulary.Length).Select(i => $"filler{i}")]);
    }
}
