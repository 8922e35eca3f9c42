using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Foundation;

/// <summary>
/// The native libtorch that the build lays out loads in the test host and does real gradient work.
/// On Debian 12 this passes only because eng/MLNet.FineTuning.targets weakened LibTorchSharp's
/// GLIBCXX_3.4.32 need (Debian 12's libstdc++ stops at 3.4.30; README "TorchSharp on Debian 12").
/// </summary>
public class TorchSharpNativeTests
{
    [Fact]
    public void Conv2d_ForwardBackward_GradientMatchesFiniteDifference()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(0);
        var conv = nn.Conv2d(3, 4, kernel_size: 3, padding: 1, dtype: float64);
        var x = randn(2, 3, 8, 8, dtype: float64);
        var loss = conv.forward(x).pow(2).mean();
        loss.backward();
        var analytic = conv.weight!.grad!.clone();

        // Central finite difference on one weight element: the autograd result must agree.
        const double h = 1e-6;
        double Loss() { using var _ = no_grad(); return conv.forward(x).pow(2).mean().item<double>(); }
        using (no_grad()) conv.weight[1, 2, 0, 1].add_(h);
        double plus = Loss();
        using (no_grad()) conv.weight[1, 2, 0, 1].sub_(2 * h);
        double minus = Loss();
        double numeric = (plus - minus) / (2 * h);

        Assert.Equal(numeric, analytic[1, 2, 0, 1].item<double>(), 6);
        Assert.NotEqual(0.0, analytic.abs().sum().item<double>());
    }

    [Fact]
    public void LaidOutLibLibTorchSharp_LoadsOnThisSystem()
    {
        using var scope = NewDisposeScope();   // holds ones(3) and the sum while libtorch reads them
        // A TypeInitializationException here means the GLIBCXX fix did not reach the output folder.
        using var t = ones(3).add(1);
        Assert.Equal(6f, t.sum().item<float>());
        var lib = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        if (OperatingSystem.IsLinux()) Assert.NotEmpty(lib);
    }
}
