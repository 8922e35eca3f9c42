using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Onnx;
using MLNet.FineTuning.Training;
using Options = MLNet.FineTuning.LoraTextMultiLabelClassifier.Options;

namespace MLNet.FineTuning.Text;

/// <summary><see cref="LoraTextMultiLabelClassifier"/>'s task: a vector of K flags, one head output per label, binary
/// cross-entropy, thresholds from the validation rows, the ONNX probabilities and predicted flags.</summary>
internal sealed class TextLabelSet(HostEnvironment env, Options options, IChannel log)
    : TextFineTuning<Options, LoraTextMultiLabelClassifierTransformer>(env, options, log)
{
    protected override LabelKind Kind => LabelKind.Set;

    protected override string[] CheckLabel(DataViewSchema schema) => LabelSetColumn.Read(schema, Options.LabelColumnName);

    protected override TargetScaling? CheckTrainingLabels(TextDataset train, string[] classNames)
    {
        LabelSetColumn.CheckTrainingRows(train.Labels, classNames, Options.LabelColumnName, Log);
        return null;
    }

    protected override int HeadOutputs(TextRows rows) => rows.ClassNames.Length;

    /// <summary>Every text starts at the training rows' label frequencies, the best constant answer, with zero weights
    /// (as the regressors start at the mean). From a random head, package-tags' training (1,796 rows, rates 1e-3 to
    /// 1e-2) spent its first epoch learning those frequencies and then stayed there: every text got the same scores.</summary>
    protected override void InitializeHead(ClassifierHead head, TextRows rows) =>
        head.StartAtPriors(LabelSetColumn.PositiveShares(rows.Train.Labels, rows.ClassNames.Length));

    protected override TrainingTask Task(Options o, TextRows rows) => new LabelSetTask(o.LabelSmoothing, o.ChooseThresholds);

    protected override JsonObject CheckpointMetadata(Options o, TextRows rows) => LoraTextMultiLabelClassifier.CheckpointMetadata(o, rows.ClassNames);

    protected override LoraTextMultiLabelClassifierTransformer Finish(IDataView input, TextRows rows, TextModel trained, Options o, TrainingResult result)
    {
        var adapter = MergeAdapters(rows, trained, o);
        var model = trained.Classifier;
        var thresholds = LabelThresholds.For(o, result, rows.ClassNames, Log);
        var onnx = TextClassifierExporter.Export(model.Encoder, o.Pooling, model.Head,
            new LabelSetOutputs(rows.ClassNames, thresholds, ExportedModelContract.TextMultiLabelTask), textPairs: o.SecondTextColumnName != null);
        var scoring = OnnxScoringChain.FitLabelSet(Env.Data, input, ScoringInput(rows, o), onnx, o.ScoreColumnName, o.PredictedLabelColumnName,
            Env.GpuDeviceId, Env.FallbackToCpu);
        return new LoraTextMultiLabelClassifierTransformer(scoring, onnx, model, o.Clone(), rows.ClassNames, thresholds, result, rows.TokenizerFiles,
            adapter, trained.AdapterParameters);
    }
}
