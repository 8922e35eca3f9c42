using System.Diagnostics;
using MLNet.FineTuning.CrashHost;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>
/// SIGKILL at random points of the library's saves (issue 11's crash safety): test/MLNet.FineTuning.CrashHost writes a
/// training checkpoint, an ONNX-sized file and a safetensors file round after round, through the same code as the
/// estimators and the tool, and is killed at a random moment, many times over the same folder. After every kill each
/// file under its final name must be whole and load (the checkpoint as a resume reads it, its files from one round),
/// hold the round last reported in place or a later one, and the next run must save over whatever the kill left.
/// </summary>
public sealed class SaveUnderKillTests : IDisposable
{
    readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void KilledAtRandomPointsOfItsSaves_EveryFileStaysWholeAndLoads()
    {
        var random = new Random(11);
        var checkedRounds = new List<string>();
        int kills = 16;
        for (int kill = 0; kill < kills; kill++)
        {
            long firstRound = 1 + kill * 1000L;   // each run's rounds are its own, so a file left by an earlier run shows
            var (reported, ranFor) = RunAndKill(firstRound, random);

            long checkpoint = SavedRounds.LoadCheckpoint(temp.Path), bytes = SavedRounds.LoadBytes(temp.Path), weights = SavedRounds.LoadWeights(temp.Path);
            // Reported in place means on disk under its name: the file holds that round, or the next one if the kill
            // came after the rename and before the report. Never an earlier run's round once this run reported.
            AssertRound(SavedRounds.CheckpointFolder, checkpoint, reported, firstRound);
            AssertRound(SavedRounds.BytesFile, bytes, reported, firstRound);
            AssertRound(SavedRounds.WeightsFile, weights, reported, firstRound);
            checkedRounds.Add($"kill {kill} after {ranFor} ms: checkpoint {checkpoint}, onnx {bytes}, weights {weights}");
            // What a kill leaves aside (a temporary file or folder, the previous checkpoint) is removed by the next
            // run's saves: never more than this kill's own.
            foreach (var pattern in new[] { $".{SavedRounds.BytesFile}.*.tmp", $".{SavedRounds.WeightsFile}.*.tmp" })
                Assert.True(Directory.GetFiles(temp.Path, pattern).Length <= 1, $"{pattern}: {string.Join(", ", Directory.GetFiles(temp.Path, pattern))}");
            foreach (var pattern in new[] { $"{SavedRounds.CheckpointFolder}.tmp-*", $"{SavedRounds.CheckpointFolder}.old-*" })
                Assert.True(Directory.GetDirectories(temp.Path, pattern).Length <= 1, $"{pattern}: {string.Join(", ", Directory.GetDirectories(temp.Path, pattern))}");
        }
        // The kills must have landed in different places: several runs stopped between files of one round, so not
        // every file holds the same round every time.
        Assert.True(checkedRounds.Count(r => { var n = r.Split(' ').Where(w => w.TrimEnd(',').All(char.IsDigit) && w.Length > 3).Distinct().Count(); return n > 1; }) >= 2,
                    string.Join("\n", checkedRounds));
    }

    static void AssertRound(string file, long found, IReadOnlyDictionary<string, long> reported, long firstRound)
    {
        if (!reported.TryGetValue(file, out long last)) return;   // none of this run's rounds was reported in place
        Assert.True(found == last || found == last + 1, $"{file}: round {found} on disk, round {last} last reported in place (this run started at {firstRound})");
    }

    /// <summary>Starts the crash host, waits until its first round is on disk, kills it after a random further
    /// delay and returns the last round it reported for each file.</summary>
    (Dictionary<string, long> Reported, int RanFor) RunAndKill(long firstRound, Random random)
    {
        var start = BuiltProgram.StartInfo(BuiltProgram.Dll(Path.Combine("test", "MLNet.FineTuning.CrashHost"), "MLNet.FineTuning.CrashHost.dll"),
                                           [temp.Path, firstRound.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var process = Process.Start(start)!;
        var reported = new Dictionary<string, long>();
        var ready = new ManualResetEventSlim();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            if (line == "ready") { ready.Set(); return; }
            var parts = line.Split(' ');
            lock (reported) reported[parts[0]] = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        };
        var error = process.StandardError.ReadToEndAsync();
        process.BeginOutputReadLine();
        Assert.True(ready.Wait(TimeSpan.FromMinutes(1)) || process.HasExited, "the crash host did not finish its first round within a minute");
        Assert.False(process.HasExited, $"the crash host exited with {(process.HasExited ? process.ExitCode : 0)}: {(process.HasExited ? error.Result : "")}");
        int delay = random.Next(0, 1500);   // a few rounds' worth: the kill lands anywhere in a round
        Thread.Sleep(delay);
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        lock (reported) return (new Dictionary<string, long>(reported), delay);
    }
}
