namespace MLNet.FineTuning.Data;

/// <summary>
/// A shuffle for rows that can only be read in order (images over the decoded-image budget): rows wait in a pool and
/// leave it in random order, as ML.NET's <c>ShuffleRows</c> does with its pool. Ours holds the decoded rows themselves:
/// <c>ShuffleRows</c> copies each column's values and drops the columns it cannot copy, among them the images of
/// <c>LoadImages</c>, so training over the budget on such a column failed with "Column 'Image' not found".
/// </summary>
internal static class ShufflePool
{
    /// <summary>Rows ML.NET's ShuffleRows pools by default.</summary>
    public const int DefaultRows = 1000;
    /// <summary>Decoded bytes the pool may hold: large photos decode to megabytes each, and the rows only stream because
    /// all of them did not fit in memory.</summary>
    public const long DefaultBytes = 256L << 20;

    /// <summary><paramref name="items"/> in an order drawn by <paramref name="rng"/>: each item waits in a pool of at most
    /// <paramref name="maxRows"/> items and <paramref name="maxBytes"/> bytes and leaves it at a random time.</summary>
    public static IEnumerable<T> Shuffle<T>(IEnumerable<T> items, Func<T, long> bytes, Random rng, int maxRows = DefaultRows,
                                            long maxBytes = DefaultBytes)
    {
        var pool = new List<T>();
        long held = 0;
        foreach (var item in items)
        {
            pool.Add(item);
            held += bytes(item);
            while (pool.Count > maxRows || (held > maxBytes && pool.Count > 1))
            {
                int j = rng.Next(pool.Count);
                var leaving = pool[j];
                pool[j] = pool[^1];
                pool.RemoveAt(pool.Count - 1);
                held -= bytes(leaving);
                yield return leaving;
            }
        }
        rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pool));
        foreach (var item in pool) yield return item;
    }
}
