"""A 2-D toy GAN (GAN Lab's idea, in PyTorch): tiny G and D, trained live on a CPU.

In two dimensions everything a GAN does can be drawn: the real points, the generated points,
D's decision surface over the plane, and where G's loss pushes each generated point. The
training is the lesson's two phases with the losses of `gan_core.losses`, so what the toy shows
is what the image GANs do.

Speed matters because the page trains between frames: one `ToyTrainer.step(k)` call (a "tick"
of k iterations) samples from a pre-drawn pool, runs D once on real and fake together, and
reads its metrics back once per tick instead of once per iteration, and runs on one thread
(bench/bench_toy2d.py).
"""
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import losses
from .compute import GLOBAL_RNG, one_thread
from .device import adam

SHAPES = ("ring", "grid", "spiral", "custom")
LOSSES = ("nonsat", "minimax", "wgan-gp")
BOUND = 2.5            # the plane shown and scanned by decision_surface: [-BOUND, BOUND]^2
POOL = 8192            # real points drawn once per trainer; batches are indices into this pool
DRAWN = 512            # points the page draws a frame: real ones, and G's on its fixed noise


@dataclass
class ToyConfig:
    """Everything that defines one toy run. Plain values, so it lives in st.session_state as is."""
    shape: str = "ring"
    modes: int = 8             # ring: Gaussians on the circle; grid: Gaussians per side
    std: float = 0.05          # spread of each Gaussian (and the spiral's noise)
    points: tuple = ()         # custom shape: centres as ((x, y), ...)
    z_dim: int = 2
    hidden: int = 64
    loss: str = "nonsat"
    lr_g: float = 5e-3         # high for a GAN, fine for 2-D: the ring is covered in ~1500 iterations
    lr_d: float = 5e-3
    batch: int = 256
    d_steps: int = 1           # D updates per G update
    balance: bool = False      # skip the turn of the net that is too good
    balance_max: float = 0.85  # "too good": D accuracy (or G success) above this over recent iterations
    seed: int = 0


# One click on the page: the same run with D's learning rate ten times lower, on sharper modes.
# The weak D says "real" over a broad region; G moves all its points to the best spot of that
# region, D catches up there, G hops on: the points travel as one clump and cover 0-1 of 8 modes
# where the default covers all 8. Balance and learning rates are the lesson of this preset.
MODE_COLLAPSE = ToyConfig(std=0.02, lr_d=5e-4)


# ---------------------------------------------------------------- data
def centres(cfg: ToyConfig) -> np.ndarray:
    """The modes of a mixture shape, (M, 2); for the spiral, points along its centre line."""
    if cfg.shape == "ring":
        a = np.arange(cfg.modes) * 2 * math.pi / cfg.modes
        return 1.6 * np.stack([np.cos(a), np.sin(a)], 1)
    if cfg.shape == "grid":
        k = max(cfg.modes, 2)
        g = np.linspace(-1.6, 1.6, k)
        return np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    if cfg.shape == "spiral":
        t = np.linspace(0.25, 1.0, 200)
        return _spiral(t)
    if cfg.shape == "custom":
        pts = np.asarray(cfg.points).reshape(-1, 2)  # np.clip below makes whole-number points float
        if len(pts) == 0:
            raise ValueError("a custom shape needs at least one point")
        return np.clip(pts, -BOUND, BOUND)
    raise ValueError(f"unknown shape {cfg.shape!r}; choose one of {SHAPES}")


def _spiral(t: np.ndarray) -> np.ndarray:
    a = 3 * math.pi * t
    return 1.9 * t[:, None] * np.stack([np.cos(a), np.sin(a)], 1)


def sample_data(cfg: ToyConfig, n: int, rng: np.random.Generator) -> np.ndarray:
    """n real points of the configured shape, float32 (n, 2). The spiral's 200 centre points lie closer
    together than its noise is wide, so it is drawn as a mixture too."""
    c = centres(cfg)
    pts = c[rng.integers(len(c), size=n)]
    return (pts + cfg.std * rng.standard_normal((n, 2))).astype(np.float32)


def parse_points(text: str) -> tuple:
    """'x,y' pairs, one per line or separated by ';' -> ((x, y), ...); lines that do not parse are skipped."""
    out = []
    for part in text.replace(";", "\n").splitlines():
        try:
            x, y = (float(v) for v in part.replace(" ", "").split(","))
        except ValueError:
            continue
        out.append((x, y))
    return tuple(out)


# ---------------------------------------------------------------- metrics
def mode_distance(samples: np.ndarray, cfg: ToyConfig) -> float:
    """Mean distance from each generated point to the nearest mode (or spiral point): 0 = on the data."""
    d = np.linalg.norm(samples[:, None, :] - centres(cfg)[None], axis=-1)
    return float(d.min(1).mean())


def coverage(samples: np.ndarray, cfg: ToyConfig) -> tuple[int, int] | None:
    """(modes that got at least a quarter of their fair share of samples, all modes); None for the spiral.

    A sample counts for a mode only if it lies within max(4 std, 0.15) of it, so a G that
    smears points between modes covers nothing, and a collapsed G covers one or two.
    """
    if cfg.shape == "spiral":
        return None
    c = centres(cfg)
    d = np.linalg.norm(samples[:, None, :] - c[None], axis=-1)
    near = d.min(1) < max(4 * cfg.std, 0.15)
    counts = np.bincount(d.argmin(1)[near])  # (modes past the last one hit have none: not covered either way)
    return int((counts >= 0.25 * len(samples) / len(c)).sum()), len(c)


# ---------------------------------------------------------------- nets and training
def _mlp(n_in: int, hidden: int, n_out: int, act) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), act(), nn.Linear(hidden, hidden), act(), nn.Linear(hidden, n_out))


def _adam(params, lr: float, loss: str):
    betas = (0.0, 0.9) if loss == "wgan-gp" else (0.5, 0.999)  # the WGAN-GP paper's betas
    return adam(params, lr, betas)  # tiny nets are all overhead: the fused kernel updates all tensors in one call


@dataclass
class ToyTrainer:
    """G: z -> 2-D point; D: 2-D point -> logit (or critic score). `step(k)` trains k iterations."""
    cfg: ToyConfig
    history: list = field(default_factory=list)   # one dict per iteration
    iteration: int = 0

    def __post_init__(self):
        cfg = self.cfg
        if cfg.loss not in LOSSES:
            raise ValueError(f"unknown loss {cfg.loss!r}; choose one of {LOSSES}")
        # seeded nets, and the process's own generator left as it was: one visitor's toy must not reseed
        # another's training, nor seed it halfway through a trainer's own seeded start on another thread
        with GLOBAL_RNG, torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.G = _mlp(cfg.z_dim, cfg.hidden, 2, nn.ReLU)
            self.D = _mlp(2, cfg.hidden, 1, lambda: nn.LeakyReLU(0.2))
        self.opt_g = _adam(self.G.parameters(), cfg.lr_g, cfg.loss)
        self.opt_d = _adam(self.D.parameters(), cfg.lr_d, cfg.loss)
        self.data = torch.from_numpy(sample_data(cfg, POOL, np.random.default_rng(cfg.seed)))
        self.gen = torch.Generator().manual_seed(cfg.seed + 1)
        self.fixed_z = torch.randn(DRAWN, cfg.z_dim, generator=torch.Generator().manual_seed(cfg.seed + 2))
        self._recent_d: list[float] = []
        self._recent_g: list[float] = []

    # -------------------------------------------------------------- training
    def step(self, k: int = 1) -> dict:
        """k iterations; returns the last one's metrics. All k are appended to `history`."""
        rows = []
        with one_thread():
            for _ in range(k):
                skip_d, skip_g = self._skip()
                rows.append(self._iteration(skip_d, skip_g))
        # one read-back per tick: the metrics stay tensors until here
        values = torch.stack(rows).tolist()
        for v in values:
            self.iteration += 1
            m = dict(zip(("d_loss", "g_loss", "d_acc", "g_success", "skipped_d", "skipped_g"), v))
            m["step"] = self.iteration
            self.history.append(m)
        return self.history[-1]

    def _skip(self) -> tuple[bool, bool]:
        cfg = self.cfg
        if not cfg.balance or len(self._recent_d) < 10:
            return False, False
        skip_d = sum(self._recent_d[-10:]) / 10 > cfg.balance_max
        skip_g = not skip_d and sum(self._recent_g[-10:]) / 10 > cfg.balance_max
        return skip_d, skip_g

    def _iteration(self, skip_d: bool, skip_g: bool) -> torch.Tensor:
        cfg, G, D, B = self.cfg, self.G, self.D, self.cfg.batch
        wgan = cfg.loss == "wgan-gp"
        # Phase 1: D learns real -> 1, fake -> 0 (a critic: real high, fake low), d_steps times.
        for _ in range(1 if skip_d else cfg.d_steps):
            x = self.data[torch.randint(POOL, (B,), generator=self.gen)]
            with torch.no_grad():
                fake = G(torch.randn(B, cfg.z_dim, generator=self.gen))
            scores = D(torch.cat([x, fake])).squeeze(1)   # one pass for both halves: D has no batch norm
            real_s, fake_s = scores[:B], scores[B:]
            if wgan:
                d_loss = losses.wgan_d_loss(real_s, fake_s)
                if not skip_d:
                    d_loss = d_loss + losses.gradient_penalty(lambda p: D(p).squeeze(1), x, fake, 1.0)
            else:
                d_loss = losses.bce_d_loss(real_s, fake_s)
            if not skip_d:
                self.opt_d.zero_grad()
                d_loss.backward()
                self.opt_d.step()
        # Phase 2: G learns through a frozen D, target 1.
        D.requires_grad_(False)
        g_s = D(G(torch.randn(B, cfg.z_dim, generator=self.gen))).squeeze(1)
        g_loss = self._g_loss(g_s)
        if not skip_g:
            self.opt_g.zero_grad()
            g_loss.backward()
            self.opt_g.step()
        D.requires_grad_(True)
        with torch.no_grad():
            thr = (real_s.mean() + fake_s.mean()) / 2 if wgan else 0.0  # a critic has no fixed zero
            d_acc = ((real_s > thr).float().mean() + (fake_s < thr).float().mean()) / 2
            g_success = (g_s > thr).float().mean()
            if cfg.balance:
                self._recent_d.append(float(d_acc))
                self._recent_g.append(float(g_success))
            return torch.stack([d_loss.detach(), g_loss.detach(), d_acc, g_success,
                                torch.tensor(float(skip_d)), torch.tensor(float(skip_g))])

    def _g_loss(self, scores: torch.Tensor) -> torch.Tensor:
        return {"nonsat": losses.bce_g_loss, "minimax": losses.minimax_g_loss,
                "wgan-gp": losses.wgan_g_loss}[self.cfg.loss](scores)

    # -------------------------------------------------------------- what the page draws
    @torch.no_grad()
    def samples(self, n: int = DRAWN) -> np.ndarray:
        """G on a fixed noise batch, so the drawn points move smoothly from tick to tick."""
        with one_thread():
            return self.G(self.fixed_z[:n]).numpy()

    def real(self, n: int = DRAWN) -> np.ndarray:
        return self.data[:n].numpy()

    @torch.no_grad()
    def decision_surface(self, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
        """(axis values (n,), values (n, n)) over [-BOUND, BOUND]^2: D's probability "real",
        or for a critic its raw score. values[i, j] is at (x=axis[j], y=axis[i])."""
        axis = np.linspace(-BOUND, BOUND, n, dtype=np.float32)
        xx, yy = np.meshgrid(axis, axis)
        pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], 1))
        with one_thread():
            s = self.D(pts).squeeze(1)
        s = s if self.cfg.loss == "wgan-gp" else torch.sigmoid(s)
        return axis, s.numpy().reshape(n, n)

    def generator_arrows(self, n: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """(points (n, 2), -dL_G/dpoint (n, 2)): the direction G's loss pushes each generated point.

        This is the signal that flows back from D into G; G's weights move so that its points
        follow these arrows. The loss is summed, not averaged, so each arrow is per point.
        """
        with one_thread():
            with torch.no_grad():
                pts = self.G(self.fixed_z[:n])
            pts.requires_grad_(True)
            loss = self._g_loss(self.D(pts).squeeze(1)) * n
            (grad,) = torch.autograd.grad(loss, pts)  # only wrt the points: D's weights are untouched
        return pts.detach().numpy(), (-grad).numpy()

    LIVE = ("lr_g", "lr_d", "d_steps", "balance", "balance_max")

    def reconfigure(self, cfg: ToyConfig) -> "ToyTrainer":
        """Apply new settings: learning rates, D steps and balance change live (self is returned);
        anything else (data, nets, loss) needs a fresh trainer, which is returned instead."""
        changed = {k for k, v in vars(cfg).items() if getattr(self.cfg, k) != v}
        if changed - set(self.LIVE):
            return ToyTrainer(cfg)
        for opt, lr in ((self.opt_g, cfg.lr_g), (self.opt_d, cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr
        self.cfg = cfg
        return self
