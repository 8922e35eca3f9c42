using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Training;
using Options = MLNet.FineTuning.LoraTextClassifier.Options;

namespace MLNet.FineTuning.Text;

/// <summary><see cref="LoraTextClassifier"/>'s task: a key label, one head output per class, the ONNX probabilities,
/// predicted index and label.</summary>
internal sealed class TextClassification(HostEnvironment env, Options options, IChannel log)
    : TextFineTuning<Options, LoraTextClassifierTransformer>(env, options, log)
{
    protected override LabelKind Kind => LabelKind.Class;

    protected override string[] CheckLabel(DataViewSchema schema) => LabelColumn.Read(schema, Options.LabelColumnName);

    protected override TargetScaling? CheckTrainingLabels(TextDataset train, string[] classNames)
    {
        LabelColumn.CheckTrainingRows(train.ClassIndices, classNames, Options.LabelColumnName, Log);
        return null;
    }

    protected override int HeadOutputs(TextRows rows) => rows.ClassNames.Length;

    protected override JsonObject CheckpointMetadata(Options o, TextRows rows) => LoraTextClassifier.CheckpointMetadata(o, rows.ClassNames);

    protected override LoraTextClassifierTransformer Finish(IDataView input, TextRows rows, TextModel trained, Options o, TrainingResult result)
    {
        var adapter = MergeAdapters(rows, trained, o);
        var model = trained.Classifier;
        var onnx = TextClassifierExporter.Export(model.Encoder, o.Pooling, model.Head, rows.ClassNames, BertExporter.Int8Projections.None,
            textPairs: o.SecondTextColumnName != null);
        var scoring = OnnxScoringChain.Fit(Env.Data, input, ScoringInput(rows, o), onnx, rows.ClassNames, o.ScoreColumnName,
            o.PredictedLabelColumnName, Env.GpuDeviceId, Env.FallbackToCpu);
        return new LoraTextClassifierTransformer(scoring, onnx, model, o.Clone(), rows.ClassNames, result, rows.TokenizerFiles,
            adapter, trained.AdapterParameters);
    }
}
