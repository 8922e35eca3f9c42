namespace MLNet.FineTuning.Tests.Cli;

/// <summary>
/// One run of the tool on tiny data in a temporary folder, shared by a collection of tests (the tool's own and the
/// serving sample's): the data written under <see cref="Root"/>, the run's <see cref="Result"/>, its <see cref="Output"/>
/// folder, and the serving sample started on that folder on demand.
/// </summary>
public abstract class ToolRun : IDisposable
{
    private readonly Dictionary<string, Serving.ServingProcess> services = [];

    protected ToolRun(string kind, Func<string, (string Train, string Test)> writeData, string[] arguments)
    {
        Root = Directory.CreateTempSubdirectory($"mlnet-finetune-{kind}-").FullName;
        (Train, Test) = writeData(Root);
        Directory.CreateDirectory(Temporary);
        Result = Tool.RunWithTemporaryFolder(Temporary, [kind, "--data", Train, "--test", Test, "--output", Output, .. arguments]);
    }

    /// <summary>The run's temporary folder (its TMPDIR): what the tool left there stays for the tests to see.</summary>
    public string Temporary => Path.Combine(Root, "tmp");

    public string Root { get; }
    public string Train { get; }
    public string Test { get; }
    public string Output => Path.Combine(Root, "out");
    public ToolResult Result { get; }

    /// <summary>samples/OnnxServing serving this run's output folder with <paramref name="options"/>; started on first
    /// use, one per set of options, stopped with the run.</summary>
    public Serving.ServingProcess Served(params string[] options)
    {
        lock (services)
        {
            string key = string.Join('\n', options);
            if (!services.TryGetValue(key, out var service)) services[key] = service = new Serving.ServingProcess(Output, options);
            return service;
        }
    }

    public void Dispose()
    {
        foreach (var service in services.Values) service.Dispose();
        Directory.Delete(Root, recursive: true);
        GC.SuppressFinalize(this);
    }
}
