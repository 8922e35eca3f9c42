using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Runtime.Onnx;

/// <summary>
/// A <c>model.onnx</c> exported by MLNet.FineTuning, scored with ONNX Runtime alone (no ML.NET pipeline, no TorchSharp):
/// what a service runs. Every task the library exports: classification, multi-label classification and regression, of
/// images or texts. The file says what it is (<see cref="ExportedModelContract"/>: task, class or label names, thresholds,
/// image size); a text model also needs the tokenizer files written beside it (<c>vocab.txt</c> and
/// <c>tokenizer_config.json</c>), read into <see cref="Tokenizer"/>. Batches go to ONNX Runtime in one call. Thread-safe:
/// ONNX Runtime's <c>Run</c> may be called concurrently.
/// </summary>
public sealed class ExportedClassifier : IDisposable
{
    private static readonly string[] Tasks =
    [
        ExportedModelContract.ImageClassificationTask, ExportedModelContract.TextClassificationTask,
        ExportedModelContract.ImageMultiLabelTask, ExportedModelContract.TextMultiLabelTask,
        ExportedModelContract.ImageRegressionTask, ExportedModelContract.TextRegressionTask,
    ];

    private readonly InferenceSession session;

    private ExportedClassifier(InferenceSession session, string path, string task, IReadOnlyList<string> classNames,
        int imageSize, ITextTokenizer? tokenizer, int maxSequenceLength, string executionProvider)
    {
        this.session = session;
        ModelPath = path;
        Task = task;
        ClassNames = classNames;
        ImageSize = imageSize;
        Tokenizer = tokenizer;
        MaxSequenceLength = maxSequenceLength;
        ExecutionProvider = executionProvider;
    }

    /// <summary>The full path of the <c>model.onnx</c> read.</summary>
    public string ModelPath { get; }

    /// <summary>The task from the file's metadata: one of the <c>…Task</c> values of <see cref="ExportedModelContract"/>.</summary>
    public string Task { get; }

    /// <summary>Whether the model reads images (else texts).</summary>
    public bool IsImageModel => Task is ExportedModelContract.ImageClassificationTask or ExportedModelContract.ImageMultiLabelTask
        or ExportedModelContract.ImageRegressionTask;

    /// <summary>Whether the model predicts any number of labels per input (each prediction's <see cref="ClassPrediction.Labels"/>).</summary>
    public bool IsMultiLabel => Task is ExportedModelContract.ImageMultiLabelTask or ExportedModelContract.TextMultiLabelTask;

    /// <summary>Whether the model predicts a number (each prediction's <see cref="ClassPrediction.Value"/>).</summary>
    public bool IsRegression => Task is ExportedModelContract.ImageRegressionTask or ExportedModelContract.TextRegressionTask;

    /// <summary>The class (multi-label: label) names, in the order of each prediction's scores; empty for a regressor.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Multi-label models: each label's decision threshold, in <see cref="ClassNames"/> order (empty otherwise).</summary>
    public IReadOnlyList<float> Thresholds { get; private init; } = [];

    /// <summary>Image models: the side S of the square <c>pixels</c> input; 0 for text models.</summary>
    public int ImageSize { get; }

    /// <summary>Text models: the tokenizer the model was trained with (from its files and <c>tokenizer_config.json</c>); null for image models.</summary>
    public ITextTokenizer? Tokenizer { get; }

    /// <summary>Text models trained on sentence pairs (metadata <see cref="ExportedModelContract.TextPairsKey"/>): each input
    /// is two texts, and <see cref="PredictTexts"/> needs the second ones.</summary>
    public bool ReadsTextPairs { get; private init; }

    /// <summary>Text models: tokens per text (and pair) at most, <c>model_max_length</c> of <c>tokenizer_config.json</c>
    /// (the length the model was trained with); longer texts are truncated as in training. 0 for image models.</summary>
    public int MaxSequenceLength { get; }

    /// <summary>The ONNX opset the graph was written for (metadata <see cref="ExportedModelContract.OpsetKey"/>).</summary>
    public int Opset { get; private init; }

    /// <summary>"CUDA" when the session runs on a GPU, else "CPU".</summary>
    public string ExecutionProvider { get; }

    /// <summary>
    /// Loads an exported model. <paramref name="path"/> is the <c>model.onnx</c> file or the folder that holds it.
    /// </summary>
    /// <param name="path">A <c>model.onnx</c> or its folder.</param>
    /// <param name="gpuDeviceId">A CUDA device for ONNX Runtime's CUDA provider, or null for the CPU.</param>
    /// <param name="fallbackToCpu">With a <paramref name="gpuDeviceId"/>: use the CPU when the CUDA provider cannot start
    /// (no GPU, no CUDA build of ONNX Runtime) instead of throwing; <see cref="ExecutionProvider"/> says which ran.</param>
    /// <exception cref="FileNotFoundException">No model (or, for text, no tokenizer file) at the path; the message names it.</exception>
    /// <exception cref="InvalidDataException">The file is not an ONNX model, or not one MLNet.FineTuning exported.</exception>
    public static ExportedClassifier Load(string path, int? gpuDeviceId = null, bool fallbackToCpu = true)
    {
        Check.NotNull(path, nameof(path));
        string file = Path.GetFullPath(Directory.Exists(path) ? Path.Combine(path, "model.onnx") : path);
        if (!File.Exists(file))
            throw new FileNotFoundException($"'{file}' does not exist: expected a model.onnx exported by MLNet.FineTuning (or the folder holding it).", file);
        var (session, provider) = CreateSession(file, gpuDeviceId, fallbackToCpu);
        try
        {
            var metadata = session.ModelMetadata.CustomMetadataMap;
            string task = metadata.GetValueOrDefault(ExportedModelContract.TaskKey) switch
            {
                null => throw new InvalidDataException(
                    $"'{file}' has no '{ExportedModelContract.TaskKey}' metadata: it was not exported by MLNet.FineTuning, or by a " +
                    "version before 2026-12-05 (export it again with SaveOnnx or mlnet-finetune)."),
                var known when Tasks.Contains(known) => known,
                var other => throw new InvalidDataException($"'{file}': metadata '{ExportedModelContract.TaskKey}' is '{other}', not a task this runtime scores ({string.Join(", ", Tasks)})."),
            };
            bool regression = task is ExportedModelContract.ImageRegressionTask or ExportedModelContract.TextRegressionTask;
            var classNames = regression ? [] : ReadClassNames(file, metadata);
            float[] thresholds = task is ExportedModelContract.ImageMultiLabelTask or ExportedModelContract.TextMultiLabelTask
                ? ReadThresholds(file, metadata, classNames.Length) : [];
            int opset = int.TryParse(metadata.GetValueOrDefault(ExportedModelContract.OpsetKey), NumberStyles.None, CultureInfo.InvariantCulture, out int o) ? o : 0;
            if (task is ExportedModelContract.ImageClassificationTask or ExportedModelContract.ImageMultiLabelTask or ExportedModelContract.ImageRegressionTask)
            {
                if (!int.TryParse(metadata.GetValueOrDefault(ExportedModelContract.ImageSizeKey), NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size < 1)
                    throw new InvalidDataException($"'{file}': metadata '{ExportedModelContract.ImageSizeKey}' is missing or not a positive whole number.");
                return new ExportedClassifier(session, file, task, classNames, size, null, 0, provider) { Opset = opset, Thresholds = thresholds };
            }
            var (tokenizer, maxLength) = ReadTokenizer(Path.GetDirectoryName(file)!);
            return new ExportedClassifier(session, file, task, classNames, 0, tokenizer, maxLength, provider)
            {
                Opset = opset, Thresholds = thresholds,
                ReadsTextPairs = metadata.GetValueOrDefault(ExportedModelContract.TextPairsKey) == "true",
            };
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Scores <paramref name="count"/> images given as <c>pixels</c> (float, count × 3 × S × S, planar RGB 0..255,
    /// as <c>MLNet.FineTuning.Runtime.Images.ImagePixels</c> prepares them), in one ONNX Runtime call.</summary>
    public ClassPrediction[] PredictPixels(ReadOnlyMemory<float> pixels, int count)
    {
        if (!IsImageModel) throw new InvalidOperationException($"'{ModelPath}' is a text model; call PredictTexts.");
        long per = 3L * ImageSize * ImageSize;
        if (count < 1 || pixels.Length != count * per)
            throw new ArgumentException($"Expected {count} × 3 × {ImageSize} × {ImageSize} = {count * per} pixel values; got {pixels.Length}.", nameof(pixels));
        // DenseTensor wraps the memory without copying; ONNX Runtime reads it during Run only.
        var memory = System.Runtime.InteropServices.MemoryMarshal.AsMemory(pixels);
        var input = new DenseTensor<float>(memory, [count, 3, ImageSize, ImageSize]);
        return Run([NamedOnnxValue.CreateFromTensor(ExportedModelContract.PixelsInput, input)], count);
    }

    /// <summary>Scores texts (and, for models trained on pairs, their second texts), tokenized as in training and padded to
    /// the longest of the batch, in one ONNX Runtime call.</summary>
    public ClassPrediction[] PredictTexts(IReadOnlyList<string> texts, IReadOnlyList<string?>? pairs = null)
    {
        if (Tokenizer is null) throw new InvalidOperationException($"'{ModelPath}' is an image model; call PredictPixels.");
        Check.NotNull(texts, nameof(texts));
        // A pair model given one text, or a one-text model given two, would still answer: from inputs unlike its training.
        if (ReadsTextPairs && pairs is null)
            throw new ArgumentException($"'{ModelPath}' was trained on pairs of texts: pass the second texts as well (ReadsTextPairs).", nameof(pairs));
        if (!ReadsTextPairs && pairs is not null)
            throw new ArgumentException($"'{ModelPath}' was trained on single texts: pass no second texts (ReadsTextPairs is false).", nameof(pairs));
        if (texts.Count == 0) return [];
        var batch = Tokenizer.EncodeBatch([.. texts], pairs, MaxSequenceLength);
        long[] shape = batch.Shape;
        int[] dims = [(int)shape[0], (int)shape[1]];
        return Run(
        [
            NamedOnnxValue.CreateFromTensor(ExportedModelContract.InputIdsInput, new DenseTensor<long>(batch.InputIds, dims)),
            NamedOnnxValue.CreateFromTensor(ExportedModelContract.AttentionMaskInput, new DenseTensor<long>(batch.AttentionMask, dims)),
            NamedOnnxValue.CreateFromTensor(ExportedModelContract.TokenTypeIdsInput, new DenseTensor<long>(batch.TokenTypeIds, dims)),
        ], texts.Count);
    }

    /// <inheritdoc/>
    public void Dispose() => session.Dispose();

    private ClassPrediction[] Run(IReadOnlyCollection<NamedOnnxValue> inputs, int count)
    {
        if (IsRegression)
        {
            using var scores = session.Run(inputs, [ExportedModelContract.ScoreOutput]);
            var values = scores.First().AsTensor<float>();
            return [.. Enumerable.Range(0, count).Select(i => ClassPrediction.OfValue(values[i, 0]))];
        }
        string decision = IsMultiLabel ? ExportedModelContract.PredictedLabelsOutput : ExportedModelContract.PredictedIndexOutput;
        using var results = session.Run(inputs, [ExportedModelContract.ProbabilitiesOutput, decision]);
        var probabilities = results.First(r => r.Name == ExportedModelContract.ProbabilitiesOutput).AsTensor<float>();
        int k = ClassNames.Count;
        var predictions = new ClassPrediction[count];
        if (IsMultiLabel)
        {
            var chosen = results.First(r => r.Name == decision).AsTensor<bool>();
            for (int i = 0; i < count; i++)
            {
                var scores = new float[k];
                for (int j = 0; j < k; j++) scores[j] = probabilities[i, j];
                int top = Array.IndexOf(scores, scores.Max());
                predictions[i] = new ClassPrediction(ClassNames[top], top, scores)
                {
                    Labels = [.. Enumerable.Range(0, k).Where(j => chosen[i, j]).Select(j => ClassNames[j])],
                };
            }
            return predictions;
        }
        var indices = results.First(r => r.Name == decision).AsTensor<long>();
        for (int i = 0; i < count; i++)
        {
            var scores = new float[k];
            for (int j = 0; j < k; j++) scores[j] = probabilities[i, j];
            int index = (int)indices[i];
            predictions[i] = new ClassPrediction(ClassNames[index], index, scores) { Labels = [ClassNames[index]] };
        }
        return predictions;
    }

    private static (InferenceSession, string) CreateSession(string file, int? gpuDeviceId, bool fallbackToCpu)
    {
        try
        {
            var (session, onCuda) = OnnxSessions.Open(o => o is null ? new InferenceSession(file) : new InferenceSession(file, o), gpuDeviceId, fallbackToCpu);
            return (session, onCuda ? "CUDA" : "CPU");
        }
        catch (OnnxRuntimeException e) when (e.Message.Contains("protobuf", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("Load model", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"'{file}' is not an ONNX model ONNX Runtime can load: {e.Message}", e);
        }
    }

    private static string[] ReadClassNames(string file, IReadOnlyDictionary<string, string> metadata)
    {
        string? json = metadata.GetValueOrDefault(ExportedModelContract.ClassNamesKey);
        string[]? names = null;
        try
        {
            names = json is null ? null : JsonSerializer.Deserialize<string[]>(json);
        }
        catch (JsonException) { }
        if (names is not { Length: > 0 } || names.Any(n => n is null))
            throw new InvalidDataException($"'{file}': metadata '{ExportedModelContract.ClassNamesKey}' is missing or not a JSON array of class names.");
        return names;
    }

    private static float[] ReadThresholds(string file, IReadOnlyDictionary<string, string> metadata, int count)
    {
        string? json = metadata.GetValueOrDefault(ExportedModelContract.ThresholdsKey);
        float[]? thresholds = null;
        try
        {
            thresholds = json is null ? null : JsonSerializer.Deserialize<float[]>(json);
        }
        catch (JsonException) { }
        if (thresholds is null || thresholds.Length != count || thresholds.Any(t => !float.IsFinite(t)))
            throw new InvalidDataException($"'{file}': metadata '{ExportedModelContract.ThresholdsKey}' is missing or not a JSON array of {count} numbers, one per label.");
        return thresholds;
    }

    private static (ITextTokenizer, int) ReadTokenizer(string folder)
    {
        var (files, maxLength) = TextTokenizerFiles.ReadExported(folder);
        return (files.GetTokenizer(), maxLength);
    }
}

/// <summary>
/// One input's prediction. Classification: the class, its index and every class's probability (softmax) in the order of
/// <see cref="ExportedClassifier.ClassNames"/>. Multi-label: <see cref="Labels"/> holds the labels whose probability
/// (an independent sigmoid each, in <see cref="Scores"/>) reaches its threshold, <see cref="Label"/> the most probable one.
/// Regression: <see cref="Value"/> is the predicted number (also <c>Scores[0]</c>), <see cref="Label"/> it written out,
/// <see cref="Index"/> −1.
/// </summary>
public sealed record ClassPrediction(string Label, int Index, float[] Scores)
{
    /// <summary>The predicted labels: the class (classification), every label at or over its threshold (multi-label, may be
    /// empty), none (regression).</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>Regression: the predicted number; null for the classifiers.</summary>
    public float? Value { get; init; }

    internal static ClassPrediction OfValue(float value) =>
        new(value.ToString("R", CultureInfo.InvariantCulture), -1, [value]) { Value = value };
}
