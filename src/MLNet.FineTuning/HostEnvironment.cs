using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLNet.FineTuning;

/// <summary>
/// What a fine-tuning estimator needs from the caller's ML.NET context: a log channel, the GPU settings
/// and a context for data operations. An <see cref="MLContext"/> gives all three. ML.NET's catalogs keep
/// their environment internal (Microsoft.ML 5.0.1), so the catalog extensions read it by reflection: the
/// (explicitly implemented, internal) <c>IInternalCatalog.Environment</c> property of the catalog, and the public <c>GpuDeviceId</c>/<c>FallbackToCpu</c>
/// properties of ML.NET's environment class. Both have been stable since ML.NET 1.x; a change fails loudly.
/// </summary>
internal sealed class HostEnvironment
{
    private HostEnvironment(IChannelProvider log, int? gpuDeviceId, bool fallbackToCpu, MLContext data)
    {
        Log = log;
        GpuDeviceId = gpuDeviceId;
        FallbackToCpu = fallbackToCpu;
        Data = data;
    }

    public IChannelProvider Log { get; }
    public int? GpuDeviceId { get; }
    public bool FallbackToCpu { get; }
    /// <summary>Runs data operations (split, shuffle, building the scoring transforms).</summary>
    public MLContext Data { get; }

    public static HostEnvironment From(MLContext mlContext) =>
        new(mlContext, mlContext.GpuDeviceId, mlContext.FallbackToCpu, mlContext);

    public static HostEnvironment FromCatalog(object catalog, int seed)
    {
        var env = FindProperty(catalog.GetType(), "Environment")?.GetValue(catalog) as IHostEnvironment
            ?? throw new NotSupportedException(
                $"Cannot read the ML.NET environment of {catalog.GetType().Name} (ML.NET internals changed). " +
                "Create the estimator directly: new FineTuneImageClassifier(mlContext, options).");
        if (env is MLContext ml) return From(ml);
        int? gpu = FindProperty(env.GetType(), "GpuDeviceId")?.GetValue(env) as int?;
        bool fallback = FindProperty(env.GetType(), "FallbackToCpu")?.GetValue(env) as bool? ?? true;
        var data = new MLContext(seed) { GpuDeviceId = gpu, FallbackToCpu = fallback };
        // ML.NET's OnnxTransformer writes each model it loads to a file under TempFilePath: keep the caller's choice.
        if (FindProperty(env.GetType(), "TempFilePath")?.GetValue(env) is string temp) data.TempFilePath = temp;
        return new HostEnvironment(env, gpu, fallback, data);
    }

    private static PropertyInfo? FindProperty(Type? type, string name)
    {
        // Explicit interface implementations are named "Namespace.IInterface.Name".
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        for (; type != null; type = type.BaseType)
            if (type.GetProperties(all).FirstOrDefault(p => p.Name == name || p.Name.EndsWith("." + name, StringComparison.Ordinal)) is { } found)
                return found;
        return null;
    }
}
