using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Evaluation;

/// <summary>
/// ML.NET's classic way to multi-label, the baseline the tool and the quality suite put beside the fine-tuned models:
/// binary relevance, one SDCA logistic regression per label on the same features, each predicting at probability ½.
/// The features are computed once and stay sparse where they are (FeaturizeText's).
/// </summary>
internal static class BinaryRelevanceBaseline
{
    /// <summary>Trains on <paramref name="train"/> and evaluates on <paramref name="test"/>; both hold <c>Features</c>
    /// (a Single vector) and <c>Label</c> (the K flags, Single); <paramref name="names"/> are the K labels in order.</summary>
    public static MultiLabelMetrics Evaluate(MLContext ml, IDataView train, IDataView test, IReadOnlyList<string> names)
    {
        var schema = SchemaDefinition.Create(typeof(OneLabelRow));
        schema[nameof(OneLabelRow.Features)].ColumnType = train.Schema["Features"].Type;
        var x = Features(train);
        var y = train.GetColumn<float[]>("Label").ToArray();
        var testX = ml.Data.LoadFromEnumerable(Features(test).Select(f => new OneLabelRow { Features = f }).ToList(), schema);
        var testY = test.GetColumn<float[]>("Label").ToArray();
        var scores = testY.Select(_ => new float[names.Count]).ToArray();
        var predicted = testY.Select(_ => new bool[names.Count]).ToArray();
        for (int j = 0; j < names.Count; j++)
        {
            var labels = y.Select(l => l[j] > 0.5f).ToArray();
            if (labels.All(l => l == labels[0]))
            {
                // One answer on every training row (SDCA cannot train on one class): that answer, for certain.
                foreach (int i in Enumerable.Range(0, testY.Length)) (scores[i][j], predicted[i][j]) = (labels[0] ? 1 : 0, labels[0]);
                continue;
            }
            var data = ml.Data.LoadFromEnumerable(x.Select((f, i) => new OneLabelRow { Features = f, Label = labels[i] }).ToList(), schema);
            var scored = ml.BinaryClassification.Trainers.SdcaLogisticRegression().Fit(data).Transform(testX);
            var p = scored.GetColumn<float>("Probability").ToArray();
            var yes = scored.GetColumn<bool>("PredictedLabel").ToArray();
            for (int i = 0; i < p.Length; i++) (scores[i][j], predicted[i][j]) = (p[i], yes[i]);
        }
        return MultiLabelEvaluator.Compute(names, testY, scores, predicted);
    }

    /// <summary>Each row's features, copied: the cursor behind GetColumn refills one buffer row after row.</summary>
    private static VBuffer<float>[] Features(IDataView data) => [.. data.GetColumn<VBuffer<float>>("Features").Select(v =>
    {
        VBuffer<float> copy = default;
        v.CopyTo(ref copy);
        return copy;
    })];

    private sealed class OneLabelRow
    {
        public VBuffer<float> Features { get; set; }
        public bool Label { get; set; }
    }
}
