using System.CommandLine;
using MLNet.FineTuning.Cli.Runs;

namespace MLNet.FineTuning.Cli.Commands;

/// <summary><c>mlnet-finetune image</c>: fine-tunes a pretrained CNN on a folder or table of images, for the task <c>--task</c> names.</summary>
internal static class ImageCommand
{
    public static Command Create()
    {
        var command = new Command("image", "Fine-tune a pretrained CNN (ResNet-18 by default) on images.");
        var common = new TrainingArguments(command,
            "Training images: a folder with one sub-folder of images per class, or a CSV/TSV table with a path and a label column.");
        var r = common.Recorded;
        var pathColumn = r.Add(command, new Option<string>("--path-column") { Description = "Table column with the image paths (relative to the table's folder).", DefaultValueFactory = _ => "path" });
        var labelColumn = r.Add(command, new Option<string>("--label-column") { Description = "Table column with the label: the class name (or the number, or the labels, as --task says).", DefaultValueFactory = _ => "label" });
        var imageSize = r.Add(command, new Option<int?>("--image-size") { Description = "Network input side in pixels (library default 224, for a GPU; 64-128 suits a CPU)." });
        var backbone = r.Add(command, new Option<string?>("--backbone") { Description = "Backbone name from the catalog (default resnet18-mlnet, weights shipped in a NuGet package)." });
        var weights = r.Add(command, new Option<string?>("--weights") { Description = "Pretrained weights file for --backbone: a .safetensors file or PyTorch state_dict (torchvision layout); for the default backbone, its ONNX file." }, isPath: true);
        var augmentation = r.Add(command, new Option<ImageAugmentationPolicy?>("--augmentation") { Description = "none (library default), light or strong (docs/quality.md says what each does)." });
        var jitter = r.Add(command, new Option<double?>("--color-jitter") { Description = "Brightness and contrast jitter of the training images, in [0, 1) (library default 0; 0.2 with --noise-level 10 when the images to score may be dimmer or noisier than the training ones: docs/quality.md)." });
        var noise = r.Add(command, new Option<double?>("--noise-level") { Description = "Largest Gaussian noise added to training images, in grey levels of 255 (library default 0)." });
        var skipUnreadable = r.Add(command, new Option<bool>("--skip-unreadable") { Description = "Skip (and count) image files that cannot be decoded instead of stopping." });
        var channelsLast = r.Add(command, new Option<bool>("--channels-last") { Description = "With --gpu: train in the channels-last layout (opt-in, not yet measured on a GPU; ignored on the CPU)." });
        RecordedOptions.Check(imageSize, v => v is int n && n < 32 ? $"--image-size must be at least 32; got {n}." : null);

        command.SetAction(parse =>
        {
            var task = common.RunTask(parse);
            ImageFineTuningOptions options = task switch
            {
                RegressionRunTask => new FineTuneImageRegressor.Options(),
                LabelSetRunTask => new FineTuneImageMultiLabelClassifier.Options(),
                _ => new FineTuneImageClassifier.Options(),
            };
            options.LabelColumnName = "Label";
            options.ImageColumnName = "Image";
            common.Apply(parse, options);
            if (parse.GetValue(imageSize) is int size) options.ImageSize = size;
            if (parse.GetValue(backbone) is string b) options.Backbone = b;
            if (parse.GetValue(weights) is string w) options.WeightsPath = Path.GetFullPath(w);
            if (parse.GetValue(augmentation) is ImageAugmentationPolicy a) options.Augmentation = a;
            if (parse.GetValue(jitter) is double j) options.ColorJitter = j;
            if (parse.GetValue(noise) is double n) options.NoiseLevel = n;
            options.SkipUnreadableImages = parse.GetValue(skipUnreadable);
            options.ChannelsLast = parse.GetValue(channelsLast);
            var run = new ImageRun(options, task, parse.GetValue(pathColumn)!, parse.GetValue(labelColumn)!);
            return FineTuneRun.Execute(run, task, common.Settings(parse));
        });
        return command;
    }
}
