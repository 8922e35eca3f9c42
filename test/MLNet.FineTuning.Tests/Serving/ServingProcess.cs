using MLNet.FineTuning.Testing;

namespace MLNet.FineTuning.Tests.Serving;

/// <summary>
/// samples/OnnxServing running in its own process on 127.0.0.1: the test project builds it (a ProjectReference
/// without its assembly) and this starts its dll for a model (<see cref="LocalService"/> waits for <c>/health</c> and
/// kills it on disposal).
/// </summary>
public sealed class ServingProcess : IDisposable
{
    private readonly LocalService service;

    public static string Dll => BuiltProgram.Dll(Path.Combine("samples", "OnnxServing"), "OnnxServing.dll");

    public ServingProcess(string model, params string[] options) =>
        service = new LocalService(address => BuiltProgram.StartInfo(Dll, ["--model", model, "--urls", address.ToString(), .. options]));

    public Uri BaseAddress => service.BaseAddress;
    public HttpClient Client => service.Client;

    /// <summary>What the service wrote so far (standard output and error).</summary>
    public string Log => service.Log;

    /// <summary>Runs OnnxServing with arguments that must stop it before it serves; returns its exit code and output.</summary>
    public static (int ExitCode, string Output, string Error) RunToFailure(params string[] arguments) =>
        BuiltProgram.Run(BuiltProgram.StartInfo(Dll, arguments), TimeSpan.FromMinutes(1));

    public void Dispose() => service.Dispose();
}
