using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MLNet.FineTuning.Testing;

/// <summary>
/// A web service of this repository in its own process on a free port of 127.0.0.1, as a service team runs it: started,
/// ready once <c>/health</c> answers, killed with its process tree on disposal. Shared by the tests and the load
/// benchmark (linked into both projects), which must start the service the same way.
/// </summary>
public sealed class LocalService : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder log = new();

    /// <param name="startInfo">The process to start for a base address (it must listen there); standard output and
    /// error must be redirected.</param>
    /// <param name="onLine">Called with each line the service writes, besides <see cref="Log"/> keeping it.</param>
    public LocalService(Func<Uri, ProcessStartInfo> startInfo, Action<string>? onLine = null)
    {
        BaseAddress = new Uri($"http://127.0.0.1:{FreePort()}");
        process = Process.Start(startInfo(BaseAddress))!;
        DataReceivedEventHandler keep = (_, e) =>
        {
            if (e.Data is not { } line) return;
            lock (log) log.AppendLine(line);
            onLine?.Invoke(line);
        };
        process.OutputDataReceived += keep;
        process.ErrorDataReceived += keep;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        for (var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1); !Healthy(); Thread.Sleep(100))
        {
            if (process.HasExited) throw new InvalidOperationException($"The service exited with {process.ExitCode} before answering: {Log}");
            if (DateTime.UtcNow > deadline)
            {
                Dispose();
                throw new TimeoutException($"The service did not answer /health within a minute: {Log}");
            }
        }
    }

    public Uri BaseAddress { get; }
    public HttpClient Client { get; }

    /// <summary>What the service wrote so far (standard output and error).</summary>
    public string Log { get { lock (log) return log.ToString(); } }

    public void Dispose()
    {
        Client.Dispose();
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
        process.Dispose();
    }

    private bool Healthy()
    {
        try { return Client.GetAsync("/health").Result.IsSuccessStatusCode; }
        catch (AggregateException e) when (e.InnerException is HttpRequestException) { return false; }
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
