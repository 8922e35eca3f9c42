using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MLNet.FineTuning.Tests.Serving;

/// <summary>
/// samples/OnnxServing running in its own process on 127.0.0.1, as a service team runs it: the test project builds it
/// (a ProjectReference without its assembly) and this starts its dll on a free port, waits until <c>/health</c>
/// answers and kills it on disposal.
/// </summary>
public sealed class ServingProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder log = new();

    public static string Dll => BuiltProgram.Dll(Path.Combine("samples", "OnnxServing"), "OnnxServing.dll");

    public ServingProcess(string model, params string[] options)
    {
        int port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        process = Process.Start(BuiltProgram.StartInfo(Dll, ["--model", model, "--urls", BaseAddress.ToString(), .. options]))!;
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"OnnxServing exited with {process.ExitCode} before answering: {Log}");
            try
            {
                if (Client.GetAsync("/health").Result.IsSuccessStatusCode) break;
            }
            catch (AggregateException e) when (e.InnerException is HttpRequestException) { }
            if (DateTime.UtcNow > deadline)
            {
                Dispose();
                throw new TimeoutException($"OnnxServing did not answer /health within a minute: {Log}");
            }
            Thread.Sleep(100);
        }
    }

    public Uri BaseAddress { get; }
    public HttpClient Client { get; }

    /// <summary>What the service wrote so far (standard output and error).</summary>
    public string Log { get { lock (log) return log.ToString(); } }

    /// <summary>Runs OnnxServing with arguments that must stop it before it serves; returns its exit code and output.</summary>
    public static (int ExitCode, string Output, string Error) RunToFailure(params string[] arguments) =>
        BuiltProgram.Run(BuiltProgram.StartInfo(Dll, arguments), TimeSpan.FromMinutes(1));

    public void Dispose()
    {
        Client.Dispose();
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
        process.Dispose();
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
