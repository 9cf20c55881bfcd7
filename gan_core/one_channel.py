"""Convolutions down to one channel as a matmul and a scatter: oneDNN computes them slowly on CPUs.

A digit is a one-channel image. G's last transposed convolution draws it from C maps, and G's turn hands
D's gradient back through D's first convolution, whose input gradient is the same sum: C maps down to one.
On 2 AVX2 cores (a first-generation Zen, fp32) oneDNN took 2.4 ms for (64, 16, 14, 14) -> (64, 1, 28, 28)
(kernel 4, stride 2), about 3 GFLOP/s, and 2.5 ms for that input gradient: a tenth of the default model's step
for 0.1% of its sums. Here each pixel's C channels times the weight, one matmul (N*H*W, C) @ (C, k*k), are
added into place by one index_add_ (~0.6 ms): the same sums in another order (equal to float rounding).

The trainer swaps such layers in on the CPU (elsewhere, and for an unbatched map, they are the nn layers
they were): a transposed convolution to one channel becomes OneChannelConvTranspose2d, and a convolution of
a one-channel image OneChannelConv2d, whose forward and weight gradient stay oneDNN's (fast there) and whose
input gradient, where one is asked for (G's turn, R1), is the scatter above. Both hold the layer's own
weight and bias tensors, so what is saved is unchanged. Their backward passes are torch ops, so a gradient
penalty (WGAN-GP, R1) differentiates through them again. docs/benchmarks.md has the measurements.
"""
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from .layout import as_conv, swap_layers


@lru_cache(maxsize=32)
def _places(h: int, w: int, k: tuple, stride: tuple, padded_w: int) -> torch.Tensor:
    """Where each (pixel, kernel tap) of an (h, w) map lands in the padded output, flattened: (h*w*kh*kw,)."""
    i = torch.arange(h).view(h, 1, 1, 1) * stride[0] + torch.arange(k[0]).view(1, 1, k[0], 1)
    j = torch.arange(w).view(1, w, 1, 1) * stride[1] + torch.arange(k[1]).view(1, 1, 1, k[1])
    return (i * padded_w + j).reshape(-1)


def _scatter(x: torch.Tensor, weight: torch.Tensor, stride: tuple, padding: tuple, out_hw: tuple) -> torch.Tensor:
    """conv_transpose2d(x, weight) into one channel, (N, C, H, W) -> (N, 1, *out_hw), for weight (C, 1, kh, kw)."""
    n, c, h, w = x.shape
    k = tuple(weight.shape[-2:])
    taps = x.permute(0, 2, 3, 1).reshape(n, h * w, c) @ weight.reshape(c, -1)   # (N, H*W, kh*kw)
    ph, pw = out_hw[0] + 2 * padding[0], out_hw[1] + 2 * padding[1]
    places = _places(h, w, k, tuple(stride), pw).to(x.device)
    out = taps.new_zeros(n, ph * pw).index_add_(1, places, taps.reshape(n, -1))
    return out.view(n, 1, ph, pw)[:, :, padding[0]:padding[0] + out_hw[0], padding[1]:padding[1] + out_hw[1]].contiguous()


class _ToOneChannel(torch.autograd.Function):
    """_scatter, whose gradients are oneDNN's fast ones: the input's a convolution of the one-channel gradient,
    the weight's the transposed convolution's weight gradient."""

    @staticmethod
    def forward(ctx, x, weight, stride, padding, out_hw):
        ctx.save_for_backward(x, weight)
        extra = tuple(o - ((n - 1) * s - 2 * p + k) for o, n, s, p, k in zip(out_hw, x.shape[-2:], stride, padding,
                                                                             weight.shape[-2:]))
        ctx.conv = (stride, padding, extra)  # extra: the output padding that gives out_hw
        return _scatter(x, weight, stride, padding, out_hw)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        stride, padding, extra = ctx.conv
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = F.conv2d(grad, weight, None, stride, padding)
            if x.is_contiguous(memory_format=torch.channels_last):
                grad_x = grad_x.contiguous(memory_format=torch.channels_last)
        if ctx.needs_input_grad[1]:
            grad_w = torch.ops.aten.convolution_backward(grad, x, weight, None, stride, padding, (1, 1), True,
                                                         extra, 1, [False, True, False])[1]
        return grad_x, grad_w, None, None, None


class _FromOneChannel(torch.autograd.Function):
    """conv2d of a one-channel image by oneDNN, whose input gradient is _ToOneChannel's scatter."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        ctx.save_for_backward(x, weight)
        ctx.conv = (stride, padding, bias is not None)
        return F.conv2d(x, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        stride, padding, has_bias = ctx.conv
        grad_x = _ToOneChannel.apply(grad, weight, stride, padding, tuple(x.shape[-2:])) if ctx.needs_input_grad[0] else None
        grad_w = grad_b = None
        if ctx.needs_input_grad[1] or (has_bias and ctx.needs_input_grad[2]):
            _, grad_w, grad_b = torch.ops.aten.convolution_backward(
                grad, x, weight, [weight.shape[0]] if has_bias else None, stride, padding, (1, 1), False, (0, 0), 1,
                [False, ctx.needs_input_grad[1], has_bias and ctx.needs_input_grad[2]])
        return grad_x, grad_w, grad_b, None, None


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype autocast would convolve in (an autograd.Function's ops see no autocast in their backward)."""
    if torch.is_autocast_enabled(x.device.type):
        return torch.get_autocast_dtype(x.device.type)
    return x.dtype


class OneChannelConv2d(nn.Conv2d):
    """nn.Conv2d of a one-channel image whose input gradient is computed by matmul and scatter (module docstring).
    An image that asks for no gradient (D's turn: real digits, detached fakes) is nn.Conv2d's, a Function less."""

    def forward(self, x):
        if x.dim() != 4 or x.device.type != "cpu" or not x.requires_grad:
            return super().forward(x)
        dtype = _compute_dtype(x)
        with torch.autocast(x.device.type, enabled=False):
            bias = None if self.bias is None else self.bias.to(dtype)
            return _FromOneChannel.apply(x.to(dtype), self.weight.to(dtype), bias, self.stride, self.padding)


class OneChannelConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d to one channel, computed by matmul and scatter (module docstring)."""

    def forward(self, x, output_size=None):
        if x.dim() != 4 or x.device.type != "cpu":
            return super().forward(x, output_size)
        out_pad = self._output_padding(x, output_size, self.stride, self.padding, self.kernel_size, 2, self.dilation)
        out_hw = tuple((n - 1) * s - 2 * p + k + op for n, s, p, k, op in
                       zip(x.shape[-2:], self.stride, self.padding, self.kernel_size, out_pad))
        dtype = _compute_dtype(x)
        with torch.autocast(x.device.type, enabled=False):
            y = _ToOneChannel.apply(x.to(dtype), self.weight.to(dtype), self.stride, self.padding, out_hw)
            return y if self.bias is None else y + self.bias.to(dtype)  # one channel: its one bias, everywhere


def _plain(conv: nn.Module) -> bool:
    """One group, no dilation, zero padding given as numbers, a kernel over 1x1 (a 1x1 one is layout.Pointwise's)."""
    return (conv.groups == 1 and conv.dilation == (1, 1) and conv.padding_mode == "zeros"
            and not isinstance(conv.padding, str) and conv.kernel_size != (1, 1))


def into_one(conv: nn.Module) -> bool:
    """A plain nn.ConvTranspose2d to one channel, or a plain nn.Conv2d of one: what this module computes faster."""
    return ((type(conv) is nn.ConvTranspose2d and conv.out_channels == 1 and _plain(conv))
            or (type(conv) is nn.Conv2d and conv.in_channels == 1 and _plain(conv)))


def swap_in(net: nn.Module) -> nn.Module:
    """Swap every layer into_one() picks for its OneChannel twin, in place; returns `net`."""
    def twin(m: nn.Module) -> nn.Module | None:
        if not into_one(m):
            return None
        return as_conv(m, OneChannelConvTranspose2d if isinstance(m, nn.ConvTranspose2d) else OneChannelConv2d)
    return swap_layers(net, twin)
