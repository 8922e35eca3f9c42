"""Issue 9 on a GPU machine (eng/gpu/device-checks.sh, step `serve`): starts the published serving sample on a model the
tool trained there, and checks it as a client would. The machine has no .NET SDK, so the sample runs from the published
folder (its apphost), and Python's standard library is the client.

Checks: /health answers; /model names the execution provider (CUDA with --gpu, where pack.sh --ort-cuda carried it);
each of the first images answers 200 with a label and scores summing to 1; the same images sent all at once (so that
the service batches them into one ONNX Runtime call) get the same labels and scores within 1e-4. Prints PASS or FAIL
lines and the requests per second of both passes; exit code 1 on any failure.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

parser = argparse.ArgumentParser()
parser.add_argument("--service", required=True, help="the published OnnxServing executable")
parser.add_argument("--model", required=True, help="folder with model.onnx")
parser.add_argument("--images", required=True, help="folder whose PNG files (any depth) are sent")
parser.add_argument("--gpu", help="CUDA device id for the service")
parser.add_argument("--port", type=int, default=5077)
parser.add_argument("--count", type=int, default=64)
args = parser.parse_args()

base = f"http://127.0.0.1:{args.port}"
command = [args.service, "--model", args.model, "--urls", base] + (["--gpu", args.gpu] if args.gpu is not None else [])
log = open("/tmp/serve-check-service.log", "w")
service = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
failures = []


def get(path):
    with urllib.request.urlopen(base + path, timeout=30) as response:
        return json.load(response)


def predict(body):
    request = urllib.request.Request(base + "/predict", data=body, headers={"Content-Type": "image/png"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


try:
    for _ in range(120):
        if service.poll() is not None:
            raise RuntimeError(f"the service exited with code {service.returncode} (log: /tmp/serve-check-service.log)")
        try:
            get("/health")
            break
        except OSError:
            time.sleep(0.5)
    else:
        raise RuntimeError("the service did not answer /health within 60 s")
    model = get("/model")
    print(f"serve: model kind {model['kind']}, {len(model['classes'])} classes, execution provider {model['executionProvider']}")
    if args.gpu is not None and "cuda" not in model["executionProvider"].lower():
        failures.append(f"--gpu {args.gpu} given, but the service runs on {model['executionProvider']}")

    bodies = [p.read_bytes() for p in sorted(pathlib.Path(args.images).rglob("*.png"))[:args.count]]
    began = time.perf_counter()
    one_by_one = [predict(b) for b in bodies]
    sequential_rate = len(bodies) / (time.perf_counter() - began)
    for answer in one_by_one:
        if abs(sum(answer["scores"].values()) - 1) > 1e-3:
            failures.append(f"scores sum to {sum(answer['scores'].values())}")
            break
    began = time.perf_counter()
    with ThreadPoolExecutor(len(bodies)) as pool:
        together = list(pool.map(predict, bodies))
    concurrent_rate = len(bodies) / (time.perf_counter() - began)
    for i, (a, b) in enumerate(zip(one_by_one, together)):
        difference = max(abs(a["scores"][k] - b["scores"][k]) for k in a["scores"])
        if a["label"] != b["label"] or difference > 1e-4:
            failures.append(f"image {i}: {a['label']} alone, {b['label']} among {len(bodies)} (score difference {difference:.2e})")
    print(f"serve: {len(bodies)} images one by one {sequential_rate:.1f} requests/s, all at once {concurrent_rate:.1f} requests/s")
except Exception as e:  # noqa: BLE001 (every failure is reported as one line)
    failures.append(f"{type(e).__name__}: {e}")
finally:
    service.terminate()
    try:
        service.wait(timeout=20)
    except subprocess.TimeoutExpired:
        service.kill()
    log.close()

for f in failures:
    print(f"serve: FAIL {f}")
print("serve: PASS" if not failures else f"serve: FAIL ({len(failures)})")
sys.exit(1 if failures else 0)
