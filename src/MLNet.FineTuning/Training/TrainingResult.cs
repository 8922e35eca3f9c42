namespace MLNet.FineTuning.Training;

/// <summary>What a finished run reports.</summary>
internal sealed record TrainingResult(int EpochsRun, bool StoppedEarly, int BestEpoch, double? BestMetric, IReadOnlyList<TrainingProgress> Epochs)
{
    /// <summary>The automatic recipe's record, when <see cref="FineTuningOptions.TimeBudget"/> chose the run.</summary>
    public RecipeSearchResult? Search { get; init; }
    /// <summary><see cref="LearningCheck"/>'s warning when the run learned nothing, else null. Carried rather than logged
    /// where it is found, so that only the run whose model is kept warns the user: a search's trial that learned nothing
    /// is a rejected candidate, noted in the search's log.</summary>
    public string? NotLearned { get; init; }
    /// <summary>The weight interpolation α applied after training (1 when off).</summary>
    public double WeightInterpolation { get; init; } = 1;
    /// <summary>Per validation row (in the validation source's order), whether the best epoch's model got it right: what
    /// two runs on the same rows are compared by, row by row (<see cref="RecipeSearch{TOptions, TModel}"/>'s margin). Null
    /// without validation rows or accuracy, and for a run resumed past its best epoch (a checkpoint does not keep them).</summary>
    public IReadOnlyList<bool>? ValidationHits { get; init; }
    /// <summary>The final model's outputs on the validation rows, when the task asks for them
    /// (<see cref="TrainingTask.NeedsValidationOutputs"/>) and there are validation rows; otherwise null.</summary>
    public RowOutputs? ValidationOutputs { get; init; }
}

/// <summary>A model's raw outputs (logits) on some rows and those rows' labels, row-major: row i's outputs are
/// <c>Outputs[i·Width .. (i+1)·Width)</c>, its labels <c>Labels[i·LabelWidth ..]</c>.</summary>
internal sealed record RowOutputs(float[] Outputs, int Width, float[] Labels, int LabelWidth)
{
    public int Rows => Outputs.Length / Math.Max(1, Width);
}
