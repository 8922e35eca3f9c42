using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Data;

/// <summary>
/// Masked-language-model batches: the batches of a <see cref="TextBatchSource"/> (its shuffling, length buckets and
/// padding), each corrupted by a <see cref="MaskingRecipe"/> with a seed derived from (seed, epoch, batch), so an
/// epoch replays exactly. Inputs: corrupted <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> and the
/// labels [n, s] (the model scores only the labelled positions); the batch's labels are the same [n, s].
/// </summary>
internal sealed class MaskedTextBatchSource(TextBatchSource text, MaskingRecipe recipe, int seed) : IBatchSource
{
    /// <summary>Seed stream of the masking draws (other sources use their own streams).</summary>
    private const int MaskingStream = 0x6d61736b;

    public long RowCount => text.RowCount;

    public IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation)
    {
        int index = 0;
        foreach (var batch in text.Batches(epoch, cancellation))
        {
            using var source = batch;
            var (ids, mask, types) = (source.Inputs[0], source.Inputs[1], source.Inputs[2]);
            long[] corrupted = ids.data<long>().ToArray();
            var random = new Random(Seeds.Stable(seed, epoch, unchecked(MaskingStream + index++)));
            long[] labels = recipe.Apply(corrupted, mask.data<long>().ToArray(), random);
            yield return new Batch([tensor(corrupted, ids.shape), mask.clone(), types.clone(), tensor(labels, ids.shape)], tensor(labels, ids.shape));
        }
    }
}
