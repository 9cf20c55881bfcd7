"""Progressive growing (Karras et al. 2018), the lesson's remedy for high resolution, shown on MNIST:
G and D first learn 7x7 digits, then grow to 14x14 and 28x28, each new block faded in.

While a block fades in, its output is blended with the old one: G draws alpha * new + (1 - alpha) *
upsample(old output), and D reads alpha * new path + (1 - alpha) * old path on a halved image, alpha
going 0 -> 1. So the new layers join a network that already works instead of breaking it.

Every resolution is drawn at 28x28 (a 7x7 image as 4x4 blocks of pixels): the data, the grids, the
digit classifier and the saved generator never change shape. `stage` and `alpha` are buffers, saved
with the weights: a generator saved mid-growth draws exactly what it drew before it was saved.
"""
import copy

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .models import HUB_KW, GeneratorBase, register, score_layers

RESOLUTIONS = (7, 14, 28)  # stage 0, 1, 2
# Until 2026-12-03 G's block convolutions had biases. The batch norm after each cancels it, so its gradient was
# rounding noise that Adam turned into full-size steps, and the norm's running mean followed that drift into the
# samples drawn in eval mode. They are gone (as in DCGAN's G); runs saved with them still load (fold_legacy_biases).
LEGACY_BIASES = {"blocks.0.0.bias": "blocks.0.1.running_mean",  # each old bias -> the running mean of the norm after it
                 "blocks.1.1.bias": "blocks.1.2.running_mean",
                 "blocks.2.1.bias": "blocks.2.2.running_mean"}


def schedule(phase_steps: int, step: int) -> tuple[int, float]:
    """(resolution, alpha) at a step. Phases of phase_steps steps each: 7x7, fade-in of 14x14, 14x14,
    fade-in of 28x28, then 28x28 for good. alpha < 1 only during a fade-in; phase_steps=0: 28x28 at once."""
    if phase_steps <= 0:
        return 28, 1.0
    phase, into = divmod(step, phase_steps)
    stage = min((phase + 1) // 2, 2)
    alpha = into / phase_steps if phase in (1, 3) else 1.0
    return RESOLUTIONS[stage], alpha


def phase_changes(phase_steps: int, up_to: int) -> list[tuple[int, int, bool]]:
    """(step, resolution, fading) where each phase up to step `up_to` begins: where the curves are marked."""
    if phase_steps <= 0:
        return []
    marks = []
    for step in range(phase_steps, min(up_to, 4 * phase_steps) + 1, phase_steps):
        resolution, alpha = schedule(phase_steps, step)
        marks.append((step, resolution, alpha < 1))
    return marks


class Growing(nn.Module):
    """The stage and fade-in alpha both networks carry (buffers: they save and load with the weights)."""
    skips_weights = True  # a forward before the last stage leaves the larger resolutions' weights out (for DDP)

    def __init__(self):
        super().__init__()
        self.register_buffer("stage", torch.tensor(len(RESOLUTIONS) - 1))  # built fully grown; the trainer
        self.register_buffer("alpha", torch.tensor(1.0))                   # sets the schedule's stage

    def set_resolution(self, resolution: int, alpha: float = 1.0) -> None:
        self.stage.fill_(RESOLUTIONS.index(resolution))
        self.alpha.fill_(float(alpha))

    @property
    def resolution(self) -> int:
        return RESOLUTIONS[int(self.stage)]


@register
class ProgressiveGenerator(Growing, GeneratorBase, PyTorchModelHubMixin, **HUB_KW):
    """z -> (2w, 7, 7) -> block 7 -> [up + block 14] -> [up + block 28], a 1x1 conv to pixels at each
    resolution ("to_img"), then nearest upsampling to 28x28 (identity once grown)."""

    def __init__(self, z_dim: int = 100, width: int = 32, channels: int = 1):
        super().__init__()
        self.z_dim, self.width, self.channels, self.img_size = z_dim, width, channels, 28
        c7, c14, c28 = 2 * width, width, max(width // 2, 1)  # channels halve as the resolution doubles (as DCGAN)
        self.project = nn.Sequential(nn.Linear(z_dim, c7 * 7 * 7), nn.LeakyReLU(0.2))
        self.blocks = nn.ModuleList([  # no bias before a batch norm: the norm subtracts it again
            nn.Sequential(nn.Conv2d(c7, c7, 3, 1, 1, bias=False), nn.BatchNorm2d(c7), nn.LeakyReLU(0.2)),      # 7x7
            nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(c7, c14, 3, 1, 1, bias=False), nn.BatchNorm2d(c14),
                          nn.LeakyReLU(0.2)),                                                                  # 14x14
            nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(c14, c28, 3, 1, 1, bias=False), nn.BatchNorm2d(c28),
                          nn.LeakyReLU(0.2)),                                                                  # 28x28
        ])
        self.to_img = nn.ModuleList([nn.Conv2d(c, channels, 1) for c in (c7, c14, c28)])
        self.to_28 = nn.ModuleList([nn.Upsample(scale_factor=4), nn.Upsample(scale_factor=2), nn.Identity()])
        self.tanh = nn.Tanh()
        self.register_load_state_dict_pre_hook(fold_legacy_biases)

    def native(self, z):
        """The image at the current resolution (N, C, r, r) in [-1, 1]."""
        return self.tanh(self._pixels(z))

    def forward(self, z):
        return self.tanh(self.to_28[int(self.stage)](self._pixels(z)))  # (nearest upsampling commutes with tanh)

    def _pixels(self, z):
        """The pixels before tanh at the current resolution, the fade-in blended in."""
        s, a = int(self.stage), float(self.alpha)
        h = self.blocks[0](self.project(z).view(-1, 2 * self.width, 7, 7))
        prev = h
        for block in self.blocks[1:s + 1]:
            prev, h = h, block(h)
        img = self.to_img[s](h)
        if s > 0 and a < 1:  # fade-in: the new block's pixels over the old block's, upsampled
            img = a * img + (1 - a) * F.interpolate(self.to_img[s - 1](prev), scale_factor=2)
        return img


def fold_legacy_biases(module, state_dict, prefix, *args) -> None:
    """Load a generator saved with LEGACY_BIASES: a bias b before a batch norm is the norm's running mean
    moved by -b, so each is folded into it and the generator draws exactly what it drew (in training the
    batch's own mean cancels b either way)."""
    for key, mean in LEGACY_BIASES.items():
        bias, mean = state_dict.pop(prefix + key, None), prefix + mean
        if bias is not None and mean in state_dict:
            state_dict[mean] = state_dict[mean] - bias


def with_legacy_biases(G: "ProgressiveGenerator") -> "ProgressiveGenerator":
    """A copy of G whose block convolutions have their old biases again (zero): the parameters in the order a
    run saved before 2026-12-03 gave its optimizer, to match that optimizer's saved state to G's."""
    old = copy.deepcopy(G)
    for key in LEGACY_BIASES:
        conv = old.get_submodule(key.rsplit(".", 1)[0])
        conv.bias = nn.Parameter(torch.zeros(conv.out_channels, device=conv.weight.device))
    return old


@register
class ProgressiveDiscriminator(Growing, nn.Module, PyTorchModelHubMixin, **HUB_KW):
    """28x28 image -> average-pooled to the current resolution -> a 1x1 conv from pixels ("from_img") ->
    [block 28 -> 14] -> [block 14 -> 7] -> head at 7x7 -> one logit. The mirror of the generator.

    hidden > 0 ends the head with a dense layer of that many units before the logit, as ProGAN's D
    ends (its 4x4 convolution over 4x4 maps is one): a judgement of the whole digit, not of strokes."""

    def __init__(self, width: int = 32, channels: int = 1, hidden: int = 0):
        super().__init__()
        c7, c14, c28 = 2 * width, width, max(width // 2, 1)  # the generator's channels, in reverse
        self.shrink = nn.ModuleList([nn.AvgPool2d(4), nn.AvgPool2d(2), nn.Identity()])  # 28 -> 7, 14, 28
        self.from_img = nn.ModuleList([nn.Conv2d(channels, c, 1) for c in (c7, c14, c28)])
        self.blocks = nn.ModuleList([
            nn.Identity(),  # (stage 0 has no block of its own: the head reads 7x7)
            nn.Sequential(nn.Conv2d(c14, c7, 3, 1, 1), nn.LeakyReLU(0.2), nn.AvgPool2d(2)),   # 14 -> 7
            nn.Sequential(nn.Conv2d(c28, c14, 3, 1, 1), nn.LeakyReLU(0.2), nn.AvgPool2d(2)),  # 28 -> 14
        ])
        self.act = nn.LeakyReLU(0.2)
        self.head = nn.Sequential(nn.Conv2d(c7, c7, 3, 1, 1), nn.LeakyReLU(0.2), nn.Flatten(), *score_layers(c7 * 7 * 7, hidden))

    def forward(self, x):
        s, a = int(self.stage), float(self.alpha)
        x = self.shrink[s](x)                            # the image at the current resolution
        h = self.act(self.from_img[s](x))
        for i in range(s, 0, -1):
            h = self.blocks[i](h)                        # halves the resolution
            if i == s and a < 1:                         # fade-in: the old path reads the image halved
                h = a * h + (1 - a) * self.act(self.from_img[s - 1](F.avg_pool2d(x, 2)))
        return self.head(h).squeeze(1)
