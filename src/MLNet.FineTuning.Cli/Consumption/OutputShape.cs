namespace MLNet.FineTuning.Cli.Consumption;

/// <summary>What the generated ModelOutput holds for a task, and what the generated Program prints of it.</summary>
/// <param name="Members">The ModelOutput class's members (C#, indented as in the class).</param>
/// <param name="Extras">Members of the static model class after ModelPath's neighbours (the names, helpers); may be empty.</param>
/// <param name="Print">Program.cs's statements that print <c>output</c>.</param>
internal sealed record OutputShape(string Members, string Extras, string Print)
{
    /// <summary>A classifier: the predicted class and one probability per class.</summary>
    public static OutputShape Classes(IReadOnlyList<string> names) => new(
        """
                /// <summary>The predicted class.</summary>
                [ColumnName("PredictedLabel")] public string PredictedLabel { get; set; } = "";
                /// <summary>One probability per class, in <see cref="ClassNames"/> order.</summary>
                [ColumnName("Score")] public float[] Score { get; set; } = [];
        """,
        $$"""
            /// <summary>The classes, in the order of <see cref="ModelOutput.Score"/>.</summary>
            public static readonly IReadOnlyList<string> ClassNames = [{{string.Join(", ", names.Select(ConsumptionProject.Literal))}}];

            /// <summary>Every class with its probability, the most likely first.</summary>
            public static IReadOnlyList<(string Label, float Score)> Ranked(ModelOutput output) =>
                [.. ClassNames.Zip(output.Score).OrderByDescending(x => x.Second)];
        """,
        """
        Console.WriteLine($"label: {output.PredictedLabel}");
        foreach (var (label, score) in {0}.Ranked(output).Take(3))
            Console.WriteLine($"  {label}: {score:F4}");
        """);

    /// <summary>A regressor: the predicted value.</summary>
    public static OutputShape Value() => new(
        """
                /// <summary>The predicted value, in the training labels' unit.</summary>
                [ColumnName("Score")] public float Score { get; set; }
        """,
        "",
        """
        Console.WriteLine($"predicted value: {output.Score:G6}");
        """);

    /// <summary>A multi-label classifier: one yes/no and one probability per label.</summary>
    public static OutputShape LabelSet(IReadOnlyList<string> names) => new(
        """
                /// <summary>Per label, in <see cref="LabelNames"/> order: whether the input has it (its probability reached the label's threshold).</summary>
                [ColumnName("PredictedLabel")] public bool[] PredictedLabel { get; set; } = [];
                /// <summary>Per label, in <see cref="LabelNames"/> order: its own probability (they do not sum to 1).</summary>
                [ColumnName("Score")] public float[] Score { get; set; } = [];
        """,
        $$"""
            /// <summary>The labels, in the order of <see cref="ModelOutput.Score"/> and <see cref="ModelOutput.PredictedLabel"/>.</summary>
            public static readonly IReadOnlyList<string> LabelNames = [{{string.Join(", ", names.Select(ConsumptionProject.Literal))}}];

            /// <summary>The labels the input has.</summary>
            public static IReadOnlyList<string> Labels(ModelOutput output) => [.. LabelNames.Where((_, i) => output.PredictedLabel[i])];
        """,
        """
        Console.WriteLine($"labels: {string.Join(", ", {0}.Labels(output))}");
        """);
}
