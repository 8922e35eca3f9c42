using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Onnx;

namespace MLNet.FineTuning.Images;

/// <summary>
/// Batched scoring of the exported model with ONNX Runtime directly: ML.NET's OnnxTransformer runs one row
/// per call, which leaves most of ONNX Runtime's (and a GPU's) throughput unused. Pixels come from the
/// same ML.NET ResizeImages + ExtractPixels steps as the saved model's, so both paths give the same scores.
/// </summary>
internal sealed class OnnxImageScorer : IDisposable
{
    private readonly InferenceSession session;
    private readonly MLContext ml = new();
    private readonly int imageSize;

    public OnnxImageScorer(byte[] onnx, int imageSize, int? gpuDeviceId, bool fallbackToCpu)
    {
        this.imageSize = imageSize;
        session = Create(onnx, gpuDeviceId, fallbackToCpu);
    }

    public IEnumerable<ImagePrediction> Predict(IDataView input, string imageColumn, int batchSize)
    {
        var pixels = ImageScoringPipeline.Pixels(ml, input.Schema, imageColumn, imageSize).Steps.Fit(input).Transform(input);
        int per = 3 * imageSize * imageSize;
        var buffer = new float[batchSize * per];
        int n = 0;
        foreach (var v in pixels.GetColumn<float[]>(ImageScoringPipeline.PixelsColumn))
        {
            v.CopyTo(buffer, per * n++);
            if (n == batchSize)
            {
                foreach (var p in Run(buffer, n)) yield return p;
                n = 0;
            }
        }
        if (n > 0)
            foreach (var p in Run(buffer, n)) yield return p;
    }

    private ImagePrediction[] Run(float[] buffer, int n)
    {
        var input = new DenseTensor<float>(buffer.AsMemory(0, n * 3 * imageSize * imageSize), [n, 3, imageSize, imageSize]);
        using var results = session.Run(
            [NamedOnnxValue.CreateFromTensor(ImageClassifierExporter.PixelsInput, input)],
            [ImageClassifierExporter.ProbabilitiesOutput, ImageClassifierExporter.PredictedLabelOutput]);
        var probabilities = results.First(r => r.Name == ImageClassifierExporter.ProbabilitiesOutput).AsTensor<float>();
        var labels = results.First(r => r.Name == ImageClassifierExporter.PredictedLabelOutput).AsTensor<string>();
        int k = (int)probabilities.Dimensions[1];
        var predictions = new ImagePrediction[n];
        for (int i = 0; i < n; i++)
        {
            var score = new float[k];
            for (int j = 0; j < k; j++) score[j] = probabilities[i, j];
            predictions[i] = new ImagePrediction(labels[i], score);
        }
        return predictions;
    }

    public void Dispose() => session.Dispose();

    private static InferenceSession Create(byte[] onnx, int? gpuDeviceId, bool fallbackToCpu) =>
        OnnxSessions.Open(o => o is null ? new InferenceSession(onnx) : new InferenceSession(onnx, o), gpuDeviceId, fallbackToCpu).Session;
}
