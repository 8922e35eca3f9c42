using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

// The loop's learning-rate range test (the automatic recipe and the public FindLearningRate run it).
internal sealed partial class TrainingLoop
{
    /// <summary>
    /// The learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training Neural Networks", §3.3; fastai's
    /// <c>lr_find</c>): from the current weights, <paramref name="steps"/> optimizer steps with the head's rate growing
    /// exponentially from <paramref name="minRate"/> to <paramref name="maxRate"/> (the backbone keeps its factor), the
    /// loss of each step recorded, stopping once the smoothed loss exceeds 4× its minimum. The weights are changed: run
    /// it on a model that is thrown away afterwards. <paramref name="keepGoing"/>, when given, is asked after each step with
    /// (steps done, steps planned); false stops the test, which then returns null (the automatic recipe's budget).
    /// </summary>
    public LearningRateRange? FindLearningRate(IFineTunable model, IBatchSource train, int steps, double minRate, double maxRate, Tensor? classWeights = null,
                                               Func<int, int, bool>? keepGoing = null)
    {
        using var kernels = CudaKernelChoices.ForTraining(device, options.AllowTf32, Info);
        model.Module.to(device);
        using var weights = classWeights?.to(device);
        using var mixed = MixedPrecision.Wanted(options.Precision, device) ? MixedPrecision.Begin(model) : null;
        var (optimizer, groups) = CreateOptimizer(model, mixed);
        using var _ = optimizer;
        optimizer.zero_grad();
        var trainable = mixed?.Masters.ToArray() ?? model.BackboneParameters.Concat(model.HeadParameters).Select(p => p.Parameter).ToArray();
        model.SetTrainingMode(false);
        manual_seed(options.Seed);
        var rates = new List<double>();
        var losses = new List<double>();
        for (int epoch = 0; rates.Count < steps; epoch++)
        {
            int before = rates.Count;
            foreach (var batch in train.Batches(epoch, options.CancellationToken))
            {
                using var b = batch;
                double rate = minRate * Math.Pow(maxRate / minRate, (double)rates.Count / Math.Max(1, steps - 1));
                // Each group keeps its ratio to the head's rate (the backbone's factor).
                foreach (var (group, baseRate) in groups) group.LearningRate = rate * baseRate / options.LearningRate;
                double loss;
                try
                {
                    using (NewDisposeScope()) loss = Backward(model, b, mixed, weights, 1).Loss.item<float>();
                    Update(optimizer, mixed, trainable);
                }
                catch (ExternalException e) when (TrainingOutOfMemoryException.IsOutOfMemory(e))
                {
                    throw OutOfMemory(e, "the learning-rate range test", b, $" (step {rates.Count + 1})");
                }
                if (device.type == DeviceType.CPU) GC.Collect(0);   // see Run: TorchSharp's Scalars pin the heap otherwise
                rates.Add(rate);
                losses.Add(loss);
                if (keepGoing != null && rates.Count < steps && !keepGoing(rates.Count, steps))
                {
                    mixed?.End();
                    Info($"learning-rate range test stopped after {rates.Count} of {steps} steps");
                    return null;
                }
                if (rates.Count >= steps || LearningRateRange.Diverged(losses)) break;
            }
            if (rates.Count == before) throw new InvalidOperationException("The training data gave no batch for the learning-rate range test.");
            if (LearningRateRange.Diverged(losses)) break;
        }
        mixed?.End();
        var range = LearningRateRange.From(rates, losses);
        Info($"learning-rate range test: {rates.Count} steps from {minRate:G2} to {rates[^1]:G2}; suggested {range.SuggestedLearningRate:G2} (steepest fall of the smoothed loss)" +
             (range.LossFellClearly ? "" : "; the loss did not fall clearly below its start, so the suggestion is noise"));
        return range;
    }
}
