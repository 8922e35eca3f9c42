using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

public static partial class DomainAdaptation
{
    /// <summary>What <see cref="Pretrain(Microsoft.ML.MLContext, Microsoft.ML.IDataView, string, Options)"/> trains and how.
    /// The defaults: one epoch of LoRA (rank 8 on every linear layer) with the head at 1e-3 and the adapters at half that.</summary>
    public sealed class Options
    {
        /// <summary>The text column (text type) of the input <c>IDataView</c>. Missing and empty texts are skipped. Default "Text".</summary>
        public string TextColumnName { get; set; } = ColumnNames.Text;

        /// <summary>The encoder to adapt, from <see cref="PretrainedCatalog"/>. Default <see cref="PretrainedCatalog.MiniLmL6"/>;
        /// <see cref="PretrainedCatalog.BertFolder"/> with <see cref="EncoderPath"/> for a local Hugging Face BERT folder
        /// (its <c>cls.predictions.*</c> head is read when it has one).</summary>
        public string Encoder { get; set; } = PretrainedCatalog.MiniLmL6;

        /// <summary>The folder when <see cref="Encoder"/> is <c>bert-folder</c>.</summary>
        public string? EncoderPath { get; set; }

        /// <summary>Passes over the texts, ≥ 0. 0 trains nothing and writes the encoder as it is (a format conversion). Default 1.</summary>
        public int Epochs { get; set; } = 1;

        /// <summary>Texts per step, ≥ 1. Default 32.</summary>
        public int BatchSize { get; set; } = 32;

        /// <summary>Learning rate of the prediction head (transform and decoder bias), &gt; 0. Default 1e-3.</summary>
        public double LearningRate { get; set; } = 1e-3;

        /// <summary>The encoder's rate (adapters, or every weight with <see cref="FullFineTune"/>) as a share of
        /// <see cref="LearningRate"/>, in (0, 1]. Default 0.5; with <see cref="FullFineTune"/> use about 0.05 (5e-5, BERT's rate).</summary>
        public double BackboneLearningRateFactor { get; set; } = 0.5;

        /// <summary>Decoupled weight decay on weight matrices, ≥ 0. Default 0.01 (BERT's).</summary>
        public double WeightDecay { get; set; } = 0.01;

        /// <summary>Share of the steps with a linearly rising rate before the cosine decay, in [0, 1). Default 0.06.</summary>
        public double WarmupFraction { get; set; } = 0.06;

        /// <summary>Most tokens per text, special tokens included, in [8, the encoder's positions]; longer texts are cut. Default 128.</summary>
        public int MaxSequenceLength { get; set; } = 128;

        /// <summary>Share of the eligible tokens chosen for prediction, in (0, 1). Default 0.15 (BERT's).</summary>
        public double MaskProbability { get; set; } = 0.15;

        /// <summary>Train every encoder weight instead of LoRA adapters. Default false.</summary>
        public bool FullFineTune { get; set; }

        /// <summary>LoRA rank, ≥ 1. Default 8.</summary>
        public int Rank { get; set; } = 8;

        /// <summary>LoRA alpha (update scaled by alpha / rank), &gt; 0. Default 16.</summary>
        public double Alpha { get; set; } = 16;

        /// <summary>Dropout on the LoRA path, in [0, 1). Default 0.1.</summary>
        public double Dropout { get; set; } = 0.1;

        /// <summary>Which linear layers get adapters (<see cref="LoraTargetModules"/>). Default every linear layer.</summary>
        public IReadOnlyList<string> TargetModules { get; set; } = LoraTargetModules.AllLinear;

        /// <summary>Seeds the head's initialisation, the shuffling, the masking and dropout. Default 1.</summary>
        public int Seed { get; set; } = 1;

        /// <summary>Steps between progress reports. Default 50.</summary>
        public int LogEveryNSteps { get; set; } = 50;

        /// <summary>Receives the training progress (<see cref="TrainingProgress.TrainLoss"/> is the masked-token loss).</summary>
        public IProgress<TrainingProgress>? Progress { get; set; }

        /// <summary>Stops training; nothing is written then.</summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>Number format while training. Default Auto: bf16 mixed precision on CUDA, fp32 on the CPU.</summary>
        public TrainingPrecision Precision { get; set; } = TrainingPrecision.Auto;

        internal LoraConfig LoraConfig => new() { Rank = Rank, Alpha = Alpha, Dropout = Dropout, TargetModules = TargetModules };

        internal void Validate()
        {
            Check.Range(Epochs >= 0, nameof(Epochs), "≥ 0", Epochs);
            Check.Range(BatchSize >= 1, nameof(BatchSize), "≥ 1", BatchSize);
            Check.Range(LearningRate > 0, nameof(LearningRate), "> 0", LearningRate);
            Check.Range(BackboneLearningRateFactor > 0 && BackboneLearningRateFactor <= 1, nameof(BackboneLearningRateFactor), "in (0, 1]", BackboneLearningRateFactor);
            Check.Range(WeightDecay >= 0, nameof(WeightDecay), "≥ 0", WeightDecay);
            Check.Range(WarmupFraction >= 0 && WarmupFraction < 1, nameof(WarmupFraction), "in [0, 1)", WarmupFraction);
            Check.Range(MaxSequenceLength >= 8, nameof(MaxSequenceLength), "≥ 8", MaxSequenceLength);
            Check.Range(MaskProbability > 0 && MaskProbability < 1, nameof(MaskProbability), "in (0, 1)", MaskProbability);
            Check.Range(LogEveryNSteps >= 1, nameof(LogEveryNSteps), "≥ 1", LogEveryNSteps);
            if (string.IsNullOrWhiteSpace(TextColumnName)) throw new ArgumentException("TextColumnName must name a column.", nameof(TextColumnName));
            if (!FullFineTune && LoraConfig.Problems() is { Count: > 0 } problems)
                throw new ArgumentOutOfRangeException(Rank < 1 ? nameof(Rank) : !(Alpha > 0) ? nameof(Alpha) : Dropout is < 0 or >= 1 ? nameof(Dropout) : nameof(TargetModules),
                    string.Join(" ", problems));
            var encoder = PretrainedCatalog.GetTextEncoder(Encoder);   // names the known encoders when it is not one
            if (encoder.IsFolder && string.IsNullOrWhiteSpace(EncoderPath))
                throw new ArgumentException($"Encoder '{encoder.Name}' needs EncoderPath: the folder of a Hugging Face BERT checkpoint.", nameof(EncoderPath));
        }

        /// <summary>The training loop's options for these settings (no validation rows, no checkpoints).</summary>
        internal FineTuningOptions LoopOptions() => new MaskedLanguageLoopOptions
        {
            Epochs = Epochs, BatchSize = BatchSize, LearningRate = LearningRate, BackboneLearningRateFactor = BackboneLearningRateFactor,
            WeightDecay = WeightDecay, WarmupFraction = WarmupFraction, Seed = Seed, LogEveryNSteps = LogEveryNSteps,
            Progress = Progress, CancellationToken = CancellationToken, Precision = Precision,
        };
    }

    /// <summary>The loop's options type for pretraining (the loop takes a <see cref="FineTuningOptions"/>; nothing else is added).</summary>
    private sealed class MaskedLanguageLoopOptions : FineTuningOptions;
}
