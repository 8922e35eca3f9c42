using Microsoft.ML;
using MLNet.FineTuning.Cli.Inputs;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>The image command's part of a run: the task's image estimator (<see cref="FineTuneImageClassifier"/>,
/// <see cref="FineTuneImageRegressor"/> or <see cref="FineTuneImageMultiLabelClassifier"/>, by the options' type) on rows
/// of Label and ImagePath.</summary>
internal sealed class ImageRun(ImageFineTuningOptions options, RunTask task, string pathColumn, string labelColumn) : RunKind<ImageFolder.Row>
{
    public override string Name => "image";
    public override FineTuningOptions Options => options;

    public override IReadOnlyList<ImageFolder.Row> Read(string data, string option) => ImageInput.Read(data, option, pathColumn, labelColumn,
        task.TakesClassFolders, task.AllowsEmptyLabel, $"--task {task.Name} (a label column with {task.LabelMeaning})");
    public override string LabelOf(ImageFolder.Row row) => row.Label;

    // --skip-unreadable: every split is checked here, before training, the baseline and the evaluation read it, with
    // ML.NET's own decoder (what LoadImages uses), so a skipped file is skipped everywhere and counted once.
    public override IReadOnlyList<ImageFolder.Row> DropUnreadable(IReadOnlyList<ImageFolder.Row> rows, string option)
    {
        if (!options.SkipUnreadableImages) return rows;
        var readable = new bool[rows.Count];
        Parallel.For(0, rows.Count, i =>
        {
            try { using var image = Microsoft.ML.Data.MLImage.CreateFromFile(rows[i].ImagePath); readable[i] = image.Width > 0 && image.Height > 0; }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or NotSupportedException) { }
        });
        var dropped = rows.Where((_, i) => !readable[i]).Select(r => Path.GetFileName(r.ImagePath)).ToList();
        if (dropped.Count > 0)
            Console.WriteLine($"{option}: {dropped.Count} unreadable image(s) skipped ({string.Join(", ", dropped.Take(5))}{(dropped.Count > 5 ? ", ..." : "")})");
        return [.. rows.Where((_, i) => readable[i])];
    }

    public override string Describe(IReadOnlyList<ImageFolder.Row> rows)
    {
        if (!task.TakesClassFolders) return $"{rows.Count} images, trained at {options.ImageSize} px";
        var perClass = rows.GroupBy(r => r.Label).Select(g => g.Count()).ToList();
        return $"{perClass.Min()}-{perClass.Max()} images per class, trained at {options.ImageSize} px";
    }

    public override IEstimator<ITransformer> Inputs(MLContext ml) =>
        ml.Transforms.LoadImages(options.ImageColumnName, imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath));

    public override IEstimator<ITransformer> FineTuner(MLContext ml) => options switch
    {
        FineTuneImageClassifier.Options o => ml.MulticlassClassification.Trainers.FineTuneImageClassifier(o),
        FineTuneImageRegressor.Options o => ml.Regression.Trainers.FineTuneImageRegressor(o),
        FineTuneImageMultiLabelClassifier.Options o => ml.MultiLabelClassification().Trainers.FineTuneImageClassifier(o),
        _ => throw new NotSupportedException(options.GetType().Name),
    };

    // The quality suite's image baseline: raw RGB pixels at 32×32, scaled to [0, 1] (docs/quality.md).
    public override IEstimator<ITransformer> BaselineFeatures(MLContext ml) =>
        ml.Transforms.LoadImages("BaselineImage", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath))
          .Append(ml.Transforms.ResizeImages("BaselineImage", 32, 32))
          .Append(ml.Transforms.ExtractPixels("Features", "BaselineImage", scaleImage: 1f / 255));

    public override Report.ReportCell Example(ImageFolder.Row row, string name) => Report.Thumbnail.Of(row.ImagePath, name + ".png");

    public override IReadOnlyList<string> ModelInputs(ImageFolder.Row row) => [row.ImagePath];

    public override void SaveOnnx(ITransformer fineTuned, string folder)
    {
        string path = Path.Combine(folder, "model.onnx");
        switch (fineTuned)
        {
            case FineTuneImageClassifierTransformer c: c.SaveOnnx(path); break;
            case FineTuneImageRegressorTransformer r: r.SaveOnnx(path); break;
            case FineTuneImageMultiLabelClassifierTransformer m: m.SaveOnnx(path); break;
            default: throw new NotSupportedException(fineTuned.GetType().Name);
        }
    }
}
