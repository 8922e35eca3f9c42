using MLNet.FineTuning.CrashHost;
using static TorchSharp.torch;

// CrashHost <folder> <first round>: saves round after round into <folder> until it is killed, printing
// "ready" once the first round is on disk and "<file> <round>" after each file is in place.
if (args.Length != 2 || !long.TryParse(args[1], out long round))
{
    Console.Error.WriteLine("usage: CrashHost <folder> <first round>");
    return 2;
}
string folder = Directory.CreateDirectory(args[0]).FullName;
using var model = SavedRounds.Model();
using var optimizer = optim.AdamW(model.parameters());
using (NewDisposeScope())   // temporaries held until the end (docs/scalar-lifetime.md); the optimizer's state outlives it
{
    model.call(ones(4, 512)).sum().backward();
    optimizer.step();   // the optimizer has state to save
}
for (bool first = true; ; first = false, round++)
{
    SavedRounds.Fill(model, round);
    SavedRounds.SaveCheckpoint(folder, model, optimizer, round);
    Console.WriteLine($"{SavedRounds.CheckpointFolder} {round}");
    SavedRounds.SaveBytes(folder, round);
    Console.WriteLine($"{SavedRounds.BytesFile} {round}");
    SavedRounds.SaveWeights(folder, model);
    Console.WriteLine($"{SavedRounds.WeightsFile} {round}");
    if (first) Console.WriteLine("ready");
}
