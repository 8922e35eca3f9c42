using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Runtime.Onnx;
using MLNet.FineTuning.Training;
using Options = MLNet.FineTuning.FineTuneImageMultiLabelClassifier.Options;

namespace MLNet.FineTuning.Images;

/// <summary><see cref="FineTuneImageMultiLabelClassifier"/>'s task: a vector of K flags, one head output per label, binary
/// cross-entropy, thresholds from the validation rows, the ONNX probabilities and predicted flags.</summary>
internal sealed class ImageLabelSet(HostEnvironment env, Options options, IChannel log)
    : ImageFineTuning<Options, FineTuneImageMultiLabelClassifierTransformer>(env, options, log)
{
    protected override LabelKind Kind => LabelKind.Set;

    protected override string[] CheckLabel(DataViewSchema schema) => LabelSetColumn.Read(schema, Options.LabelColumnName);

    protected override ImageRows Rows(ImageDataset train, ImageDataset? valid, string[] classNames, ImageBackboneDefinition definition)
    {
        LabelSetColumn.CheckTrainingRows(train.Labels, classNames, Options.LabelColumnName, Log);
        return new ImageRows(train, valid, classNames, definition);
    }

    protected override int HeadOutputs(ImageRows rows) => rows.ClassNames.Length;

    /// <summary>Every image starts at the training rows' label frequencies (see <c>TextLabelSet.InitializeHead</c>).</summary>
    protected override void InitializeHead(ClassifierHead head, ImageRows rows) =>
        head.StartAtPriors(LabelSetColumn.PositiveShares(rows.Train.Labels, rows.ClassNames.Length));

    protected override TrainingTask Task(Options o, ImageRows rows) => new LabelSetTask(o.LabelSmoothing, o.ChooseThresholds);

    protected override JsonObject CheckpointMetadata(Options o, ImageRows rows) => FineTuneImageMultiLabelClassifier.CheckpointMetadata(o, rows.ClassNames);

    protected override FineTuneImageMultiLabelClassifierTransformer Finish(IDataView input, ImageRows rows, Classifier model, Options o, TrainingResult result)
    {
        PrepareForExport(model);
        var thresholds = LabelThresholds.For(o, result, rows.ClassNames, Log);
        var onnx = ImageClassifierExporter.Export(model, rows.Definition.Preprocessing, o.ImageSize,
            new LabelSetOutputs(rows.ClassNames, thresholds, ExportedModelContract.ImageMultiLabelTask));
        var scoring = OnnxScoringChain.FitLabelSet(Env.Data, input, ImageScoringPipeline.Input(Env.Data, input.Schema, o.ImageColumnName, o.ImageSize),
            onnx, o.ScoreColumnName, o.PredictedLabelColumnName, Env.GpuDeviceId, Env.FallbackToCpu);
        return new FineTuneImageMultiLabelClassifierTransformer(scoring, onnx, model, o.Clone(), rows.ClassNames, thresholds, result);
    }
}
