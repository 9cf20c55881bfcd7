"""Real and fake through a D with batch norm in one forward, each half normalised by its own statistics.

D's turn judges a real batch and a fake one. Where no layer of D mixes a batch's samples, the trainer sends
both through one forward (fewer, larger kernels; training.Trainer._judge_both). A batch norm mixes them: on
the joined batch its statistics would be the mix of real and fake, and D could tell the two apart by their
means (a twenty-ninth session tried that as a recipe on the clipped WGAN's critic: fewer digits).

HalvesBatchNorm2d (swapped in by `halve_norms(D)`) is nn.BatchNorm2d that, inside `split(norms)`, normalises
the first half of its batch and then the second, each by its own mean and variance, each updating the running
statistics in that order: the numbers two forwards gave (real first), with every convolution and dense layer
of D run once, on both. Outside `split` (G's turn, R1, judging, sampling) it is nn.BatchNorm2d. The same scale,
shift and statistics tensors, so the optimizer, a saved D and its state dict are unchanged.
"""
from contextlib import contextmanager

import torch
from torch import nn

from .layout import as_norm, swap_layers


class HalvesBatchNorm2d(nn.BatchNorm2d):
    """nn.BatchNorm2d that, while `halves` is 2, normalises each half of the batch alone (in training)."""

    halves = 1

    def forward(self, x):
        if self.halves == 1 or not self.training:
            return super().forward(x)
        normalise = super().forward  # (a comprehension has no zero-argument super())
        return torch.cat([normalise(h) for h in x.chunk(self.halves)])


def halve_norms(net: nn.Module) -> list[HalvesBatchNorm2d]:
    """Swap every plain nn.BatchNorm2d of `net` for HalvesBatchNorm2d holding its tensors, in place; returns them
    all (an empty list where `net` has no batch norm)."""
    swap_layers(net, lambda m: as_norm(m, HalvesBatchNorm2d) if type(m) is nn.BatchNorm2d else None)
    return [m for m in net.modules() if isinstance(m, HalvesBatchNorm2d)]


def joinable(net: nn.Module) -> bool:
    """Whether one forward of two batches can judge each as two forwards would: every layer that mixes a
    batch's samples is a HalvesBatchNorm2d (vacuously true with no batch norm at all)."""
    return all(isinstance(m, HalvesBatchNorm2d) for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))


@contextmanager
def split(norms: list[HalvesBatchNorm2d]):
    """Inside it, every norm of `norms` normalises each half of its batch alone."""
    for m in norms:
        m.halves = 2
    try:
        yield
    finally:
        for m in norms:
            m.halves = 1
