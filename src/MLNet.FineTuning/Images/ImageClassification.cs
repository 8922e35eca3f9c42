using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using Options = MLNet.FineTuning.FineTuneImageClassifier.Options;

namespace MLNet.FineTuning.Images;

/// <summary><see cref="FineTuneImageClassifier"/>'s task: a key label, one head output per class, the ONNX
/// probabilities, predicted index and label.</summary>
internal sealed class ImageClassification(HostEnvironment env, Options options, IChannel log)
    : ImageFineTuning<Options, FineTuneImageClassifierTransformer>(env, options, log)
{
    protected override LabelKind Kind => LabelKind.Class;

    protected override string[] CheckLabel(DataViewSchema schema) => LabelColumn.Read(schema, Options.LabelColumnName);

    protected override ImageRows Rows(ImageDataset train, ImageDataset? valid, string[] classNames, ImageBackboneDefinition definition)
    {
        LabelColumn.CheckTrainingRows(train.ClassIndices, classNames, Options.LabelColumnName, Log);
        return new ImageRows(train, valid, classNames, definition);
    }

    protected override int HeadOutputs(ImageRows rows) => rows.ClassNames.Length;

    protected override JsonObject CheckpointMetadata(Options o, ImageRows rows) => FineTuneImageClassifier.CheckpointMetadata(o, rows.ClassNames);

    protected override FineTuneImageClassifierTransformer Finish(IDataView input, ImageRows rows, Classifier model, Options o, TrainingResult result)
    {
        PrepareForExport(model);
        var onnx = ImageClassifierExporter.Export(model, rows.Definition.Preprocessing, o.ImageSize, rows.ClassNames);
        var scoring = OnnxScoringChain.Fit(Env.Data, input, ImageScoringPipeline.Input(Env.Data, input.Schema, o.ImageColumnName, o.ImageSize),
            onnx, rows.ClassNames, o.ScoreColumnName, o.PredictedLabelColumnName, Env.GpuDeviceId, Env.FallbackToCpu);
        return new FineTuneImageClassifierTransformer(scoring, onnx, model, rows.Definition, o.Clone(), rows.ClassNames, result, Env.GpuDeviceId, Env.FallbackToCpu);
    }
}
