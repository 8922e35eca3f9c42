using System.Threading.Channels;
using MLNet.FineTuning.Runtime.Onnx;

namespace OnnxServing;

/// <summary>
/// Gathers the inputs of concurrent requests into batches for one ONNX Runtime call each: whatever is queued when the
/// worker is free, up to <see cref="ServingOptions.MaxBatch"/>, held at most <see cref="ServingOptions.MaxWaitMs"/> more
/// for others when that is positive. One worker runs the batches in turn (ONNX Runtime spreads each over its threads). The queue is bounded: an input that
/// finds it full is refused at once (the caller answers 503) rather than waiting without limit.
/// </summary>
public sealed class PredictionBatcher<TInput> : IAsyncDisposable
{
    private readonly Channel<(TInput Input, TaskCompletionSource<ClassPrediction> Done)> queue;
    private readonly Func<IReadOnlyList<TInput>, ClassPrediction[]> score;
    private readonly int maxBatch;
    private readonly TimeSpan maxWait;
    private readonly Task worker;
    private long inputs, batches;

    public PredictionBatcher(Func<IReadOnlyList<TInput>, ClassPrediction[]> score, int maxBatch, TimeSpan maxWait, int capacity)
    {
        this.score = score;
        this.maxBatch = maxBatch;
        this.maxWait = maxWait;
        queue = Channel.CreateBounded<(TInput, TaskCompletionSource<ClassPrediction>)>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        worker = Task.Run(RunAsync);
    }

    /// <summary>Inputs scored so far, and the ONNX Runtime calls they took.</summary>
    public (long Inputs, long Batches) Scored => (Interlocked.Read(ref inputs), Interlocked.Read(ref batches));

    /// <summary>Queues one input; null when the queue is full.</summary>
    public Task<ClassPrediction>? TryEnqueue(TInput input)
    {
        // RunContinuationsAsynchronously: completing a request must not run its response on the worker's thread.
        var done = new TaskCompletionSource<ClassPrediction>(TaskCreationOptions.RunContinuationsAsynchronously);
        return queue.Writer.TryWrite((input, done)) ? done.Task : null;
    }

    private async Task RunAsync()
    {
        var batch = new List<(TInput Input, TaskCompletionSource<ClassPrediction> Done)>(maxBatch);
        var reader = queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            // Everything queued now goes in this batch: under load, requests that arrive while a batch runs form the
            // next one, at no cost in latency when the service is idle.
            while (batch.Count < maxBatch && reader.TryRead(out var item)) batch.Add(item);
            // A positive wait holds a batch that is not full for more inputs (helps a GPU, costs timer resolution).
            var deadline = DateTime.UtcNow + maxWait;
            while (maxWait > TimeSpan.Zero && batch.Count < maxBatch)
            {
                if (reader.TryRead(out var item)) { batch.Add(item); continue; }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) break;
                using var timeout = new CancellationTokenSource(left);
                try
                {
                    if (!await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false)) break;   // completed: run what is here
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            if (batch.Count == 0) continue;
            try
            {
                var predictions = score([.. batch.Select(b => b.Input)]);
                Interlocked.Add(ref inputs, batch.Count);
                Interlocked.Increment(ref batches);
                for (int i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(predictions[i]);
            }
            catch (Exception e)
            {
                foreach (var b in batch) b.Done.TrySetException(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await worker.ConfigureAwait(false);
    }
}
