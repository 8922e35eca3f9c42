using System.CommandLine;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Cli.Commands;

/// <summary>
/// The options that the image and the text command share: data, splits, output, and the training options of
/// <see cref="FineTuningOptions"/>. An option left out keeps the library's default (chosen on the quality suite,
/// docs/quality.md), which finetune.json records with its value.
/// </summary>
internal sealed class TrainingArguments
{
    public readonly RecordedOptions Recorded = new();
    public readonly Option<string> Data, Output, Task, LabelSeparator;
    public readonly Option<string?> Valid, Test;
    public readonly Option<double> ValidationFraction;
    public readonly Option<int?> Epochs, BatchSize, EarlyStopping, FreezeBackboneEpochs;
    public readonly Option<double?> LearningRate, BackboneFactor, LayerwiseDecay, TimeBudget;
    public readonly Option<int> Seed;
    public readonly Option<int?> Gpu;
    public readonly Option<TrainingPrecision?> Precision;
    public readonly Option<ClassBalance?> BalanceBy;
    public readonly Option<bool> BalanceClasses, NoTf32, Force, Resume, NoBaseline;

    public TrainingArguments(Command command, string dataDescription)
    {
        Data = Recorded.Add(command, new Option<string>("--data") { Description = dataDescription, Required = true }, isPath: true);
        Task = Recorded.Add(command, new Option<string>("--task")
        {
            Description = "classification (default: one class per row), regression (a number per row, a table only) or multilabel " +
                          "(any number of labels per row, separated by --label-separator, a table only).",
            DefaultValueFactory = _ => "classification",
        });
        Task.AcceptOnlyFromAmong("classification", "regression", "multilabel");
        LabelSeparator = Recorded.Add(command, new Option<string>("--label-separator")
        { Description = "Separator of the labels of a row with --task multilabel.", DefaultValueFactory = _ => ";" });
        Valid = Recorded.Add(command, new Option<string?>("--valid") { Description = "Validation data, in the same form as --data (default: a seeded --validation-fraction of --data)." }, isPath: true);
        ValidationFraction = Recorded.Add(command, new Option<double>("--validation-fraction")
        { Description = "Share of --data held out for validation when --valid is not given; 0 for none.", DefaultValueFactory = _ => 0.2 });
        Test = Recorded.Add(command, new Option<string?>("--test") { Description = "Test data, in the same form as --data: metrics.json reports on it (on the validation data without it)." }, isPath: true);
        Output = Recorded.Add(command, new Option<string>("--output", "-o") { Description = "Folder for model.zip, model.onnx, metrics.json and finetune.json.", Required = true }, isPath: true);
        Force = Recorded.Add(command, record: false, option: new Option<bool>("--force") { Description = "Write into an output folder that already has files (they are replaced)." });
        Resume = Recorded.Add(command, record: false, option: new Option<bool>("--resume") { Description = "Continue from the checkpoint that a stopped run left in the output folder." });
        Epochs = Recorded.Add(command, new Option<int?>("--epochs") { Description = "Passes over the training data (library default 5 for images, 3 for text)." });
        BatchSize = Recorded.Add(command, new Option<int?>("--batch-size") { Description = "Examples per step (library default 32)." });
        LearningRate = Recorded.Add(command, new Option<double?>("--learning-rate", "--lr") { Description = "Peak learning rate of the head (library default per estimator)." });
        BackboneFactor = Recorded.Add(command, new Option<double?>("--backbone-lr-factor") { Description = "The backbone's or encoder's rate as a share of --learning-rate." });
        LayerwiseDecay = Recorded.Add(command, new Option<double?>("--layerwise-lr-decay") { Description = "Each backbone or encoder layer group below the top trains at this factor of the rate of the one above, in (0, 1] (library default 1: off; 0.7 gained on photos in docs/quality.md, and lost on glyphs and drawings)." });
        FreezeBackboneEpochs = Recorded.Add(command, new Option<int?>("--freeze-backbone-epochs") { Description = "Epochs that train the head only before the backbone joins." });
        EarlyStopping = Recorded.Add(command, new Option<int?>("--early-stopping") { Description = "Stop after this many epochs without a better validation figure: accuracy, or the loss for regression and multi-label (keeps the best epoch)." });
        TimeBudget = Recorded.Add(command, new Option<double?>("--time-budget") { Description = "Minutes for the automatic recipe: a learning-rate range test and a search over the settings that matter, then the best one retrained." });
        BalanceClasses = Recorded.Add(command, new Option<bool>("--balance-classes") { Description = "Make rare classes count as much as common ones in training (higher macro accuracy on uneven classes), as --balance-by says." });
        BalanceBy = Recorded.Add(command, new Option<ClassBalance?>("--balance-by")
        { Description = "With --balance-classes: sampling (library default: each epoch draws every class equally often) or lossweights (every row, the loss weighted per class)." });
        Precision = Recorded.Add(command, new Option<TrainingPrecision?>("--precision") { Description = "auto (bf16 mixed precision on a GPU, fp32 on the CPU), float32 or bfloat16." });
        NoTf32 = Recorded.Add(command, new Option<bool>("--no-tf32") { Description = "With --gpu: full fp32 arithmetic in fp32 matrix products and convolutions (TF32 tensor cores are allowed by default)." });
        Seed = Recorded.Add(command, new Option<int>("--seed") { Description = "Seed of the split, the initialisation and the data order.", DefaultValueFactory = _ => 1 });
        Gpu = Recorded.Add(command, new Option<int?>("--gpu") { Description = "Train on this CUDA device (needs TorchSharp's CUDA backend; README, \"Use the tool\")." });
        NoBaseline = Recorded.Add(command, new Option<bool>("--no-baseline") { Description = "Skip the ML.NET-only baseline in metrics.json." });

        RecordedOptions.Check(LabelSeparator, v => string.IsNullOrEmpty(v) ? "--label-separator must not be empty." : null);
        RecordedOptions.Check(ValidationFraction, f => f >= 0 && f < 1 ? null : $"--validation-fraction must be in [0, 1); got {f}.");
        foreach (var positive in new[] { Epochs, BatchSize })
            RecordedOptions.Check(positive, v => v is int n && n < 1 ? $"{positive.Name} must be at least 1; got {n}." : null);
        foreach (var rate in new[] { LearningRate, BackboneFactor, TimeBudget })
            RecordedOptions.Check(rate, v => v is double x && !(x > 0) ? $"{rate.Name} must be positive; got {x}." : null);
        RecordedOptions.Check(LayerwiseDecay, v => v is double d && !(d > 0 && d <= 1) ? $"--layerwise-lr-decay must be in (0, 1]; got {d}." : null);
        command.Validators.Add(r =>
        {
            if (r.GetValue(Force) && r.GetValue(Resume)) r.AddError("--force and --resume exclude each other: --force starts over, --resume continues.");
            if (r.GetValue(BalanceBy) != null && !r.GetValue(BalanceClasses)) r.AddError("--balance-by says how --balance-classes balances; add --balance-classes (alone it would change nothing).");
            if (r.GetValue(Resume) && r.GetValue(TimeBudget) != null) r.AddError("--resume cannot be combined with --time-budget (the automatic recipe trains several models from the start).");
        });
    }

    /// <summary>Copies the given options onto the estimator's; the others keep the library's defaults.</summary>
    public void Apply(ParseResult r, FineTuningOptions o)
    {
        if (r.GetValue(Epochs) is int epochs) o.Epochs = epochs;
        if (r.GetValue(BatchSize) is int batch) o.BatchSize = batch;
        if (r.GetValue(LearningRate) is double lr) o.LearningRate = lr;
        if (r.GetValue(BackboneFactor) is double bb) o.BackboneLearningRateFactor = bb;
        if (r.GetValue(LayerwiseDecay) is double decay) o.LayerwiseLearningRateDecay = decay;
        if (r.GetValue(FreezeBackboneEpochs) is int frozen) o.FreezeBackboneEpochs = frozen;
        if (r.GetValue(EarlyStopping) is int patience) o.EarlyStoppingPatience = patience;
        if (r.GetValue(TimeBudget) is double minutes) o.TimeBudget = TimeSpan.FromMinutes(minutes);
        if (r.GetValue(Precision) is TrainingPrecision precision) o.Precision = precision;
        o.AllowTf32 = !r.GetValue(NoTf32);
        o.BalanceClasses = r.GetValue(BalanceClasses);
        if (r.GetValue(BalanceBy) is ClassBalance by) o.BalanceClassesBy = by;
        o.Seed = r.GetValue(Seed);
    }

    /// <summary>The task <c>--task</c> names.</summary>
    public Runs.RunTask RunTask(ParseResult r) => Runs.RunTask.Named(r.GetValue(Task)!, r.GetValue(LabelSeparator)!);

    /// <summary>The run's shared settings, with the recorded command line.</summary>
    public Runs.RunSettings Settings(ParseResult r) => new(
        r.GetValue(Data)!, r.GetValue(Valid), r.GetValue(ValidationFraction), r.GetValue(Test), r.GetValue(Output)!,
        r.GetValue(Force), r.GetValue(Resume), r.GetValue(NoBaseline), r.GetValue(Seed), r.GetValue(Gpu), Recorded.Resolve(r));
}
