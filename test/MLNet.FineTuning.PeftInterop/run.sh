#!/usr/bin/env bash
# The whole MLNet.FineTuning <-> Hugging Face PEFT interop check (README.md beside this file):
#
#   bash run.sh <app-dir> <work-dir> [--small-base]
#
# <app-dir>: the published MLNet.FineTuning.PeftInterop (dotnet publish … -r linux-x64 --self-contained), i.e. the
#            folder holding the MLNet.FineTuning.PeftInterop executable; <work-dir>: a folder for the files (created);
# --small-base: passed to export (a small random BERT instead of MiniLM-L6; needed by a -p:PeftInteropSlim=true build).
# Runs: export (the library writes base/, adapter/, expected.json and reads them back) → peft_roundtrip.py (transformers
# + PEFT check the library's adapter and save one of their own) → import (the library reads PEFT's adapter and
# recomputes PEFT's logits). Each step runs even if an earlier one failed where it can; the exit code is 0 only when
# all three passed. Environment: PYTHON (default python3); anything TorchSharp needs to find libtorch (on the GPU
# machine eng/gpu/device-checks.sh sets LD_LIBRARY_PATH) must already be set.
set -uo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ] || { [ $# -eq 3 ] && [ "$3" != "--small-base" ]; }; then
  echo "usage: bash run.sh <app-dir> <work-dir> [--small-base]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
app=$(cd "$1" && pwd) || { echo "no app folder '$1'" >&2; exit 2; }
work=$2
export_args=("${@:3}")
exe="$app/MLNet.FineTuning.PeftInterop"
[ -x "$exe" ] || { echo "'$exe' is missing or not executable" >&2; exit 2; }
python=${PYTHON:-python3}
mkdir -p "$work"
work=$(cd "$work" && pwd)
# Stale files of an earlier run must not be mistaken for this run's.
rm -rf "$work/base" "$work/adapter" "$work/expected.json" "$work/peft_adapter" "$work/peft_expected.json"

step() {  # step <name> <command...>: runs it with its output teed into <work>/<name>.log, returns its exit code
  local name=$1; shift
  echo
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$work/$name.log"
  local rc=${PIPESTATUS[0]}
  echo "=== $name: exit $rc"
  return "$rc"
}

step export "$exe" export "$work" ${export_args[@]+"${export_args[@]}"}; export_rc=$?
if [ -f "$work/expected.json" ]; then
  step python "$python" "$here/peft_roundtrip.py" "$work"; python_rc=$?
else
  echo "=== python: skipped (export wrote no expected.json)"; python_rc=1
fi
if [ -f "$work/peft_expected.json" ] && [ -d "$work/peft_adapter" ]; then
  step import "$exe" import "$work"; import_rc=$?
else
  echo "=== import: skipped (peft_roundtrip.py wrote no peft_adapter/ + peft_expected.json)"; import_rc=1
fi

verdict() { [ "$1" -eq 0 ] && echo PASS || echo "FAIL (exit $1)"; }
echo
echo "=== summary ($work)"
echo "export (library writes base/, adapter/, expected.json; reads them back): $(verdict $export_rc)"
echo "python (transformers + PEFT load the library's adapter; save their own): $(verdict $python_rc)"
echo "import (library reads PEFT's adapter, recomputes PEFT's logits):         $(verdict $import_rc)"
grep -h '^\(PASS\|FAIL\) ' "$work"/export.log "$work"/python.log "$work"/import.log 2>/dev/null | sed 's/^/  /'
passed=$(( (export_rc == 0) + (python_rc == 0) + (import_rc == 0) ))
echo "interop: $passed passed, $(( 3 - passed )) failed"
[ "$export_rc" -eq 0 ] && [ "$python_rc" -eq 0 ] && [ "$import_rc" -eq 0 ]
