using MLNet.FineTuning.Data;

namespace MLNet.FineTuning.Tests.Data;

public class BalancedSamplingTests
{
    // 90 rows of class 0, 8 of class 2, 2 of class 3, none of class 1: the shape of a set with a rare class.
    private static readonly int[] Classes = [.. Enumerable.Repeat(0, 90), .. Enumerable.Repeat(2, 8), .. Enumerable.Repeat(3, 2)];

    [Fact]
    public void Order_ImbalancedClasses_EveryPresentClassGetsAThirdOfTheDraws()
    {
        var order = BalancedSampling.Order(Classes, new Random(7));

        Assert.Equal(Classes.Length, order.Length);
        var draws = order.GroupBy(row => Classes[row]).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([0, 2, 3], draws.Keys.Order());
        Assert.All(draws.Values, n => Assert.InRange(n, 33, 34));   // 100 draws over 3 classes
    }

    [Fact]
    public void Order_RareRowsRepeatEvenly_CommonRowsAtMostOnce()
    {
        var order = BalancedSampling.Order(Classes, new Random(7));
        var times = order.GroupBy(row => row).ToDictionary(g => g.Key, g => g.Count());

        // Class 3's two rows share its 33–34 draws: 16 or 17 each, never 10 and 24.
        Assert.All(new[] { 98, 99 }, row => Assert.InRange(times[row], 16, 17));
        // Class 2's eight rows: 4 or 5 each.
        Assert.All(Enumerable.Range(90, 8), row => Assert.InRange(times[row], 4, 5));
        // Class 0 has more rows than draws: each drawn row once.
        Assert.All(times.Where(t => t.Key < 90), t => Assert.Equal(1, t.Value));
    }

    [Fact]
    public void Order_SameGenerator_SameOrder_AnotherEpoch_AnotherShare()
    {
        Assert.Equal(BalancedSampling.Order(Classes, new Random(7)), BalancedSampling.Order(Classes, new Random(7)));
        var first = BalancedSampling.Order(Classes, new Random(7)).Where(row => row < 90).Order();
        var second = BalancedSampling.Order(Classes, new Random(8)).Where(row => row < 90).Order();
        Assert.NotEqual(first, second);   // the common class's rows take turns from epoch to epoch
    }

    [Fact]
    public void Order_BalancedClasses_IsAPermutation()
    {
        int[] even = [0, 1, 2, 0, 1, 2, 0, 1, 2];
        Assert.Equal(Enumerable.Range(0, 9), BalancedSampling.Order(even, new Random(3)).Order());
    }

    [Fact]
    public void Copies_ThroughAPool_DrawEachClassAboutEquallyAndSpreadTheCopies()
    {
        // Streamed rows (images over the cache budget) cannot be reordered: copies by rate, then a shuffle pool.
        var counts = new int[4];
        int epochs = 200;
        double mostInOneBatch = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var rng = new Random(epoch);
            var stream = Enumerable.Range(0, Classes.Length).ToArray();
            rng.Shuffle(stream);   // the source's own shuffle
            var copies = BalancedSampling.Copies(stream.Select(row => (row, Classes[row])), Classes, rng);
            var drawn = ShufflePool.Shuffle(copies, _ => 0, rng, maxRows: 32).ToArray();
            foreach (int row in drawn) counts[Classes[row]]++;
            // Class 3's row 98 comes out 16 or 17 times in a row from Copies; the pool spreads them over the batches of 8.
            mostInOneBatch += drawn.Chunk(8).Max(batch => batch.Count(row => row == 98)) / (double)epochs;
        }
        foreach (int c in new[] { 0, 2, 3 }) Assert.InRange(counts[c] / (double)epochs, 32.3, 34.3);
        Assert.Equal(0, counts[1]);
        Assert.InRange(mostInOneBatch, 1, 5);   // on average over the epochs; without the pool a batch holds 8 of them
    }

    [Fact]
    public void ShufflePool_OverItsBytes_LetsRowsGoEarlier_AndLosesNone()
    {
        var rows = Enumerable.Range(0, 50).ToArray();
        var byRows = ShufflePool.Shuffle(rows, _ => 1, new Random(1), maxRows: 10).ToArray();
        var byBytes = ShufflePool.Shuffle(rows, _ => 100, new Random(1), maxRows: 10, maxBytes: 300).ToArray();

        Assert.Equal(rows, byRows.Order());
        Assert.Equal(rows, byBytes.Order());
        Assert.NotEqual(rows, byRows);
        // A row leaves at most (pool size − 1) places before it entered: 9 with 10 rows, 3 with 300 bytes of 100-byte rows.
        Assert.All(byBytes.Select((row, at) => row - at), ahead => Assert.True(ahead <= 3));
        Assert.Contains(byRows.Select((row, at) => row - at), ahead => ahead > 3);
    }
}
