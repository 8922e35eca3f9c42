namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>
/// One seeded mutation of a file's bytes, as a fuzzer makes them: bit flips anywhere or in the first 64 bytes (where
/// sizes, lengths and magic numbers are), a cut, a run overwritten with random bytes, or a slice repeated (so that
/// lengths and offsets no longer match). Used for images and model files alike.
/// </summary>
internal static class ByteMutations
{
    public static (string How, byte[] Bytes) Mutate(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        switch (random.Next(5))
        {
            case 0:
                int flips = 1 + random.Next(8);
                for (int f = 0; f < flips; f++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return ($"{flips}-flips", bytes);
            case 1:
                int at = random.Next(Math.Min(64, bytes.Length));
                bytes[at] ^= (byte)(1 << random.Next(8));
                return ($"header-flip-{at}", bytes);
            case 2:
                int keep = random.Next(bytes.Length);
                return ($"cut-{keep}", bytes[..keep]);
            case 3:
                int start = random.Next(bytes.Length), length = Math.Min(bytes.Length - start, 1 + random.Next(64));
                random.NextBytes(bytes.AsSpan(start, length));
                return ($"run-{start}-{length}", bytes);
            default:
                int from = random.Next(bytes.Length), size = Math.Min(bytes.Length - from, 1 + random.Next(256));
                return ($"repeat-{from}-{size}", [.. bytes[..(from + size)], .. bytes[from..]]);
        }
    }

    /// <summary>Writes <paramref name="count"/> seeded mutants of <paramref name="original"/> to <paramref name="path"/> one
    /// after the other and reads each with <paramref name="read"/>; counts the reads and the failures that
    /// <paramref name="isRefusal"/> accepts, and fails the test (listing them) on any other exception.</summary>
    public static (int Read, int Refused) FuzzFile(byte[] original, string path, int count, int seed, Action<string> read,
        Func<Exception, bool> isRefusal)
    {
        var random = new Random(seed);
        int readCount = 0, refused = 0;
        var unexpected = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var (how, bytes) = Mutate(original, random);
            File.WriteAllBytes(path, bytes);
            try
            {
                read(path);
                readCount++;
            }
            catch (Exception e) when (isRefusal(e))
            {
                refused++;
            }
            catch (Exception e)
            {
                var inner = e.InnerException;
                while (inner?.InnerException is { } deeper) inner = deeper;   // the cause under reflection's wrappers
                unexpected.Add($"{i} {how}: {e.GetType().FullName}: {e.Message}" + (inner is null ? "" : $" <- {inner.GetType().FullName}: {inner.Message}"));
            }
        }
        Xunit.Assert.True(unexpected.Count == 0, $"{unexpected.Count} of {count} mutants were neither read nor refused as expected:\n{string.Join("\n", unexpected.Take(15))}");
        return (readCount, refused);
    }
}
