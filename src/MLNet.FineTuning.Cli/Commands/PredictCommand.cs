using System.CommandLine;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Cli.Inputs;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Runtime.Images;
using MLNet.FineTuning.Runtime.Onnx;

namespace MLNet.FineTuning.Cli.Commands;

/// <summary>
/// <c>mlnet-finetune predict</c>: loads a model.zip as a service would (ML.NET + the runtime package), or a model.onnx
/// with the runtime's <see cref="ExportedClassifier"/> (ONNX Runtime alone, as samples/OnnxServing does), and prints the
/// label and the top-k scores of each input. A model.zip's input columns say its kind (ImagePath for images, Text for
/// text); a model.onnx says it in its metadata.
/// </summary>
internal static class PredictCommand
{
    /// <summary>The table columns of a text model's inputs (<c>--text-column</c>, <c>--second-text-column</c>), or nulls.</summary>
    sealed record TextColumns(string? Text, string? Second);

    sealed record Prediction(string Input, string Label, IReadOnlyDictionary<string, float> Scores)
    {
        /// <summary>The <paramref name="top"/> highest of a class-ordered score vector, by class name.</summary>
        public static Prediction Of(string input, string label, IEnumerable<float> scores, IReadOnlyList<string> classes, int top) =>
            new(input, label, scores.Select((p, c) => (p, c)).OrderByDescending(x => x.p).Take(top).ToDictionary(x => classes[x.c], x => x.p));
    }

    public static Command Create()
    {
        var command = new Command("predict", "Predict with the model.zip or model.onnx (any task) that image or text wrote.");
        var model = new Option<string>("--model") { Description = "The model.zip of a run, or its model.onnx (text: with vocab.txt and tokenizer_config.json beside it).", Required = true };
        var input = new Option<string>("--input") { Description = "Image model: an image file or a folder of images (searched recursively). " +
            "Text model: a text, a .txt file with one text per line, or a CSV/TSV table with --text-column.", Required = true };
        var textColumn = new Option<string>("--text-column") { Description = "Text model: --input is a CSV/TSV table (read as the text command reads " +
            "--data) and this column holds the texts." };
        var secondTextColumn = new Option<string>("--second-text-column") { Description = "Text model trained on sentence pairs: the table's column " +
            "with the second texts." };
        var top = new Option<int>("--top") { Description = "Scores printed per input, highest first.", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print one JSON array (input, label, scores) instead of lines." };
        RecordedOptions.Check(top, n => n < 1 ? $"--top must be at least 1; got {n}." : null);
        command.Options.Add(model); command.Options.Add(input); command.Options.Add(textColumn); command.Options.Add(secondTextColumn); command.Options.Add(top); command.Options.Add(json);
        command.SetAction(parse =>
        {
            var predictions = Predict(parse.GetValue(model)!, parse.GetValue(input)!, new TextColumns(parse.GetValue(textColumn), parse.GetValue(secondTextColumn)), parse.GetValue(top));
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(predictions, Evaluation.MetricsFile.Json));
            else
                foreach (var p in predictions)
                    Console.WriteLine($"{p.Input}\t{p.Label}\t{string.Join("  ", p.Scores.Select(s => $"{s.Key} {s.Value:F4}"))}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>What went wrong under the reflection wrappers: ML.NET builds a model.zip's transformers by reflection, so
    /// a damaged entry deep inside arrives as a TargetInvocationException around the reader's own exception.</summary>
    static Exception Cause(Exception e)
    {
        while (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
        return e;
    }

    static List<Prediction> Predict(string modelPath, string input, TextColumns columns, int top)
    {
        string full = Path.GetFullPath(modelPath);
        if (!File.Exists(full)) throw new UserError($"--model: '{full}' does not exist (expected the model.zip or model.onnx of a run).");
        if (string.Equals(Path.GetExtension(full), ".onnx", StringComparison.OrdinalIgnoreCase)) return PredictOnnx(full, input, columns, top);
        var ml = new MLContext().RegisterFineTuningRuntime();
        ITransformer model;
        DataViewSchema schema;
        try
        {
            model = ml.LoadFineTunedModel(full, out schema);
        }
        catch (Exception e) when (Cause(e) is InvalidOperationException or FormatException or InvalidDataException)
        {
            throw new UserError($"--model: '{full}' is not an ML.NET model that mlnet-finetune wrote ({Cause(e).Message}).");
        }
        // ML.NET's copy of the ONNX graph in the temporary folder goes when the model is disposed, not at the process's exit.
        using var loaded = model as IDisposable;
        IDataView rows;
        IReadOnlyList<string> names;
        if (schema.GetColumnOrNull(nameof(ImageFolder.Row.ImagePath)) != null)
        {
            names = ImageFiles(input, columns);
            rows = ml.Data.LoadFromEnumerable(names.Select(p => new ImageFolder.Row { ImagePath = p }));
        }
        else if (schema.GetColumnOrNull(nameof(TextRow.Text)) != null)
        {
            var texts = PredictionTexts.Read(input, columns.Text, columns.Second, PredictionTexts.ModelZipReadsPairs(full));
            names = texts.Names;
            rows = ml.Data.LoadFromEnumerable(texts.Texts.Select((t, i) => new TextRow { Text = t, Text2 = texts.Seconds?[i] ?? "" }));
        }
        else throw new UserError($"--model: '{full}' reads neither an ImagePath nor a Text column; it was not written by mlnet-finetune.");

        var scored = model.Transform(rows);
        // The task shows in the outputs: a regressor's Score is a number; a multi-label model's PredictedLabel a vector of flags.
        if (scored.Schema["Score"].Type is NumberDataViewType)
            return [.. names.Zip(scored.GetColumn<float>("Score"), (name, v) => new Prediction(name, v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture), new Dictionary<string, float> { ["value"] = v }))];
        var scores = scored.GetColumn<VBuffer<float>>("Score").Select(s => s.DenseValues().ToArray()).ToList();
        if (scored.Schema["PredictedLabel"].Type is VectorDataViewType)
        {
            var labelNames = LabelNames(full, scores.FirstOrDefault()?.Length ?? 0);
            var flags = scored.GetColumn<VBuffer<bool>>("PredictedLabel").Select(f => f.DenseValues().ToArray()).ToList();
            return [.. names.Select((name, i) => Prediction.Of(name, string.Join(";", labelNames.Where((_, j) => flags[i][j])), scores[i], labelNames, top))];
        }
        var classes = ClassNames(model, schema, full);
        var labels = scored.GetColumn<ReadOnlyMemory<char>>("PredictedLabel").Select(l => l.ToString()).ToList();
        return [.. names.Select((name, i) => Prediction.Of(name, labels[i], scores[i], classes, top))];
    }

    // A multi-label model.zip's Score has no slot names (ML.NET's OnnxTransformer gives none); the run's metrics.json beside it
    // lists the labels in the outputs' order.
    static IReadOnlyList<string> LabelNames(string modelPath, int count)
    {
        string metrics = Path.Combine(Path.GetDirectoryName(modelPath)!, "metrics.json");
        if (File.Exists(metrics))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(metrics));
            if (doc.RootElement.TryGetProperty("classes", out var classes) && classes.GetArrayLength() == count)
                return [.. classes.EnumerateArray().Select(c => c.GetString() ?? "")];
        }
        throw new UserError($"--model: '{modelPath}' is a multi-label model; its label names are in the metrics.json its run wrote beside it, which is missing or lists another count of labels. " +
                            "Keep model.zip in its output folder.");
    }

    static List<Prediction> PredictOnnx(string path, string input, TextColumns columns, int top)
    {
        ExportedClassifier classifier;
        try
        {
            classifier = ExportedClassifier.Load(path);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
        {
            throw new UserError($"--model: {e.Message}");
        }
        using (classifier)
        {
            IReadOnlyList<string> names;
            ClassPrediction[] predictions;
            if (classifier.IsImageModel)
            {
                names = ImageFiles(input, columns);
                var pixels = new ImagePixels(classifier.ImageSize);
                var scored = new List<ClassPrediction>(names.Count);
                foreach (var chunk in names.Chunk(64))   // one ONNX Runtime call per 64 images, memory bounded
                {
                    var batch = new float[chunk.Length * pixels.Length];
                    for (int i = 0; i < chunk.Length; i++)
                    {
                        try
                        {
                            pixels.FromEncoded(File.ReadAllBytes(chunk[i])).CopyTo(batch, i * pixels.Length);
                        }
                        catch (InvalidDataException e)
                        {
                            throw new UserError($"--input: '{chunk[i]}' cannot be read: {e.Message}");
                        }
                    }
                    scored.AddRange(classifier.PredictPixels(batch, chunk.Length));
                }
                predictions = [.. scored];
            }
            else
            {
                var texts = PredictionTexts.Read(input, columns.Text, columns.Second, classifier.ReadsTextPairs);
                names = texts.Names;
                predictions = [.. texts.Chunks(64).SelectMany(chunk => classifier.PredictTexts(chunk.Texts, chunk.Seconds))];   // memory bounded
            }
            // The same answers as for the run's model.zip: a number, the labels joined by ';', or the class with its top-k.
            if (classifier.IsRegression)
                return [.. names.Select((name, i) => new Prediction(name, predictions[i].Value!.Value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
                    new Dictionary<string, float> { ["value"] = predictions[i].Value!.Value }))];
            return [.. names.Select((name, i) => Prediction.Of(name, string.Join(";", predictions[i].Labels), predictions[i].Scores, classifier.ClassNames, top))];
        }
    }

    // Score has no slot names; its order is the key order of PredictedLabel, which the chain's last step (key → text)
    // reads: the schema before that step carries the class names as key values.
    static string[] ClassNames(ITransformer model, DataViewSchema input, string path)
    {
        if (model is TransformerChain<ITransformer> chain && chain.Count() > 1)
        {
            var beforeLast = new TransformerChain<ITransformer>([.. chain.Take(chain.Count() - 1)]);
            var column = beforeLast.GetOutputSchema(input).GetColumnOrNull("PredictedLabel");
            if (column is { } c && c.HasKeyValues())
            {
                VBuffer<ReadOnlyMemory<char>> values = default;
                c.GetKeyValues(ref values);
                return [.. values.DenseValues().Select(v => v.ToString())];
            }
        }
        throw new UserError($"--model: '{path}' does not end with the PredictedLabel key-to-text step of an mlnet-finetune model.");
    }

    // The same extensions as an image-folder training set.
    static IReadOnlySet<string> ImageExtensions => ImageFolder.Extensions;

    static List<string> ImageFiles(string input, TextColumns columns)
    {
        if (columns.Text != null || columns.Second != null)
            throw new UserError("--text-column: the model reads images; give --input an image file or a folder of images.");
        string full = Path.GetFullPath(input);
        if (File.Exists(full)) return [full];
        if (!Directory.Exists(full)) throw new UserError($"--input: '{full}' is neither an image file nor a folder.");
        var files = ImageFolder.ImagesBelow(full).ToList();   // as training reads a class folder: any depth, hidden entries left out
        if (files.Count == 0) throw new UserError($"--input: folder '{full}' has no image files ({string.Join(", ", ImageExtensions)}).");
        return files;
    }
}
