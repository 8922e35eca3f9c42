using Microsoft.ML;

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
}
