using Microsoft.ML.Runtime;

namespace MLNet.FineTuning.Training;

/// <summary>
/// TorchSharp has one random generator per process: <c>manual_seed</c>, weight initialisation and dropout all draw
/// from it, and dropout takes no generator of its own. Two trainings on two threads would interleave their draws, and
/// neither would be what its <c>Seed</c> promises. So a training (from seeding to its last step) holds this gate: a
/// second <c>Fit</c> in the process waits for the first, and says so in the log. Reentrant on one thread (a progress
/// callback may start a training of its own).
/// </summary>
internal static class GlobalGenerator
{
    private static readonly object Gate = new();

    /// <summary>Holds the gate until the returned value is disposed; waits (and logs that it waits) when another
    /// thread's training holds it.</summary>
    public static IDisposable Exclusive(IChannel ch)
    {
        if (!Monitor.TryEnter(Gate))
        {
            ch.Info(MessageSensitivity.None, "waiting for another Fit in this process to finish: TorchSharp's random generator is process-wide, " +
                                             "so trainings run one at a time to keep each seed's results");
            Monitor.Enter(Gate);
        }
        return new Release();
    }

    private sealed class Release : IDisposable
    {
        private bool released;

        public void Dispose()
        {
            if (released) return;
            released = true;
            Monitor.Exit(Gate);
        }
    }
}
