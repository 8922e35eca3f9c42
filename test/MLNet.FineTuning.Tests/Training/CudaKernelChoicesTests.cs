using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Training;

public class CudaKernelChoicesTests
{
    [Fact]
    public void CuDnnAutotuner_OnLinux_IsBoundToLibtorchAndRoundTrips()
    {
        // The binding calls libtorch's C++ methods by their exported names; a wrong name, argument or return marshalling
        // shows here on the CPU (the flag exists in every libtorch build), not first on a GPU machine.
        if (!OperatingSystem.IsLinux()) return;
        bool? before = CuDnnAutotuner.Enabled;
        Assert.NotNull(before);
        try
        {
            CuDnnAutotuner.Enabled = !before;
            Assert.Equal(!before, CuDnnAutotuner.Enabled);
            CuDnnAutotuner.Enabled = before;
            Assert.Equal(before, CuDnnAutotuner.Enabled);
        }
        finally
        {
            CuDnnAutotuner.Enabled = before;
        }
    }

    [Fact]
    public void ForTraining_OnTheCpu_SetsNothing()
    {
        var said = new List<string>();
        bool? before = CuDnnAutotuner.Enabled;

        using var choices = CudaKernelChoices.ForTraining(CPU, allowTf32: true, said.Add);

        Assert.Null(choices);
        Assert.Empty(said);
        Assert.Equal(before, CuDnnAutotuner.Enabled);
    }
}
