using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Tests.Pretrained;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.Images;

/// <summary>Bad data and bad options: each error names the column, row, file or option and what was expected.</summary>
public class FineTuneImageClassifierInputTests
{
    private static readonly string[] TwoClasses = ["Trouser", "Bag"];

    private static FineTuneImageClassifier.Options Tiny() => new()
    {
        Backbone = "resnet18", UsePretrainedWeights = false, ImageSize = 32, BatchSize = 4, Epochs = 1,
    };

    private static ImageFolder.Row[] EightRows() => TestData.Fashion("train", 4, TwoClasses);

    private static FineTuneImageClassifierTransformer Fit(MLContext ml, IDataView data, FineTuneImageClassifier.Options? options = null) =>
        ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options ?? Tiny()).Fit(data);

    [Fact]
    public void Fit_ImageColumnMissing_ThrowsNamingColumnAndListingColumns()
    {
        var ml = new MLContext(1);
        var options = Tiny();
        options.ImageColumnName = "Picture";

        var e = Assert.ThrowsAny<ArgumentException>(() => Fit(ml, TestData.Load(ml, EightRows()), options));

        Assert.Contains("Image column 'Picture' not found", e.Message);
        Assert.Contains("Image", e.Message.Split("Columns:")[1]);
    }

    [Fact]
    public void Fit_ImageColumnIsText_ThrowsNamingColumnAndExpectedType()
    {
        var ml = new MLContext(1);
        var options = Tiny();
        options.ImageColumnName = nameof(ImageFolder.Row.ImagePath);

        var e = Assert.Throws<ArgumentException>(() => Fit(ml, TestData.Load(ml, EightRows()), options));

        Assert.Contains("Image column 'ImagePath' has type String", e.Message);
        Assert.Contains("expected an image (MLImage, from mlContext.Transforms.LoadImages)", e.Message);
        Assert.Contains("or encoded image bytes (VBuffer<byte>, from mlContext.Transforms.LoadRawImageBytes)", e.Message);
    }

    [Fact]
    public void Fit_ImageColumnIsFloatVector_ThrowsNamingColumnTypeAndBothAcceptedTypes()
    {
        var ml = new MLContext(1);
        var data = TestData.Load(ml, EightRows());
        data = ml.Transforms.ResizeImages("Small", 8, 8, "Image").Append(ml.Transforms.ExtractPixels("Pixels", "Small")).Fit(data).Transform(data);
        var options = Tiny();
        options.ImageColumnName = "Pixels";

        var e = Assert.Throws<ArgumentException>(() => Fit(ml, data, options));

        Assert.Contains("Image column 'Pixels' has type Vector<Single", e.Message);
        Assert.Contains("LoadImages", e.Message);
        Assert.Contains("LoadRawImageBytes", e.Message);
    }

    [Theory]
    [InlineData(96, true)]    // 28-px images enlarged 3.4×
    [InlineData(64, false)]   // 2.3×: enlarging that far still paid (README)
    public void Read_ImageSizeFarAboveTheImages_IsNotedWithTheMedianSide(int imageSize, bool noted)
    {
        var ml = new MLContext(1);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        ml.Log += (_, e) => log.Enqueue(e.RawMessage);
        var options = Tiny();
        options.ImageSize = imageSize;

        ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options).FindLearningRate(TestData.Load(ml, EightRows()), steps: 5);

        var rows = Assert.Single(log, m => m.StartsWith("training rows 8", StringComparison.Ordinal));
        Assert.Equal(noted, rows.Contains("enlarges"));
        if (noted) Assert.Contains("the images' median shorter side is 28 px, which ImageSize 96 enlarges 3.4×", rows);
    }

    [Fact]
    public void Fit_LabelNotKey_ThrowsNamingColumnAndAdvisingMapValueToKey()
    {
        var ml = new MLContext(1);
        var view = ml.Data.LoadFromEnumerable(EightRows());
        var data = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath)).Fit(view).Transform(view);

        var e = Assert.Throws<ArgumentException>(() => Fit(ml, data));

        Assert.Contains("Label column 'Label' has type String; expected a key type", e.Message);
        Assert.Contains("MapValueToKey(\"Label\")", e.Message);
    }

    [Fact]
    public void Fit_SingleClass_ThrowsNamingLabelColumn()
    {
        var ml = new MLContext(1);

        var e = Assert.Throws<ArgumentException>(() => Fit(ml, TestData.Load(ml, TestData.Fashion("train", 6, "Bag"))));

        Assert.Contains("Label column 'Label' has 1 class", e.Message);
        Assert.Contains("at least 2", e.Message);
    }

    [Fact]
    public void Fit_KeyOfTwoClassesButTrainingRowsOfOne_ThrowsNamingTheClass()
    {
        var ml = new MLContext(1);
        var all = TestData.Load(ml, EightRows());
        var bagsOnly = ml.Data.FilterByCustomPredicate<LabelTextRow>(
            ml.Transforms.Conversion.MapKeyToValue("LabelText", "Label").Fit(all).Transform(all), r => r.LabelText != "Bag");

        var e = Assert.Throws<ArgumentException>(() => Fit(ml, bagsOnly));

        Assert.Contains("single class ('Bag')", e.Message);
    }

    [Fact]
    public void Read_KeyClassWithoutTrainingRows_IsNamedInAWarning()
    {
        // A key fitted on three classes (as on all rows before a split), training rows of two: the head keeps an output
        // for Sneaker that training never teaches.
        var ml = new MLContext(1);
        var log = new System.Collections.Concurrent.ConcurrentQueue<(ChannelMessageKind Kind, string Message)>();
        ml.Log += (_, e) => log.Enqueue((e.Kind, e.RawMessage));
        var all = TestData.Load(ml, TestData.Fashion("train", 4, "Trouser", "Bag", "Sneaker"));
        var twoClasses = ml.Data.FilterByCustomPredicate<LabelTextRow>(
            ml.Transforms.Conversion.MapKeyToValue("LabelText", "Label").Fit(all).Transform(all), r => r.LabelText == "Sneaker");

        ml.MulticlassClassification.Trainers.FineTuneImageClassifier(Tiny()).FindLearningRate(twoClasses, steps: 5);

        var warning = Assert.Single(log, m => m.Kind == ChannelMessageKind.Warning && m.Message.Contains("no training row")).Message;
        Assert.Contains("1 of the key's 3 classes have no training row ('Sneaker')", warning);
    }

    [Fact]
    public void Fit_TwoRowsOneOfEachClass_TrainsEveryEpochAndScoresBoth()
    {
        // The smallest set Fit accepts (one row is a single class, refused above); its one batch of 2 keeps BatchNorm
        // in training mode defined, and every epoch takes its step.
        var ml = new MLContext(1);
        var data = TestData.Load(ml, TestData.Fashion("train", 1, TwoClasses));
        var progress = new Training.ProgressLog();
        var options = Tiny();
        options.Epochs = 2;
        options.Progress = progress;

        using var model = Fit(ml, data, options);

        Assert.Equal([1L, 2L], progress.Reports.Where(r => r.IsEpochEnd).Select(r => r.Step));
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        Assert.Equal(2, scores.Length);
        Assert.All(scores, s => Assert.Equal(1, s.Sum(), 1e-4));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fit_ImagesOverTheCacheBudget_StreamEveryEpochAndTrain(bool balanceClasses)
    {
        // ImageCacheMegabytes = 0: nothing is kept, every epoch decodes the LoadImages column again. ML.NET's ShuffleRows,
        // which shuffled those epochs until 2026-12-06, drops decoded-image columns: Fit failed with "Column 'Image' not found".
        var ml = new MLContext(1);
        var data = TestData.Load(ml, [.. TestData.Fashion("train", 6, TwoClasses[0]), .. TestData.Fashion("train", 2, TwoClasses[1])]);
        var progress = new Training.ProgressLog();
        var options = Tiny();
        options.ImageCacheMegabytes = 0;
        options.Epochs = 2;
        options.BalanceClasses = balanceClasses;
        options.BalanceClassesBy = MLNet.FineTuning.Training.ClassBalance.Sampling;
        options.Progress = progress;

        using var model = Fit(ml, data, options);

        Assert.Equal(2, progress.Reports.Count(r => r.IsEpochEnd));
        Assert.Equal(8, model.Transform(data).GetColumn<float[]>("Score").Count());
    }

    [Fact]
    public void Fit_NoRows_ThrowsSayingTrainingDataIsEmpty()
    {
        var ml = new MLContext(1);
        var all = TestData.Load(ml, EightRows());
        var empty = ml.Data.FilterByCustomPredicate<ImagePathRow>(all, _ => true);   // true: drop the row

        var e = Assert.Throws<ArgumentException>(() => Fit(ml, empty));

        Assert.Contains("training data has no rows", e.Message);
    }

    [Fact]
    public void Fit_MissingImageFile_ThrowsNamingRowColumnAndFile()
    {
        var ml = new MLContext(1);
        var rows = EightRows();
        string missing = Path.Combine(Path.GetTempPath(), "mlnet-ft-no-such-image-" + Guid.NewGuid().ToString("N") + ".png");
        rows[3] = new ImageFolder.Row { Label = rows[3].Label, ImagePath = missing };

        var e = Assert.Throws<InvalidDataException>(() => Fit(ml, TestData.Load(ml, rows)));

        Assert.StartsWith("Row 3: image column 'Image' could not be read", e.Message);
        Assert.Contains(Path.GetFileName(missing), e.Message);
        Assert.Contains("SkipUnreadableImages", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fit_CorruptOrZeroByteImageFile_ThrowsNamingRowAndFile(bool zeroBytes)
    {
        using var dir = new TempDirectory();
        var ml = new MLContext(1);
        var rows = EightRows();
        string corrupt = WriteGarbagePng(dir, "corrupt.png");
        if (zeroBytes) File.WriteAllBytes(corrupt, []);
        rows[5] = new ImageFolder.Row { Label = rows[5].Label, ImagePath = corrupt };

        var e = Assert.Throws<InvalidDataException>(() => Fit(ml, TestData.Load(ml, rows)));

        // The path column LoadImages read names the file.
        Assert.StartsWith($"Row 5 (file '{corrupt}', column 'ImagePath'): image column 'Image' could not be read", e.Message);
    }

    [Fact]
    public void Fit_TruncatedPngFile_ThrowsNamingTheFile_BeforeLoadImagesFillsItIn()
    {
        using var dir = new TempDirectory();
        var ml = new MLContext(1);
        var rows = EightRows();
        string truncated = dir.File("truncated.png");
        File.WriteAllBytes(truncated, File.ReadAllBytes(rows[2].ImagePath)[..100]);
        rows[2] = new ImageFolder.Row { Label = rows[2].Label, ImagePath = truncated };

        var e = Assert.Throws<InvalidDataException>(() => Fit(ml, TestData.Load(ml, rows)));

        Assert.StartsWith($"Row 2 (file '{truncated}', column 'ImagePath'): image column 'Image' could not be read (a truncated Png", e.Message);
    }

    [Fact]
    public void Fit_PngFileDeclaring20000By20000_IsRefusedByItsHeader()
    {
        using var dir = new TempDirectory();
        var ml = new MLContext(1);
        var rows = EightRows();
        string bomb = dir.File("bomb.png");
        File.WriteAllBytes(bomb, Runtime.HostileImages.PngDeclaring(20_000, 20_000));
        rows[4] = new ImageFolder.Row { Label = rows[4].Label, ImagePath = bomb };

        var e = Assert.Throws<InvalidDataException>(() => Fit(ml, TestData.Load(ml, rows)));

        Assert.StartsWith($"Row 4 (file '{bomb}', column 'ImagePath')", e.Message);
        Assert.Contains("refused before decoding", e.Message);
    }

    [Fact]
    public void Fit_CorruptImageBytes_ThrowsNamingRowColumnAndWhatTheBytesAre()
    {
        using var dir = new TempDirectory();
        var ml = new MLContext(1);
        var rows = EightRows();
        rows[5] = new ImageFolder.Row { Label = rows[5].Label, ImagePath = WriteGarbagePng(dir, "corrupt.png") };

        var e = Assert.Throws<InvalidDataException>(() => Fit(ml, TestData.LoadBytes(ml, rows)));

        Assert.StartsWith("Row 5 (file '", e.Message);
        Assert.Contains("): image column 'Image' could not be read", e.Message);
        Assert.Contains("300 bytes that are not an image", e.Message);
        Assert.Contains("SkipUnreadableImages", e.Message);
    }

    [Fact]
    public void Fit_EmptyImageBytes_ThrowsNamingRowAndColumn()
    {
        var ml = new MLContext(1);
        var rows = EightRows();
        var data = ml.Data.LoadFromEnumerable(rows.Select((r, i) => new BytesRow { Label = r.Label, Image = i == 2 ? [] : File.ReadAllBytes(r.ImagePath) }));
        data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);

        var e = Assert.Throws<InvalidDataException>(() => Fit(ml, data));

        Assert.StartsWith("Row 2: image column 'Image' could not be read (no bytes", e.Message);
    }

    [Fact]
    public void Fit_SkipUnreadableImagesWithCorruptBytes_TrainsOnTheReadableRowsOnly()
    {
        using var dir = new TempDirectory();
        var ml = new MLContext(1);
        var rows = EightRows().ToList();
        rows.Add(new ImageFolder.Row { Label = "Bag", ImagePath = WriteGarbagePng(dir, "corrupt.png") });
        var options = Tiny();
        options.SkipUnreadableImages = true;

        using var model = Fit(ml, TestData.LoadBytes(ml, rows), options);

        // 8 readable rows in batches of 4: 2 steps. Counting the unreadable row would make it 3.
        Assert.Equal(2, model.History.Single().TotalSteps);
    }

    [Fact]
    public void Fit_SkipUnreadableImages_TrainsOnTheReadableRowsOnly()
    {
        using var dir = new TempDirectory();
        var ml = new MLContext(1);
        var rows = EightRows().ToList();
        rows.Add(new ImageFolder.Row { Label = "Bag", ImagePath = WriteGarbagePng(dir, "corrupt.png") });
        rows.Add(new ImageFolder.Row { Label = "Trouser", ImagePath = dir.File("missing.png") });
        var options = Tiny();
        options.SkipUnreadableImages = true;

        using var model = Fit(ml, TestData.Load(ml, rows), options);

        // 8 readable rows in batches of 4: 2 steps. Counting the 2 unreadable rows would make it 3.
        Assert.Equal(2, model.History.Single().TotalSteps);
    }

    [Fact]
    public void Fit_ImagesOfDifferentSizesAndShapes_TrainsAndScoresEveryRow()
    {
        using var dir = new TempDirectory();
        var ml = new MLContext(1);
        var rows = EightRows();
        (int W, int H)[] sizes = [(28, 28), (64, 64), (20, 45), (50, 21), (33, 33), (100, 60), (28, 28), (17, 90)];
        for (int i = 0; i < rows.Length; i++)
            rows[i] = new ImageFolder.Row { Label = rows[i].Label, ImagePath = Resized(rows[i].ImagePath, sizes[i].W, sizes[i].H, dir.File($"{i}.png")) };
        var data = TestData.Load(ml, rows);

        using var model = Fit(ml, data);

        var scores = ml.Data.CreateEnumerable<ScoreRow>(model.Transform(data), reuseRowObject: false).ToArray();
        Assert.Equal(rows.Length, scores.Length);
        Assert.All(scores, s => Assert.Equal(1.0, s.Score.Sum(), 4));
    }

    [Fact]
    public void Fit_TorchvisionBackboneWithoutWeightsPath_ThrowsNamingBackboneAndOption()
    {
        var ml = new MLContext(1);
        var options = Tiny();
        options.UsePretrainedWeights = true;

        var e = Assert.Throws<ArgumentException>(() => Fit(ml, TestData.Load(ml, EightRows()), options));

        Assert.Contains("'resnet18'", e.Message);
        Assert.Contains("WeightsPath", e.Message);
    }

    [Fact]
    public void Fit_WeightsPathToMissingFile_ThrowsFileNotFoundNamingPath()
    {
        var ml = new MLContext(1);
        string missing = Path.Combine(Path.GetTempPath(), "mlnet-ft-no-such-weights-" + Guid.NewGuid().ToString("N") + ".onnx");
        var options = Tiny();
        options.Backbone = "resnet18-mlnet";
        options.UsePretrainedWeights = true;
        options.WeightsPath = missing;

        var e = Assert.Throws<FileNotFoundException>(() => Fit(ml, TestData.Load(ml, EightRows()), options));

        Assert.Equal(missing, e.FileName);
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void Options_UnknownBackbone_ThrowsListingKnownBackbones()
    {
        var ml = new MLContext(1);
        var options = Tiny();
        options.Backbone = "vgg16";

        var e = Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options));

        Assert.Contains("'vgg16'", e.Message);
        Assert.Contains("resnet18-mlnet", e.Message);
    }

    [Theory]
    [InlineData(nameof(FineTuningOptions.Epochs), 0)]
    [InlineData(nameof(FineTuneImageClassifier.Options.ImageSize), 8)]
    [InlineData(nameof(FineTuneImageClassifier.Options.ImageSize), 2048)]
    [InlineData(nameof(FineTuningOptions.BatchSize), 0)]
    [InlineData(nameof(FineTuningOptions.FreezeBackboneEpochs), 9)]
    public void Options_OutOfRange_ThrowsArgumentOutOfRangeNamingOption(string option, int value)
    {
        var ml = new MLContext(1);
        var options = Tiny();
        typeof(FineTuneImageClassifier.Options).GetProperty(option)!.SetValue(options, value);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options));

        Assert.Equal(option, e.ParamName);
        Assert.Contains($"{option} must be", e.Message);
        Assert.Contains($"got {value}", e.Message);
    }

    [Fact]
    public void Options_ChangedAfterCreatingEstimator_HaveNoEffect()
    {
        var ml = new MLContext(1);
        var options = Tiny();
        var estimator = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options);
        options.Epochs = 0;          // invalid now, and would fail validation if it were read
        options.ImageColumnName = "Missing";

        using var model = estimator.Fit(TestData.Load(ml, EightRows()));

        Assert.Single(model.History);
    }

    /// <summary>A file named .png that holds no image.</summary>
    private static string WriteGarbagePng(TempDirectory dir, string name)
    {
        string path = dir.File(name);
        File.WriteAllBytes(path, Enumerable.Range(0, 300).Select(i => (byte)(i * 37 + 11)).ToArray());
        return path;
    }

    /// <summary>Writes <paramref name="source"/> stretched to width × height as a PNG (nearest neighbour).</summary>
    private static string Resized(string source, int width, int height, string destination)
    {
        using var image = MLImage.CreateFromFile(source);
        var src = image.Pixels;
        int bpp = image.BitsPerPixel / 8;
        var pixels = new byte[width * height * bpp];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int sx = x * image.Width / width, sy = y * image.Height / height;
                src.Slice((sy * image.Width + sx) * bpp, bpp).CopyTo(pixels.AsSpan((y * width + x) * bpp));
            }
        using var resized = MLImage.CreateFromPixels(width, height, image.PixelFormat, pixels);
        resized.Save(destination);
        return destination;
    }

    private sealed class BytesRow
    {
        public string Label { get; set; } = "";
        public byte[] Image { get; set; } = [];
    }

    private sealed class LabelTextRow
    {
        public string LabelText { get; set; } = "";
    }

    private sealed class ImagePathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
