namespace MLNet.FineTuning.Training;

/// <summary>Seeds derived from (seed, epoch, stream): one place, so every batch source replays an epoch exactly.</summary>
internal static class Seeds
{
    /// <summary>A seed from (seed, epoch, stream) that is the same in every process. HashCode.Combine is
    /// randomised per process: with it, seeded runs differed from run to run and a resumed epoch replayed
    /// another shuffle than the one it was cut off in. SplitMix64's finaliser (Steele et al. 2014) mixes the bits.</summary>
    public static int Stable(int seed, int epoch, int stream)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32 | (uint)epoch) + (ulong)(uint)stream * 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)(z ^ (z >> 31));
    }
}
