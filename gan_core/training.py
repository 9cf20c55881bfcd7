"""The training loop shared by the CLI and the app: `Trainer.step(n)` runs n iterations.

One iteration is the lesson's two phases: D (or the critic, n_critic times) learns real=1 and
fake=0, then G learns through a frozen D with target 1. Every iteration returns its metrics, so
a live page can plot them tick by tick and a CLI can log them. What to build for each model comes
from gan_core.registry; the settings and their bounds from gan_core.config.
"""
import copy
import json
import math
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from . import distributed, equalized, halves, layout, losses, one_channel, progressive, registry, vae
from .compute import GLOBAL_RNG
from .config import ConfigError, TrainConfig
from .data import to_uint8
from .device import adam, fast_dtype, get_device, tensors_of
from .hub import load_model, save_model
from .messages import GanError, Message



def build_models(cfg: TrainConfig, channels: int, img_size: int):
    """(generator, discriminator/critic) for the config and the data's shape, as the registry builds them."""
    return registry.get(cfg.model).build(cfg, channels, img_size)


def as_trained(net: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.nn.Module:
    """`net` in the layout and layers the Trainer computes it in (in place; returns `net`): channels_last where the
    config asks, with the layers that keep it so (gan_core.layout), and on a CPU the convolutions into one channel
    as a matmul (gan_core.one_channel). The same weights; a saved network made so computes as the run did, bit
    for bit."""
    if cfg.channels_last:
        net = layout.channels_last(net)
    if torch.device(device).type == "cpu":
        net = one_channel.swap_in(net)
    return net


def _join(parts: list[torch.Tensor]) -> torch.Tensor:
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def lazy_turn(update: int, every: int) -> bool:
    """Lazy regularisation (StyleGAN2's): a penalty on every `every`-th update (counted from 0), weighted
    `every` times so that on average it pulls as hard; the double backward, the costliest part, runs 1/every as often."""
    return update % every == 0


LOSS_KEYS = ("d_loss", "g_loss", "loss")  # a GAN's two losses, or the VAE's -ELBO: NaN/inf in any stops a run
TURNS = ("d", "g")  # a half-step: D's turn alone, or G's
# The settings the trainer reads from its config at every iteration, so they may change during a run (the page's
# live widgets, bench_tune's late trials); the rest build the networks, optimizers or streams at the start.
LIVE_SETTINGS = ("lr_g", "lr_d", "batch_size", "n_critic", "balance", "d_acc_max", "g_success_max", "ema", "r1",
                 "r1_every", "g_class_weight", "real_label", "clip", "gp_weight", "gp_every")
BN_STATISTICS = ("running_mean", "running_var")  # the buffers the EMA generator averages (the rest it copies)


@dataclass(frozen=True)
class Probe:
    """A fixed batch to judge D on before and after a half-step: the same real images and noise every time."""
    x: torch.Tensor                # (N, C, H, W) real images
    z: torch.Tensor                # (N, z_dim) noise for G
    y: torch.Tensor | None = None  # (N,) the digits a conditional G draws


@dataclass(frozen=True)
class Verdict:
    """D's outputs on a Probe. scale "probability": D(x), the chance "real" (a BCE model's D); "critic": a
    WGAN critic's raw score, with no fixed zero or range (only differences mean something)."""
    real: np.ndarray   # (N,) D on the real images
    fake: np.ndarray   # (N,) D on G's images of the noise
    scale: str

    @property
    def gap(self) -> float:
        """How far apart D holds real and fake: its D step widens this, G's step narrows it."""
        return float(self.real.mean() - self.fake.mean())


@dataclass(frozen=True)
class HalfStep:
    """What one turn moved: the Verdict on the same Probe before and after it, and the iteration's metrics."""
    turn: str          # "d" or "g"
    step: int          # the iteration it was
    before: Verdict
    after: Verdict
    metrics: dict


class Trainer:
    """Owns G, D, their optimizers, the data tensor, the metric history and the snapshots."""

    def __init__(self, cfg: TrainConfig, data: torch.Tensor, device=None, labels: torch.Tensor | None = None,
                 sync_bn: bool = False, as_ranks: int = 1):
        """Under torchrun (a process group, see gan_core.distributed) `data` is this rank's shard, G and D
        train inside DDP, `sync_bn` makes BatchNorm use the global batch, and each rank draws
        batch_size / world_size samples and noise from its own stream (seed + rank).

        `as_ranks` > 1 (tests, one process): draw each batch as that many ranks would, from their
        shards of `data` with their seeds, joined: the single-process twin of a torchrun run."""
        self.cfg = cfg
        self.device = torch.device(device) if device else get_device()
        if data.ndim != 4:
            raise GanError("train.bad_data_shape", shape=tuple(data.shape))
        if cfg.num_classes and (labels is None or len(labels) != len(data)):
            raise GanError("train.needs_labels", model=cfg.model)
        self.labels = torch.as_tensor(labels).long().to(self.device) if cfg.num_classes else None
        self.rank, self.world = distributed.rank(), distributed.world_size()
        if cfg.batch_size % (self.world * as_ranks):  # --batch-size is the global batch
            raise GanError("train.batch_not_divisible", batch=cfg.batch_size, world=self.world * as_ranks)
        with GLOBAL_RNG:  # another run starting at once on another compute thread would draw from it too
            torch.manual_seed(cfg.seed)  # the same initial weights on every rank (DDP broadcasts rank 0's anyway)
            self.G, self.D = build_models(cfg, data.shape[1], data.shape[-1])
            for net, turn in ((self.G, "g"), (self.D, "d")):
                if self._equalized(turn):  # ProGAN's: He init here, a rate per layer in the optimizers below
                    equalized.he_init(net)
        self.G.to(self.device)
        self.D.to(self.device)
        # cfg.bf16 asks for bfloat16 autocast; it runs where the hardware has it (device.fast_dtype)
        self.bf16 = cfg.bf16 and fast_dtype(self.device) is not None
        self.G, self.D = as_trained(self.G, cfg, self.device), as_trained(self.D, cfg, self.device)
        if sync_bn and distributed.active():
            self.G, self.D = distributed.sync_batchnorm(self.G), distributed.sync_batchnorm(self.D)
        sgd = cfg.optimizer == "sgd"
        g_params, d_params = (self._params(net, lr, 2 if sgd else 1, turn) for net, lr, turn in ((self.G, cfg.lr_g, "g"),
                                                                                               (self.D, cfg.lr_d, "d")))
        if sgd:  # the slides' alternative: plain gradient steps, no momentum
            self.opt_g = torch.optim.SGD(g_params, lr=cfg.lr_g)
            self.opt_d = torch.optim.SGD(d_params, lr=cfg.lr_d)
        elif cfg.loss == "wgan-clip":  # the WGAN paper: momentum-based optimizers destabilise clipping
            self.opt_g = torch.optim.RMSprop(g_params, lr=cfg.lr_g)
            self.opt_d = torch.optim.RMSprop(d_params, lr=cfg.lr_d)
        else:
            self.opt_g = adam(g_params, cfg.lr_g, (cfg.beta1, cfg.beta2))
            self.opt_d = adam(d_params, cfg.lr_d, (cfg.beta1, cfg.beta2))
        # Samples come from an EMA of G's weights when enabled: it averages out the oscillation
        # of the two-player game, so digits look clean many steps earlier.
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if cfg.ema else None
        # What the training passes call: G and D (D's heads as one forward), under torchrun in DDP.
        # self.G and self.D stay the plain modules: what is saved, sampled and averaged into the EMA.
        self._heads = distributed.Heads(self.D)
        # D judges real and fake in one forward (_judge_both), its batch norms each half's own (gan_core.halves)
        self._halves = halves.halve_norms(self.D)
        self._joint = halves.joinable(self.D)
        self._g, self._d = self.G, self._heads
        if distributed.active():
            self._g, self._d = distributed.wrap(self.G, self.device), distributed.wrap(self._heads, self.device)
            torch.manual_seed(cfg.seed + self.rank)  # dropout masks and the penalty's mixing differ per rank
        self.data = data.to(self.device)
        self.rng = torch.Generator().manual_seed(cfg.seed + self.rank)
        self._streams = self._make_streams(as_ranks)
        self._epochs = [torch.empty(0, dtype=torch.long) for _ in self._streams]  # batching="epochs": what is left
        self.fixed_labels: torch.Tensor | None = None  # digits a conditional G draws in the snapshots (None: in turn)
        self.fixed_z = self.G.sample_z(cfg.n_fixed, torch.Generator().manual_seed(cfg.seed + 1), self.device)
        self.spec = registry.get(cfg.model)
        self.iteration = 0
        self._grow()                 # progressive growing: the schedule's first resolution
        self.elapsed = 0.0           # seconds spent inside step()
        self.history: list[dict] = []
        self.snapshots: list[tuple[int, np.ndarray]] = []
        self.snapshot_elapsed = 0.0  # training seconds at the newest snapshot (it shows G as it was then)
        self.error: Message | None = None  # set when a loss turns NaN/inf; the run stops
        self._recent_d = deque(maxlen=cfg.balance_window)
        self._recent_g = deque(maxlen=cfg.balance_window)

    # ------------------------------------------------------------------ public
    def step(self, n: int = 1, turn: str | None = None) -> list[dict]:
        """Run up to n iterations; stops early (and sets .error) if a loss turns NaN/inf.
        `turn` "d" or "g": only that net's turn runs (the other is logged as skipped), see half_step()."""
        if turn not in (None, *TURNS):
            raise ValueError(f"turn must be one of {TURNS} or None, not {turn!r}")
        out = []
        for _ in range(n):
            if self.error:
                break
            t0 = time.perf_counter()
            m = self._iteration(turn)
            self.elapsed += time.perf_counter() - t0
            self.iteration += 1
            m["step"] = self.iteration
            self._grow()
            if self.iteration == self.cfg.lr_cut_at:
                self._apply_rates()
            if not all(math.isfinite(m[k]) for k in LOSS_KEYS if k in m):
                self.error = (Message("train.diverged", {"step": self.iteration, "d_loss": m["d_loss"], "g_loss": m["g_loss"]})
                              if self.spec.adversarial else Message("train.diverged_vae", {"step": self.iteration, "loss": m["loss"]}))
                m["diverged"] = True
            self.history.append(m)
            out.append(m)
            if self.error is None and self.iteration % self.cfg.snapshot_every == 0 and self.rank == 0:
                self.snapshot()
        return out

    def run(self, steps: int | None = None, seconds: float | None = None, chunk: int = 10, on_chunk=None) -> None:
        """Train until the run has `steps` iterations or `seconds` more of training time have
        passed, whichever comes first, or a loss diverges. `on_chunk(metrics)` is called after every
        `chunk` iterations: where a front end draws progress or writes a checkpoint."""
        if steps is None and seconds is None:
            raise ValueError("give steps, seconds or both")
        start = self.elapsed
        while not self.error:
            out_of_time = seconds is not None and self.elapsed - start >= seconds
            if seconds is not None and self.world > 1:  # every rank stops at the same step, or one waits forever
                out_of_time = distributed.agree(out_of_time, self.device)
            if (steps is not None and self.iteration >= steps) or out_of_time:
                break
            done = self.step(chunk if steps is None else min(chunk, steps - self.iteration))
            if on_chunk is not None:
                on_chunk(done)

    # ------------------------------------------------------------------ half-steps (GAN Lab's idea)
    def half_step(self, turn: str, probe: Probe) -> HalfStep:
        """One turn alone, judged on a fixed batch before and after: "d" is D's turn of one iteration (one
        update; a WGAN critic's n_critic), "g" is G's (one update through a frozen D). It counts as an
        iteration whose other turn is skipped (skipped_g / skipped_d in its metrics), so the step counter,
        the curves and the snapshots show it; the balance rule does not apply to it."""
        before = self.judge(probe)
        done = self.step(1, turn=turn)
        return HalfStep(turn, self.iteration, before, self.judge(probe), done[0] if done else {})

    def make_probe(self, n: int = 64, seed: int | None = None) -> Probe:
        """n real images and n noise vectors from a stream of their own (default seed + 3): drawing them
        changes nothing in the training's random stream. A conditional G gets each digit in turn."""
        gen = torch.Generator().manual_seed(self.cfg.seed + 3 if seed is None else seed)
        idx = torch.randperm(len(self.data), generator=gen)[:n].to(self.data.device)
        z = self.G.sample_z(len(idx), gen, self.device)
        y = torch.arange(len(idx), device=self.device) % self.cfg.num_classes if self.cfg.num_classes else None
        return Probe(self.data[idx], z, y)

    @torch.no_grad()
    def judge(self, probe: Probe) -> Verdict:
        """D on the probe's real images and on G's images of its noise. G is the trained G (not its EMA):
        the one D plays against. Both nets run as in a training step (BatchNorm on this batch), but with
        dropout off and BatchNorm's running statistics put back: judging is repeatable and changes nothing."""
        with self._judging(), self._autocast():
            fake = self.G(probe.z, probe.y) if probe.y is not None else self.G(probe.z)
            real_s, fake_s = self.D(probe.x).float(), self.D(fake).float()
        family = losses.BCE_FAMILIES.get(self.cfg.loss)
        if family is not None and family.real_above == 0.0:  # a logit: D(x) is its sigmoid
            real_s, fake_s = real_s.sigmoid(), fake_s.sigmoid()
        scale = "critic" if family is None else "probability"
        return Verdict(real_s.cpu().numpy(), fake_s.cpu().numpy(), scale)

    @contextmanager
    def _judging(self):
        nets = (self.G, self.D)
        modes = [(m, m.training) for net in nets for m in net.modules()]
        buffers = [(b, b.clone()) for net in nets for b in net.buffers()]
        for net in nets:
            net.train()
            for m in net.modules():
                if isinstance(m, (torch.nn.Dropout, torch.nn.Dropout2d)):
                    m.eval()
        try:
            yield
        finally:
            for b, saved in buffers:
                b.copy_(saved)
            for m, mode in modes:
                m.training = mode

    @property
    def generator(self) -> torch.nn.Module:
        """The generator to sample from and to export: the EMA copy when enabled, else G."""
        return self.G_ema if self.G_ema is not None else self.G

    @torch.no_grad()
    def fixed_samples(self, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The generator on the fixed noise, in eval mode (running BN statistics), as float on the CPU.

        A conditional generator draws `labels` (N,), default self.fixed_labels (None: each digit in
        turn); N may pass n_fixed (a row per digit), the extra noise seeded. An unconditional G ignores them."""
        G = self.generator
        labels = self.fixed_labels if labels is None else labels
        was_training = G.training
        G.eval()
        if labels is None or not getattr(G, "num_classes", 0):
            x = G(self.fixed_z).float().cpu()
        else:
            x = G(self._fixed_noise(len(labels)), labels.to(self.device)).float().cpu()
        G.train(was_training)
        return x

    def _fixed_noise(self, n: int) -> torch.Tensor:
        """The first n fixed noise vectors; past n_fixed, more from a seed of their own (the same every call)."""
        extra = n - len(self.fixed_z)
        if extra <= 0:
            return self.fixed_z[:n]
        return torch.cat([self.fixed_z, self.G.sample_z(extra, torch.Generator().manual_seed(self.cfg.seed + 2), self.device)])

    @property
    def local_batch(self) -> int:
        """Each stream's share of the batch, from the config now (the page changes batch_size during a run), larger
        after the cut where the run's lr_cut_batch says so."""
        return self.cfg.batch_at(self.iteration) // (self.world * len(self._streams))

    def change_settings(self, **settings) -> None:
        """Change LIVE_SETTINGS of a running trainer (checked as a config's), in a copy of its config: the rates
        through the optimizers, an EMA that was off made from G as it is now."""
        if set(settings) - set(LIVE_SETTINGS):
            raise ValueError(f"not changeable during a run: {sorted(set(settings) - set(LIVE_SETTINGS))}")
        self.cfg = replace(self.cfg, **settings)
        if settings.get("ema"):
            self.enable_ema(settings["ema"])
        self.set_lr(self.cfg.lr_g, self.cfg.lr_d)

    def enable_ema(self, decay: float) -> None:
        """Start (or retune) the EMA of G from its current weights, e.g. when resuming a run without one. In a copy
        of the config, as change_settings: the config handed in may be another run's too."""
        if not 0.0 < decay < 1.0:
            raise ConfigError("config.ema_range", value=decay)
        if self.G_ema is None:
            self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.cfg = replace(self.cfg, ema=decay)

    @torch.no_grad()
    def _update_ema(self) -> None:
        # warm-up: a short effective horizon at first so early samples are not stuck near the init
        decay = min(self.cfg.ema, (1 + self.iteration) / (10 + self.iteration))
        ema_p, p = list(self.G_ema.parameters()), list(self.G.parameters())
        torch._foreach_lerp_(ema_p, p, 1 - decay)
        # Batch norm's statistics are averaged like the weights: G's own describe G's last ~10 steps, not
        # the averaged weights (measured: Frechet at 30 s 15.3 against 17.9, docs/benchmarks.md). Every
        # other buffer (the step counter, progressive growing's stage and fade-in) is G's, copied.
        for (name, eb), b in zip(self.G_ema.named_buffers(), self.G.buffers()):
            if name.endswith(BN_STATISTICS):
                eb.lerp_(b, 1 - decay)
            else:
                eb.copy_(b)

    def snapshot(self) -> None:
        """The fixed samples now; a second snapshot at the same step (new labels) replaces the first."""
        frame = (self.iteration, to_uint8(self.fixed_samples()))
        self.snapshot_elapsed = self.elapsed
        if self.snapshots and self.snapshots[-1][0] == self.iteration:
            self.snapshots[-1] = frame
            return
        self.snapshots.append(frame)
        if len(self.snapshots) > self.cfg.max_snapshots:  # thin out, keep the whole run's span
            self.snapshots = self.snapshots[::2]

    def close(self) -> None:
        """Leave DDP (before distributed.cleanup()): the wrappers go, G and D stay usable on this process."""
        self._g, self._d = self.G, self._heads

    def _equalized(self, turn: str) -> bool:
        """Whether G's ("g") or D's ("d") layers train with ProGAN's equalized learning rate (cfg.equalized_lr)."""
        return self.cfg.equalized_lr in (turn, "both")

    def _params(self, net, lr: float, power: int, turn: str):
        """What an optimizer of `net` updates: its parameters, or if it is equalized, groups with a rate per layer."""
        return equalized.param_groups(net, lr, power) if self._equalized(turn) else net.parameters()

    def _g_optimizer_state(self, saved: dict) -> dict:
        """G's saved optimizer state, for this G. A progressive run saved with its G's old biases
        (progressive.LEGACY_BIASES) held their moments too: dropped, the other parameters' renumbered."""
        saved_count = sum(len(group["params"]) for group in saved["param_groups"])
        if saved_count == len(list(self.G.parameters())) or not isinstance(self.G, progressive.ProgressiveGenerator):
            return saved  # (where it does not fit, load_state_dict says so)
        old, new = self._optimizer_order(progressive.with_legacy_biases(self.G)), self._optimizer_order(self.G)
        renumber = {i: new.index(name) for i, name in enumerate(old) if name in new}
        return {"state": {renumber[i]: s for i, s in saved["state"].items() if i in renumber},
                "param_groups": [{**group, "params": [renumber[i] for i in group["params"] if i in renumber]}
                                 for group in saved["param_groups"]]}

    def _optimizer_order(self, G) -> list[str]:
        """G's parameter names in the order its optimizer numbers them (group after group)."""
        names = {id(p): name for name, p in G.named_parameters()}
        return [names[id(p)] for p in tensors_of(list(self._params(G, self.cfg.lr_g, 1, "g")))]

    @property
    def steps_per_second(self) -> float:
        return self.iteration / self.elapsed if self.elapsed else 0.0

    def set_lr(self, lr_g: float, lr_d: float) -> None:
        """Change the learning rates of a running trainer (the optimizers keep their moments)."""
        self.cfg.lr_g, self.cfg.lr_d = float(lr_g), float(lr_d)
        self._apply_rates()

    @property
    def rates_cut(self) -> bool:
        """Whether the run's rate cut has come: it has one (cfg.lr_cut_at) and has made that many iterations."""
        return self.cfg.cut_has_come(self.iteration)

    @property
    def rate_factors(self) -> tuple[float, float]:
        """What G's and D's rates are multiplied by now: cfg.rate_cuts once the rates are cut (rates_cut), else 1.
        Why: a GAN at a fixed rate keeps circling near its equilibrium; smaller last steps settle it (measured on
        the default with D's layer norm and a cut at 2,200: Frechet 8.6 at 2 minutes on 2 cores, against the preset's
        12.8; and on the default's preset, G's steps cut and D kept quick read closer to MNIST than both cut;
        docs/benchmarks.md)."""
        return self.cfg.rate_cuts if self.rates_cut else (1.0, 1.0)

    def _apply_rates(self) -> None:
        """The optimizers' rates from the config and the schedule (an equalized run's layers keep their ratios)."""
        for opt, lr, factor in zip((self.opt_g, self.opt_d), (self.cfg.lr_g, self.cfg.lr_d), self.rate_factors):
            for group in opt.param_groups:
                group["lr"] = lr * group.get("lr_scale", 1.0) * factor

    # ------------------------------------------------------------------ one iteration
    def _make_streams(self, as_ranks: int) -> list[tuple]:
        """(data, labels, rng) of each rank whose batches this process draws: its own, or with as_ranks > 1
        those of ranks 0 .. as_ranks - 1 of a torchrun run (their shards, seeds seed + r)."""
        if as_ranks == 1:
            return [(self.data, self.labels, self.rng)]
        if distributed.active():
            raise ValueError("as_ranks is the one-process twin of a torchrun run; not inside one")
        def cut(t, r):
            return None if t is None else distributed.shard(t, r, as_ranks)
        return [(cut(self.data, r), cut(self.labels, r), self.rng if r == 0 else torch.Generator().manual_seed(self.cfg.seed + r))
                for r in range(as_ranks)]

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A random real batch (B, C, H, W) in [-1, 1] and its labels (B,) when the model is conditional.
        Under torchrun B is this rank's share of the global batch, drawn from its shard."""
        xs, ys = [], []
        for i, (data, labels, rng) in enumerate(self._streams):
            idx = self._indices(i, data.shape[0], rng).to(data.device)
            xs.append(data[idx])
            ys.append(labels[idx] if labels is not None else None)
        x = _join(xs)
        x = x.contiguous(memory_format=torch.channels_last) if self.cfg.channels_last else x
        return x, (_join(ys) if self.labels is not None else None)

    def _indices(self, stream: int, n: int, rng: torch.Generator) -> torch.Tensor:
        """local_batch indices into a stream's n examples: drawn at random, or (batching="epochs") the next
        ones of a shuffled epoch, a permutation used up in order and drawn anew each epoch: every example
        once per epoch, like a shuffling DataLoader (a batch that ends an epoch tops up from the next)."""
        if self.cfg.batching != "epochs":
            return torch.randint(n, (self.local_batch,), generator=rng)
        while len(self._epochs[stream]) < self.local_batch:
            self._epochs[stream] = torch.cat([self._epochs[stream], torch.randperm(n, generator=rng)])
        idx, self._epochs[stream] = self._epochs[stream][:self.local_batch], self._epochs[stream][self.local_batch:]
        return idx

    def _z(self) -> torch.Tensor:
        return _join([self.G.sample_z(self.local_batch, rng, self.device) for *_, rng in self._streams])

    def _y_fake(self) -> torch.Tensor:
        """The digits G is asked to draw (conditional models)."""
        return _join([torch.randint(self.cfg.num_classes, (self.local_batch,), generator=rng)
                      for *_, rng in self._streams]).to(self.device)

    def _eps(self) -> torch.Tensor | None:
        """The gradient penalty's mixing weights: on one process from torch's global generator (None);
        under torchrun (and its one-process twin) from each rank's stream, reproducible per rank."""
        if self.world == 1 and len(self._streams) == 1:
            return None
        return _join([torch.rand(self.local_batch, generator=rng) for *_, rng in self._streams])

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def _skip(self) -> tuple[bool, bool]:
        """The balance rule: skip the turn of the net whose recent score is above its threshold."""
        cfg = self.cfg
        if not cfg.balance or len(self._recent_d) < cfg.balance_window:
            return False, False
        skip_d = sum(self._recent_d) / len(self._recent_d) > cfg.d_acc_max
        skip_g = sum(self._recent_g) / len(self._recent_g) > cfg.g_success_max
        return skip_d, skip_g and not skip_d

    def _grow(self) -> None:
        """Progressive growing: G, D (and the EMA) at the schedule's resolution and fade-in for the next iteration."""
        if isinstance(self.G, progressive.Growing):
            res, alpha = progressive.schedule(self.cfg.phase_steps, self.iteration)
            for net in (self.G, self.D, self.G_ema):
                if net is not None:
                    net.set_resolution(res, alpha)

    def _iteration(self, turn: str | None = None) -> dict:
        if not self.spec.adversarial:
            return self._vae_iteration()
        grown = {"res": self.G.resolution, "alpha": float(self.G.alpha)} if isinstance(self.G, progressive.Growing) else {}
        skip_d, skip_g = self._skip() if turn is None else (turn == "g", turn == "d")
        gan_step = self._bce_iteration if self.cfg.loss in losses.BCE_FAMILIES else self._wgan_iteration
        stats = gan_step(skip_d, skip_g)
        stats = torch.stack([s.float().to(self.device) for s in stats])  # (the NaN slot is made on the CPU)
        if self.world > 1:  # the ranks' mean: every rank logs, and decides (balance rule, NaN), on the same numbers
            stats = distributed.mean(stats)
        m = dict(zip(("d_loss", "g_loss", "d_real_acc", "d_fake_acc", "g_success", "wasserstein"),
                     stats.tolist()))  # one device sync per iteration
        m["skipped_d"], m["skipped_g"] = int(skip_d), int(skip_g)
        self._recent_d.append((m["d_real_acc"] + m["d_fake_acc"]) / 2)
        self._recent_g.append(m["g_success"])
        if self.G_ema is not None:
            self._update_ema()
        return {**m, **grown}

    def _vae_iteration(self) -> dict:
        """One VAE iteration (not a GAN: no turns, no discriminator): encode a real batch, draw z by the
        reparameterisation trick, decode, and step encoder and decoder together on -ELBO = rec + KL."""
        x, _ = self._batch()                         # x: (B, C, 28, 28) real images
        with self._autocast():                       # self._d: the encoder; self._g: the decoder
            rec, kl = vae.elbo_terms(self._d, self._g, x, self._z())
        loss = rec + kl
        self.opt_g.zero_grad(set_to_none=True)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.opt_d.step()
        stats = torch.stack([loss.detach(), rec.detach(), kl.detach()]).float()
        if self.world > 1:
            stats = distributed.mean(stats)
        if self.G_ema is not None:
            self._update_ema()
        return dict(zip(("loss", "rec", "kl"), stats.tolist()))

    def _update(self, opt, loss, skip: bool) -> None:
        if skip:
            return
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def _judge(self, x: torch.Tensor, classes: bool = False, frozen: bool = False, twin: bool = False):
        """D's real/fake logit (B,), with `classes` its digit logits (B, num_classes) too (AC-GAN), and with
        `twin` its twin head's (TAC-GAN; else None).
        frozen (G's turn): the plain D, never its DDP wrapper: D learns nothing there, nothing to synchronise."""
        out = (self._heads if frozen else self._d)(x, classes, twin)
        if not classes:
            return out.float(), None, None
        out = [o.float() for o in out]
        return out[0], out[1], out[2] if twin else None

    def _judge_both(self, x: torch.Tensor, fake: torch.Tensor, classes: bool = False, twin: bool = False):
        """D's turn: _judge of a real batch (its digit logits with `classes`) and of a fake one (its twin head's
        with `twin`). Where no layer of D mixes the samples of a batch but its batch norms, which normalise each
        half alone (gan_core.halves), both go through one forward of the two batches together: the same sums per
        sample, one pass (fewer, larger kernels) where there were two."""
        if not self._joint:
            return self._judge(x, classes=classes), self._judge(fake, classes=twin, twin=twin)
        n = len(x)
        with halves.split(self._halves):
            logit, cls, tw = self._judge(torch.cat([x, fake.to(x.dtype)]), classes=classes or twin, twin=twin)
        return ((logit[:n], cls[:n] if classes else None, None),
                (logit[n:], cls[n:] if twin else None, tw[n:] if twin else None))

    def _bce_iteration(self, skip_d: bool, skip_g: bool):
        """One iteration of the standard GAN (non-saturating BCE), as the lesson draws it.

        A conditional model (AC-GAN) also asks D which digit it sees: D learns the real digits'
        labels, and G is rewarded when D reads its fake as the digit it was asked to draw.
        The loss family (losses.BCE_FAMILIES): D's logits with BCEWithLogits, or the slides' D
        probabilities with nn.BCELoss, D's loss halved and fresh noise for G's turn.
        """
        G, D, cfg = self._g, self.D, self.cfg       # G: in DDP under torchrun; D: the plain module
        bce = losses.BCE_FAMILIES[cfg.loss]          # D's outputs below are logits, or the slides' probabilities
        x, y_real = self._batch()                    # x: (B, C, H, W) real images; y_real: (B,) or None
        z = self._z()                                # z: (B, z_dim) noise
        cond = cfg.num_classes > 0
        y_fake = self._y_fake() if cond else None
        twin = cond and cfg.d_twin                   # TAC-GAN: D's twin head learns which digit each fake was asked to be
        with self._autocast():
            fake = G(z, y_fake) if cond else G(z)    # (B, C, H, W), generated once per iteration
            # (1) Update D: real -> 1, fake -> 0 (fake detached: this phase must not move G)
            with torch.set_grad_enabled(not skip_d):
                (real_logit, real_cls, _), (fake_logit, _, fake_twin) = self._judge_both(x, fake.detach(), cond, twin)
                d_loss = bce.d_loss(real_logit, fake_logit, cfg.real_label)
                if cond:
                    d_loss = d_loss + losses.class_loss(real_cls, y_real)
                if twin:
                    d_loss = d_loss + losses.class_loss(fake_twin, y_fake)
        self._update(self.opt_d, d_loss, skip_d)
        # (2) Update G: through a frozen D, fake -> 1 (and, conditional, "this is the digit I was asked for")
        D.requires_grad_(False)
        with self._autocast(), torch.set_grad_enabled(not skip_g):
            if bce.fresh_noise:                      # the slides: G's turn draws new noise
                fake = G(self._z(), y_fake) if cond else G(self._z())
            g_logit, g_cls, g_twin = self._judge(fake, classes=cond, frozen=True, twin=twin)
            g_loss = bce.g_loss(g_logit)
            if cond:
                g_loss = g_loss + cfg.g_class_weight * losses.class_loss(g_cls, y_fake)
            if twin:  # ... and keep the twin head unsure: each digit drawn in every way the real ones are
                g_loss = g_loss - cfg.g_class_weight * losses.class_loss(g_twin, y_fake)
        self._update(self.opt_g, g_loss, skip_g)
        D.requires_grad_(True)
        if cfg.uses_r1 and not skip_d and lazy_turn(self.iteration, cfg.r1_every):
            self._r1_step()
        # what the page plots: D right on real, D right on fake, G fooling D (a logit > 0, a probability > 0.5: "real")
        cut = bce.real_above
        return (d_loss.detach(), g_loss.detach(), (real_logit > cut).float().mean(), (fake_logit < cut).float().mean(),
                (g_logit > cut).float().mean(), torch.tensor(float("nan")))

    def _r1_step(self) -> None:
        """R1's lazy turn (StyleGAN2's D regularisation): a batch of real digits of its own and a D step of
        its own, every r1_every-th iteration, weighted r1_every times so that it pulls as hard on average."""
        cfg = self.cfg
        x, _ = self._batch()
        x = x.detach().requires_grad_(True)
        heads = cfg.num_classes > 0  # the AC-GAN's (and twin's) heads: through the forward as in D's own turn
        with self._autocast():
            outs = self._judge(x, classes=heads, twin=heads and cfg.d_twin)
        penalty = losses.r1_penalty(outs[0], x, cfg.r1 * cfg.r1_every)
        # + 0 x D's outputs, as StyleGAN2-ADA's R1: the score's bias and the digit heads have no say in a
        # gradient over x, yet under torchrun DDP waits for a gradient of every weight a forward used
        unheard = sum(o.sum() for o in outs if o is not None) * 0
        self._update(self.opt_d, penalty + unheard, skip=False)

    def _wgan_iteration(self, skip_d: bool, skip_g: bool):
        """One WGAN iteration: n_critic critic updates (clipped or gradient-penalised), then one G update."""
        cfg, G, D = self.cfg, self._g, self.D  # G: in DDP under torchrun; the critic's turn calls self._d (in DDP)
        # (1) Update the critic: real scores up, fake scores down
        n = cfg.n_critic if not skip_d else 1
        for i in range(n):
            x, _ = self._batch()
            # The last critic update's fakes are G's turn's too (as the BCE iteration's): one G pass fewer.
            with torch.set_grad_enabled(i == n - 1 and not skip_g), self._autocast():
                fake = G(self._z())
            with torch.set_grad_enabled(not skip_d):
                with self._autocast():
                    (real_s, _, _), (fake_s, _, _) = self._judge_both(x, fake.detach())
                d_loss = losses.wgan_d_loss(real_s, fake_s)
                if cfg.loss == "wgan-gp" and not skip_d and lazy_turn(self.iteration * cfg.n_critic + i, cfg.gp_every):
                    # its double backward runs through DDP too
                    d_loss = d_loss + losses.gradient_penalty(self._d, x, fake.detach().to(x.dtype), cfg.gp_weight * cfg.gp_every,
                                                              self._eps())
            self._update(self.opt_d, d_loss, skip_d)
            if cfg.loss == "wgan-clip" and not skip_d:
                losses.clip_weights(D, cfg.clip)
        # (2) Update G through a frozen critic: the scores of its fakes (the last critic update's) up
        D.requires_grad_(False)
        with self._autocast(), torch.set_grad_enabled(not skip_g):
            g_scores = D(fake).float()
            g_loss = losses.wgan_g_loss(g_scores)
        self._update(self.opt_g, g_loss, skip_g)
        D.requires_grad_(True)
        # A critic's scores have no fixed zero, so "accuracy" is judged against the midpoint
        # between its mean real and mean fake score.
        real_s, fake_s = real_s.detach(), fake_s.detach()
        mid = (real_s.mean() + fake_s.mean()) / 2
        return (d_loss.detach(), g_loss.detach(), (real_s > mid).float().mean(), (fake_s < mid).float().mean(),
                (g_scores.detach() > mid).float().mean(), real_s.mean() - fake_s.mean())

    # ------------------------------------------------------------------ save / resume
    @property
    def second_folder(self) -> str:
        """Where a run folder keeps the second network: "discriminator" (a critic too) or the VAE's "encoder"."""
        return "discriminator" if self.spec.adversarial else "encoder"

    def save(self, folder, card: str | None = None) -> Path:
        """folder/ = loadable generator (HF folder) + discriminator/ + trainer_state.pt + metrics.jsonl.
        Under torchrun rank 0 alone writes (the plain modules, as on one process); the others return."""
        folder = Path(folder)
        if self.rank != 0:
            return folder
        save_model(self.generator, folder, card)
        save_model(self.D, folder / self.second_folder)
        torch.save({"config": asdict(self.cfg), "iteration": self.iteration, "elapsed": self.elapsed,
                    "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                    "rng": self.rng.get_state(), "recent_d": list(self._recent_d), "recent_g": list(self._recent_g),
                    "g_raw": {k: v.cpu() for k, v in self.G.state_dict().items()}, "world_size": self.world,
                    "epochs": [e.clone() for e in self._epochs]},
                   folder / "trainer_state.pt")
        with open(folder / "metrics.jsonl", "w") as f:
            for m in self.history:
                f.write(json.dumps(m) + "\n")
        return folder

    @classmethod
    def resume(cls, folder, data: torch.Tensor, device=None, labels=None, sync_bn: bool = False) -> "Trainer":
        """Continue a run written by save(); weights come from safetensors, state with weights_only.
        On any number of processes: a run saved by 2 ranks resumes on 1 and the other way round (the
        global batch stays; every rank reads the folder, so on several machines it must be on each)."""
        folder = Path(folder)
        state = torch.load(folder / "trainer_state.pt", map_location="cpu", weights_only=True)
        t = cls(TrainConfig.from_dict(state["config"]), data, device, labels, sync_bn=sync_bn)
        t.saved_world = state.get("world_size", 1)
        exported = load_model(folder).state_dict()  # the EMA weights when EMA is on
        t.G.load_state_dict(state.get("g_raw", exported))
        if t.G_ema is not None:
            t.G_ema.load_state_dict(exported)
        t.D.load_state_dict(load_model(folder / t.second_folder).state_dict())
        t.G.train()
        t.D.train()
        for opt, saved in ((t.opt_g, t._g_optimizer_state(state["opt_g"])), (t.opt_d, state["opt_d"])):
            _load_keeping_kernel(opt, saved)
        if t.rank == 0:
            t.rng.set_state(state["rng"])  # rank 0's stream is saved; the others start a new one, reproducibly
            if len(state.get("epochs", ())) == len(t._epochs) and t.saved_world == t.world:
                t._epochs = list(state["epochs"])  # batching="epochs": the rest of the current epoch
        else:
            t.rng.manual_seed(t.cfg.seed + t.rank + 1_000_003 * state["iteration"])
        t.iteration, t.elapsed = state["iteration"], state["elapsed"]
        t._grow()
        t._recent_d.extend(state["recent_d"])
        t._recent_g.extend(state["recent_g"])
        metrics = folder / "metrics.jsonl"
        if metrics.exists():
            t.history = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
        return t


def _load_keeping_kernel(opt: torch.optim.Optimizer, saved: dict) -> None:
    """An optimizer's saved state, on the kernel this Trainer chose: load_state_dict takes every setting of the
    saved groups, so a run saved before Adam's fused kernel (2026-11-30) resumed on the per-tensor loop. Set in
    the saved groups before loading, so that load_state_dict also moves Adam's step counts where the kernel wants them."""
    kernel = {k: opt.defaults[k] for k in ("fused", "foreach") if k in opt.defaults}
    opt.load_state_dict({**saved, "param_groups": [{**group, **kernel} for group in saved["param_groups"]]})


def warm_up(data: torch.Tensor, labels: torch.Tensor | None = None, model: str = registry.DEFAULT_MODEL,
            steps: int = 2) -> float:
    """Train `steps` iterations of `model` on `data` and throw the run away; returns the seconds.

    A process's first run pays for more than its steps: torch's first optimizer imports
    torch._dynamo (sympy with it), and oneDNN builds its kernels on the first step. Measured on
    2 cores: 0.8 s and 124 MB, where the next run builds in 5 ms and adds nothing. A server warms up
    when it starts, so the first Start of a class does not wait for it.
    oneDNN's kernels are per shape: where the preset's batch grows at its cut (lr_cut_batch), the last
    step takes the grown batch, so a run past its cut builds nothing either (~10 MB once per process,
    docs/benchmarks.md).
    """
    began = time.perf_counter()
    cfg = TrainConfig.preset(model)
    if cfg.batch_at(cfg.lr_cut_at) > cfg.batch_size:  # its batch grows at its cut: the cut before the last step
        cfg = replace(cfg, lr_cut_at=max(steps - 1, 1))
    Trainer(cfg, data, labels=labels).step(steps)  # (an unconditional model's Trainer ignores labels)
    return time.perf_counter() - began
