namespace MLNet.FineTuning;

/// <summary>Default column names, the same as ML.NET's trainers use (its DefaultColumnNames is internal).</summary>
public static class ColumnNames
{
    /// <summary>The label column: "Label".</summary>
    public const string Label = "Label";
    /// <summary>The class-probability output: "Score".</summary>
    public const string Score = "Score";
    /// <summary>The predicted-class output: "PredictedLabel".</summary>
    public const string PredictedLabel = "PredictedLabel";
    /// <summary>The image input: "Image".</summary>
    public const string Image = "Image";
    /// <summary>The text input: "Text".</summary>
    public const string Text = "Text";
}
