"""What both PyTorch peers of the CPU benchmarks share: timing a step's phases and the one JSON line they print."""
import json
import time

import torch


class StepClock:
    """Times each step's forward (with the loss), backward and optimizer phases; `steps` holds
    (seconds, rows, forward, backward, optimizer) per step. With `clip` > 0 the gradients' global L2 norm is clipped
    to it before the optimizer's step (the library's GradientClipNorm, 1.0 by default), timed with the optimizer."""

    def __init__(self, clip=0.0):
        self.steps = []
        self.clip = clip

    def run(self, rows, forward, optimizer):
        began = time.perf_counter()
        loss = forward()
        after_forward = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        after_backward = time.perf_counter()
        if self.clip > 0:
            torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], self.clip)
        optimizer.step()
        loss.item()
        end = time.perf_counter()
        self.steps.append((end - began, rows, after_forward - began, after_backward - after_forward, end - after_backward))


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if len(values) % 2 else (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2


def report(clock, skip, batch, **extra):
    """Prints rows per second over the steps after the first `skip` and the median phase times of the full steps."""
    timed = clock.steps[skip:]
    full = [s for s in timed if s[1] == batch]
    print(json.dumps({
        "images_per_second": sum(s[1] for s in timed) / sum(s[0] for s in timed),
        "median_phase_seconds": {"forward": median([s[2] for s in full]), "backward": median([s[3] for s in full]),
                                 "optimizer": median([s[4] for s in full])},
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        **extra,
        "step_seconds": [round(s[0], 4) for s in clock.steps],
    }))
