// The quality suite (issue 8): every data set of the suite, fine-tuned with each recipe over several seeds beside ML.NET's
// classic baseline, one JSON line per run; then the tables of docs/quality.md. A program that prints figures, not a test.
//
//   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- run [options]
//     --profile cpu|gpu        cpu (default): 1,000 train / 1,000 test rows, 5 image epochs at 32-64 px, 3 text epochs;
//                              gpu: every row, 128 px
//     --kind image|text|all    (default all)     --datasets a,b,...  (default: every data set of that kind)
//     --recipes "r1;r2;..."    default "baseline;defaults"; a recipe is key=value pairs over the defaults (Recipe.cs),
//                              e.g. "crop=1,flip=0;bb=1,lr=2e-3"
//     --seeds 1,2,3            --gpu ID    --precision auto|float32|bfloat16 (default auto)
//     --results FILE           JSON lines, appended; runs already in it are skipped (default artifacts/quality/<profile>-<device>.jsonl)
//     --shard i/n              run every n-th job starting at i (0-based): n processes share one machine
//   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- report --results a.jsonl[,b.jsonl] [--out docs/quality.md]
//   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- range [--kind ...] [--datasets ...] [--recipes ...] [--seeds 1] [--out FILE.tsv]
//                            the automatic recipe's learning-rate range test alone: suggestion per data set, curves to FILE
//   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- regression [--kind image|text|all] [--seeds 1,2,3] [--recipes ...]
//                            the image regressor on three glyph sets and the text regressor on four text sets beside ML.NET's
//                            SDCA regression (RegressionSuite.cs); regression-report --results FILE,... prints the R² table
//   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- pairs [--seeds 1,2,3]
//                            sentence pairs (package name, description) -> match/other beside FeaturizeText + SDCA (PairSuite.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- multilabel [--kind text|image|all] [--seeds 1,2,3]
//                            description -> debtags, glyph -> font styles, beside one SDCA per label (MultiLabelSuite.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- dapt [--seeds 1,2,3] [--corpus-cap 30000] [--dapt-epochs 1] [--full] [--reuse]
//                            domain-adaptive pretraining of MiniLM-L6 on Debian descriptions, then debian-packages with and without it (DaptSuite.cs)
//
// The suite's data: eng/prepare-data.sh suite-images suite-text (fashion-mnist and spam-assassin are committed).
using System.Globalization;
using MLNet.FineTuning.Quality;
using MLNet.FineTuning.Training;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
bool help = args.Length == 0 || args.Contains("-h") || args.Contains("--help");   // "run --help" must not start a run
if (help || args[0] is not ("run" or "report" or "range" or "regression" or "regression-report" or "pairs" or "multilabel" or "dapt"))
{
    Console.WriteLine("usage: quality run [--profile cpu|gpu] [--kind image|text|all] [--datasets a,b] [--recipes \"baseline;defaults;crop=1,flip=0\"]\n" +
                      "                   [--seeds 1,2,3] [--gpu ID] [--precision auto|float32|bfloat16] [--results FILE] [--shard i/n]\n" +
                      "       quality report --results FILE[,FILE...] [--out docs/quality.md]\n" +
                      "       quality range [--kind image|text|all] [--datasets a,b] [--recipes \"defaults\"] [--seeds 1] [--out FILE.tsv]\n" +
                      "       quality regression [--kind image|text|all] [--seeds 1,2,3] [--image-size 32] [--epochs 5] [--train-cap N]\n" +
                      "               [--datasets package-sizes,sotu-years,word-valence,word-frequency] [--recipes \"baseline;defaults;lr=3e-3\"] [--results FILE]\n" +
                      "       quality regression-report --results FILE[,FILE...]\n" +
                      "       quality pairs [--seeds 1,2,3] [--data package-pairs] [--results FILE]\n" +
                      "       quality multilabel [--kind text|image|all] [--seeds 1,2,3] [--image-size 32] [--epochs 5] [--results FILE]\n" +
                      "       quality dapt [--seeds 1,2,3] [--corpus-cap 30000] [--dapt-epochs 1] [--dapt-seed 1] [--full] [--folder DIR] [--reuse] [--results FILE]\n" +
                      $"recipe keys: {Recipe.SharedKeys}; images: {Recipe.ImageKeys}; text: {Recipe.TextKeys}");
    return help ? 0 : 2;
}
try
{
    string repo = Arg("--repo") ?? FindRepoRoot();
    if (args[0] == "regression") return RegressionSuite.Run(repo, Arg);
    if (args[0] == "regression-report") return RegressionReport.Write(Arg);
    if (args[0] == "pairs") return PairSuite.Run(repo, Arg);
    if (args[0] == "multilabel") return MultiLabelSuite.Run(repo, Arg);
    if (args[0] == "dapt") return DaptSuite.Run(repo, Arg, reuse: args.Contains("--reuse"), full: args.Contains("--full"));
    if (args[0] == "report")
    {
        var files = (Arg("--results") ?? throw new ArgumentException("report needs --results FILE[,FILE...]")).Split(',');
        // A results file that is not there is a typo, not "no runs yet": a report without it silently drops its rows.
        if (files.FirstOrDefault(f => !File.Exists(f)) is { } missing) throw new FileNotFoundException($"No results file '{missing}'.", missing);
        var results = files.SelectMany(RunResult.Read).ToList();
        if (results.Count == 0) throw new ArgumentException($"No results in {string.Join(", ", files)}.");
        string outPath = Arg("--out") ?? Path.Combine(repo, "docs", "quality.md");
        QualityReport.WriteInto(outPath, QualityReport.Render(results));
        Console.WriteLine($"{results.Count} runs -> {outPath}");
        return 0;
    }

    var profile = Profile.Get(Arg("--profile") ?? "cpu");
    int? gpu = Arg("--gpu") is string g ? int.Parse(g) : null;
    var precision = Enum.Parse<TrainingPrecision>(Arg("--precision") ?? "auto", ignoreCase: true);
    string kind = Arg("--kind") ?? "all";
    var dataSets = Arg("--datasets") is string names
        ? names.Split(',').Select(SuiteDataSet.Get).ToList()
        : SuiteDataSet.All.Where(d => kind == "all" || d.Kind.ToString().Equals(kind, StringComparison.OrdinalIgnoreCase)).ToList();
    var recipes = (Arg("--recipes") ?? "baseline;defaults").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(Recipe.Parse).ToList();
    var seeds = (Arg("--seeds") ?? "1,2,3").Split(',').Select(int.Parse).ToList();
    var (shard, shards) = Arg("--shard") is string s ? (int.Parse(s.Split('/')[0]), int.Parse(s.Split('/')[1])) : (0, 1);
    if (gpu != null && !TorchSharp.torch.cuda.is_available())
        throw new ArgumentException("--gpu: TorchSharp sees no CUDA device (is the CUDA backend referenced?).");
    var runner = new SuiteRunner(repo, profile, gpu, precision);
    string resultsPath = Arg("--results") ?? Path.Combine(repo, "artifacts", "quality", $"{profile.Name}-{runner.Device.Replace(":", "")}.jsonl");
    if (args[0] == "range")
    {
        // The automatic recipe's range test alone, on each data set: its suggestion beside the rates the suite chose.
        string curves = Arg("--out") ?? Path.Combine(repo, "artifacts", "quality", "range-curves.tsv");
        foreach (var seed in seeds)
        foreach (var d in dataSets)
        foreach (var r in recipes)
            SuiteRunner.WriteRange(curves, d.Name, r.Name, seed, () => runner.RangeTest(d, r, seed));
        Console.WriteLine($"curves -> {curves}");
        return 0;
    }
    var done = RunResult.Read(resultsPath).Select(r => r.Key).ToHashSet();

    // Seeds outermost: after one pass every recipe has a first figure on every data set.
    var jobs = (from seed in seeds from d in dataSets from r in recipes select (d, r, seed)).ToList();
    Console.WriteLine($"quality suite: profile {profile.Name}, {runner.Device}, {jobs.Count} runs (shard {shard}/{shards}), results {resultsPath}");
    for (int i = shard; i < jobs.Count; i += shards)
    {
        var (d, r, seed) = jobs[i];
        if (done.Contains($"{profile.Name}|{runner.DeviceOf(r)}|{d.Name}|{r.Name}|{seed}")) continue;
        var result = runner.Run(d, r, seed);
        result.Append(resultsPath);
        Console.WriteLine($"  {d.Name,-18} seed {seed}  {r.Name,-28} micro {result.MicroAccuracy:P1} macro {result.MacroAccuracy:P1}  " +
                          $"fit {result.FitSeconds:F0} s, eval {result.EvalSeconds:F0} s ({result.TrainRows}/{result.TestRows} rows)");
    }
    return 0;
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

string? Arg(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string FindRepoRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "MLNet.FineTuning.sln"))) return d.FullName;
    for (var d = new DirectoryInfo(Environment.CurrentDirectory); d != null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "MLNet.FineTuning.sln"))) return d.FullName;
    throw new DirectoryNotFoundException("Run from inside the repository, or pass --repo <folder>.");
}
