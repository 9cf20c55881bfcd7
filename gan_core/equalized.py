"""ProGAN's equalized learning rate (Karras et al. 2018, section 4.1) as He init and a learning rate per layer.

ProGAN stores each weight as v ~ N(0, 1) and multiplies it by He's constant c = gain / sqrt(fan_in) in every
forward pass. Adam's step hardly depends on the gradient's scale, so every layer then moves by the same share
of its weights' size, whatever its fan-in: a wide layer no longer learns slower than a narrow one.

Here the same run without the multiply: draw w = c * v, that is w ~ N(0, c^2), and give w the optimizer's rate
times c (Adam, RMSprop) or c^2 (plain SGD, whose step scales with the gradient). A step on v is then exactly
c times that step on w. The networks' code and their saved weights are ordinary ones; only the start and the
optimizer's groups differ.
"""
import math

import torch
from torch import nn

GAIN = math.sqrt(2)  # He's gain for (leaky) ReLU layers, which ProGAN uses for every layer but its last ones
LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def he_constant(layer: nn.Module) -> float:
    """c = gain / sqrt(fan_in): the inputs one output sums (a transposed convolution's output pixel sees
    in_channels * kernel / stride^2 of them)."""
    if isinstance(layer, nn.ConvTranspose2d):
        fan_in = layer.in_channels * math.prod(layer.kernel_size) / math.prod(layer.stride)
    else:
        fan_in = layer.weight[0].numel()
    return GAIN / math.sqrt(fan_in)


def he_init(net: nn.Module) -> None:
    """Every weight of `net`'s dense and convolutional layers drawn from N(0, c^2), their biases zero."""
    with torch.no_grad():
        for layer in net.modules():
            if isinstance(layer, LAYERS):
                layer.weight.normal_(0.0, he_constant(layer))
                if layer.bias is not None:
                    layer.bias.zero_()


def param_groups(net: nn.Module, lr: float, power: int) -> list[dict]:
    """The optimizer's groups: each layer's weight at lr * c**power (its "lr_scale" kept for a later change
    of rate), everything else (biases, norms, embeddings) at lr. power 1 for Adam and RMSprop, 2 for SGD.
    Weights of one scale share a group: a fused optimizer makes one call per group."""
    scale = {id(layer.weight): he_constant(layer) ** power for layer in net.modules() if isinstance(layer, LAYERS)}
    by_scale: dict[float, list] = {}
    for p in net.parameters():
        by_scale.setdefault(scale.get(id(p), 1.0), []).append(p)
    return [{"params": params, "lr": lr * s, "lr_scale": s} for s, params in by_scale.items()]
