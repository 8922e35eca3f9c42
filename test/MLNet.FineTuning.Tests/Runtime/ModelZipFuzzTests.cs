using Microsoft.ML;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Tests.Images;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>
/// Seeded mutants (<see cref="ByteMutations"/>) of a saved model.zip through ML.NET's own loader, as a service and
/// `mlnet-finetune predict` load it (with the runtime package registered). ML.NET's exceptions are not ours to name, so
/// the contract tested is the one the tool relies on: every mutant loads or fails with one of the three exception types
/// that `predict` turns into a one-line error naming the file (InvalidDataException, InvalidOperationException,
/// FormatException; Cli/Commands/PredictCommand.cs), under the TargetInvocationExceptions of ML.NET's reflection, which
/// `predict` looks through the same way.
/// </summary>
[Collection(ThreeClassModelCollection.Name)]
public class ModelZipFuzzTests(ThreeClassModel fixture)
{
    [Fact]
    public void MlNetModelLoad_MutatedModelZip_LoadsOrFailsWithAnExceptionTheToolNames()
    {
        using var dir = new TempDirectory();
        new MLContext(1).Model.Save(fixture.Model, fixture.Train.Schema, dir.File("model.zip"));
        var original = File.ReadAllBytes(dir.File("model.zip"));

        var (loaded, refused) = ByteMutations.FuzzFile(original, dir.File("mutant.zip"), 40, 31, path =>
        {
            var model = new MLContext(1).RegisterFineTuningRuntime().Model.Load(path, out _);
            (model as IDisposable)?.Dispose();
        }, e => Cause(e) is InvalidDataException or InvalidOperationException or FormatException);

        Assert.True(loaded > 2 && refused > 10, $"loaded {loaded}, refused {refused}: the mutants must exercise both outcomes");
    }

    private static Exception Cause(Exception e)
    {
        while (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
        return e;
    }
}
