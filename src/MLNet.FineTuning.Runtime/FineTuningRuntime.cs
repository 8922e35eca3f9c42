using Microsoft.ML;
using MLNet.FineTuning.Runtime.Onnx;

namespace MLNet.FineTuning.Runtime;

/// <summary>Entry point for services that load models saved by MLNet.FineTuning.</summary>
public static class FineTuningRuntime
{
    /// <summary>
    /// Registers this assembly's custom mappings with the context, so that
    /// <c>mlContext.Model.Load("model.zip", out _)</c> can restore them (ML.NET resolves a saved
    /// <c>CustomMapping</c> by its contract name in the registered assemblies). Call once per context.
    /// </summary>
    public static MLContext RegisterFineTuningRuntime(this MLContext mlContext)
    {
        mlContext.ComponentCatalog.RegisterAssembly(typeof(FineTuningRuntime).Assembly);
        return mlContext;
    }

    /// <summary>
    /// <c>mlContext.Model.Load(path, out inputSchema)</c>, repeated when ML.NET's temporary copy of the ONNX graph drew a
    /// name that ONNX Runtime reads as its ORT format (one load in 32,768; <see cref="OrtFormatMisread"/>). Call
    /// <see cref="RegisterFineTuningRuntime"/> first, as for <c>Model.Load</c>.
    /// </summary>
    public static ITransformer LoadFineTunedModel(this MLContext mlContext, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var (model, schema) = OrtFormatMisread.Retry(() => (mlContext.Model.Load(path, out var s), s), mlContext.TempFilePath);
        inputSchema = schema;
        return model;
    }
}
