namespace MLNet.FineTuning;

/// <summary>One image's result from <see cref="FineTuneImageClassifierTransformer.PredictBatches"/>.</summary>
/// <param name="PredictedLabel">The most probable class name.</param>
/// <param name="Score">Class probabilities in key order (see <see cref="FineTunedTransformer.ClassNames"/>).</param>
public sealed record ImagePrediction(string PredictedLabel, float[] Score);
