"""One browser session's training run: the Trainer plus ticks, caps and the live-vs-reset rules.

No Streamlit in here, so the whole behaviour (adaptive tick size, divergence, step cap, which
setting may change under a running trainer) is testable with plain pytest. The page keeps one
TrainSession per browser session in st.session_state and calls tick() from a fragment.
"""
import math
import threading
import time
from collections import deque
from dataclasses import replace

import numpy as np
import torch

from gan_core import registry
from gan_core.compute import ComputeRuntime
from gan_core.data import to_uint8
from gan_core.messages import GanError, Message, as_message
from gan_core.pipelines import digit_labels
from gan_core.training import TrainConfig, Trainer

# The models this page offers (the registry's digit models for the training page), the default first.
PAGE_MODELS = registry.offered("train", data="digits")
# Settings a running trainer can take on the fly; every other field builds different networks or
# a different random stream, so changing it needs a fresh run (the page asks before resetting).
LIVE_FIELDS = ("lr_g", "lr_d", "batch_size", "n_critic", "balance", "d_acc_max", "g_success_max")
METRIC_KEYS = ("step", "d_loss", "g_loss", "d_real_acc", "d_fake_acc", "g_success", "wasserstein",
               "skipped_d", "skipped_g")


def default_config(model: str = registry.DEFAULT_MODEL) -> TrainConfig:
    return TrainConfig.preset(model)


class TrainSession:
    """The trainer of one browser session and everything the page shows about it."""

    max_steps = 20_000         # per session: keeps memory (history, snapshots) and CPU share bounded
    tick_seconds = 0.6         # training time per tick; the rest of a <=1 s tick is drawing
    max_k = 2000
    loss_limit = 1e6           # |loss| beyond this is divergence even while still finite (BCE/WGAN stay far below)
    score_every_s = 4.0        # mode-collapse meter: classifier on score_n samples, not every tick
    score_n = 500
    # While other sessions queue for the compute thread, a reading is gathered over several ticks,
    # score_chunk samples each: all 500 at once held every other class's tick back ~0.4 s.
    score_chunk = 100

    def __init__(self, data: torch.Tensor, cfg: TrainConfig | None = None, device=None,
                 labels: torch.Tensor | None = None, runtime: ComputeRuntime | None = None):
        self.data = data
        # The app's compute thread (see gan_core.compute); None trains in the calling thread (headless use).
        self.runtime = runtime
        self.labels = labels  # digit labels: only the conditional model (cdcgan) trains on them
        self.device = device
        self.cfg = cfg or default_config()   # what the widgets ask for
        self.template = self.cfg             # source of the fields no widget shows (betas, clip...)
        # Streamlit's fast reruns can start a new script thread while the old one is still inside
        # tick(): the lock keeps two threads from training (or resetting) the same model at once.
        self._lock = threading.Lock()
        self.draw = "mixed"  # what a conditional model's live grid draws (see set_draw); kept across resets
        self._real: tuple | None = None  # (key, uint8 images) of the real batch beside the fakes
        self.reset()

    # ------------------------------------------------------------------ lifecycle
    def reset(self) -> None:
        with self._lock:
            self._reset()

    def _reset(self) -> None:
        self.trainer: Trainer | None = None
        self.start_cfg: TrainConfig | None = None   # the settings the run began with (the JSON download)
        self.running = False
        self.step_requested = False
        self.error: Message | None = None
        self.k = 1
        self._sec_per_step: float | None = None
        self._warmup = True
        self._score_s = 0.0                         # last cost of a mode-collapse reading
        self.tick_walls: deque = deque(maxlen=200)
        self.wall = 0.0                             # wall seconds spent in tick()
        self.columns = {k: [] for k in METRIC_KEYS}
        self.scores: dict | None = None
        self.scores_step = 0
        self._last_score = 0.0
        self._score_parts: list[tuple[torch.Tensor, torch.Tensor]] = []  # a reading in progress
        self.changes: list[tuple[int, str, object, object]] = []
        self.memo = None

    def _ensure_trainer(self) -> Trainer:
        if self.trainer is None:
            self.start_cfg = replace(self.cfg)
            labels = self.labels if self.cfg.num_classes else None
            self.trainer = Trainer(replace(self.cfg), self.data, self.device, labels=labels)
            self.trainer.fixed_labels = self._draw_labels(self.trainer)
            self.trainer.snapshot()  # step 0: the timeline and GIF start from pure noise
            self._last_score = time.perf_counter()  # first reading after score_every_s, not in tick one
        return self.trainer

    def start(self) -> None:
        if self.error or self.capped:
            return
        self._ensure_trainer()
        self.running = True

    def pause(self) -> None:
        self.running = False

    def request_step(self) -> None:
        if not (self.error or self.capped):
            self._ensure_trainer()
            self.step_requested = True

    @property
    def capped(self) -> bool:
        return self.trainer is not None and self.trainer.iteration >= self.max_steps

    @property
    def status(self) -> str:
        if self.error:
            return "diverged"
        if self.trainer is None:
            return "idle"
        if self.capped:
            return "capped"
        return "running" if self.running else "paused"

    # ------------------------------------------------------------------ settings
    def update_config(self, desired: TrainConfig) -> list[str]:
        """Take the widgets' config; apply the live fields to the running trainer.

        Returns the fields that differ from the running trainer but need a Reset to apply
        (the run keeps its old values until then), so nothing is ever silently destroyed. While
        any such field is pending, the live fields wait too: switching the model selector to
        WGAN-GP must not pour WGAN-GP's learning rates into a running DCGAN.
        """
        self.cfg = desired
        tr = self.trainer
        if tr is None:
            return []
        pending = [f for f in vars(desired) if f not in LIVE_FIELDS and getattr(desired, f) != getattr(tr.cfg, f)]
        if pending:  # the widgets describe another run (e.g. another model's preset): leave this one alone
            return pending
        for name in LIVE_FIELDS:
            old, new = getattr(tr.cfg, name), getattr(desired, name)
            if old != new:
                self.changes.append((tr.iteration, name, old, new))
                if name not in ("lr_g", "lr_d"):
                    setattr(tr.cfg, name, new)  # read by the trainer at every iteration
        if (tr.cfg.lr_g, tr.cfg.lr_d) != (desired.lr_g, desired.lr_d):
            tr.set_lr(desired.lr_g, desired.lr_d)
        return []

    # ------------------------------------------------------------------ one tick
    def tick(self) -> int:
        """Train K steps (K sized so this takes ~tick_seconds), take a snapshot, maybe score.

        Returns the number of steps run. Any failure becomes .error (the page shows it with a
        Reset button); nothing propagates to Streamlit as a traceback. A tick already running in
        another script thread makes this one a no-op (returns 0).
        """
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            return self._compute(self._tick)
        finally:
            self._lock.release()

    def _tick(self) -> int:
        self.step_requested = False
        if self.error or self.capped:
            self.running = False
            return 0
        t0 = time.perf_counter()
        try:
            tr = self._ensure_trainer()
            # sessions sharing the compute thread (queued, or ticking in the last seconds): each tick
            # takes a smaller share (so every page stays live) and the classifier reads less often
            share = self.runtime.share() if self.runtime else 1
            score_due = bool(self._score_parts) or time.perf_counter() - self._last_score > self.score_every_s * share
            k = self.k
            if self._sec_per_step:
                k = min(k, max(1, int(self.tick_seconds / share / self._sec_per_step)))
                if score_due:  # leave room for the classifier in this tick's budget
                    k -= int(self._score_s / self._sec_per_step)
            n = max(1, min(k, self.max_steps - tr.iteration))
            e0 = tr.elapsed
            new = tr.step(n)
            self._adapt_k((tr.elapsed - e0) / max(len(new), 1))
            for m in new:
                for key in METRIC_KEYS:
                    self.columns[key].append(m.get(key, math.nan))
            if tr.error:
                self.error = tr.error
            elif new and max(abs(new[-1]["d_loss"]), abs(new[-1]["g_loss"])) > self.loss_limit:
                m = new[-1]
                self.error = Message("train.diverged_limit", {"step": m["step"], "d_loss": m["d_loss"],
                                                              "g_loss": m["g_loss"], "limit": self.loss_limit})
            else:
                if not tr.snapshots or tr.snapshots[-1][0] != tr.iteration:
                    tr.snapshot()  # the live grid; the trainer thins old snapshots past max_snapshots
                if score_due or self.capped:
                    t_score = time.perf_counter()
                    self._score_part(self.score_n if share == 1 or self.capped else self.score_chunk)
                    self._score_s = time.perf_counter() - t_score
        except Exception as e:  # noqa: BLE001 - a classroom page shows the reason, never a traceback
            self.error = as_message(e) if isinstance(e, GanError) else Message(
                "train.failed", {"kind": type(e).__name__, "detail": str(e)[:200]})
            new = []
        if self.error or self.capped:
            self.running = False
        dt = time.perf_counter() - t0
        self.wall += dt
        self.tick_walls.append(dt)
        return len(new)

    def _adapt_k(self, sec_per_step: float) -> None:
        """Size the next tick from a smoothed step time, so a tick stays near tick_seconds."""
        if sec_per_step <= 0:
            return
        if self._warmup:  # the first step pays for allocations and lazy init: not a measure of speed
            self._warmup = False
            return
        s = self._sec_per_step
        self._sec_per_step = sec_per_step if s is None else 0.5 * s + 0.5 * sec_per_step
        self.k = int(min(self.max_k, max(1, self.tick_seconds / self._sec_per_step)))

    def _score_part(self, n: int) -> dict | None:
        """Classify up to n more of the reading's score_n samples; score once all are in.

        Each part has its own seed (and, for the conditional G, classes in turn), so a reading taken
        in parts is as balanced as one taken at once; its parts come from generators a few steps apart."""
        from gan_core.metrics import score_features, scores_from_features
        if self.trainer is None or self.error:
            return None
        done = sum(len(p) for _, p in self._score_parts)
        n = min(n, self.score_n - done)
        x = self.trainer.generator.generate(n, seed=12345 + done)
        if not torch.isfinite(x).all():
            self._score_parts = []
            return None
        self._score_parts.append(score_features(x))
        if done + n < self.score_n:
            return None
        feats, probs = (torch.cat(t) for t in zip(*self._score_parts))
        self._score_parts = []
        self.scores = scores_from_features(feats, probs)
        self.scores_step = self.trainer.iteration
        self._last_score = time.perf_counter()
        return self.scores

    # ------------------------------------------------------------------ "now draw a 7"
    def set_draw(self, draw) -> None:
        """What a conditional model's live grid draws: a digit 0-9, "rows" (a row per digit), "random" or
        "mixed" (each digit in turn). The snapshots take it from the next one on (one per tick while
        running); a paused run's newest snapshot is redrawn at once: a forward pass, no training."""
        self.draw = draw
        tr = self.trainer
        if tr is None or not tr.cfg.num_classes:
            return
        labels = self._draw_labels(tr)
        if (labels is None and tr.fixed_labels is None) or (
                labels is not None and tr.fixed_labels is not None and torch.equal(labels, tr.fixed_labels)):
            return
        tr.fixed_labels = labels
        if not self.running and not self.error and self._lock.acquire(blocking=False):
            try:
                self._compute(tr.snapshot)  # same step: replaces the newest snapshot
            finally:
                self._lock.release()

    def _draw_labels(self, tr: Trainer) -> torch.Tensor | None:
        if not tr.cfg.num_classes:
            return None
        return digit_labels(self.draw, tr.cfg.n_fixed, tr.cfg.num_classes, seed=tr.cfg.seed)

    def real_grid_images(self) -> np.ndarray | None:
        """uint8 real digits, as many as the newest fake snapshot, to show beside it: for a conditional
        model the very digits the fakes are asked for, else a random batch. Indexed from the shared
        training tensor with the run's seed (so they hold still while the fakes change); no training work."""
        tr = self.trainer
        if tr is None or not tr.snapshots:
            return None
        n = len(tr.snapshots[-1][1])
        want = None
        if tr.cfg.num_classes and self.labels is not None:
            want = tr.fixed_labels if tr.fixed_labels is not None else torch.arange(n) % tr.cfg.num_classes
            n = len(want)  # the labels of the next snapshot, if it is one behind
        key = (n, tr.cfg.seed, None if want is None else tuple(want.tolist()))
        if self._real is None or self._real[0] != key:
            order = torch.randperm(len(self.data), generator=torch.Generator().manual_seed(tr.cfg.seed))
            if want is None:
                idx = order[:n]
            else:
                labels = torch.as_tensor(self.labels)[order]
                idx = torch.empty(n, dtype=torch.long)
                for c in want.unique().tolist():
                    where = (want == c).nonzero().squeeze(1)
                    idx[where] = order[(labels == c).nonzero().squeeze(1)[:len(where)]]
            self._real = (key, to_uint8(self.data[idx]))
        return self._real[1]

    # ------------------------------------------------------------------ views
    def arrays(self) -> dict:
        return {k: np.asarray(v, dtype=float) for k, v in self.columns.items()}

    def latest_grid_images(self) -> np.ndarray | None:
        """uint8 (64,28,28) of the newest snapshot (G on the fixed noise)."""
        if self.trainer is None or not self.trainer.snapshots:
            return None
        return self.trainer.snapshots[-1][1]

    def memorization_check(self, train: torch.Tensor, n: int = 6, k: int = 3) -> dict | None:
        """Nearest training images for the first n fixed-noise samples (see gan_core.memorization)."""
        from gan_core.memorization import nearest_images
        if self.trainer is None or self.error:
            return None
        x = self._compute(self.trainer.fixed_samples)[:n]
        dist, idx = self._compute(nearest_images, x, train, k=k)  # a pass over all 60k training digits
        self.memo = {"step": self.trainer.iteration, "samples": x, "dist": dist, "idx": idx}
        return self.memo

    def _compute(self, fn, *args, **kwargs):
        """fn on the app's compute thread when there is one, else here (headless)."""
        return self.runtime.run(fn, *args, user=self, **kwargs) if self.runtime else fn(*args, **kwargs)
