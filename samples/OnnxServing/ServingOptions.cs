namespace OnnxServing;

/// <summary>
/// The service's settings, read from the command line or any ASP.NET Core configuration source
/// (<c>--model out --max-batch 32</c>, or <c>Serving__MaxBatch=32</c> in the environment).
/// </summary>
public sealed class ServingOptions
{
    /// <summary>The exported model: a <c>model.onnx</c> or the folder that holds it (with <c>vocab.txt</c> and
    /// <c>tokenizer_config.json</c> for text). Required.</summary>
    public string Model { get; set; } = "";

    /// <summary>Batch concurrent requests into one ONNX Runtime call. Default true.</summary>
    public bool Batching { get; set; } = true;

    /// <summary>The largest batch sent to ONNX Runtime. Default 32.</summary>
    public int MaxBatch { get; set; } = 32;

    /// <summary>How long a batch that is not full waits for more inputs, in milliseconds. Default 0: a batch is what queued
    /// while the previous one ran, so an idle service adds no latency (a wait of 2 ms took one client's p50 from 5.7 to
    /// 8.1 ms on 2 CPU cores; README "Serve the model").</summary>
    public double MaxWaitMs { get; set; }

    /// <summary>Inputs waiting at most; a request that finds the queue full is answered 503. Default 1,024.</summary>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>The longest text accepted, in characters (the model reads its first tokens only). Default 100,000.</summary>
    public int MaxTextLength { get; set; } = 100_000;

    /// <summary>The largest request body, in bytes; larger ones are answered 413. Default 16 MiB.</summary>
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>The most pixels an uploaded image may declare in its header (width × height); larger ones are answered
    /// 400 before any decoding. Default 100 megapixels (MLNet.FineTuning.Runtime.Images' ImageLimits).</summary>
    public long MaxImagePixels { get; set; } = MLNet.FineTuning.Runtime.Images.ImageLimits.DefaultMaxPixels;

    /// <summary>A CUDA device for ONNX Runtime, or none for the CPU (the CPU also when CUDA cannot start).</summary>
    public int? Gpu { get; set; }

    /// <summary>The problems with these settings, one sentence each (empty when they are usable).</summary>
    public List<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Model)) problems.Add("--model is required: the model.onnx that MLNet.FineTuning exported, or its folder.");
        if (MaxBatch < 1) problems.Add($"--max-batch must be at least 1; got {MaxBatch}.");
        if (MaxWaitMs is < 0 or > 10_000) problems.Add($"--max-wait-ms must be in [0, 10000]; got {MaxWaitMs}.");
        if (QueueCapacity < 1) problems.Add($"--queue-capacity must be at least 1; got {QueueCapacity}.");
        if (MaxTextLength < 1) problems.Add($"--max-text-length must be at least 1; got {MaxTextLength}.");
        if (MaxImagePixels < 1) problems.Add($"--max-image-pixels must be at least 1; got {MaxImagePixels}.");
        if (MaxBodyBytes < 1) problems.Add($"--max-body-bytes must be at least 1; got {MaxBodyBytes}.");
        return problems;
    }
}
