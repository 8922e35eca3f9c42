using Microsoft.ML;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Benchmarks;

internal sealed record LeakResult(int Steps, int FromStep, MemoryReading Baseline, int RunningFromStep, MemoryReading RunningFrom,
    MemoryReading EndRunning, MemoryReading EndCleaned, bool Trimmed, double Seconds, double[] ResidentByStep)
{
    private double Per100(double from, double to) => (to - from) / Math.Max(1, Steps - FromStep) * 100;
    /// <summary>Growth of the resident size as the process runs (memory malloc and the GC keep for reuse included),
    /// from <see cref="RunningFromStep"/>, when the pools have filled again after the baseline's clean-up.</summary>
    public double RunningGrowthPer100Steps => (EndRunning.Resident - RunningFrom.Resident) / Math.Max(1, Steps - RunningFromStep) * 100;
    /// <summary>Growth of what is still resident after a full collection, finalizers and malloc_trim: a leak.</summary>
    public double HeldGrowthPer100Steps => Per100(Baseline.Resident, EndCleaned.Resident);
    /// <summary>Growth of the live .NET heap.</summary>
    public double ManagedGrowthPer100Steps => Per100(Baseline.Managed, EndCleaned.Managed);

    /// <summary>About ten points of the resident size over the run: "step:MiB".</summary>
    public string Trace => string.Join(" ", Enumerable.Range(0, 11)
        .Select(i => Math.Clamp(i * ResidentByStep.Length / 10, 1, ResidentByStep.Length)).Distinct()
        .Select(s => $"{s}:{ResidentByStep[s - 1]:F0}"));
}

/// <summary>
/// Part 3b: many small training steps through <c>Fit</c> (several epochs, so the per-epoch producer task and
/// the epoch-end work repeat too), reading the resident size at every step. The baseline is taken at the
/// end of the first tenth of the steps (AdamW's state and the allocators' pools fill up before), after a
/// clean-up: a full, decommitting .NET collection, pending finalizers, and glibc's malloc_trim. At the last
/// step the resident size is read as it is (compared with the reading at twice the baseline's step, once the
/// pools have refilled: what a user sees), and again after the same clean-up (compared with the baseline:
/// memory that is really held, a leak).
/// </summary>
internal static class LeakCheck
{
    /// <summary>The image classifier: <paramref name="steps"/> steps of batch <paramref name="batchSize"/> at <paramref name="imageSize"/> px.</summary>
    public static LeakResult Run(MLContext ml, BenchmarkData data, int steps, int imageSize, int batchSize, TrainingPrecision precision) =>
        Run(steps, FitBenchmark.ImagesPerStep(data.Count, batchSize).Length, (progress, epochs, stop) =>
        {
            var options = FitBenchmark.FitOptions(imageSize, batchSize, progress, precision);
            options.Epochs = epochs;
            options.CancellationToken = stop;
            ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options).Fit(data.View).Dispose();
        });

    /// <summary>Any Fit: <paramref name="fit"/> trains for the epochs it is given, reporting every step to the progress
    /// it is given and stopping when the token is cancelled (after the last counted step).</summary>
    public static LeakResult Run(int steps, int stepsPerEpoch, Action<IProgress<TrainingProgress>, int, CancellationToken> fit)
    {
        int fromStep = Math.Max(2, steps / 10);
        int runningFromStep = Math.Min(steps - 1, 2 * fromStep);
        MemoryReading baseline = default, runningFrom = default, endRunning = default, endCleaned = default;
        bool trimmed = true;
        var trace = new List<double>(steps);
        using var stop = new CancellationTokenSource();
        MemoryReading Cleaned()
        {
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();   // tensors and scalars nobody disposed free their native memory here
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            trimmed &= ProcessMemory.TrimNativeHeap();
            return ProcessMemory.Read(collectManaged: true);
        }
        var log = new ProgressLog(p =>
        {
            if (p.IsEpochEnd || p.Step > steps) return;
            if (p.Step == fromStep) baseline = Cleaned();
            if (p.Step == runningFromStep) runningFrom = ProcessMemory.Read();
            if (p.Step == steps)
            {
                endRunning = ProcessMemory.Read();
                endCleaned = Cleaned();
                stop.Cancel();
            }
            trace.Add(ProcessMemory.Read().Resident);
        });
        var sw = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            fit(log, (steps + stepsPerEpoch - 1) / stepsPerEpoch, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped right after the last counted step: the readings are taken.
        }
        return new LeakResult(steps, fromStep, baseline, runningFromStep, runningFrom, endRunning, endCleaned, trimmed, sw.Elapsed.TotalSeconds, trace.ToArray());
    }
}
