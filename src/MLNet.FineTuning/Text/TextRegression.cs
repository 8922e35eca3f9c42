using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Onnx;
using MLNet.FineTuning.Training;
using Options = MLNet.FineTuning.LoraTextRegressor.Options;

namespace MLNet.FineTuning.Text;

/// <summary><see cref="LoraTextRegressor"/>'s task: a float label, standardised for training (<see cref="TargetScaling"/>),
/// one head output starting at zero, the ONNX <c>score</c> in the label's unit.</summary>
internal sealed class TextRegression(HostEnvironment env, Options options, IChannel log)
    : TextFineTuning<Options, LoraTextRegressorTransformer>(env, options, log)
{
    protected override LabelKind Kind => LabelKind.Value;

    protected override string[] CheckLabel(DataViewSchema schema)
    {
        TargetColumn.Check(schema, Options.LabelColumnName);
        return [];
    }

    protected override TargetScaling? CheckTrainingLabels(TextDataset train, string[] classNames) => TargetScaling.Of(LabelReader.Values(train.Labels), Options.LabelColumnName);

    protected override int HeadOutputs(TextRows rows) => 1;

    /// <summary>Every text starts at the training mean (see <c>ImageRegression.InitializeHead</c>).</summary>
    protected override void InitializeHead(ClassifierHead head, TextRows rows) => head.StartAtZero();

    protected override TrainingTask Task(Options o, TextRows rows) => new RegressionTask(rows.Scaling!);

    protected override JsonObject CheckpointMetadata(Options o, TextRows rows) => LoraTextRegressor.CheckpointMetadata(o, rows.Scaling!);

    protected override LoraTextRegressorTransformer Finish(IDataView input, TextRows rows, TextModel trained, Options o, TrainingResult result)
    {
        var adapter = MergeAdapters(rows, trained, o);
        var model = trained.Classifier;
        var scaling = rows.Scaling!;
        var onnx = TextClassifierExporter.Export(model.Encoder, o.Pooling, model.Head,
            new RegressionOutputs(scaling.Mean, scaling.Spread, ExportedModelContract.TextRegressionTask), textPairs: o.SecondTextColumnName != null);
        var scoring = OnnxScoringChain.FitRegression(Env.Data, input, ScoringInput(rows, o), onnx, o.ScoreColumnName, Env.GpuDeviceId, Env.FallbackToCpu);
        return new LoraTextRegressorTransformer(scoring, onnx, model, o.Clone(), scaling, result, rows.TokenizerFiles,
            adapter, trained.AdapterParameters);
    }
}
