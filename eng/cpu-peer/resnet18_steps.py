"""The PyTorch side of the CPU comparison (`MLNet.FineTuning.Benchmarks -- cpu-peer`, issue 10).

Trains torchvision's ResNet with BasicBlocks in the block counts of the library's backbone (`--blocks`: resnet18-mlnet
is 2,2,2,3, one block more in layer4 than torchvision's ResNet-18) for one epoch on the images the benchmark wrote
(float32 planar RGB 0..255 and int64 labels), with what Fit does per step: ImageNet normalisation, forward,
cross-entropy, backward, gradient clipping (`--clip`; the benchmark passes Fit's default, a global norm of 1.0), AdamW
with decay 0.01 on weight matrices and kernels only, one rate for all (the library's backbone factor is 1). Prints one JSON line: images per second over the steps after the first `--skip`, and each
step's seconds.

Run by the benchmark with Debian's python3-torch (1.13) and python3-torchvision; weights are random (speed only).
"""
import argparse

import numpy as np
import torch
import torchvision

from peer_steps import StepClock, report

parser = argparse.ArgumentParser()
parser.add_argument("--pixels", required=True)
parser.add_argument("--labels", required=True)
parser.add_argument("--size", type=int, required=True)
parser.add_argument("--classes", type=int, required=True)
parser.add_argument("--batch", type=int, required=True)
parser.add_argument("--threads", type=int, required=True)
parser.add_argument("--clip", type=float, default=0.0, help="clip the gradients' global L2 norm to this before each step (0: no clipping)")
parser.add_argument("--blocks", default="2,2,2,2", help="BasicBlocks per stage, four numbers")
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--skip", type=int, default=2)
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(1)
labels = torch.from_numpy(np.fromfile(args.labels, dtype=np.int64))
pixels = torch.from_numpy(np.fromfile(args.pixels, dtype=np.float32)).view(len(labels), 3, args.size, args.size)
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255

blocks = [int(b) for b in args.blocks.split(",")]
model = torchvision.models.resnet.ResNet(torchvision.models.resnet.BasicBlock, blocks, num_classes=args.classes)
model.train()
decay = [p for p in model.parameters() if p.dim() > 1]
no_decay = [p for p in model.parameters() if p.dim() <= 1]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)

order = torch.randperm(len(labels))
clock = StepClock(args.clip)
for start in range(0, len(labels), args.batch):
    index = order[start:start + args.batch]
    clock.run(len(index), lambda: torch.nn.functional.cross_entropy(model((pixels[index] - mean) / std), labels[index]), optimizer)
report(clock, args.skip, args.batch)
