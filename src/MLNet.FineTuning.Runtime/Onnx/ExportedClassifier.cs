using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Runtime.Onnx;

/// <summary>
/// A <c>model.onnx</c> exported by MLNet.FineTuning, scored with ONNX Runtime alone (no ML.NET pipeline, no TorchSharp):
/// what a service runs. The file says what it is (<see cref="ExportedModelContract"/>: task, class names, image size);
/// a text model also needs the <c>vocab.txt</c> and <c>tokenizer_config.json</c> written beside it, read into
/// <see cref="Tokenizer"/>. Batches go to ONNX Runtime in one call. Thread-safe: ONNX Runtime's <c>Run</c> may be called
/// concurrently.
/// </summary>
public sealed class ExportedClassifier : IDisposable
{
    private readonly InferenceSession session;

    private ExportedClassifier(InferenceSession session, string path, string task, IReadOnlyList<string> classNames,
        int imageSize, BertTextTokenizer? tokenizer, int maxSequenceLength, string executionProvider)
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

    /// <summary><see cref="ExportedModelContract.ImageClassificationTask"/> or <see cref="ExportedModelContract.TextClassificationTask"/>.</summary>
    public string Task { get; }

    /// <summary>Whether the model classifies images (else texts).</summary>
    public bool IsImageModel => Task == ExportedModelContract.ImageClassificationTask;

    /// <summary>The class names, in the order of each prediction's scores.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Image models: the side S of the square <c>pixels</c> input; 0 for text models.</summary>
    public int ImageSize { get; }

    /// <summary>Text models: the tokenizer the model was trained with (from <c>vocab.txt</c> and <c>tokenizer_config.json</c>); null for image models.</summary>
    public BertTextTokenizer? Tokenizer { get; }

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
    /// <exception cref="FileNotFoundException">No model (or, for text, no vocabulary) at the path; the message names it.</exception>
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
                ExportedModelContract.ImageClassificationTask => ExportedModelContract.ImageClassificationTask,
                ExportedModelContract.TextClassificationTask => ExportedModelContract.TextClassificationTask,
                null => throw new InvalidDataException(
                    $"'{file}' has no '{ExportedModelContract.TaskKey}' metadata: it was not exported by MLNet.FineTuning, or by a " +
                    "version before 2026-12-05 (export it again with SaveOnnx or mlnet-finetune)."),
                var other => throw new InvalidDataException($"'{file}': metadata '{ExportedModelContract.TaskKey}' is '{other}', not a task this runtime scores."),
            };
            var classNames = ReadClassNames(file, metadata);
            int opset = int.TryParse(metadata.GetValueOrDefault(ExportedModelContract.OpsetKey), NumberStyles.None, CultureInfo.InvariantCulture, out int o) ? o : 0;
            if (task == ExportedModelContract.ImageClassificationTask)
            {
                if (!int.TryParse(metadata.GetValueOrDefault(ExportedModelContract.ImageSizeKey), NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size < 1)
                    throw new InvalidDataException($"'{file}': metadata '{ExportedModelContract.ImageSizeKey}' is missing or not a positive whole number.");
                return new ExportedClassifier(session, file, task, classNames, size, null, 0, provider) { Opset = opset };
            }
            var (tokenizer, maxLength) = ReadTokenizer(Path.GetDirectoryName(file)!);
            return new ExportedClassifier(session, file, task, classNames, 0, tokenizer, maxLength, provider) { Opset = opset };
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
        using var results = session.Run(inputs, [ExportedModelContract.ProbabilitiesOutput, ExportedModelContract.PredictedIndexOutput]);
        var probabilities = results.First(r => r.Name == ExportedModelContract.ProbabilitiesOutput).AsTensor<float>();
        var indices = results.First(r => r.Name == ExportedModelContract.PredictedIndexOutput).AsTensor<long>();
        int k = ClassNames.Count;
        var predictions = new ClassPrediction[count];
        for (int i = 0; i < count; i++)
        {
            var scores = new float[k];
            for (int j = 0; j < k; j++) scores[j] = probabilities[i, j];
            int index = (int)indices[i];
            predictions[i] = new ClassPrediction(ClassNames[index], index, scores);
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

    private static (BertTextTokenizer, int) ReadTokenizer(string folder)
    {
        string vocabulary = Path.Combine(folder, "vocab.txt"), configPath = Path.Combine(folder, "tokenizer_config.json");
        foreach (var needed in new[] { vocabulary, configPath })
            if (!File.Exists(needed))
                throw new FileNotFoundException($"'{needed}' does not exist: a text model.onnx needs the vocab.txt and tokenizer_config.json " +
                                                "that SaveOnnx (or mlnet-finetune) wrote beside it.", needed);
        JsonObject config;
        try
        {
            config = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject ?? throw new InvalidDataException($"'{configPath}' is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{configPath}' is not valid JSON: {e.Message}", e);
        }
        // Hugging Face's BertTokenizer lower-cases when do_lower_case is absent; the exports always write it.
        bool lowerCase = config["do_lower_case"] is not JsonValue v || v.GetValueKind() != JsonValueKind.False;
        if (config["model_max_length"] is not JsonValue m || !m.TryGetValue(out int maxLength) || maxLength < 2)
            throw new InvalidDataException($"'{configPath}': model_max_length (the tokens per text the model was trained with) is missing or not a whole number ≥ 2.");
        return (BertTextTokenizer.Create(vocabulary, lowerCase), maxLength);
    }
}

/// <summary>One input's prediction: the label, its index, and every class's probability in the order of
/// <see cref="ExportedClassifier.ClassNames"/>.</summary>
public sealed record ClassPrediction(string Label, int Index, float[] Scores);
