"""The PyTorch side of the GPU comparisons (issue 10), run by eng/gpu/device-checks.sh (step `peer`) in the same device
call as the library's GPU benchmarks, so that every ratio compares figures of one machine and one hour.

The recipe is what a good PyTorch user runs, not what the library does: inputs already on the device as float
tensors, torch.optim.AdamW with its defaults (foreach on CUDA), TF32 allowed, cuDNN's autotuner on, bf16 through
autocast, channels-last through `memory_format`. It measures

- ResNet training at 224 px, batch 128, in fp32, bf16 and bf16 + channels-last, for torchvision's ResNet-18 (blocks
  2,2,2,2: the issue's 11.8k img/s bar on an H200) and for the library's resnet18-mlnet shape (2,2,2,3: one more block
  in layer4, 13 % more work, the same network `Fit` trains);
- ResNet inference (eval, inference_mode, softmax, probabilities read back to the host per batch, as the library's
  GPU inference benchmark does) on the library's shape, fp32 and bf16 + channels-last;
- MiniLM-L6-shaped BERT sequence classification (transformers' BertForSequenceClassification, random weights: speed
  does not depend on them) at 128 tokens, batch 32: LoRA r 8 on query and value through peft, and full fine-tuning,
  each fp32 and bf16; and its fp32 inference. Skipped, with a line that says so, where transformers or peft is absent.

Prints one JSON line per figure, then a Markdown table. `--device cpu` with small sizes checks the script on a CPU
(the device checks' SMOKE mode); its figures mean nothing.
"""
import argparse
import json
import time

import torch
from torchvision.models.resnet import BasicBlock, ResNet

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cuda")
parser.add_argument("--image-size", type=int, default=224)
parser.add_argument("--batch", type=int, default=128, help="images per step")
parser.add_argument("--text-batch", type=int, default=32, help="sequences per step")
parser.add_argument("--seq", type=int, default=128, help="tokens per sequence")
parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (cuDNN's autotuner, the caching allocator)")
parser.add_argument("--steps", type=int, default=30, help="timed steps per figure")
parser.add_argument("--classes", type=int, default=10)
args = parser.parse_args()

device = torch.device(args.device)
cuda = device.type == "cuda"
if cuda:
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
torch.manual_seed(1)
rows = []
failures = []


def synchronize():
    if cuda:
        torch.cuda.synchronize()


def seconds_per_step(step):
    for _ in range(args.warmup):
        step()
    synchronize()
    began = time.perf_counter()
    for _ in range(args.steps):
        step()
    synchronize()
    return (time.perf_counter() - began) / args.steps


def autocast(bf16):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)


def attempt(figure, *arguments):
    """Runs one figure; a failure prints its error and the others still run (one device call is all there is)."""
    try:
        figure(*arguments)
    except Exception as e:  # noqa: BLE001 (any failure of one figure is reported, not fatal)
        print(f"{figure.__name__}{arguments}: FAILED {type(e).__name__}: {e}", flush=True)
        failures.append(figure.__name__)
    finally:
        if cuda:
            torch.cuda.empty_cache()


def emit(**row):
    rows.append(row)
    print(json.dumps(row), flush=True)


def resnet(blocks, channels_last):
    model = ResNet(BasicBlock, blocks, num_classes=args.classes).to(device)
    x = torch.randn(args.batch, 3, args.image_size, args.image_size, device=device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    return model, x


def resnet_train(blocks, bf16, channels_last):
    model, x = resnet(blocks, channels_last)
    y = torch.randint(0, args.classes, (args.batch,), device=device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()

    def step():
        optimizer.zero_grad(set_to_none=True)
        with autocast(bf16):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    emit(figure="resnet train", blocks=",".join(map(str, blocks)), precision="bf16" if bf16 else "fp32",
         channels_last=channels_last, batch=args.batch, size=args.image_size,
         img_per_s=round(args.batch / seconds_per_step(step), 1))


def resnet_infer(blocks, bf16, channels_last):
    model, x = resnet(blocks, channels_last)
    model.eval()

    def step():
        with torch.inference_mode(), autocast(bf16):
            torch.softmax(model(x).float(), 1).cpu()   # the read-back waits for the device, as the library's benchmark

    emit(figure="resnet inference", blocks=",".join(map(str, blocks)), precision="bf16" if bf16 else "fp32",
         channels_last=channels_last, batch=args.batch, size=args.image_size,
         img_per_s=round(args.batch / seconds_per_step(step), 1))


def bert_model(lora):
    from transformers import BertConfig, BertForSequenceClassification
    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                        intermediate_size=1536, max_position_embeddings=512, num_labels=3)
    model = BertForSequenceClassification(config).to(device)
    if lora:
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.1, target_modules=["query", "value"],
                                                 task_type="SEQ_CLS"))
    ids = torch.randint(0, 30522, (args.text_batch, args.seq), device=device)
    return model, ids, torch.ones_like(ids)


def bert_train(lora, bf16):
    model, ids, mask = bert_model(lora)
    y = torch.randint(0, 3, (args.text_batch,), device=device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()

    def step():
        optimizer.zero_grad(set_to_none=True)
        with autocast(bf16):
            loss = model(input_ids=ids, attention_mask=mask, labels=y).loss
        loss.backward()
        optimizer.step()

    emit(figure="minilm-l6 train", kind="lora r8 q,v" if lora else "full", precision="bf16" if bf16 else "fp32",
         batch=args.text_batch, seq=args.seq, seq_per_s=round(args.text_batch / seconds_per_step(step), 1))


def bert_infer(bf16):
    model, ids, mask = bert_model(False)
    model.eval()

    def step():
        with torch.inference_mode(), autocast(bf16):
            torch.softmax(model(input_ids=ids, attention_mask=mask).logits.float(), 1).cpu()

    emit(figure="minilm-l6 inference", kind="base", precision="bf16" if bf16 else "fp32",
         batch=args.text_batch, seq=args.seq, seq_per_s=round(args.text_batch / seconds_per_step(step), 1))


print(json.dumps({"device": torch.cuda.get_device_name(0) if cuda else "cpu", "torch": torch.__version__,
                  "threads": torch.get_num_threads()}), flush=True)
for blocks in ([2, 2, 2, 2], [2, 2, 2, 3]):
    for bf16, channels_last in ((False, False), (True, False), (True, True)):
        attempt(resnet_train, blocks, bf16, channels_last)
for bf16, channels_last in ((False, False), (True, True)):
    attempt(resnet_infer, [2, 2, 2, 3], bf16, channels_last)
try:
    import peft  # noqa: F401
    import transformers  # noqa: F401
    text = True
except ImportError as e:
    print(f"text peer skipped: {e}", flush=True)
    text = False
if text:
    for lora in (True, False):
        for bf16 in (False, True):
            attempt(bert_train, lora, bf16)
    attempt(bert_infer, False)

print("\n| PyTorch peer | precision | layout | per second |\n|---|---|---|---|")
for r in rows:
    what = f"{r['figure']} ({r['blocks']})" if "blocks" in r else f"{r['figure']} ({r['kind']})"
    rate = f"{r['img_per_s']} img/s" if "img_per_s" in r else f"{r['seq_per_s']} seq/s"
    print(f"| {what} | {r['precision']} | {'channels-last' if r.get('channels_last') else 'contiguous'} | {rate} |")
raise SystemExit(1 if failures else 0)
