using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Modeling;

/// <summary>
/// BertEncoder with a RoBERTa config against a reference: the fixture folder written by eng/parity/roberta_fixtures.py
/// (random weights under Hugging Face's <c>roberta.*</c> names, plus the pooler, <c>lm_head.*</c> and the position_ids
/// buffer that published checkpoints carry) and the reference's last hidden state for a padded batch. Which reference
/// wrote it (transformers' RobertaModel or torch's own TransformerEncoderLayer with Hugging Face's position rule) is in
/// roberta-tiny-reference.txt.
/// </summary>
public class RobertaParityTests(ITestOutputHelper output)
{
    /// <summary>The committed fixture, or the folder MLNET_FINETUNING_ROBERTA_FIXTURES names (the script's output on a
    /// machine with transformers: eng/gpu/device-checks.sh writes one).</summary>
    internal static string Fixtures =>
        Environment.GetEnvironmentVariable("MLNET_FINETUNING_ROBERTA_FIXTURES") is { Length: > 0 } folder ? folder
            : Path.Combine(TestData.RepoRoot, "test", "fixtures", "roberta");

    internal static string TinyFolder => Path.Combine(Fixtures, "roberta-tiny");

    [Fact]
    public void Forward_RobertaStateDict_MatchesReferenceOnRealTokensWithin1e4()
    {
        using var scope = NewDisposeScope();
        var config = BertConfig.FromJsonFile(Path.Combine(TinyFolder, "config.json"));
        using var encoder = new BertEncoder(config);
        BertWeightLoader.LoadStateDict(encoder, Path.Combine(TinyFolder, "pytorch_model.bin"));
        var io = StateDictLoader.Read(Path.Combine(Fixtures, "roberta-tiny-io.pt"));
        var (ids, mask) = (io["input_ids"], io["attention_mask"]);
        encoder.eval();

        Tensor hidden;
        using (no_grad()) hidden = encoder.forward(ids, mask, zeros_like(ids)).mul(mask.unsqueeze(-1));

        var expected = io["last_hidden_state"];
        double diff = hidden.sub(expected).abs().max().item<float>();
        output.WriteLine($"{File.ReadAllText(Path.Combine(Fixtures, "roberta-tiny-reference.txt")).Trim()}: max |diff| {diff:E2}, " +
                         $"max |hidden| {expected.abs().max().item<float>():F3}");
        Assert.Equal(BertConfig.Roberta, config.ModelType);
        Assert.Equal(2, config.PositionOffset);
        Assert.Equal(expected.shape, hidden.shape);
        Assert.True(diff < 1e-4, $"last hidden state differs from the reference's by {diff:E2}");
    }

    [Fact]
    public void Forward_PositionsFromZeroInsteadOfAfterPadding_DiffersFromReference()
    {
        // The same weights read as BERT (positions from 0) must not match: the parity above depends on the offset.
        using var scope = NewDisposeScope();
        var config = BertConfig.FromJsonFile(Path.Combine(TinyFolder, "config.json")) with { ModelType = BertConfig.Bert };
        using var encoder = new BertEncoder(config);
        var weights = StateDictLoader.Read(Path.Combine(TinyFolder, "pytorch_model.bin"))
            .Where(kv => kv.Key.StartsWith("roberta.", StringComparison.Ordinal) && !kv.Key.Contains("pooler") && !kv.Key.EndsWith("position_ids"))
            .ToDictionary(kv => kv.Key["roberta.".Length..], kv => kv.Value);
        StateDictLoader.Assign(encoder, weights, "fixture", "BERT reading of the RoBERTa fixture");
        var io = StateDictLoader.Read(Path.Combine(Fixtures, "roberta-tiny-io.pt"));
        var (ids, mask) = (io["input_ids"], io["attention_mask"]);
        encoder.eval();

        Tensor hidden;
        using (no_grad()) hidden = encoder.forward(ids, mask, zeros_like(ids)).mul(mask.unsqueeze(-1));

        Assert.True(hidden.sub(io["last_hidden_state"]).abs().max().item<float>() > 1e-2);
    }

    [Fact]
    public void FromJson_RobertaWithoutRoomAfterTheOffset_NamesMaxPositionEmbeddings()
    {
        var e = Assert.Throws<InvalidDataException>(() => BertConfig.FromJson(
            """{"model_type": "roberta", "pad_token_id": 1, "max_position_embeddings": 3}"""));

        Assert.Contains("max_position_embeddings (3) leaves 1 positions after the 2 that roberta skips", e.Message);
    }

    [Fact]
    public void FromJson_XlmRoberta_RefusedByModelType()
    {
        var e = Assert.Throws<InvalidDataException>(() => BertConfig.FromJson("""{"model_type": "xlm-roberta"}"""));

        Assert.Contains("model_type 'xlm-roberta' is not supported; only bert and roberta checkpoints are", e.Message);
    }

    [Fact]
    public void ToJson_Roberta_RoundTripsModelTypeAndOffset()
    {
        var config = BertConfig.FromJsonFile(Path.Combine(TinyFolder, "config.json"));

        var again = BertConfig.FromJson(config.ToJson());

        Assert.Equal(config, again);
        Assert.Equal(18, again.MaxSequenceLength);
    }
}
