using MLNet.FineTuning.Modeling;

namespace MLNet.FineTuning.Data;

/// <summary>
/// BERT's masked-language-model corruption (Devlin et al. 2018, §3.1): each real token that is not a special token is
/// chosen with probability <see cref="Probability"/> (15 % by default); a chosen token becomes <c>[MASK]</c> 80 % of the
/// time, a random token 10 %, and stays itself 10 %; only chosen positions have a label (their original id), every
/// other position <see cref="BertMaskedLanguageModel.Ignored"/>. Each token is drawn on its own, as Hugging Face's
/// <c>DataCollatorForLanguageModeling</c> does (not a fixed count per text), so short texts may have none chosen;
/// when a whole batch has none, one eligible token is chosen, because a loss over no position is not a number.
/// </summary>
internal sealed class MaskingRecipe
{
    private readonly HashSet<long> specials;
    private readonly long maskId;
    private readonly int vocabularySize;

    /// <param name="probability">The share of eligible tokens chosen, in (0, 1).</param>
    /// <param name="maskId">The id of <c>[MASK]</c>.</param>
    /// <param name="vocabularySize">Random replacements are drawn from [0, this), special ids excluded.</param>
    /// <param name="specialIds">Never chosen and never drawn as a replacement: <c>[CLS] [SEP] [PAD] [UNK] [MASK]</c>
    /// (Hugging Face's special-tokens mask).</param>
    public MaskingRecipe(double probability, long maskId, int vocabularySize, IEnumerable<long> specialIds)
    {
        Probability = probability;
        this.maskId = maskId;
        this.vocabularySize = vocabularySize;
        specials = [.. specialIds];
        if (vocabularySize <= specials.Count) throw new ArgumentException("The vocabulary has no token besides the special ones.", nameof(vocabularySize));
    }

    public double Probability { get; }

    /// <summary>Corrupts <paramref name="ids"/> in place and returns the labels, both row-major [n, s]; positions where
    /// <paramref name="attentionMask"/> is 0 (padding) are never chosen. Every draw comes from <paramref name="random"/>.</summary>
    public long[] Apply(long[] ids, long[] attentionMask, Random random)
    {
        var labels = new long[ids.Length];
        Array.Fill(labels, BertMaskedLanguageModel.Ignored);
        int chosen = 0, eligible = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            if (!IsEligible(ids[i], attentionMask[i])) continue;
            eligible++;
            if (random.NextDouble() < Probability)
            {
                Corrupt(ids, labels, i, random);
                chosen++;
            }
        }
        if (chosen == 0 && eligible > 0)
        {
            int pick = random.Next(eligible);
            for (int i = 0; i < ids.Length; i++)
                if (IsEligible(ids[i], attentionMask[i]) && pick-- == 0)
                {
                    Corrupt(ids, labels, i, random);
                    break;
                }
        }
        return labels;
    }

    private bool IsEligible(long id, long mask) => mask != 0 && !specials.Contains(id);

    private void Corrupt(long[] ids, long[] labels, int i, Random random)
    {
        labels[i] = ids[i];
        double u = random.NextDouble();
        if (u < 0.8) ids[i] = maskId;
        else if (u < 0.9) ids[i] = RandomToken(random);
        // else: kept as it is, so the model cannot learn that every scored position is corrupted
    }

    private long RandomToken(Random random)
    {
        long id;
        do id = random.Next(vocabularySize); while (specials.Contains(id));
        return id;
    }
}
