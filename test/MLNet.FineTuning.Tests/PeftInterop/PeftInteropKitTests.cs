using System.Text.Json.Nodes;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.PeftInterop;
using MLNet.FineTuning.Tests.Pretrained;
using MLNet.FineTuning.Tests.Text;
using Xunit.Abstractions;

namespace MLNet.FineTuning.Tests.PeftInterop;

/// <summary>
/// The .NET half of the PEFT interop kit (test/MLNet.FineTuning.PeftInterop, whose kit files are compiled in here),
/// without Python: what <c>export</c> writes reads back through the library's own readers to the same logits, and
/// <c>import</c> reproduces logits when fed those files as if PEFT had written them, for the MiniLM-L6 base and the small
/// random one. The Python half runs only where torch, transformers and peft are installed (run.sh).
/// </summary>
public class PeftInteropKitTests(ITestOutputHelper output)
{
    [Fact]
    public void Export_ThenReadBackAndImport_ReproduceTheLogits() => ExportReadBackImport(smallBaseVocabulary: null, layers: 6);

    [Fact]
    public void ExportSmallBase_ThenReadBackAndImport_ReproduceTheLogits() => ExportReadBackImport(BertVocabulary.Path, layers: 2);

    private void ExportReadBackImport(string? smallBaseVocabulary, int layers)
    {
        using var temp = new TempDirectory();
        using var log = new StringWriter();
        var cases = PeftInteropKit.Export(temp.Path, log, smallBaseVocabulary);
        output.WriteLine(log.ToString());
        Assert.Equal(PeftInteropKit.Texts.Count, cases.Logits.Length);
        Assert.All(cases.Logits, row => Assert.Equal(PeftInteropKit.Classes, row.Length));
        // The long text is cut at MaxLength, so the batch is padded to exactly that length.
        Assert.All(cases.InputIds, row => Assert.Equal(PeftInteropKit.MaxLength, row.Length));

        // base/ as transformers needs it: format metadata, BertFor… key names with the pooler, a config.json that
        // describes the encoder, do_lower_case named, the vocabulary with LF lines.
        string baseFolder = PeftInteropKit.BaseFolder(temp.Path);
        var header = HuggingFaceBertFolder.ReadSafetensorsHeader(Path.Combine(baseFolder, "model.safetensors"));
        Assert.Equal("pt", header["__metadata__"]!["format"]!.GetValue<string>());
        Assert.Contains("bert.encoder.layer.0.attention.self.query.weight", header.Select(p => p.Key));
        Assert.Contains("bert.pooler.dense.weight", header.Select(p => p.Key));
        Assert.All(header.Where(p => p.Key != "__metadata__"), p => Assert.StartsWith("bert.", p.Key));
        var config = BertConfig.FromJsonFile(Path.Combine(baseFolder, "config.json"));
        Assert.Equal(smallBaseVocabulary is null ? BertConfig.MiniLmL6 : PeftInteropKit.SmallBaseConfig(30522), config);
        var tokenizerConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(baseFolder, "tokenizer_config.json")))!;
        Assert.True(tokenizerConfig["do_lower_case"]!.GetValue<bool>());
        string[] vocabulary = File.ReadAllText(Path.Combine(baseFolder, "vocab.txt")).Split('\n');
        Assert.DoesNotContain(vocabulary, line => line.EndsWith('\r'));
        Assert.Equal("[CLS]", vocabulary[101]);

        var readBack = PeftInteropKit.ReadBack(temp.Path);
        output.WriteLine($"read back: max |diff| {readBack.MaxAbsDiff:G3}, LoRA moves the logits by {readBack.LoraEffect:G3}");
        Assert.True(readBack.MaxAbsDiff <= PeftInteropKit.ReadBackTolerance, $"read back max abs diff {readBack.MaxAbsDiff:G3}");
        Assert.Equal(6 * layers, readBack.LoraModules.Count);   // every linear layer: q, k, v, attention output, FFN in and out
        Assert.True(readBack.LoraEffect > 0.01, $"the exported adapter should not be a no-op; it moves the logits by {readBack.LoraEffect:G3}");

        // import, fed with the export's own adapter and logits where PEFT's would be.
        Directory.CreateDirectory(PeftInteropKit.PeftAdapterFolder(temp.Path));
        foreach (var file in Directory.GetFiles(PeftInteropKit.AdapterFolder(temp.Path)))
            File.Copy(file, Path.Combine(PeftInteropKit.PeftAdapterFolder(temp.Path), Path.GetFileName(file)));
        File.Copy(PeftInteropKit.ExpectedFile(temp.Path), PeftInteropKit.PeftExpectedFile(temp.Path));
        var imported = PeftInteropKit.Import(temp.Path);
        output.WriteLine($"import: max |diff| {imported.MaxAbsDiff:G3}");
        Assert.True(imported.MaxAbsDiff <= PeftInteropKit.Tolerance, $"import max abs diff {imported.MaxAbsDiff:G3}");
        Assert.Equal(PeftInteropKit.ExportLora, imported.Config);
    }
}
