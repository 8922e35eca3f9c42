"""The PyTorch side of the text CPU comparison (`MLNet.FineTuning.Benchmarks -- cpu-peer-text`, issue 10).

Debian has no transformers or peft, so the network is written here in plain torch.nn with MiniLM-L6's shape (the
library's embedded encoder): 6 BERT layers, hidden 384, 12 heads, feed-forward 1536, vocabulary 30,522, GELU,
post-LayerNorm, dropout 0.1. LoRA as PEFT applies it (r 8, alpha 16, dropout 0.1 on the adapter's input, B starting at
zero) on the query and value projections, the base weights frozen; mean pooling over the mask; head dropout 0.1 and a
linear head. Per step what Fit does with its defaults: forward, cross-entropy, backward, gradient clipping (`--clip`; the
benchmark passes Fit's default, 1.0), AdamW (head at --lr, adapters at 0.3 of it, decay 0.01 on matrices only). Random weights and random token ids, every sequence --length tokens long
(the benchmark's e-mails fill the window): the work per step is the same whatever the tokens are.
Prints one JSON line: sequences per second over the steps after the first `--skip`, and the median phase times.
"""
import argparse
import math

import torch
from torch import nn

from peer_steps import StepClock, report

parser = argparse.ArgumentParser()
parser.add_argument("--texts", type=int, required=True)
parser.add_argument("--length", type=int, required=True)
parser.add_argument("--classes", type=int, required=True)
parser.add_argument("--batch", type=int, required=True)
parser.add_argument("--threads", type=int, required=True)
parser.add_argument("--clip", type=float, default=0.0, help="clip the gradients' global L2 norm to this before each step (0: no clipping)")
parser.add_argument("--lr", type=float, default=1e-2)
parser.add_argument("--skip", type=int, default=1)
args = parser.parse_args()

HIDDEN, HEADS, FFN, LAYERS, VOCAB, POSITIONS, RANK, ALPHA = 384, 12, 1536, 6, 30522, 512, 8, 16


class LoraLinear(nn.Module):
    """A frozen linear layer plus PEFT's update: x W^T + b + (alpha / r) * B(A(dropout(x)))."""

    def __init__(self, inputs, outputs):
        super().__init__()
        self.base = nn.Linear(inputs, outputs)
        self.base.requires_grad_(False)
        self.a = nn.Parameter(torch.empty(RANK, inputs))
        nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))
        self.b = nn.Parameter(torch.zeros(outputs, RANK))
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        return self.base(x) + (ALPHA / RANK) * (self.dropout(x) @ self.a.t() @ self.b.t())


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.value = LoraLinear(HIDDEN, HIDDEN), LoraLinear(HIDDEN, HIDDEN)
        self.key, self.attention_output = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, HIDDEN)
        self.intermediate, self.output = nn.Linear(HIDDEN, FFN), nn.Linear(FFN, HIDDEN)
        self.norm1, self.norm2 = nn.LayerNorm(HIDDEN, eps=1e-12), nn.LayerNorm(HIDDEN, eps=1e-12)
        self.dropout = nn.Dropout(0.1)
        for m in (self.key, self.attention_output, self.intermediate, self.output, self.norm1, self.norm2):
            m.requires_grad_(False)

    def forward(self, x, mask_bias):
        b, s, _ = x.shape

        def heads(t):
            return t.view(b, s, HEADS, HIDDEN // HEADS).transpose(1, 2)

        scores = heads(self.query(x)) @ heads(self.key(x)).transpose(-1, -2) / math.sqrt(HIDDEN // HEADS) + mask_bias
        context = (self.dropout(scores.softmax(-1)) @ heads(self.value(x))).transpose(1, 2).reshape(b, s, HIDDEN)
        x = self.norm1(x + self.dropout(self.attention_output(context)))
        return self.norm2(x + self.dropout(self.output(nn.functional.gelu(self.intermediate(x)))))


class Classifier(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.words, self.positions, self.types = nn.Embedding(VOCAB, HIDDEN), nn.Embedding(POSITIONS, HIDDEN), nn.Embedding(2, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.dropout = nn.Dropout(0.1)
        self.layers = nn.ModuleList([Layer() for _ in range(LAYERS)])
        for m in (self.words, self.positions, self.types, self.norm):
            m.requires_grad_(False)
        self.head_dropout = nn.Dropout(0.1)
        self.head = nn.Linear(HIDDEN, classes)

    def forward(self, ids, mask):
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.dropout(self.norm(self.words(ids) + self.positions(positions) + self.types(torch.zeros_like(ids))))
        mask_bias = (1.0 - mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            x = layer(x, mask_bias)
        m = mask.unsqueeze(-1).float()
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return self.head(self.head_dropout(pooled))


torch.set_num_threads(args.threads)
torch.manual_seed(1)
model = Classifier(args.classes)
model.train()
adapters = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")]
head = list(model.head.parameters())
optimizer = torch.optim.AdamW([
    {"params": [model.head.weight], "lr": args.lr, "weight_decay": 0.01},
    {"params": [model.head.bias], "lr": args.lr, "weight_decay": 0.0},
    {"params": adapters, "lr": 0.3 * args.lr, "weight_decay": 0.01},
])
ids = torch.randint(1000, VOCAB, (args.texts, args.length))
mask = torch.ones(args.texts, args.length, dtype=torch.long)
labels = torch.randint(0, args.classes, (args.texts,))

clock = StepClock(args.clip)
for start in range(0, args.texts, args.batch):
    index = slice(start, start + args.batch)
    clock.run(len(labels[index]), lambda: nn.functional.cross_entropy(model(ids[index], mask[index]), labels[index]), optimizer)
report(clock, args.skip, args.batch, trainable=sum(p.numel() for p in model.parameters() if p.requires_grad))
