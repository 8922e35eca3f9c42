using System.Reflection;
using Microsoft.ML.OnnxRuntime;

namespace MLNet.FineTuning.Tests.Foundation;

/// <summary>
/// The native ONNX Runtime in the test output is the flavour the build chose (eng/NativeBackends.targets)
/// and the managed API's version: the CPU package that SentenceTransformers depends on must not overwrite
/// the GPU build (eng/MLNet.FineTuning.targets). Both would be named runtimes/linux-x64/native/libonnxruntime.so,
/// so what tells them apart is what the loaded library reports.
/// </summary>
public class OnnxRuntimeNativeTests
{
    private static string Flavour =>
        typeof(OnnxRuntimeNativeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "OnnxRuntimeFlavor").Value!;

    [Fact]
    public void LoadedNative_MatchesFlavourAndManagedVersion()
    {
        var env = OrtEnv.Instance();
        var providers = env.GetAvailableProviders();
        var managed = typeof(OrtEnv).Assembly.GetName().Version!;

        // The native library reports its own version: an older CPU build next to the newer managed API would show here.
        Assert.StartsWith($"{managed.Major}.{managed.Minor}.{managed.Build}", env.GetVersionString());
        Assert.Contains("CPUExecutionProvider", providers);
        if (OperatingSystem.IsLinux() && Flavour == "gpu")
            Assert.Contains("CUDAExecutionProvider", providers); // compiled into the Gpu.Linux build only
        else if (Flavour == "cpu")
            Assert.DoesNotContain("CUDAExecutionProvider", providers);
    }
}
