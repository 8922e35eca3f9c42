namespace MLNet.FineTuning.Data;

/// <summary>
/// The rows of one class-balanced epoch: as many draws as rows, shared equally by the classes present (the remainder
/// to randomly chosen classes), each class's draws cycling through shuffled passes over its rows, so a rare class's rows
/// repeat as evenly as they can and a common class's rows take turns from epoch to epoch; then the draws are shuffled.
/// Resampling instead of weighting the loss keeps every row's weight at 1, so one rare row never carries half a
/// batch's gradient (docs/quality.md, "Balanced sampling").
/// </summary>
internal static class BalancedSampling
{
    /// <summary>Row indices for one epoch, <paramref name="classes"/>.Length of them.</summary>
    /// <param name="classes">The 0-based class of each row.</param>
    /// <param name="rng">The epoch's generator: the same generator state gives the same order.</param>
    public static int[] Order(int[] classes, Random rng)
    {
        var rowsOf = classes.Select((c, row) => (c, row)).GroupBy(x => x.c).OrderBy(g => g.Key)
            .Select(g => g.Select(x => x.row).ToArray()).ToArray();
        int share = classes.Length / rowsOf.Length, extra = classes.Length % rowsOf.Length;
        var draws = Enumerable.Repeat(share, rowsOf.Length).ToArray();
        var lucky = Enumerable.Range(0, rowsOf.Length).ToArray();
        rng.Shuffle(lucky);
        for (int i = 0; i < extra; i++) draws[lucky[i]]++;

        var order = new int[classes.Length];
        int at = 0;
        for (int k = 0; k < rowsOf.Length; k++)
        {
            var pass = (int[])rowsOf[k].Clone();
            for (int taken = 0; taken < draws[k]; taken += pass.Length)
            {
                rng.Shuffle(pass);
                int n = Math.Min(pass.Length, draws[k] - taken);
                pass.AsSpan(0, n).CopyTo(order.AsSpan(at));
                at += n;
            }
        }
        rng.Shuffle(order);
        return order;
    }

    /// <summary>A class-balanced epoch over rows that can only be read in order (images over the cache budget): each row
    /// comes out ⌊r⌋ or ⌈r⌉ times in a row, r = (N / K) / its class's rows, so every class gets N / K draws on average. The
    /// caller shuffles the copies apart (<see cref="ShufflePool"/>).</summary>
    /// <param name="rows">The rows in stream order, each with its 0-based class.</param>
    /// <param name="classes">The class of every row of the stream (what the rates are counted from).</param>
    /// <param name="rng">The epoch's generator.</param>
    public static IEnumerable<T> Copies<T>(IEnumerable<(T Row, int Class)> rows, int[] classes, Random rng)
    {
        var counts = classes.GroupBy(c => c).ToDictionary(g => g.Key, g => g.Count());
        double share = (double)classes.Length / counts.Count;
        foreach (var (row, c) in rows)
        {
            double rate = share / counts[c];
            int copies = (int)rate + (rng.NextDouble() < rate - (int)rate ? 1 : 0);
            for (int i = 0; i < copies; i++) yield return row;
        }
    }
}
