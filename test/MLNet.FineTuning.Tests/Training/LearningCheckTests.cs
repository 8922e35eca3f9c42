using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>A run that learned nothing (every row answered alike) is told apart from one that learned little.</summary>
public class LearningCheckTests
{
    private sealed record Rows(int[] TrainClasses, string[] ClassNames) : IFineTuningRows
    {
        public int TrainCount => TrainClasses.Length;
        public int ValidCount => 0;
    }

    private static TrainingResult Losses(params double[] trainLoss) =>
        new(trainLoss.Length, false, trainLoss.Length, null, [.. trainLoss.Select((l, i) => new TrainingProgress { Epoch = i + 1, TrainLoss = l, IsEpochEnd = true })]);

    [Fact]
    public void ConstantAnswerLoss_IsTheClassEntropy_OrOneForAStandardisedTarget()
    {
        var even = new Rows([0, 1, 0, 1], ["a", "b"]);
        var skewed = new Rows([0, 0, 0, 1], ["a", "b"]);
        Assert.Equal(Math.Log(2), new ClassificationTask(0).ConstantAnswerLoss(even)!.Value, 12);
        Assert.Equal(-(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25)), new ClassificationTask(0).ConstantAnswerLoss(skewed)!.Value, 12);
        Assert.Equal(1, new RegressionTask(new TargetScaling(5, 2)).ConstantAnswerLoss(new Rows([], []))!.Value);
        Assert.Null(new LabelSetTask(0, false).ConstantAnswerLoss(even));
    }

    [Fact]
    public void ConstantAnswerLoss_WithLabelSmoothing_IsWhatLibtorchChargesTheBestConstant()
    {
        // 4 classes, one of them absent from training: smoothing still spreads ε/K onto it, as PyTorch's cross_entropy does.
        var rows = new Rows([0, 0, 0, 0, 0, 0, 1, 1, 2, 2], ["a", "b", "c", "d"]);
        foreach (var (smoothing, balance) in new (double, ClassBalance?)[] { (0.1, null), (0.3, null), (0.1, ClassBalance.Sampling), (0, null) })
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            double expected = new ClassificationTask(smoothing).ConstantAnswerLoss(rows, balance)!.Value;
            // The best constant answer, as logits: log of the mean smoothed target, the same for every row.
            double[] shares = balance == ClassBalance.Sampling ? [1 / 3.0, 1 / 3.0, 1 / 3.0, 0] : [0.6, 0.2, 0.2, 0];
            var best = shares.Select(p => (float)Math.Log((1 - smoothing) * p + smoothing / 4)).ToArray();
            // Sampling draws every class equally: a batch of one row of each class present stands for an epoch.
            long[] drawn = balance == ClassBalance.Sampling ? [0, 1, 2] : [.. rows.TrainClasses.Select(c => (long)c)];
            using var logits = TorchSharp.torch.tensor(best).expand(drawn.Length, 4);
            using var labels = TorchSharp.torch.tensor(drawn);
            using var loss = TorchSharp.torch.nn.functional.cross_entropy(logits, labels, label_smoothing: smoothing);
            Assert.Equal(loss.item<float>(), expected, 5);
            // And it is the best constant: moving the answer costs more.
            using var other = TorchSharp.torch.tensor(best).add(TorchSharp.torch.tensor(new[] { 0.2f, 0, -0.1f, 0 })).expand(drawn.Length, 4);
            using var worse = TorchSharp.torch.nn.functional.cross_entropy(other, labels, label_smoothing: smoothing);
            Assert.True(worse.item<float>() > expected, $"smoothing {smoothing}: a moved constant cost {worse.item<float>()} against {expected}");
        }
    }

    [Fact]
    public void ConstantAnswerLoss_WithLabelSmoothingAndClassWeights_IsWhatLibtorchChargesTheBestConstant()
    {
        // One batch of every row: the weighted, smoothed loss of a constant answer, exactly as libtorch computes it.
        var rows = new Rows([0, 0, 0, 0, 0, 0, 1, 1, 2, 2], ["a", "b", "c", "d"]);
        foreach (double smoothing in new[] { 0.1, 0.3 })
        {
            double expected = new ClassificationTask(smoothing).ConstantAnswerLoss(rows, ClassBalance.LossWeights, rows.TrainCount)!.Value;
            double[] weights = ClassWeights.Values(rows.TrainClasses, 4);
            using var weight = TorchSharp.torch.tensor(weights.Select(w => (float)w).ToArray());
            using var labels = TorchSharp.torch.tensor(rows.TrainClasses.Select(c => (long)c).ToArray());
            // The best constant, found by libtorch itself: gradient descent on one logit vector shared by every row.
            using var logits = new TorchSharp.Modules.Parameter(TorchSharp.torch.zeros(4));
            using var optimizer = TorchSharp.torch.optim.Adam([logits], 0.05);
            float loss = float.NaN;
            for (int step = 0; step < 3000; step++)
            {
                optimizer.zero_grad();
                using var expanded = logits.expand(rows.TrainCount, 4);
                using var l = TorchSharp.torch.nn.functional.cross_entropy(expanded, labels, weight, label_smoothing: smoothing);
                l.backward();
                optimizer.step();
                loss = l.item<float>();
            }
            // No constant does better, and gradient descent gets there (within what a constant step size leaves).
            Assert.InRange(loss, expected - 1e-5, expected + 1e-4);
        }
    }

    [Fact]
    public void ConstantAnswerLoss_SampledEvenly_IsLogOfTheClassesPresent()
    {
        // Class-balanced sampling draws the 3 classes present equally, whatever their counts; class 1 has no rows.
        var rows = new Rows([0, 0, 0, 0, 0, 2, 3, 3], ["a", "b", "c", "d"]);
        Assert.Equal(Math.Log(3), new ClassificationTask(0).ConstantAnswerLoss(rows, ClassBalance.Sampling)!.Value, 12);
    }

    [Fact]
    public void ConstantAnswerLoss_ClassWeights_IsTheEntropyOfEachClassesShareOfABatchsWeight()
    {
        // 640, 320 and 40 rows (the suite's spam-assassin sample, about): with balanced weights one batch of all the
        // rows gives each class a third of the weight (log 3); batches of one row give each class its frequency; batches
        // of 16 lie between, near the 1.078 that the collapsed run's loss (1.071) is to be compared with.
        var rows = new Rows([.. Enumerable.Repeat(0, 640), .. Enumerable.Repeat(1, 320), .. Enumerable.Repeat(2, 40)], ["easy", "spam", "hard"]);
        var task = new ClassificationTask(0);
        double frequencies = task.ConstantAnswerLoss(rows)!.Value;
        Assert.Equal(Math.Log(3), task.ConstantAnswerLoss(rows, ClassBalance.LossWeights, 1000)!.Value, 9);
        Assert.Equal(frequencies, task.ConstantAnswerLoss(rows, ClassBalance.LossWeights, 1)!.Value, 9);
        double batchesOf16 = task.ConstantAnswerLoss(rows, ClassBalance.LossWeights, 16)!.Value;
        Assert.InRange(batchesOf16, 1.07, 1.085);
        Assert.True(batchesOf16 * LearningCheck.Share <= 1.071, "the collapsed run's best epoch must count as not learned");
    }

    [Fact]
    public void Warning_OnlyWhenNoEpochGetsBelowTheConstantAnswer()
    {
        var options = new LoraTextRegressor.Options { LearningRate = 1e-2, BackboneLearningRateFactor = 1 };
        // The suite's figures (docs/quality/cpu-text-regression-losses-2026-12-05.jsonl, word-valence seed 1).
        string? stuck = LearningCheck.Warning(Losses(1.142, 1.027, 1.015), 1, options, regression: true);
        Assert.NotNull(stuck);
        Assert.Contains("did not learn", stuck);
        Assert.Contains("the training mean", stuck);
        Assert.Contains("adapters 0.01", stuck);
        Assert.DoesNotContain("too little training", stuck);   // at the default rate, too high is the likely cause
        // The automatic recipe's 1-epoch trial at 1e-5 on package-sizes (2026-12-07) ended at the constant answer's loss.
        var slow = new LoraTextRegressor.Options { LearningRate = 1e-5 };
        Assert.Contains("too little training", LearningCheck.Warning(Losses(1.000), 1, slow, regression: true));
        Assert.Null(LearningCheck.Warning(Losses(0.600, 0.262, 0.155), 1, options, regression: true));
        Assert.Null(LearningCheck.Warning(Losses(0.904), 1, options, regression: true));   // learned little: package-sizes' first epoch
        Assert.Null(LearningCheck.Warning(Losses(1.142, 1.027, 1.015), null, options, regression: true));
        Assert.Contains("class frequencies", LearningCheck.Warning(Losses(0.70, 0.69), Math.Log(2), options, regression: false));
        var balanced = new LoraTextClassifier.Options { BalanceClasses = true, BalanceClassesBy = ClassBalance.LossWeights };
        // The suite's spam-assassin run with BalanceClasses, seed 1 (docs/quality.md, "Balanced classes"): it answered easy ham for every e-mail.
        string? weighted = LearningCheck.Warning(Losses(1.436, 1.071, 1.081), 1.078, balanced, regression: false);
        Assert.Contains("BalanceClassesBy = Sampling", weighted);
        Assert.Contains("BalanceClasses off", weighted);
        var sampled = new LoraTextClassifier.Options { BalanceClasses = true };   // by sampling, the default
        Assert.Contains("every class equally likely", LearningCheck.Warning(Losses(1.12, 1.10), Math.Log(3), sampled, regression: false));
    }
}
