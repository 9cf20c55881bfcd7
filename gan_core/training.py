"""The training loop shared by the CLI and the app: `Trainer.step(n)` runs n iterations.

One iteration is the lesson's two phases: D (or the critic, n_critic times) learns real=1 and
fake=0, then G learns through a frozen D with target 1. Every iteration returns its metrics, so
a live page can plot them tick by tick and a CLI can log them.
"""
import copy
import json
import math
import time
from collections import deque
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch

from . import losses
from .data import to_uint8
from .device import get_device
from .hub import load_model, save_model
from .models import (DCGANDiscriminator28, DCGANDiscriminator64, DCGANGenerator28, DCGANGenerator64,
                     FaceExerciseDiscriminator, FaceExerciseGenerator, MLPDiscriminator, MLPGenerator)

MODELS = ("cdcgan", "mlp", "dcgan", "wgan", "wgan-gp", "face-exercise")
# The model the app starts with: the one that gives recognizable digits fastest on a 2-core CPU.
BEST_MODEL = "cdcgan"

# Defaults per model; anything passed to TrainConfig.preset overrides them.
PRESETS = {
    # the slides' FNN GAN; lr 1e-3 and an EMA of G (both measured in bench/) instead of the slides' 2e-4
    "mlp": dict(z_dim=64, width=256, lr_g=1e-3, lr_d=1e-3, beta1=0.5, batch_size=100, n_critic=1, ema=0.99),
    # conditional DCGAN with an auxiliary classifier (AC-GAN): pick the digit, learns fastest
    "cdcgan": dict(z_dim=100, width=32, lr_g=1e-3, lr_d=1e-3, beta1=0.5, batch_size=64, n_critic=1, num_classes=10,
                   bf16=True, ema=0.99),
    "dcgan": dict(z_dim=100, width=32, lr_g=1e-3, lr_d=1e-3, beta1=0.5, batch_size=64, n_critic=1, bf16=True, ema=0.99),
    "wgan": dict(z_dim=100, width=64, lr_g=5e-5, lr_d=5e-5, beta1=0.5, batch_size=64, n_critic=5),
    "wgan-gp": dict(z_dim=100, width=64, lr_g=1e-4, lr_d=1e-4, beta1=0.0, beta2=0.9, batch_size=64, n_critic=5),
    # The face-GAN exercise (64x64 RGB folders): dropout in both nets, as the exercise asks.
    "face-exercise": dict(z_dim=100, width=32, lr_g=2e-4, lr_d=2e-4, beta1=0.5, batch_size=64, n_critic=1, dropout=0.3),
}


@dataclass
class TrainConfig:
    model: str = "dcgan"
    z_dim: int = 100
    width: int = 64            # hidden units (mlp) or base channels (conv models)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 128
    n_critic: int = 1          # D/critic updates per G update
    clip: float = 0.01         # WGAN weight clipping
    gp_weight: float = 10.0    # WGAN-GP penalty weight
    dropout: float = 0.0       # in D (and G where the model has it)
    balance: bool = False      # skip the turn of the net that is too good
    d_acc_max: float = 0.9     # skip D while its recent accuracy is above this
    g_success_max: float = 0.9 # skip G while its recent success is above this
    balance_window: int = 10
    seed: int = 0
    snapshot_every: int = 50
    n_fixed: int = 64
    max_snapshots: int = 120
    bf16: bool = False         # autocast to bfloat16 (CPUs with AVX512-BF16/AMX, recent GPUs)
    channels_last: bool = False
    num_classes: int = 0       # > 0: conditional AC-GAN (needs labels); only the 28x28 DCGAN has it
    ema: float = 0.0           # decay of an exponential moving average of G's weights (0 = off)

    @classmethod
    def preset(cls, model: str, **overrides) -> "TrainConfig":
        if model not in PRESETS:
            raise ValueError(f"unknown model {model!r}; choose one of {MODELS}")
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        return cls(model=model, **{**PRESETS[model], **{k: v for k, v in overrides.items() if v is not None}})

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        return cls(**d)

    @property
    def loss(self) -> str:
        return {"wgan": "wgan-clip", "wgan-gp": "wgan-gp"}.get(self.model, "bce")


def build_models(cfg: TrainConfig, channels: int, img_size: int):
    """(generator, discriminator/critic) for the config and the data's shape."""
    critic_norm = "none" if cfg.loss == "wgan-gp" else ("batch" if cfg.loss == "bce" else "none")
    if cfg.model == "mlp":
        return (MLPGenerator(cfg.z_dim, cfg.width, img_size, channels, cfg.dropout),
                MLPDiscriminator(cfg.width, img_size, channels, cfg.dropout))
    if cfg.model == "face-exercise":
        # G's dropout is lighter: it only adds noise there, while D's must stop it memorising the faces.
        return (FaceExerciseGenerator(cfg.z_dim, cfg.width, channels, img_size, cfg.dropout / 3),
                FaceExerciseDiscriminator(cfg.width, channels, img_size, dropout=cfg.dropout))
    if cfg.num_classes and (img_size != 28 or cfg.loss != "bce"):
        raise ValueError("conditional training (num_classes > 0) is available for the 28x28 DCGAN only")
    if img_size == 28:
        return (DCGANGenerator28(cfg.z_dim, cfg.width, channels, num_classes=cfg.num_classes),
                DCGANDiscriminator28(cfg.width, channels, critic_norm, cfg.dropout, num_classes=cfg.num_classes))
    if img_size == 64:
        return (DCGANGenerator64(cfg.z_dim, cfg.width, channels),
                DCGANDiscriminator64(cfg.width, channels, critic_norm))
    raise ValueError(f"conv models take 28x28 or 64x64 images, not {img_size}x{img_size}")


class Trainer:
    """Owns G, D, their optimizers, the data tensor, the metric history and the snapshots."""

    def __init__(self, cfg: TrainConfig, data: torch.Tensor, device=None, labels: torch.Tensor | None = None):
        self.cfg = cfg
        self.device = torch.device(device) if device else get_device()
        if data.ndim != 4:
            raise ValueError(f"data must be (N, C, H, W), got {tuple(data.shape)}")
        if cfg.num_classes and (labels is None or len(labels) != len(data)):
            raise ValueError(f"model {cfg.model!r} is conditional: pass one label per image (labels=...)")
        self.labels = torch.as_tensor(labels).long().to(self.device) if cfg.num_classes else None
        torch.manual_seed(cfg.seed)
        self.G, self.D = build_models(cfg, data.shape[1], data.shape[-1])
        self.G.to(self.device)
        self.D.to(self.device)
        if cfg.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        if cfg.loss == "wgan-clip":  # the WGAN paper: momentum-based optimizers destabilise clipping
            self.opt_g = torch.optim.RMSprop(self.G.parameters(), lr=cfg.lr_g)
            self.opt_d = torch.optim.RMSprop(self.D.parameters(), lr=cfg.lr_d)
        else:
            self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
        # Samples come from an EMA of G's weights when enabled: it averages out the oscillation
        # of the two-player game, so digits look clean many steps earlier.
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if cfg.ema else None
        self.data = data.to(self.device)
        self.rng = torch.Generator().manual_seed(cfg.seed)
        self.fixed_z = self.G.sample_z(cfg.n_fixed, torch.Generator().manual_seed(cfg.seed + 1), self.device)
        self.iteration = 0
        self.elapsed = 0.0           # seconds spent inside step()
        self.history: list[dict] = []
        self.snapshots: list[tuple[int, np.ndarray]] = []
        self.error: str | None = None
        self._recent_d = deque(maxlen=cfg.balance_window)
        self._recent_g = deque(maxlen=cfg.balance_window)

    # ------------------------------------------------------------------ public
    def step(self, n: int = 1) -> list[dict]:
        """Run up to n iterations; stops early (and sets .error) if a loss turns NaN/inf."""
        out = []
        for _ in range(n):
            if self.error:
                break
            t0 = time.perf_counter()
            m = self._iteration()
            self.elapsed += time.perf_counter() - t0
            self.iteration += 1
            m["step"] = self.iteration
            if not all(math.isfinite(m[k]) for k in ("d_loss", "g_loss")):
                self.error = (f"training diverged at step {self.iteration}: D loss {m['d_loss']}, G loss {m['g_loss']}. "
                              "Lower the learning rates or reset.")
                m["diverged"] = True
            self.history.append(m)
            out.append(m)
            if self.error is None and self.iteration % self.cfg.snapshot_every == 0:
                self.snapshot()
        return out

    def run_for(self, seconds: float, chunk: int = 10, max_steps: int | None = None) -> None:
        """Train until `seconds` of training time have passed (or max_steps, or divergence)."""
        start = self.elapsed
        while self.elapsed - start < seconds and not self.error:
            if max_steps is not None and self.iteration >= max_steps:
                break
            self.step(chunk if max_steps is None else min(chunk, max_steps - self.iteration))

    @property
    def generator(self) -> torch.nn.Module:
        """The generator to sample from and to export: the EMA copy when enabled, else G."""
        return self.G_ema if self.G_ema is not None else self.G

    @torch.no_grad()
    def fixed_samples(self) -> torch.Tensor:
        """The generator on the fixed noise, in eval mode (running BN statistics), as float on the CPU."""
        G = self.generator
        was_training = G.training
        G.eval()
        x = G(self.fixed_z).float().cpu()
        G.train(was_training)
        return x

    def enable_ema(self, decay: float) -> None:
        """Start (or retune) the EMA of G from its current weights, e.g. when resuming a run without one."""
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        if self.G_ema is None:
            self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.cfg.ema = decay

    @torch.no_grad()
    def _update_ema(self) -> None:
        # warm-up: a short effective horizon at first so early samples are not stuck near the init
        decay = min(self.cfg.ema, (1 + self.iteration) / (10 + self.iteration))
        ema_p, p = list(self.G_ema.parameters()), list(self.G.parameters())
        torch._foreach_lerp_(ema_p, p, 1 - decay)
        for eb, b in zip(self.G_ema.buffers(), self.G.buffers()):
            eb.copy_(b)

    def snapshot(self) -> None:
        self.snapshots.append((self.iteration, to_uint8(self.fixed_samples())))
        if len(self.snapshots) > self.cfg.max_snapshots:  # thin out, keep the whole run's span
            self.snapshots = self.snapshots[::2]

    @property
    def steps_per_second(self) -> float:
        return self.iteration / self.elapsed if self.elapsed else 0.0

    def set_lr(self, lr_g: float, lr_d: float) -> None:
        """Change the learning rates of a running trainer (the optimizers keep their moments)."""
        self.cfg.lr_g, self.cfg.lr_d = float(lr_g), float(lr_d)
        for opt, lr in ((self.opt_g, lr_g), (self.opt_d, lr_d)):
            for group in opt.param_groups:
                group["lr"] = float(lr)

    # ------------------------------------------------------------------ one iteration
    def _batch(self) -> torch.Tensor:
        idx = torch.randint(self.data.shape[0], (self.cfg.batch_size,), generator=self.rng).to(self.data.device)
        self._batch_labels = self.labels[idx] if self.labels is not None else None
        x = self.data[idx]
        return x.contiguous(memory_format=torch.channels_last) if self.cfg.channels_last else x

    def _z(self) -> torch.Tensor:
        return self.G.sample_z(self.cfg.batch_size, self.rng, self.device)

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.bf16)

    def _skip(self) -> tuple[bool, bool]:
        cfg = self.cfg
        if not cfg.balance or len(self._recent_d) < cfg.balance_window:
            return False, False
        skip_d = sum(self._recent_d) / len(self._recent_d) > cfg.d_acc_max
        skip_g = sum(self._recent_g) / len(self._recent_g) > cfg.g_success_max
        return skip_d, skip_g and not skip_d

    def _iteration(self) -> dict:
        skip_d, skip_g = self._skip()
        if self.cfg.loss == "bce":
            stats = self._bce_iteration(skip_d, skip_g)
        else:
            stats = self._wgan_iteration(skip_d, skip_g)
        m = dict(zip(("d_loss", "g_loss", "d_real_acc", "d_fake_acc", "g_success", "wasserstein"),
                     torch.stack([s.float() for s in stats]).tolist()))
        m["skipped_d"], m["skipped_g"] = int(skip_d), int(skip_g)
        self._recent_d.append((m["d_real_acc"] + m["d_fake_acc"]) / 2)
        self._recent_g.append(m["g_success"])
        return m

    def _update(self, opt, loss, skip: bool) -> None:
        if skip:
            return
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def _bce_iteration(self, skip_d: bool, skip_g: bool):
        G, D = self.G, self.D
        x, z = self._batch(), self._z()
        if self.cfg.num_classes:
            return self._acgan_iteration(x, z, skip_d, skip_g)
        with self._autocast():
            fake = G(z)
            with torch.set_grad_enabled(not skip_d):  # phase 1: D learns real=1, fake=0
                real_logits = D(x).float()
                fake_logits = D(fake.detach()).float()
                d_loss = losses.bce_d_loss(real_logits, fake_logits)
        self._update(self.opt_d, d_loss, skip_d)
        D.requires_grad_(False)  # phase 2: G learns through a frozen D, target 1
        with self._autocast(), torch.set_grad_enabled(not skip_g):
            g_logits = D(fake).float()
            g_loss = losses.bce_g_loss(g_logits)
        self._update(self.opt_g, g_loss, skip_g)
        D.requires_grad_(True)
        if self.G_ema is not None:
            self._update_ema()
        d_real_acc = (real_logits > 0).float().mean()
        d_fake_acc = (fake_logits < 0).float().mean()
        g_success = (g_logits > 0).float().mean()
        return (d_loss.detach(), g_loss.detach(), d_real_acc, d_fake_acc, g_success,
                torch.tensor(float("nan")))

    def _acgan_iteration(self, x, z, skip_d: bool, skip_g: bool):
        """AC-GAN: as the BCE iteration, plus D classifies real digits and G is rewarded when D
        reads its fake as the digit it was asked for."""
        G, D, cfg = self.G, self.D, self.cfg
        y_real = self._batch_labels
        y_fake = torch.randint(cfg.num_classes, (cfg.batch_size,), generator=self.rng).to(self.device)
        with self._autocast():
            fake = G(z, y_fake)
            with torch.set_grad_enabled(not skip_d):
                real_logits, real_cls = (t.float() for t in D.forward_with_classes(x))
                fake_logits = D(fake.detach()).float()
                d_loss = losses.bce_d_loss(real_logits, fake_logits) + losses.class_loss(real_cls, y_real)
        self._update(self.opt_d, d_loss, skip_d)
        D.requires_grad_(False)
        with self._autocast(), torch.set_grad_enabled(not skip_g):
            g_logits, g_cls = (t.float() for t in D.forward_with_classes(fake))
            g_loss = losses.bce_g_loss(g_logits) + losses.class_loss(g_cls, y_fake)
        self._update(self.opt_g, g_loss, skip_g)
        D.requires_grad_(True)
        if self.G_ema is not None:
            self._update_ema()
        return (d_loss.detach(), g_loss.detach(), (real_logits > 0).float().mean(), (fake_logits < 0).float().mean(),
                (g_logits > 0).float().mean(), torch.tensor(float("nan")))

    def _wgan_iteration(self, skip_d: bool, skip_g: bool):
        cfg, G, D = self.cfg, self.G, self.D
        for _ in range(cfg.n_critic if not skip_d else 1):
            x = self._batch()
            with torch.no_grad(), self._autocast():
                fake = G(self._z())
            with torch.set_grad_enabled(not skip_d):
                with self._autocast():
                    real_s, fake_s = D(x).float(), D(fake).float()
                d_loss = losses.wgan_d_loss(real_s, fake_s)
                if cfg.loss == "wgan-gp" and not skip_d:
                    d_loss = d_loss + losses.gradient_penalty(D, x, fake.to(x.dtype), cfg.gp_weight)
            self._update(self.opt_d, d_loss, skip_d)
            if cfg.loss == "wgan-clip" and not skip_d:
                losses.clip_weights(D, cfg.clip)
        D.requires_grad_(False)
        with self._autocast(), torch.set_grad_enabled(not skip_g):
            g_scores = D(G(self._z())).float()
            g_loss = losses.wgan_g_loss(g_scores)
        self._update(self.opt_g, g_loss, skip_g)
        D.requires_grad_(True)
        if self.G_ema is not None:
            self._update_ema()
        # A critic's scores have no fixed zero, so "accuracy" is judged against the midpoint
        # between its mean real and mean fake score.
        real_s, fake_s = real_s.detach(), fake_s.detach()
        mid = (real_s.mean() + fake_s.mean()) / 2
        return (d_loss.detach(), g_loss.detach(), (real_s > mid).float().mean(), (fake_s < mid).float().mean(),
                (g_scores.detach() > mid).float().mean(), real_s.mean() - fake_s.mean())

    # ------------------------------------------------------------------ save / resume
    def save(self, folder, card: str | None = None) -> Path:
        """folder/ = loadable generator (HF folder) + discriminator/ + trainer_state.pt + metrics.jsonl."""
        folder = Path(folder)
        save_model(self.generator, folder, card)
        save_model(self.D, folder / "discriminator")
        torch.save({"config": asdict(self.cfg), "iteration": self.iteration, "elapsed": self.elapsed,
                    "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                    "rng": self.rng.get_state(), "recent_d": list(self._recent_d), "recent_g": list(self._recent_g),
                    "g_raw": {k: v.cpu() for k, v in self.G.state_dict().items()}},
                   folder / "trainer_state.pt")
        with open(folder / "metrics.jsonl", "w") as f:
            for m in self.history:
                f.write(json.dumps(m) + "\n")
        return folder

    @classmethod
    def resume(cls, folder, data: torch.Tensor, device=None, labels=None) -> "Trainer":
        """Continue a run written by save(); weights come from safetensors, state with weights_only."""
        folder = Path(folder)
        state = torch.load(folder / "trainer_state.pt", map_location="cpu", weights_only=True)
        t = cls(TrainConfig.from_dict(state["config"]), data, device, labels)
        exported = load_model(folder).state_dict()  # the EMA weights when EMA is on
        t.G.load_state_dict(state.get("g_raw", exported))
        if t.G_ema is not None:
            t.G_ema.load_state_dict(exported)
        t.D.load_state_dict(load_model(folder / "discriminator").state_dict())
        t.G.train()
        t.D.train()
        t.opt_g.load_state_dict(state["opt_g"])
        t.opt_d.load_state_dict(state["opt_d"])
        t.rng.set_state(state["rng"])
        t.iteration, t.elapsed = state["iteration"], state["elapsed"]
        t._recent_d.extend(state["recent_d"])
        t._recent_g.extend(state["recent_g"])
        metrics = folder / "metrics.jsonl"
        if metrics.exists():
            t.history = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
        return t
