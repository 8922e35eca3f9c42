using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Runtime.Onnx;
using MLNet.FineTuning.Training;
using Options = MLNet.FineTuning.FineTuneImageRegressor.Options;

namespace MLNet.FineTuning.Images;

/// <summary><see cref="FineTuneImageRegressor"/>'s task: a float label, standardised for training
/// (<see cref="TargetScaling"/>), one head output, the ONNX <c>score</c> in the label's unit.</summary>
internal sealed class ImageRegression(HostEnvironment env, Options options, IChannel log)
    : ImageFineTuning<Options, FineTuneImageRegressorTransformer>(env, options, log)
{
    protected override LabelKind Kind => LabelKind.Value;

    protected override string[] CheckLabel(DataViewSchema schema)
    {
        TargetColumn.Check(schema, Options.LabelColumnName);
        return [];
    }

    protected override ImageRows Rows(ImageDataset train, ImageDataset? valid, string[] classNames, ImageBackboneDefinition definition) =>
        new(train, valid, classNames, definition, TargetScaling.Of(LabelReader.Values(train.Labels), Options.LabelColumnName));

    protected override int HeadOutputs(ImageRows rows) => 1;

    /// <summary>A zero head: every image starts at the training mean (loss 1 in standardised units) instead of at a random
    /// multiple of pretrained features whose size has nothing to do with the target, which cost the first epochs a loss
    /// of 7 and more and, on 36 images, the pretrained features themselves (held-out R² below 0; FineTuneImageRegressorTests).</summary>
    protected override void InitializeHead(ClassifierHead head, ImageRows rows) => head.StartAtZero();

    protected override TrainingTask Task(Options o, ImageRows rows) => new RegressionTask(rows.Scaling!);

    protected override JsonObject CheckpointMetadata(Options o, ImageRows rows) => FineTuneImageRegressor.CheckpointMetadata(o, rows.Scaling!);

    protected override FineTuneImageRegressorTransformer Finish(IDataView input, ImageRows rows, Classifier model, Options o, TrainingResult result)
    {
        PrepareForExport(model);
        var scaling = rows.Scaling!;
        var onnx = ImageClassifierExporter.Export(model, rows.Definition.Preprocessing, o.ImageSize,
            new RegressionOutputs(scaling.Mean, scaling.Spread, ExportedModelContract.ImageRegressionTask));
        var scoring = OnnxScoringChain.FitRegression(Env.Data, input, ImageScoringPipeline.Input(Env.Data, input.Schema, o.ImageColumnName, o.ImageSize),
            onnx, o.ScoreColumnName, Env.GpuDeviceId, Env.FallbackToCpu);
        return new FineTuneImageRegressorTransformer(scoring, onnx, model, o.Clone(), scaling, result);
    }
}
