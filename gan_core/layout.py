"""Training channels_last (NHWC) without its three traps: a flatten whose gradient comes back NCHW, a 1x1
convolution of a one-channel image whose output comes back NCHW, and a slow batch norm of few channels.

The presets keep their conv nets' tensors channels_last, the layout oneDNN convolves fastest
(training.Trainer). Flattening such a map for a dense layer copies it into (C, H, W) order, and
nn.Flatten's gradient comes back in that order; the activation before it then reads its gradient and
its saved input in two layouts, an element at a time: LeakyReLU's backward on D's (64, 48, 7, 7) maps took
0.54 ms against 0.03 ms, three times a step. The trainer swaps its networks' nn.Flatten for Flatten here,
which hands the gradient back channels_last. The models keep nn.Flatten: same features, same order, no
parameters, so what they compute, save and show is unchanged.

A one-channel map is NCHW and NHWC at once, so oneDNN gives a 1x1 convolution of it (progressive growing's
"from pixels" layer) NCHW output; everything after it is channels_last, and the activation's backward between
them read two layouts an element at a time again. The trainer swaps such convolutions for Pointwise: the
matmul a 1x1 convolution is, over the channels of the map's pixels, whose output is channels_last whatever
its input (the same weight and bias tensors, so a saved network is unchanged).

PyTorch's batch norm of a channels_last map of few channels is slow: (64, 8, 28, 28) took 3.8 ms forward and
backward in fp32 on 2 AVX2 cores, against 2.2 ms through NCHW and back, two layout copies included (bf16 alike,
1.7 against 1.5 ms at a batch of 32). From 16 channels up the native kernel is the faster one. The trainer swaps
such norms (progressive growing's 8 channels at 28x28, a narrower width set by hand) for NarrowBatchNorm, which
normalises an NCHW copy: the same tensors again.
"""
import torch
import torch.nn.functional as F
from torch import nn


class _FlattenKeepingLayout(torch.autograd.Function):
    """x.flatten(1); the gradient reshaped and made channels_last. Plain torch ops on the way back, so a
    gradient penalty (WGAN-GP) differentiates through it again."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return x.flatten(1)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape).contiguous(memory_format=torch.channels_last)


def _channels_last(x: torch.Tensor) -> bool:
    return x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)


class Flatten(nn.Flatten):
    """nn.Flatten (start_dim 1) that keeps a channels_last map's gradient channels_last."""

    def forward(self, x):
        if _channels_last(x) and self.start_dim == 1 and self.end_dim == -1:
            return _FlattenKeepingLayout.apply(x)
        return super().forward(x)


class Pointwise(nn.Conv2d):
    """A 1x1 nn.Conv2d (stride 1, no padding, one group) as a matmul over each pixel's channels: (N, H, W, C_in)
    @ (C_in, C_out), its output channels_last."""

    def forward(self, x):
        if x.dim() != 4:  # an unbatched (C, H, W) map: nn.Conv2d's own way
            return super().forward(x)
        return F.linear(x.permute(0, 2, 3, 1), self.weight.flatten(1), self.bias).permute(0, 3, 1, 2)


def plain_1x1(conv: nn.Module) -> bool:
    """A 1x1 nn.Conv2d that Pointwise computes the same: stride 1, no padding, no dilation, one group."""
    return (type(conv) is nn.Conv2d and conv.kernel_size == (1, 1) and conv.stride == (1, 1) and conv.groups == 1
            and conv.dilation == (1, 1) and conv.padding in ((0, 0), "valid"))


def as_conv(conv: nn.Module, cls: type) -> nn.Module:
    """A `cls` of `conv`'s shape and settings (a swapped-in layer, or the nn layer back) holding `conv`'s own
    weight and bias tensors: an optimizer or EMA made before or after sees the same ones."""
    kw = dict(stride=conv.stride, padding=conv.padding, groups=conv.groups, bias=conv.bias is not None,
              dilation=conv.dilation, padding_mode=conv.padding_mode, device="meta")
    if issubclass(cls, nn.ConvTranspose2d):
        kw["output_padding"] = conv.output_padding
    new = cls(conv.in_channels, conv.out_channels, conv.kernel_size, **kw)
    new.weight, new.bias = conv.weight, conv.bias
    return new.train(conv.training)


NARROW_CHANNELS = 16  # under this many channels a channels_last batch norm runs faster through NCHW


class NarrowBatchNorm(nn.BatchNorm2d):
    """nn.BatchNorm2d that normalises a channels_last map through an NCHW copy and gives it back channels_last:
    PyTorch's own channels_last kernel is 1.7-3x slower under 16 channels (the module docstring)."""

    def forward(self, x):
        if _channels_last(x):
            return super().forward(x.contiguous()).contiguous(memory_format=torch.channels_last)
        return super().forward(x)


def narrow_norm(m: nn.Module) -> bool:
    """A plain nn.BatchNorm2d of fewer than NARROW_CHANNELS channels: one NarrowBatchNorm computes faster."""
    return type(m) is nn.BatchNorm2d and m.num_features < NARROW_CHANNELS


def as_norm(norm: nn.BatchNorm2d, cls: type) -> nn.BatchNorm2d:
    """A `cls` (NarrowBatchNorm, HalvesBatchNorm2d, or back to nn.BatchNorm2d) holding `norm`'s own scale, shift and
    statistics."""
    n = cls(norm.num_features, norm.eps, norm.momentum, norm.affine, norm.track_running_stats, device="meta")
    for name, p in norm.named_parameters(recurse=False):
        setattr(n, name, p)
    for name, b in norm.named_buffers(recurse=False):
        setattr(n, name, b)
    return n.train(norm.training)


def swap_layers(net: nn.Module, swap) -> nn.Module:
    """Replace every layer of `net` for which swap(layer) gives a module by that module, in place; returns `net`.
    The one walk behind every swap of the trainer's layers (here, gan_core.one_channel, gan_core.halves)."""
    for parent in net.modules():
        for name, child in parent.named_children():
            new = swap(child)
            if new is not None:
                setattr(parent, name, new)
    return net


def _keeping_channels_last(m: nn.Module) -> nn.Module | None:
    if type(m) is nn.Flatten:
        return Flatten(m.start_dim, m.end_dim)
    if plain_1x1(m):
        return as_conv(m, Pointwise)
    if narrow_norm(m):
        return as_norm(m, NarrowBatchNorm)
    return None


def keep_channels_last(net: nn.Module) -> nn.Module:
    """Swap every nn.Flatten in `net` for Flatten, every 1x1 nn.Conv2d for Pointwise and every batch norm of
    fewer than 16 channels for NarrowBatchNorm, in place; returns `net`."""
    return swap_layers(net, _keeping_channels_last)


def channels_last(net: nn.Module) -> nn.Module:
    """`net` in the layout and layers a channels_last run trains it in: its tensors channels_last, Flatten,
    Pointwise and NarrowBatchNorm swapped in (in place; returns `net`). The trainer's networks, or a saved G
    compared bit for bit."""
    return keep_channels_last(net.to(memory_format=torch.channels_last))
