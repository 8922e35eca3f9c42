#!/usr/bin/env python3
"""Python half of the MLNet.FineTuning <-> Hugging Face PEFT interop check (README.md beside this file).

    python3 peft_roundtrip.py <dir>

<dir> is what `MLNet.FineTuning.PeftInterop export <dir>` wrote: base/ (a Hugging Face BERT folder with the
MiniLM-L6 weights, or a small random BERT with --small-base), adapter/ (a LoRA adapter + 3-class head saved by the library in PEFT's layout) and expected.json
(texts, the library's input_ids / attention_mask and logits).

(a) library -> PEFT: loads base/ with BertForSequenceClassification, the adapter with PeftModel.from_pretrained,
    checks that every adapter tensor landed (no missing, no unexpected keys; values equal), recomputes the logits
    as the library does (mean pooling of bert's last_hidden_state over the mask, then the PEFT-wrapped classifier)
    and compares them with expected.json; also checks transformers' tokenizers against the library's input_ids.
(b) PEFT -> library: a fresh LoRA (r=4, alpha=8, query/key/value, init_lora_weights=False so B is not zero) and a
    random classifier, saved with save_pretrained to <dir>/peft_adapter, and its logits for the same ids in
    <dir>/peft_expected.json, for `MLNet.FineTuning.PeftInterop import <dir>`.

Every check prints one PASS/FAIL line; each step catches its own errors so later steps still run. The exit code is
0 only when every check passed. Runs on the CPU in fp32 (CUDA is hidden before torch is imported) so that the
comparison with the library's CPU logits is not blurred by TF32 or other GPU kernels.
"""
import os

# Before torch/transformers are imported: no GPU (PEFT's infer_device() would put adapter tensors on it), no hub.
os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

TOLERANCE = 1e-4  # max abs logit difference accepted between the library (TorchSharp) and PyTorch
NUM_LABELS = 3
RESULTS = []  # (name, passed, detail)


def record(name, passed, detail=""):
    RESULTS.append((name, bool(passed), detail))
    print(f"{'PASS' if passed else 'FAIL'} {name}: {detail}", flush=True)


def note(text):
    print(f"  {text}", flush=True)


def run_step(name, fn, *args):
    """Runs one step; an exception is recorded as a FAIL of that step (with its traceback) and None returned."""
    print(f"\n--- {name}", flush=True)
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - every failure must be reported, whatever it is
        traceback.print_exc()
        record(name, False, f"{type(e).__name__}: {e}")
        return None


def versions():
    import torch
    out = {"python": platform.python_version(), "platform": platform.platform(), "torch": torch.__version__}
    for module in ("transformers", "peft", "safetensors", "tokenizers", "accelerate", "huggingface_hub", "numpy"):
        try:
            out[module] = __import__(module).__version__
        except Exception as e:  # noqa: BLE001
            out[module] = f"not importable ({type(e).__name__}: {e})"
    out["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")
    out["torch_threads"] = torch.get_num_threads()
    for key, value in out.items():
        note(f"{key}: {value}")
    return out


def max_abs_diff(a, b):
    import torch
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    return float((a - b).abs().max()) if a.numel() else 0.0


def load_expected(work):
    path = os.path.join(work, "expected.json")
    with open(path, encoding="utf-8") as f:
        expected = json.load(f)
    for field in ("texts", "input_ids", "attention_mask", "logits"):
        if field not in expected:
            raise KeyError(f"{path} has no '{field}'")
    lengths = {len(r) for r in expected["input_ids"]}
    if len(lengths) != 1:
        raise ValueError(f"input_ids rows differ in length: {sorted(lengths)}")
    record("read expected.json", True,
           f"{len(expected['texts'])} texts, {lengths.pop()} tokens after padding, logits {len(expected['logits'])}x{len(expected['logits'][0])}")
    return expected


def ids_and_mask(expected):
    import torch
    ids = torch.tensor(expected["input_ids"], dtype=torch.long)
    mask = torch.tensor(expected["attention_mask"], dtype=torch.long)
    if ids.shape != mask.shape:
        raise ValueError(f"input_ids {tuple(ids.shape)} and attention_mask {tuple(mask.shape)} differ")
    return ids, mask


def load_base(base_dir, name):
    """BertForSequenceClassification from base/, fp32, eval mode; checks loading info and every weight by value."""
    import torch
    from safetensors.torch import load_file
    from transformers import BertForSequenceClassification

    model, info, errors = None, None, []
    # attn_implementation="eager" for the textbook softmax(QK^T/sqrt(d) + mask) V (the library's arithmetic);
    # output_loading_info for missing/unexpected keys. Older/newer signatures: fall back one option at a time.
    for kwargs in ({"attn_implementation": "eager", "output_loading_info": True}, {"output_loading_info": True}, {}):
        try:
            loaded = BertForSequenceClassification.from_pretrained(base_dir, num_labels=NUM_LABELS, **kwargs)
        except Exception as e:  # noqa: BLE001
            errors.append(f"from_pretrained({kwargs}): {type(e).__name__}: {e}")
            continue
        if kwargs.get("output_loading_info") and isinstance(loaded, tuple) and len(loaded) == 2:
            model, info = loaded
        else:
            model = loaded[0] if isinstance(loaded, tuple) else loaded
        if info is not None and not isinstance(info, dict):
            # A dict of lists in every version read; an object with those attributes is taken too.
            info = {k: getattr(info, k, None) for k in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")}
        note(f"BertForSequenceClassification.from_pretrained(base, num_labels={NUM_LABELS}, {kwargs})")
        break
    for e in errors:
        note(f"(fallback) {e}")
    if model is None:
        raise RuntimeError("BertForSequenceClassification.from_pretrained failed in every form: " + " | ".join(errors))
    model = model.float().eval()
    note(f"attention implementation: {getattr(model.config, '_attn_implementation', 'unknown')}")

    problems = []
    if info is not None:
        for key in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
            values = sorted(str(v) for v in (info.get(key) or []))
            note(f"loading info {key}: {values}")
        missing = {str(k) for k in (info.get("missing_keys") or [])}
        extra_missing = sorted(k for k in missing if not k.startswith("classifier."))
        if extra_missing:
            problems.append(f"missing weights besides the new classifier: {extra_missing}")
        if info.get("unexpected_keys"):
            problems.append(f"unexpected weights: {sorted(map(str, info['unexpected_keys']))}")
        if info.get("mismatched_keys"):
            problems.append(f"mismatched weights: {info['mismatched_keys']}")
        if info.get("error_msgs"):
            problems.append(f"errors: {info['error_msgs']}")
    else:
        note("no loading info from this transformers version; relying on the comparison by value below")

    # Independent of how transformers reports: every tensor of the file must equal the model's tensor of that name.
    file_tensors = load_file(os.path.join(base_dir, "model.safetensors"))
    state = model.state_dict()
    params = dict(model.named_parameters())
    compared, unequal, not_found = 0, [], []
    for key, tensor in file_tensors.items():
        if key not in state:
            not_found.append(key)
            continue
        compared += 1
        if state[key].shape != tensor.shape or not torch.equal(state[key].detach().cpu().float(), tensor.float()):
            unequal.append(key)
    not_from_file = sorted(k for k in params if k not in file_tensors and not k.startswith("classifier."))
    note(f"weights compared by value: {compared} of {len(file_tensors)} in the file; "
         f"parameters not in the file besides classifier.*: {not_from_file}")
    if unequal:
        problems.append(f"weights that differ from the file: {unequal}")
    if not_found:
        # Keys renamed on load (transformers 5 has conversion mappings for some models) cannot be compared by
        # name; then the loading info above and the logits checks decide.
        note(f"WARNING file keys not found by name in the model (renamed on load?): {not_found}")
        if not_from_file:
            note(f"WARNING model parameters not found by name in the file: {not_from_file}")
    elif not_from_file:
        problems.append(f"model parameters the file did not provide: {not_from_file}")
    record(f"{name}: base folder loads into BertForSequenceClassification", not problems,
           "; ".join(problems) if problems else f"{compared} weights equal to base/model.safetensors, only classifier.* new")
    return model


def encode(bert, ids, mask):
    import torch
    out = bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))
    return out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]


def mean_pool(hidden, mask):
    """sentence-transformers' mean pooling, as the library's TextPooling.Mean: sum(h*m) / max(sum(m), 1e-9)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def pooled_logits(peft_model, ids, mask, adapters_enabled=True):
    """classifier(mean_pool(bert(...))) through the PEFT model's own modules: LoRA layers inside bert, the
    modules_to_save copy of the classifier. With adapters_enabled=False the LoRA layers are switched off for the
    encoder only; the same trained classifier copy is applied afterwards."""
    import torch
    base = peft_model.get_base_model()
    with torch.no_grad():
        if adapters_enabled:
            hidden = encode(base.bert, ids, mask)
        else:
            with peft_model.disable_adapter():
                hidden = encode(base.bert, ids, mask)
        return base.classifier(mean_pool(hidden, mask))


def lora_modules(peft_model, adapter_name):
    return [n for n, m in peft_model.named_modules()
            if hasattr(m, "lora_A") and hasattr(m.lora_A, "keys") and adapter_name in m.lora_A.keys()]


# ---------------------------------------------------------------------------------------------- (a) library -> PEFT
def part_a(work, expected):
    """Loads the library's adapter with PEFT (required: without it nothing below can run), then runs each check on its
    own, so that one that raises (an API this version lacks, say) is a FAIL of that check alone."""
    from peft import PeftModel

    base_dir, adapter_dir = os.path.join(work, "base"), os.path.join(work, "adapter")
    with open(os.path.join(adapter_dir, "adapter_config.json"), encoding="utf-8") as f:
        note(f"adapter_config.json written by the library: {json.dumps(json.load(f), sort_keys=True)}")
    model = load_base(base_dir, "(a)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        peft_model = PeftModel.from_pretrained(model, adapter_dir)
    peft_model.eval()
    messages = [f"{w.category.__name__}: {w.message}" for w in caught]
    for m in messages:
        note(f"warning during PeftModel.from_pretrained: {m}")
    ids, mask = ids_and_mask(expected)

    run_step("(a) PeftModel.from_pretrained(adapter/)", a_config, peft_model, expected, messages)
    run_step("(a) adapter keys", a_keys, peft_model, adapter_dir)
    logits = run_step("(a) logits", a_logits, peft_model, expected, ids, mask)
    if "logits_without_lora" in expected:
        run_step("(a) logits with LoRA switched off", a_logits_without_lora, peft_model, expected, ids, mask, logits)
    # Last: it adds a second adapter to the model.
    run_step("(a) load_adapter(adapter/) load result", a_load_result, peft_model, adapter_dir)


def a_config(peft_model, expected, messages):
    key_warnings = [m for m in messages if "missing adapter keys" in m.lower()]
    config = peft_model.peft_config["default"]
    targets = sorted(config.target_modules) if not isinstance(config.target_modules, str) else config.target_modules
    modules = lora_modules(peft_model, "default")
    note(f"PEFT read: peft_type {config.peft_type}, task_type {config.task_type}, r {config.r}, lora_alpha {config.lora_alpha}, "
         f"target_modules {targets}, modules_to_save {config.modules_to_save}; {len(modules)} LoRA modules, e.g. {modules[:2]}")
    note(f"classifier wrapper: {type(peft_model.get_base_model().classifier).__name__}")
    # What the library wrote (expected.json's "lora"); the fallbacks are an older kit's r=8, alpha=16,
    # query+value on 6 layers (the kit now writes the text classifier's defaults: every linear layer, 36 modules).
    want = expected.get("lora", {})
    want_r, want_alpha = int(want.get("r", 8)), float(want.get("lora_alpha", 16))
    want_targets, want_modules = sorted(want.get("target_modules", ["query", "value"])), int(want.get("modules", 12))
    config_ok = (config.r == want_r and float(config.lora_alpha) == want_alpha and targets == want_targets
                 and len(modules) == want_modules)
    record("(a) PeftModel.from_pretrained(adapter/)", not key_warnings and config_ok,
           f"r={config.r}, lora_alpha={config.lora_alpha}, targets={targets}, {len(modules)} LoRA modules "
           f"(want {want_r}, {want_alpha:g}, {want_targets}, {want_modules}); "
           f"key warnings: {key_warnings or 'none'}")


def a_keys(peft_model, adapter_dir):
    """Every tensor of the file in the model, and every adapter tensor of the model from the file: PEFT's own view of
    the loaded adapter (what save_pretrained would write) must equal the file key for key, value for value."""
    import torch
    from peft import get_peft_model_state_dict
    from safetensors.torch import load_file

    file_tensors = load_file(os.path.join(adapter_dir, "adapter_model.safetensors"))
    state = get_peft_model_state_dict(peft_model, adapter_name="default", save_embedding_layers=False)
    unexpected = sorted(set(file_tensors) - set(state))
    missing = sorted(set(state) - set(file_tensors))
    unequal = sorted(k for k in set(state) & set(file_tensors)
                     if state[k].shape != file_tensors[k].shape
                     or not torch.equal(state[k].detach().cpu().float(), file_tensors[k].float()))
    lora_keys = [k for k in file_tensors if ".lora_" in k]
    head_keys = [k for k in file_tensors if ".lora_" not in k]
    record("(a) adapter keys: none missing, none unexpected, values equal", not (unexpected or missing or unequal),
           f"file: {len(lora_keys)} LoRA + {len(head_keys)} head tensors {head_keys}; "
           f"unexpected (in the file, not in the model): {unexpected or 'none'}; "
           f"missing (in the model, not in the file): {missing or 'none'}; unequal: {unequal or 'none'}")


def a_logits(peft_model, expected, ids, mask):
    import torch
    logits = pooled_logits(peft_model, ids, mask)
    diff = max_abs_diff(logits, expected["logits"])
    for i, row in enumerate(logits.tolist()):
        note(f"row {i}: PEFT {[round(v, 5) for v in row]}  library {[round(v, 5) for v in expected['logits'][i]]}")
    record("(a) logits: PEFT vs library (mean pooling, LoRA on)", diff <= TOLERANCE,
           f"max |diff| = {diff:.3g} (tolerance {TOLERANCE:g})")
    if "probabilities" in expected:
        note(f"probabilities max |diff| = {max_abs_diff(torch.softmax(logits, -1), expected['probabilities']):.3g}")
    return logits


def a_logits_without_lora(peft_model, expected, ids, mask, logits):
    without = pooled_logits(peft_model, ids, mask, adapters_enabled=False)
    diff = max_abs_diff(without, expected["logits_without_lora"])
    effect = f"; the adapter moves the logits by up to {max_abs_diff(logits, without):.3g}" if logits is not None else ""
    record("(a) logits with LoRA switched off: PEFT vs library (checks the base weights alone)", diff <= TOLERANCE,
           f"max |diff| = {diff:.3g}{effect}")


def a_load_result(peft_model, adapter_dir):
    """A second route that returns PEFT's own load result: load_adapter under another name."""
    result = peft_model.load_adapter(adapter_dir, adapter_name="reload")
    missing_keys = list(getattr(result, "missing_keys", []) or [])
    unexpected_keys = list(getattr(result, "unexpected_keys", []) or [])
    record("(a) load_adapter(adapter/) load result", not missing_keys and not unexpected_keys,
           f"missing_keys {missing_keys or 'none'}, unexpected_keys {unexpected_keys or 'none'}")


def check_tokenization(work, expected):
    import transformers

    base_dir = os.path.join(work, "base")
    texts, max_length = expected["texts"], int(expected.get("max_length", 128))
    want = [row[:sum(m)] for row, m in zip(expected["input_ids"], expected["attention_mask"])]

    def legacy():
        from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy
        return BertTokenizerLegacy(os.path.join(base_dir, "vocab.txt"), do_lower_case=bool(expected.get("do_lower_case", True)))

    loaders = [
        ("AutoTokenizer.from_pretrained(base)", lambda: transformers.AutoTokenizer.from_pretrained(base_dir)),
        ("BertTokenizer.from_pretrained(base)", lambda: transformers.BertTokenizer.from_pretrained(base_dir)),
        ("BertTokenizerFast.from_pretrained(base)", lambda: transformers.BertTokenizerFast.from_pretrained(base_dir)),
        ("BertTokenizerLegacy (Python WordPiece, transformers 5)", legacy),
    ]
    checked, failures = [], []
    for name, load in loaders:
        try:
            tok = load()
        except Exception as e:  # noqa: BLE001 - a class this version lacks is skipped, not failed
            note(f"SKIP {name}: {type(e).__name__}: {e}")
            continue
        got = [tok(t, truncation=True, max_length=max_length)["input_ids"] for t in texts]
        bad = [i for i, (g, w) in enumerate(zip(got, want)) if list(g) != list(w)]
        lower = getattr(tok, "do_lower_case", None)
        note(f"{name}: {type(tok).__name__} (do_lower_case={lower}, fast={getattr(tok, 'is_fast', None)}): "
             f"{len(texts) - len(bad)}/{len(texts)} texts give the library's ids")
        for i in bad:
            g, w = list(got[i]), list(want[i])
            at = next((j for j in range(min(len(g), len(w))) if g[j] != w[j]), min(len(g), len(w)))
            note(f"  text {i} differs at token {at}: transformers {g[at:at + 6]} {tok.convert_ids_to_tokens(g[at:at + 6])} "
                 f"vs library {w[at:at + 6]} {tok.convert_ids_to_tokens(w[at:at + 6])} (lengths {len(g)} / {len(w)})")
        checked.append(name)
        if bad:
            failures.append(f"{name}: texts {bad}")

    try:
        from tokenizers import BertWordPieceTokenizer
        rust = BertWordPieceTokenizer(os.path.join(base_dir, "vocab.txt"), lowercase=bool(expected.get("do_lower_case", True)))
        rust.enable_truncation(max_length=max_length)
        got = [e.ids for e in rust.encode_batch(texts)]
        bad = [i for i, (g, w) in enumerate(zip(got, want)) if list(g) != list(w)]
        note(f"tokenizers.BertWordPieceTokenizer(vocab.txt): {len(texts) - len(bad)}/{len(texts)} texts give the library's ids")
        if bad:
            failures.append(f"tokenizers.BertWordPieceTokenizer: texts {bad}")
    except Exception as e:  # noqa: BLE001
        note(f"SKIP tokenizers.BertWordPieceTokenizer: {type(e).__name__}: {e}")

    record("(a) tokenization: transformers' BERT tokenizers give the library's input_ids",
           checked and not failures,
           (f"checked {checked}; " + (f"differences: {failures}" if failures else "all equal")) if checked
           else f"no transformers tokenizer could be loaded from base/{'; ' + str(failures) if failures else ''}")


# ---------------------------------------------------------------------------------------------- (b) PEFT -> library
def part_b(work, expected, version_info):
    """A PEFT adapter for the library to read. What import needs (peft_adapter/, peft_expected.json) is written first;
    the checks after it run each on its own."""
    import torch
    from peft import LoraConfig, TaskType, get_peft_model

    base_dir, out_dir = os.path.join(work, "base"), os.path.join(work, "peft_adapter")
    model = load_base(base_dir, "(b)")
    generator = torch.Generator().manual_seed(4321)
    with torch.no_grad():
        model.classifier.weight.copy_(torch.randn(model.classifier.weight.shape, generator=generator) * 0.5)
        model.classifier.bias.copy_(torch.randn(model.classifier.bias.shape, generator=generator) * 0.1)
    head_weight = model.classifier.weight.detach().clone()
    layers = int(model.config.num_hidden_layers)

    torch.manual_seed(1234)  # init_lora_weights=False draws A and B with nn.Linear's default init
    config = LoraConfig(task_type=TaskType.SEQ_CLS, r=4, lora_alpha=8, lora_dropout=0.0,
                        target_modules=["query", "key", "value"], init_lora_weights=False)
    peft_model = get_peft_model(model, config)
    peft_model.eval()
    ids, mask = ids_and_mask(expected)
    logits = pooled_logits(peft_model, ids, mask)
    peft_model.save_pretrained(out_dir, save_embedding_layers=False)
    out = {
        "kit": "MLNet.FineTuning.PeftInterop peft_roundtrip.py",
        "versions": version_info,
        "lora": {"r": 4, "lora_alpha": 8, "target_modules": ["query", "key", "value"], "init_lora_weights": False},
        "pooling": "mean over attention_mask, then the PEFT-wrapped classifier",
        "texts": expected["texts"],
        "input_ids": expected["input_ids"],
        "attention_mask": expected["attention_mask"],
        "logits": logits.double().tolist(),
    }
    path = os.path.join(work, "peft_expected.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
    record("(b) peft_adapter/ and peft_expected.json written", True,
           f"{sorted(os.listdir(out_dir))}; logits {len(out['logits'])}x{len(out['logits'][0])}")

    run_step("(b) the adapter is not a no-op", b_effect, peft_model, ids, mask, logits, layers)
    run_step("(b) save_pretrained(peft_adapter/)", b_saved, out_dir, head_weight, layers)
    run_step("(b) PEFT reloads its own peft_adapter/", b_reload, base_dir, out_dir, ids, mask, logits)


def b_effect(peft_model, ids, mask, logits, layers):
    modules = lora_modules(peft_model, "default")
    b_max = max(float(m.lora_B["default"].weight.abs().max()) for n, m in peft_model.named_modules() if n in modules)
    effect = max_abs_diff(logits, pooled_logits(peft_model, ids, mask, adapters_enabled=False))
    record("(b) get_peft_model: LoRA r=4 on query/key/value with non-zero B", len(modules) == 3 * layers and b_max > 0 and effect > 1e-3,
           f"{len(modules)} LoRA modules (want 3 x {layers} layers), max |B| = {b_max:.3g}, the adapter moves the logits by up to {effect:.3g}")


def b_saved(out_dir, head_weight, layers):
    import torch
    from safetensors.torch import load_file

    with open(os.path.join(out_dir, "adapter_config.json"), encoding="utf-8") as f:
        note(f"adapter_config.json written by PEFT: {json.dumps(json.load(f), sort_keys=True)}")
    saved = load_file(os.path.join(out_dir, "adapter_model.safetensors"))
    lora_keys = [k for k in saved if ".lora_" in k]
    head_keys = sorted(k for k in saved if ".lora_" not in k)
    note(f"adapter_model.safetensors: {len(lora_keys)} LoRA tensors, e.g. {sorted(lora_keys)[:2]}; other tensors {head_keys}")
    head_saved = saved.get("base_model.model.classifier.weight")
    head_equal = head_saved is not None and torch.equal(head_saved.float(), head_weight)
    record("(b) save_pretrained(peft_adapter/)", len(lora_keys) == 6 * layers and head_equal,
           f"{len(lora_keys)} LoRA tensors (want {6 * layers}), classifier saved as {head_keys}, equal to the random head: {head_equal}")


def b_reload(base_dir, out_dir, ids, mask, logits):
    """PEFT reading its own folder back gives the same logits: separates a PEFT-side problem from a library one."""
    from peft import PeftModel
    reloaded = PeftModel.from_pretrained(load_base(base_dir, "(b) reload"), out_dir).eval()
    diff = max_abs_diff(pooled_logits(reloaded, ids, mask), logits)
    record("(b) PEFT reloads its own peft_adapter/ to the same logits", diff <= 1e-6, f"max |diff| = {diff:.3g}")


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print(f"usage: {os.path.basename(argv[0])} <dir written by 'MLNet.FineTuning.PeftInterop export <dir>'>", file=sys.stderr)
        return 2
    work = argv[1]
    print(f"peft_roundtrip.py {work}", flush=True)
    version_info = run_step("versions", versions)
    if version_info is None:
        return summary()
    try:
        import torch
        torch.manual_seed(0)
    except Exception:  # noqa: BLE001 - already reported by versions()
        pass
    expected = run_step("read expected.json", load_expected, work)
    if expected is None:
        return summary()
    run_step("(a) library adapter -> PEFT", part_a, work, expected)
    run_step("(a) tokenization", check_tokenization, work, expected)
    run_step("(b) PEFT adapter -> library", part_b, work, expected, version_info)
    return summary()


def summary():
    passed = sum(1 for _, ok, _ in RESULTS if ok)
    failed = [(n, d) for n, ok, d in RESULTS if not ok]
    print(f"\npeft_roundtrip.py: {passed} passed, {len(failed)} failed", flush=True)
    for name, detail in failed:
        print(f"  FAIL {name}: {detail}", flush=True)
    return 0 if RESULTS and not failed else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - last resort: never exit 0 on an unexpected error
        traceback.print_exc()
        print(f"FAIL peft_roundtrip.py: {type(e).__name__}: {e}", flush=True)
        sys.exit(1)
