"""The networks: the seed slides' FNN GAN (line for line, and tuned), DCGANs for 28x28 and 64x64,
and WGAN critics.

Every generator maps z of shape (N, z_dim) to images (N, C, H, W) in [-1, 1] and exposes
`z_dim`, `channels` and `img_size`. Every discriminator / critic returns one raw score per image
(a logit): the sigmoid lives inside BCEWithLogits in losses.py (same maths, no overflow), and a
WGAN critic needs the raw score anyway. The one exception is SlidesDiscriminator, which ends in
the deck's sigmoid and returns D(x), a probability, for nn.BCELoss.

All classes save and load as Hugging Face folders (config.json + model.safetensors) through
PyTorchModelHubMixin; `gan_core.hub` loads any of them by the `architecture` key it writes.
"""
import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .messages import GanError

HUB_KW = dict(library_name="gan-playground", repo_url="https://huggingface.co/docs/hub", tags=["gan", "gan-playground"])


class ModelConfigError(GanError, ValueError):
    """Settings a network cannot be built with: a ValueError, as Python callers expect, and a message code,
    because a config.json from outside reaches a classroom through `hub.load_model`, in its language."""


class GeneratorBase(nn.Module):
    z_dim: int
    channels: int
    img_size: int

    def sample_z(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        device = device or next(self.parameters()).device
        return torch.randn(n, self.z_dim, generator=generator, device="cpu").to(device)

    @torch.no_grad()
    def generate(self, n: int, seed: int = 0, labels: torch.Tensor | None = None) -> torch.Tensor:
        """n images from a seeded noise batch, in eval mode, as float in [-1, 1] on the CPU.
        `labels` (n,): the digits a conditional generator draws (None: its default)."""
        was_training = self.training
        self.eval()
        z = self.sample_z(n, torch.Generator().manual_seed(seed))
        out = (self(z) if labels is None else self(z, labels.to(z.device))).float().cpu()
        self.train(was_training)
        return out


# ---------------------------------------------------------------- the seed slides' FNN GAN, line for line
class SlidesGenerator(GeneratorBase, PyTorchModelHubMixin, **HUB_KW):
    """The deck's `Generator`: fc1 64 -> 256, fc2 256 -> 256, out 256 -> 784 (28*28), leaky_relu after
    fc1 and fc2 (PyTorch's default slope, 0.01, as the deck's F.leaky_relu), tanh on the output.
    The 784 numbers come back shaped as 1x28x28 images, like every generator here."""

    def __init__(self, z_dim: int = 64, hidden: int = 256):
        super().__init__()
        self.z_dim, self.channels, self.img_size = z_dim, 1, 28
        self.fc1 = nn.Linear(z_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 784)  # 28*28 = 784
        self.leaky_relu = nn.LeakyReLU()   # negative_slope=0.01, the default of F.leaky_relu
        self.tanh = nn.Tanh()

    def forward(self, x):
        x = self.leaky_relu(self.fc1(x))
        x = self.leaky_relu(self.fc2(x))
        x = self.tanh(self.out(x))
        return x.view(-1, 1, 28, 28)


class SlidesDiscriminator(nn.Module, PyTorchModelHubMixin, **HUB_KW):
    """The deck's `discriminator`: fc1 784 -> 256, fc2 256 -> 256, out 256 -> 1, leaky_relu (0.01) after
    fc1 and fc2, and a sigmoid: it returns D(x), the probability that x is real, for nn.BCELoss
    (losses.slides_d_loss). The deck flattens the images with view(-1, 28*28); here Flatten does."""

    def __init__(self, hidden: int = 256):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(28 * 28, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        self.leaky_relu = nn.LeakyReLU()   # negative_slope=0.01
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x = self.flatten(x)
        x = self.leaky_relu(self.fc1(x))
        x = self.leaky_relu(self.fc2(x))
        x = self.sigmoid(self.out(x))
        return x.squeeze(1)


# ---------------------------------------------------------------- the tuned FNN GAN (registry "mlp")
class MLPGenerator(GeneratorBase, PyTorchModelHubMixin, **HUB_KW):
    """The tuned FNN: z(64) -> 256 -> 256 -> 784 tanh, the slides' sizes with ReLU hidden units (the
    slides: leaky_relu, slope 0.01) and optional dropout. SlidesGenerator is the deck's own."""

    def __init__(self, z_dim: int = 64, hidden: int = 256, img_size: int = 28, channels: int = 1, dropout: float = 0.0):
        super().__init__()
        self.z_dim, self.img_size, self.channels = z_dim, img_size, channels
        out = channels * img_size * img_size
        self.net = nn.Sequential(
            nn.Linear(z_dim, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, out), nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z).view(-1, self.channels, self.img_size, self.img_size)


class MLPDiscriminator(nn.Module, PyTorchModelHubMixin, **HUB_KW):
    """The tuned FNN's D: 784 -> 256 -> 256 -> 1, the slides' sizes with LeakyReLU(0.2) (the slides: 0.01),
    no sigmoid (it returns a logit; the sigmoid is folded into BCEWithLogits) and optional dropout."""

    def __init__(self, hidden: int = 256, img_size: int = 28, channels: int = 1, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * img_size * img_size, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x).squeeze(1)


# ---------------------------------------------------------------- DCGAN, 28x28 (MNIST) or 32x32 (small pictures)
class ClassBatchNorm(nn.Module):
    """Batch norm whose scale and shift are learned per class (conditional batch norm, de Vries et al.
    2017, as BigGAN's G is conditioned): the digit modulates every layer of G, not only its input, so
    the noise is left to say how the digit is written. Called as norm(x, labels)."""

    def __init__(self, features: int, num_classes: int, dims: int = 2):
        super().__init__()
        self.norm = (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(features, affine=False)
        self.weight = nn.Parameter(torch.ones(num_classes, features))   # each class's scale, as BatchNorm's weight
        self.bias = nn.Parameter(torch.zeros(num_classes, features))    # and shift

    def forward(self, x, labels):
        shape = (-1, x.shape[1]) + (1,) * (x.ndim - 2)  # (N, C) for a dense layer, (N, C, 1, 1) for maps
        # index_select, not weight[labels]: the same rows, but indexing's backward is an index_put that adds up
        # one element at a time, 4x slower on 2 CPU cores (bench/bench_switch.py --switch class_norm_select)
        scale, shift = torch.index_select(self.weight, 0, labels), torch.index_select(self.bias, 0, labels)
        return self.norm(x) * scale.view(shape) + shift.view(shape)


def run_layers(layers: nn.Sequential, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """A Sequential's forward, handing the labels to the layers that take them (ClassBatchNorm)."""
    for layer in layers:
        x = layer(x, labels) if isinstance(layer, ClassBatchNorm) else layer(x)
    return x


class DCGANGenerator28(GeneratorBase, PyTorchModelHubMixin, **HUB_KW):
    """z -> (2w, 7, 7) -> transposed convs upsample 7 -> 14 -> 28 (img_size=32: 8 -> 16 -> 32).

    Transposed convolutions learn their own upsampling, which is why DCGAN replaced the dense
    generator: neighbouring pixels share weights, so strokes come out connected.
    hidden > 0 puts a dense layer of that many units before the projection, as DCGAN's own MNIST
    code did (z -> 1024 -> 7x7 maps): the two convolutions are small, and this is where G decides
    which digit it draws (measured: fewer shapes between two digits, docs/benchmarks.md).
    hidden_layers stacks that many such layers (a deeper mapping of the noise, as StyleGAN's).
    class_norm (conditional G only): every batch norm scales and shifts per digit (ClassBatchNorm).
    """
    MAX_HIDDEN_LAYERS = 4  # config.BOUNDS["g_layers"]; a config.json asking more is refused

    def __init__(self, z_dim: int = 100, width: int = 64, channels: int = 1, dropout: float = 0.0, num_classes: int = 0,
                 img_size: int = 28, hidden: int = 0, class_norm: bool = False, hidden_layers: int = 1):
        super().__init__()
        if class_norm and not num_classes:  # a config.json from outside may say anything: refused in words
            raise ModelConfigError("model.class_norm_needs_classes")
        if not isinstance(hidden_layers, int) or not 1 <= hidden_layers <= self.MAX_HIDDEN_LAYERS:
            raise ModelConfigError("model.hidden_layers", most=self.MAX_HIDDEN_LAYERS, value=str(hidden_layers)[:20])
        self.z_dim, self.channels, self.img_size, self.width = z_dim, channels, _small_size(img_size), width
        self.num_classes = num_classes  # > 0: a conditional generator, the digit is an input
        self.base = s = img_size // 4

        def norm(c: int, dims: int) -> nn.Module:
            if class_norm:
                return ClassBatchNorm(c, num_classes, dims)
            return nn.BatchNorm1d(c) if dims == 1 else nn.BatchNorm2d(c)

        dense, n_in = [], z_dim + num_classes
        for _ in range(hidden_layers if hidden else 0):
            dense += [nn.Linear(n_in, hidden, bias=False), norm(hidden, 1), nn.ReLU()]
            n_in = hidden
        self.project = nn.Sequential(*dense, nn.Linear(hidden or z_dim + num_classes, 2 * width * s * s, bias=False),
                                     norm(2 * width * s * s, 1), nn.ReLU())
        self.main = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), norm(width, 2), nn.ReLU(), nn.Dropout(dropout),
            nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z, labels=None):
        if self.num_classes:
            # no labels given: cycle through the classes, so any batch (and grid) is balanced
            labels = torch.arange(z.shape[0], device=z.device) % self.num_classes if labels is None else labels
            z = torch.cat([z, nn.functional.one_hot(labels, self.num_classes).to(z.dtype)], 1)
        h = run_layers(self.project, z, labels).view(-1, 2 * self.width, self.base, self.base)
        return run_layers(self.main, h, labels)


def _small_size(img_size: int) -> int:
    if img_size not in (28, 32):
        raise ModelConfigError("model.small_img_size", img_size=str(img_size)[:20])
    return img_size


def score_layers(features: int, hidden: int = 0) -> list[nn.Module]:
    """The end of a D: one linear score from `features`, or with hidden > 0 a dense layer of that many
    units first (LeakyReLU 0.2), as DCGAN's MNIST D and ProGAN's D end: a judgement of the whole image."""
    dense = [nn.Linear(features, hidden), nn.LeakyReLU(0.2)] if hidden else []
    return [*dense, nn.Linear(hidden or features, 1)]


def _norm2d(kind: str, c: int) -> nn.Module:
    # WGAN-GP's penalty is per-sample, so its critic must not mix samples: no batch norm there.
    norms = {"batch": lambda: nn.BatchNorm2d(c), "layer": lambda: nn.GroupNorm(1, c), "none": nn.Identity}
    if kind not in norms:  # a config.json from outside may say anything: refused in words
        raise ModelConfigError("model.unknown_norm", known=str(sorted(norms)), value=str(kind)[:40])
    return norms[kind]()


class DCGANDiscriminator28(nn.Module, PyTorchModelHubMixin, **HUB_KW):
    """28 -> 14 -> 7 (or 32 -> 16 -> 8) strided convs, then one linear score. norm='none'/'layer': a WGAN critic.

    num_classes > 0 adds the AC-GAN auxiliary head: D also says which digit it sees, which gives
    a conditional G a direct signal to draw each class distinctly.
    hidden > 0 puts a dense layer of that many units between the convolutions and the score (and the
    class head), as DCGAN's own MNIST code did: a whole-digit judgement on top of local strokes.
    twin (conditional only) adds TAC-GAN's twin class head (Gong et al. 2019), which learns the digits of
    G's fakes: the trainer pays G to keep it unsure, which cancels the AC-GAN head's pull towards the
    easiest-to-read way of drawing each digit.
    """

    def __init__(self, width: int = 64, channels: int = 1, norm: str = "batch", dropout: float = 0.0, num_classes: int = 0,
                 img_size: int = 28, hidden: int = 0, twin: bool = False):
        super().__init__()
        if twin and not num_classes:  # a config.json from outside may say anything: refused in words
            raise ModelConfigError("model.twin_needs_classes")
        s = _small_size(img_size) // 4
        self.classes = nn.Linear(hidden or 2 * width * s * s, num_classes) if num_classes else None
        self.main = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=norm == "none"), _norm2d(norm, 2 * width), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Flatten(), *score_layers(2 * width * s * s, hidden),
        )
        # made last: the other weights start as they would without it (the same seed, the same D)
        self.twin = nn.Linear(hidden or 2 * width * s * s, num_classes) if twin else None

    def forward(self, x):
        return self.main(x).squeeze(1)

    def forward_with_classes(self, x, twin: bool = False):
        """(real/fake logit (N,), class logits (N, num_classes)) from one pass; with `twin`, the twin head's
        class logits third."""
        h = self.main[:-1](x)
        out = self.main[-1](h).squeeze(1), self.classes(h)
        return (*out, self.twin(h)) if twin else out


# ---------------------------------------------------------------- DCGAN, 64x64 (faces)
class DCGANGenerator64(GeneratorBase, PyTorchModelHubMixin, **HUB_KW):
    """The PyTorch-tutorial DCGAN generator: z -> 4 -> 8 -> 16 -> 32 -> 64, layout `main.N` as there."""

    def __init__(self, z_dim: int = 100, width: int = 64, channels: int = 3):
        super().__init__()
        self.z_dim, self.channels, self.img_size = z_dim, channels, 64
        w = width
        self.main = nn.Sequential(
            nn.ConvTranspose2d(z_dim, w * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(w * 8), nn.ReLU(True),
            nn.ConvTranspose2d(w * 8, w * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(w * 4), nn.ReLU(True),
            nn.ConvTranspose2d(w * 4, w * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(w * 2), nn.ReLU(True),
            nn.ConvTranspose2d(w * 2, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(True),
            nn.ConvTranspose2d(w, channels, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z.view(z.shape[0], self.z_dim, 1, 1))


class DCGANDiscriminator64(nn.Module, PyTorchModelHubMixin, **HUB_KW):
    """64 -> 32 -> 16 -> 8 -> 4 strided convs -> one score. norm='none'/'layer' for a WGAN critic."""

    def __init__(self, width: int = 64, channels: int = 3, norm: str = "batch"):
        super().__init__()
        w = width
        self.main = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, w * 2, 4, 2, 1, bias=False), _norm2d(norm, w * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(w * 2, w * 4, 4, 2, 1, bias=False), _norm2d(norm, w * 4), nn.LeakyReLU(0.2, True),
            nn.Conv2d(w * 4, w * 8, 4, 2, 1, bias=False), _norm2d(norm, w * 8), nn.LeakyReLU(0.2, True),
            nn.Conv2d(w * 8, 1, 4, 1, 0, bias=False),
        )

    def forward(self, x):
        return self.main(x).view(-1)


# ---------------------------------------------------------------- the face-GAN exercise, 64x64 RGB
class FaceExerciseDiscriminator(nn.Module, PyTorchModelHubMixin, **HUB_KW):
    """The exercise's D: 3 x [Conv 3x3 + MaxPool 2 + ReLU + Dropout] (64 -> 32 -> 16 -> 8), then dense + dropout.

    Max-pooling (not strided convs as in DCGAN) is the classic image-classifier recipe the exercise
    starts from; dropout keeps this D from memorising a small face folder and overpowering G.
    """

    def __init__(self, width: int = 32, channels: int = 3, img_size: int = 64, hidden: int = 256, dropout: float = 0.3):
        super().__init__()
        if img_size % 8:
            raise ModelConfigError("model.pooled_img_size", img_size=str(img_size)[:20])
        w, s = width, img_size // 8
        blocks = []
        for c_in, c_out in ((channels, w), (w, 2 * w), (2 * w, 4 * w)):
            blocks += [nn.Conv2d(c_in, c_out, 3, 1, 1), nn.MaxPool2d(2), nn.ReLU(), nn.Dropout(dropout)]
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(4 * w * s * s, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.classifier(self.features(x)).squeeze(1)


class FaceExerciseGenerator(GeneratorBase, PyTorchModelHubMixin, **HUB_KW):
    """The exercise's G, the mirror of its D: z -> dense -> (4w, 8, 8), then 3 x
    [Unpool (2x nearest upsampling) + Deconv 3x3 + ReLU + Dropout + BatchNorm] (8 -> 16 -> 32 -> 64),
    then a last Deconv to RGB with tanh.

    Unpooling undoes the D's max-pooling in size only (MaxUnpool2d would need D's pooling
    indices, which a generator does not have), and the transposed conv after it learns what to paint.
    """

    def __init__(self, z_dim: int = 100, width: int = 32, channels: int = 3, img_size: int = 64, dropout: float = 0.1):
        super().__init__()
        if img_size % 8:
            raise ModelConfigError("model.unpooled_img_size", img_size=str(img_size)[:20])
        self.z_dim, self.channels, self.img_size, self.width = z_dim, channels, img_size, width
        w, s = width, img_size // 8
        self.project = nn.Sequential(nn.Linear(z_dim, 4 * w * s * s), nn.ReLU())
        blocks = []
        for c_in, c_out in ((4 * w, 2 * w), (2 * w, w), (w, w)):
            blocks += [nn.Upsample(scale_factor=2, mode="nearest"), nn.ConvTranspose2d(c_in, c_out, 3, 1, 1),
                       nn.ReLU(), nn.Dropout(dropout), nn.BatchNorm2d(c_out)]
        self.main = nn.Sequential(*blocks, nn.ConvTranspose2d(w, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z):
        s = self.img_size // 8
        return self.main(self.project(z).view(-1, 4 * self.width, s, s))


ARCHITECTURES = {cls.__name__: cls for cls in (
    SlidesGenerator, SlidesDiscriminator, MLPGenerator, MLPDiscriminator, DCGANGenerator28, DCGANDiscriminator28,
    DCGANGenerator64, DCGANDiscriminator64, FaceExerciseGenerator, FaceExerciseDiscriminator,
)}


def register(cls):
    """Make a model class loadable by name from a Hugging Face folder (see gan_core.hub)."""
    ARCHITECTURES[cls.__name__] = cls
    return cls


def mixes_samples(net: nn.Module) -> bool:
    """True where a layer of `net` computes each sample from the others too (batch norm, in training): a D like
    that must see real and fake batches apart, or its statistics tell them apart by their means."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
