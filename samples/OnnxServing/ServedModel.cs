using MLNet.FineTuning.Runtime.Images;
using MLNet.FineTuning.Runtime.Onnx;

namespace OnnxServing;

/// <summary>
/// The exported model as the service runs it: the ONNX Runtime session (<see cref="ExportedClassifier"/>), the image
/// preparation of training (<see cref="ImagePixels"/>) for image models, and either a <see cref="PredictionBatcher{TInput}"/>
/// or direct calls (ONNX Runtime's <c>Run</c> is thread-safe) when batching is off.
/// </summary>
public sealed class ServedModel : IAsyncDisposable
{
    private readonly PredictionBatcher<float[]>? images;
    private readonly PredictionBatcher<TextInput>? texts;

    public ServedModel(ServingOptions options)
    {
        Options = options;
        Classifier = ExportedClassifier.Load(options.Model, options.Gpu);
        if (Classifier.IsImageModel) Pixels = new ImagePixels(Classifier.ImageSize);
        if (!options.Batching) return;
        var wait = TimeSpan.FromMilliseconds(options.MaxWaitMs);
        if (Classifier.IsImageModel) images = new PredictionBatcher<float[]>(ScorePixels, options.MaxBatch, wait, options.QueueCapacity);
        else texts = new PredictionBatcher<TextInput>(ScoreTexts, options.MaxBatch, wait, options.QueueCapacity);
    }

    public ServingOptions Options { get; }
    public ExportedClassifier Classifier { get; }

    /// <summary>Image models: bytes → the model's <c>pixels</c>, as training prepared them.</summary>
    public ImagePixels? Pixels { get; }

    /// <summary>With batching: inputs scored so far and the batches they took (their ratio is the mean batch size).</summary>
    public (long Inputs, long Batches)? Batched => images?.Scored ?? texts?.Scored;

    /// <summary>Scores prepared images; null when the queue is full.</summary>
    public Task<ClassPrediction[]>? Predict(IReadOnlyList<float[]> pixels) =>
        images is null ? Task.FromResult(ScorePixels(pixels)) : WhenAll(pixels.Select(images.TryEnqueue).ToList());

    /// <summary>Scores texts; null when the queue is full.</summary>
    public Task<ClassPrediction[]>? Predict(IReadOnlyList<TextInput> inputs) =>
        texts is null ? Task.FromResult(ScoreTexts(inputs)) : WhenAll(inputs.Select(texts.TryEnqueue).ToList());

    private ClassPrediction[] ScorePixels(IReadOnlyList<float[]> pixels)
    {
        int per = pixels[0].Length;
        var all = new float[pixels.Count * per];
        for (int i = 0; i < pixels.Count; i++) pixels[i].CopyTo(all, i * per);
        return Classifier.PredictPixels(all, pixels.Count);
    }

    private ClassPrediction[] ScoreTexts(IReadOnlyList<TextInput> inputs) =>
        Classifier.PredictTexts([.. inputs.Select(t => t.Text)], inputs.Any(t => t.Text2 is not null) ? [.. inputs.Select(t => t.Text2)] : null);

    // A request whose inputs did not all fit in the queue is refused whole; the ones queued still run and are dropped.
    private static Task<ClassPrediction[]>? WhenAll(List<Task<ClassPrediction>?> queued) =>
        queued.Any(t => t is null) ? null : Task.WhenAll(queued!);

    public async ValueTask DisposeAsync()
    {
        if (images is not null) await images.DisposeAsync();
        if (texts is not null) await texts.DisposeAsync();
        Classifier.Dispose();
    }
}

/// <summary>One text input: the text and, for models trained on pairs, the second text.</summary>
public sealed record TextInput(string Text, string? Text2);
