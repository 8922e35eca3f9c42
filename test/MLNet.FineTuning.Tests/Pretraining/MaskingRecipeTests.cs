using MLNet.FineTuning.Data;
using MLNet.FineTuning.Modeling;

namespace MLNet.FineTuning.Tests.Pretraining;

public class MaskingRecipeTests
{
    // BERT's special ids in the uncased vocabulary: [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103.
    private const long Pad = 0, Unk = 100, Cls = 101, Sep = 102, Mask = 103;
    private static readonly long[] Specials = [Cls, Sep, Pad, Unk, Mask];

    /// <summary>n rows of [CLS] tokens… [SEP] then padding, lengths varying; some [UNK] among the tokens.</summary>
    private static (long[] Ids, long[] AttentionMask) Batch(int n, int s, int seed)
    {
        var random = new Random(seed);
        var ids = new long[n * s];
        var mask = new long[n * s];
        for (int r = 0; r < n; r++)
        {
            int length = random.Next(3, s + 1);
            for (int i = 0; i < length; i++)
            {
                ids[r * s + i] = i == 0 ? Cls : i == length - 1 ? Sep : random.Next(20) == 0 ? Unk : random.Next(1000, 30000);
                mask[r * s + i] = 1;
            }
        }
        return (ids, mask);
    }

    [Fact]
    public void Apply_OnALargeBatch_ChoosesFifteenPercentAndSplitsThemEightyTenTen_NeverSpecialsOrPadding()
    {
        var (original, attention) = Batch(n: 400, s: 64, seed: 1);
        long[] ids = (long[])original.Clone();
        var labels = new MaskingRecipe(0.15, Mask, 30522, Specials).Apply(ids, attention, new Random(7));

        int eligible = 0, chosen = 0, masked = 0, replaced = 0, kept = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            bool special = attention[i] == 0 || Specials.Contains(original[i]);
            if (!special) eligible++;
            if (labels[i] == BertMaskedLanguageModel.Ignored)
            {
                Assert.Equal(original[i], ids[i]);   // not chosen: untouched
                continue;
            }
            Assert.False(special, $"position {i} (id {original[i]}, mask {attention[i]}) is special or padding but was chosen");
            Assert.Equal(original[i], labels[i]);
            chosen++;
            if (ids[i] == Mask) masked++;
            else if (ids[i] == original[i]) kept++;
            else
            {
                replaced++;
                Assert.DoesNotContain(ids[i], Specials);
            }
        }
        Assert.True(eligible > 10_000, $"{eligible} eligible tokens");
        // Binomial spreads: 0.15 of ~12,000 has σ ≈ 0.003; the 80/10/10 split of ~1,800 has σ ≈ 0.01 and 0.007.
        Assert.InRange((double)chosen / eligible, 0.14, 0.16);
        Assert.InRange((double)masked / chosen, 0.77, 0.83);
        Assert.InRange((double)replaced / chosen, 0.08, 0.12);
        Assert.InRange((double)kept / chosen, 0.08, 0.12);
    }

    [Fact]
    public void Apply_IsSeeded_AndChoosesOneTokenWhenTheDrawChoseNone()
    {
        var (ids, attention) = Batch(n: 8, s: 16, seed: 2);
        var recipe = new MaskingRecipe(0.15, Mask, 30522, Specials);
        long[] a = (long[])ids.Clone(), b = (long[])ids.Clone();
        Assert.Equal(recipe.Apply(a, attention, new Random(3)), recipe.Apply(b, attention, new Random(3)));
        Assert.Equal(a, b);

        // [CLS] x y [SEP] at a probability that almost never chooses: still exactly one labelled token, never a special.
        long[] tiny = [Cls, 5000, 6000, Sep, Pad];
        long[] tinyMask = [1, 1, 1, 1, 0];
        for (int seed = 0; seed < 20; seed++)
        {
            var labels = new MaskingRecipe(1e-9, Mask, 30522, Specials).Apply((long[])tiny.Clone(), tinyMask, new Random(seed));
            var scored = Enumerable.Range(0, labels.Length).Where(i => labels[i] != BertMaskedLanguageModel.Ignored).ToArray();
            Assert.Single(scored);
            Assert.InRange(scored[0], 1, 2);
        }
    }
}
