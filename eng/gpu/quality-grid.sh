#!/usr/bin/env bash
# The quality suite's recipe grid on one GPU machine (issue 8), called by device-checks.sh's `quality` step:
# several processes of test/MLNet.FineTuning.Quality share the GPU (each run is small, so one process leaves it
# mostly idle), each taking every n-th run of the job list; every finished run is one JSON line in $out/q-*.jsonl.
#
#   bash eng/gpu/quality-grid.sh <app-folder> <repo-like-folder> <out-folder>
#
# Environment: PROFILE (cpu: the CPU profile's rows, epochs and image sizes, here in fp32 so that the figures stand for
# a CPU run), PRECISION (float32), SEEDS (1,2,3), IMAGE_SHARDS (3), TEXT_SHARDS (3), IMAGE_RECIPES and TEXT_RECIPES
# ("r1;r2;...", see test/MLNet.FineTuning.Quality/Recipe.cs), IMAGE_DATASETS and TEXT_DATASETS (a,b; default: all of the
# kind), GPU (device id, default 0; empty: the CPU, for device-checks.sh's SMOKE run).
set -uo pipefail
app=$1 repo=$2 out=$3
profile=${PROFILE:-cpu} precision=${PRECISION:-float32} seeds=${SEEDS:-1,2,3}
pids=()
launch() {   # launch KIND SHARDS RECIPES DATASETS
  local kind=$1 n=$2 recipes=$3 sets=$4
  local select=(--kind "$kind"); [ -n "$sets" ] && select=(--datasets "$sets")
  local device=(); [ -n "${GPU-0}" ] && device=(--gpu "${GPU-0}")
  for ((i = 0; i < n; i++)); do
    OMP_NUM_THREADS=3 "$app/MLNet.FineTuning.Quality" run --repo "$repo" --profile "$profile" "${select[@]}" "${device[@]}" \
      --precision "$precision" --seeds "$seeds" --recipes "$recipes" --shard "$i/$n" \
      --results "$out/q-$kind-$i.jsonl" > "$out/q-$kind-$i.log" 2>&1 &
    pids+=($!)
  done
}
[ -n "${IMAGE_RECIPES:-}" ] && launch image "${IMAGE_SHARDS:-3}" "$IMAGE_RECIPES" "${IMAGE_DATASETS:-}"
[ -n "${TEXT_RECIPES:-}" ] && launch text "${TEXT_SHARDS:-3}" "$TEXT_RECIPES" "${TEXT_DATASETS:-}"
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=$?; done
cat "$out"/q-*.log
exit $rc
