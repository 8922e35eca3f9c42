using Microsoft.ML;
using MLNet.FineTuning.Runtime.Images;

namespace MLNet.FineTuning.Runtime;

/// <summary>Entry point for services that load image models saved by MLNet.FineTuning.</summary>
public static class FineTuningImageRuntime
{
    /// <summary>
    /// Registers the custom mappings of MLNet.FineTuning.Runtime (as <see cref="FineTuningRuntime.RegisterFineTuningRuntime"/>)
    /// and of this package, whose byte-decoding step is in every model trained on raw encoded image bytes
    /// (<c>LoadRawImageBytes</c>). Call once per context, before <c>mlContext.Model.Load</c>; it serves image
    /// models trained on decoded images and text models too.
    /// </summary>
    public static MLContext RegisterFineTuningImageRuntime(this MLContext mlContext)
    {
        mlContext.RegisterFineTuningRuntime();
        mlContext.ComponentCatalog.RegisterAssembly(typeof(DecodeImageMapping).Assembly);
        return mlContext;
    }
}
