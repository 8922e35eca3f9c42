using System.Diagnostics;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>What one run of the tool did.</summary>
public sealed record ToolResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit code {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>Runs src/MLNet.FineTuning.Cli (mlnet-finetune) in its own process, from its own build output, as a user does.</summary>
internal static class Tool
{
    static string Dll => BuiltProgram.Dll(Path.Combine("src", "MLNet.FineTuning.Cli"), "mlnet-finetune.dll");

    public static ToolResult Run(params string[] arguments) => Run(StartInfo(arguments));

    /// <summary>Runs the tool with <c>TMPDIR</c> at <paramref name="temporaryFolder"/>: where .NET's <c>Path.GetTempPath</c>, and
    /// so ML.NET's temporary files and the tool's, go.</summary>
    public static ToolResult RunWithTemporaryFolder(string temporaryFolder, params string[] arguments)
    {
        var start = StartInfo(arguments);
        start.Environment["TMPDIR"] = temporaryFolder;
        return Run(start);
    }

    static ToolResult Run(ProcessStartInfo start)
    {
        var (exitCode, output, error) = BuiltProgram.Run(start, TimeSpan.FromMinutes(5));
        return new ToolResult(exitCode, output, error);
    }

    /// <summary>Starts the tool and sends it SIGINT (what Ctrl+C sends) once a line of its output contains
    /// <paramref name="interruptAfter"/>; returns what it did.</summary>
    public static ToolResult RunAndInterrupt(string interruptAfter, params string[] arguments) =>
        RunAndSignal("-INT", interruptAfter, TimeSpan.Zero, arguments);

    /// <summary>Starts the tool and sends it <paramref name="signal"/> (kill's option: -INT, -KILL) <paramref name="delay"/>
    /// after a line of its output contains <paramref name="after"/>; returns what it did.</summary>
    public static ToolResult RunAndSignal(string signal, string after, TimeSpan delay, params string[] arguments)
    {
        var start = StartInfo(arguments);
        if (signal == "-INT") start = WithDefaultInterrupt(start);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = new System.Text.StringBuilder();
        bool sent = false;
        while (process.StandardOutput.ReadLine() is string line)
        {
            stdout.AppendLine(line);
            if (!sent && line.Contains(after, StringComparison.Ordinal))
            {
                if (delay > TimeSpan.Zero) Thread.Sleep(delay);   // the tool goes on writing to the pipe meanwhile
                using var kill = Process.Start("kill", [signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
                sent = true;
            }
        }
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "mlnet-finetune did not stop");
        Assert.True(sent, $"the output never contained '{after}':\n{stdout}\nstderr:\n{stderr.Result}");
        return new ToolResult(process.ExitCode, stdout.ToString(), stderr.Result);
    }

    static ProcessStartInfo StartInfo(IEnumerable<string> arguments) => BuiltProgram.StartInfo(Dll, arguments);

    /// <summary>The same command started through coreutils' <c>env --default-signal=INT</c>. A process inherits an ignored
    /// SIGINT, and a background job of a non-interactive shell starts with it ignored (<c>nohup … &amp;</c>, some CI
    /// runners): .NET then installs no handler, the tool never sees the test's Ctrl+C and runs to the end
    /// (docs/reliability.md). A user's Ctrl+C reaches a tool started from a terminal, so the test resets it.</summary>
    static ProcessStartInfo WithDefaultInterrupt(ProcessStartInfo start)
    {
        start.ArgumentList.Insert(0, start.FileName);
        start.ArgumentList.Insert(0, "--default-signal=INT");
        start.FileName = "env";
        return start;
    }

    /// <summary>A tiny image folder: <paramref name="perClass"/> committed Fashion-MNIST images of each of three classes.</summary>
    public static string ImageFolder(string root, string split, int perClass)
    {
        string folder = Path.Combine(root, split);
        foreach (var cls in new[] { "Trouser", "Bag", "Sneaker" })
        {
            Directory.CreateDirectory(Path.Combine(folder, cls));
            foreach (var file in Directory.GetFiles(Path.Combine(TestData.FashionRoot, split, cls)).Order(StringComparer.Ordinal).Take(perClass))
                File.Copy(file, Path.Combine(folder, cls, Path.GetFileName(file)));
        }
        return folder;
    }

    /// <summary>A tiny CSV table: <paramref name="perClass"/> committed SpamAssassin e-mails (first 300 characters) per class.</summary>
    public static string TextTable(string root, string split, int perClass)
    {
        var lines = File.ReadLines(Path.Combine(TestData.SpamAssassinRoot, $"{split}.tsv")).Skip(1)
            .Select(l => l.Split('\t')).GroupBy(f => f[0]).OrderBy(g => g.Key, StringComparer.Ordinal)
            .SelectMany(g => g.Take(perClass))
            .Select(f => $"\"{Quote(f[1][..Math.Min(300, f[1].Length)])}\",{f[0]}");
        string path = Path.Combine(root, $"{split}.csv");
        File.WriteAllLines(path, ["message,category", .. lines]);
        return path;
    }

    static string Quote(string s) => s.Replace("\"", "\"\"");
}
