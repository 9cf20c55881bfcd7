"""One browser session's training run: the Trainer plus ticks, caps and the live-vs-reset rules.

No Streamlit in here, so the whole behaviour (adaptive tick size, divergence, step cap, which
setting may change under a running trainer) is testable with plain pytest. The page keeps one
TrainSession per browser session in st.session_state and calls tick() from a fragment.
"""
import math
import threading
import time
import weakref
from collections import deque
from dataclasses import replace

import numpy as np
import torch

from gan_core import registry
from gan_core.admission import Admission, Ticket
from gan_core.compute import ComputeRuntime, ThreadTrial, default_starved_wait, give_back_memory_soon
from gan_core.data import to_uint8
from gan_core.messages import GanError, Message, as_message
from gan_core.pipelines import digit_labels
from gan_core.training import HalfStep, Probe, TrainConfig, Trainer

# The models this page offers (the registry's digit models for the training page), the default first.
PAGE_MODELS = registry.offered("train", data="digits")
# Settings a running trainer can take on the fly; every other field builds different networks or
# a different random stream, so changing it needs a fresh run (the page asks before resetting).
LIVE_FIELDS = (  # the page's live widgets, a choice among training.LIVE_SETTINGS
    "lr_g", "lr_d", "batch_size", "n_critic", "balance", "d_acc_max", "g_success_max")
METRIC_KEYS = ("step", "d_loss", "g_loss", "d_real_acc", "d_fake_acc", "g_success", "wasserstein",
               "skipped_d", "skipped_g", "loss", "rec", "kl", "res", "alpha")  # VAE: -ELBO, rec, KL; progressive: res, alpha


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
    # The timeline's snapshots (and so the GIF's frames) of one session stay under this, whatever an
    # uploaded run config asks (n_fixed 256 x max_snapshots 10,000 would be 2 GB of digits).
    snapshot_budget_bytes = 16 * 2**20
    probe_n = 64               # the half-steps' fixed batch: 64 real digits, 64 noise vectors
    # Training seconds between two snapshots (G on the fixed noise: the live grid, the timeline): every
    # tick of a lone run (0.6 s), every second tick of a class sharing a compute thread two ways. Why: in a
    # class, a snapshot after each 0.3 s tick cost a seventh of the server's training (py-spy).
    snapshot_every_s = 0.45

    def __init__(self, data: torch.Tensor, cfg: TrainConfig | None = None, device=None,
                 labels: torch.Tensor | None = None, runtime: ComputeRuntime | None = None,
                 admission: Admission | None = None):
        self.data = data
        # The app's compute thread (see gan_core.compute); None trains in the calling thread (headless use).
        self.runtime = runtime
        # The server's seats for trainings (see gan_core.admission); None: always a seat (headless use).
        self.admission = admission
        self.ticket: Ticket | None = None   # while queued: place in line and the wait
        self.notice: str | None = None      # why a run stopped on its own: "turn_over" or "abandoned"
        self.labels = labels  # digit labels: only the conditional model (cdcgan) trains on them
        self.data_name, self.data_kind = "mnist", "digits"  # what self.data is (see set_data, gan_core.datasets)
        self.next_data = None  # data picked while a run exists: it trains from the next Reset on
        self.device = device
        self.cfg = cfg or default_config()   # what the widgets ask for
        self.template = self.cfg             # source of the fields no widget shows (betas, clip...)
        # Streamlit's fast reruns can start a new script thread while the old one is still inside
        # tick(): the lock keeps two threads from training (or resetting) the same model at once.
        self._lock = threading.Lock()
        self.draw = "mixed"  # what a conditional model's live grid draws (see set_draw); kept across resets
        self.versus = False  # "VAE vs GAN": a VAE trains beside the GAN for the same time (see set_versus); kept too
        self._real: tuple | None = None  # (key, uint8 images) of the real batch beside the fakes
        self.resets = 0
        self.reset()
        if runtime is not None:  # a server's session: when it is forgotten, its run's memory goes back to the OS
            weakref.finalize(self, give_back_memory_soon)

    # ------------------------------------------------------------------ data
    def set_data(self, data) -> bool:
        """Train on `data` (a pipelines.TrainingData): at once when no run exists, else from the next
        Reset, so picking other data never destroys a run. True when it applies now."""
        self.next_data = data
        if self.trainer is not None:
            return False
        self._take_data()
        return True

    def _take_data(self) -> None:
        if self.next_data is not None:
            d, self.next_data = self.next_data, None
            self.data, self.labels, self.data_name, self.data_kind, self._real = d.images, d.labels, d.name, d.kind, None

    @property
    def models(self) -> tuple[str, ...]:
        """The registry's training-page models for the data picked (the run's or the next one), at its size."""
        d = self.next_data
        kind, size = (d.kind, d.images.shape[-1]) if d is not None else (self.data_kind, self.data.shape[-1])
        return tuple(m for m in registry.offered("train", data=kind) if size in registry.get(m).sizes)

    # ------------------------------------------------------------------ lifecycle
    def reset(self) -> None:
        self._leave()
        with self._lock:
            self._reset()
            self.resets += 1  # a class watching this run sees it end (ui.classroom)

    def _reset(self) -> None:
        self._take_data()
        self.trainer: Trainer | None = None
        self.start_cfg: TrainConfig | None = None   # the settings the run began with (the JSON download)
        self.running = False
        self.step_requested = False
        self.error: Message | None = None
        self.k = 1
        self._sec_per_step: float | None = None
        self._warmup = True
        # one intra-op thread while the cores are taken (the browser on the same laptop), where measured faster
        self.thread_trial = ThreadTrial(default_starved_wait())
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
        self.figure_cache: tuple | None = None  # (*key, figures) shared by every page drawing this run
        self.histogram_cache: tuple | None = None  # (scores, language, the meter's figure), shared the same way
        self.grid_cache: tuple | None = None       # (id, (snapshot, [JPEG])): the live grid, shared the same way
        self.pair_cache: tuple | None = None       # the same for the real/fake pair's two grids
        self.probe: Probe | None = None             # the fixed batch the half-steps are judged on
        self.half: HalfStep | None = None           # what the last D step / G step moved
        self.rival: Trainer | None = None           # the VAE racing the GAN (versus on)
        self.versus_report: dict | None = None      # its last measurement (ui.train_versus)
        self.half_steps = 0                         # how many (a notebook of the run says it does not replay them)

    def _ensure_trainer(self) -> Trainer:
        if self.trainer is None:
            self.start_cfg = replace(self.cfg)
            labels = self.labels if self.cfg.num_classes else None
            per_snapshot = self.cfg.n_fixed * self.data[0].numel()  # uint8 pixels of one grid
            cfg = replace(self.cfg, max_snapshots=max(2, min(self.cfg.max_snapshots,
                                                             self.snapshot_budget_bytes // per_snapshot)))
            self.trainer = Trainer(cfg, self.data, self.device, labels=labels)
            self.trainer.fixed_labels = self._draw_labels(self.trainer)
            self.trainer.snapshot()  # step 0: the timeline and GIF start from pure noise
            self._start_rival()
            self._last_score = time.perf_counter()  # first reading after score_every_s, not in tick one
        return self.trainer

    def start(self) -> None:
        """Start (or resume) now if a seat is free, else join the line; poll() starts it later."""
        if self.error or self.capped:
            return
        self.notice = None
        self._ensure_trainer()
        self.poll()

    def poll(self) -> bool:
        """A queued run asks again (the page does, every tick); True when it just got its seat."""
        if self.running or self.error or self.capped:
            return False
        self.ticket = self.admission.ask(self) if self.admission else Ticket("run")
        self.running = self.ticket.state == "run"
        if self.running:
            self.ticket = None
        return self.running

    def pause(self) -> None:
        """Stop after this tick; the grid shows the step the run stopped at (waits for a running tick)."""
        self.running = False
        self._leave()
        with self._lock:
            if self._snapshot_stale():
                self._compute(self.trainer.snapshot)

    def set_shared(self, on: bool) -> None:
        """Sharing as the class run (ui.classroom) takes this run out of the seats: the whole class
        watches it, so it never queues or ends its turn. Unshared, a running run asks for a seat again."""
        if self.admission is None:
            return
        self.admission.pin(self, on)
        if self.running and not on:
            self.running = False
            self.poll()

    def _leave(self) -> None:
        self.ticket = None
        if self.admission:
            self.admission.leave(self)

    def hibernate(self, notice: str = "abandoned") -> None:
        """Stop a run whose tab is gone (or whose turn ended) and keep only what a returning student
        needs: the weights, the curves and the newest sample grid; snapshots, readings in progress and
        cached real digits go. Called from another session's tick on a compute thread: it never
        waits for this session's lock (held by a tick of its own that waits for a compute thread), and a
        session in the middle of a tick is not gone anyway."""
        self.running, self.ticket, self.notice = False, None, notice
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._score_parts, self.memo, self._real = [], None, None
            if self.trainer is not None and len(self.trainer.snapshots) > 1:
                self.trainer.snapshots[:] = self.trainer.snapshots[-1:]
        finally:
            self._lock.release()

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
        if self.ticket is not None:
            return "queued"
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
        pending = [f for f in vars(desired) if f not in LIVE_FIELDS and f != "max_snapshots"  # capped by the session itself
                   and getattr(desired, f) != getattr(tr.cfg, f)]
        if pending:  # the widgets describe another run (e.g. another model's preset): leave this one alone
            return pending
        changed = {name: getattr(desired, name) for name in LIVE_FIELDS if getattr(desired, name) != getattr(tr.cfg, name)}
        for name, new in changed.items():
            self.changes.append((tr.iteration, name, getattr(tr.cfg, name), new))
        if changed:
            tr.change_settings(**changed)  # the one way a running trainer takes new settings (its config, its optimizers)
        return []

    # ------------------------------------------------------------------ one tick
    def tick(self) -> int:
        """Train K steps (K sized so this takes ~tick_seconds), take a snapshot, maybe score.

        Returns the number of steps run. Any failure becomes .error (the page shows it with a
        Reset button); nothing propagates to Streamlit as a traceback. A tick already running in
        another script thread makes this one a no-op (returns 0), as does a run neither running
        (start()) nor asked for a step (request_step()): a Pause that lands while the page's
        fragment is on its way to tick() stops the run at the step the page shows.
        """
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            return self._compute(self._tick, threads=self.thread_trial.threads())
        finally:
            self._lock.release()

    def _tick(self) -> int:
        stepping, self.step_requested = self.step_requested, False
        if self.error or self.capped:
            self.running = False
            return 0
        if not (self.running or stepping):  # paused after the page looked, before this tick got a thread
            return 0
        if self.running and self.admission:
            self.admission.seen(self)
            for other in self.admission.reap():  # tabs closed without a Pause: free their seats
                if other is not self:
                    other.hibernate()
            if not self.admission.holding(self):  # this tab was away long enough to lose its seat
                self.running, self.notice = False, "abandoned"
                return 0
            if self.admission.turn_over(self):
                self.running, self.notice = False, "turn_over"
                if self._snapshot_stale():
                    self.trainer.snapshot()
                self.admission.leave(self)
                return 0
        t0 = time.perf_counter()
        try:
            tr = self._ensure_trainer()
            # sessions sharing the compute threads (queued, or ticking in the last seconds): each tick
            # takes a smaller share (so every page stays live) and the classifier reads less often
            share = self.runtime.share() if self.runtime else 1
            share *= 2 if self.rival is not None else 1  # the racing VAE takes half of this session's time
            score_due = self.data_kind == "digits" and (  # the digit classifier's meter knows MNIST only
                bool(self._score_parts) or time.perf_counter() - self._last_score > self.score_every_s * share)
            k = self.k
            if self._sec_per_step:
                k = min(k, max(1, int(self.tick_seconds / share / self._sec_per_step)))
                if score_due:  # leave room for the classifier in this tick's budget
                    k -= int(self._score_s / self._sec_per_step)
            n = max(1, min(k, self.max_steps - tr.iteration))
            e0, begun = tr.elapsed, self.thread_trial.begin()
            new = tr.step(n)
            self.thread_trial.end(begun, len(new))
            self._adapt_k((tr.elapsed - e0) / max(len(new), 1))
            if self._record(new):
                self._race(2 * self.tick_seconds / share)
                if score_due or self.capped:
                    t_score = time.perf_counter()
                    self._score_part(self.score_n if share == 1 or self.capped else self.score_chunk)
                    self._score_s = time.perf_counter() - t_score
        except Exception as e:  # noqa: BLE001 - a classroom page shows the reason, never a traceback
            self._failed(e)
            new = []
        if self.error or self.capped:
            self.running = False
            self._leave()
        dt = time.perf_counter() - t0
        self.wall += dt
        self.tick_walls.append(dt)
        return len(new)

    def _record(self, new: list[dict]) -> bool:
        """New iterations into the curves' columns, then the stop rules; False if the run must stop.
        A healthy run gets a snapshot of this step (the live grid; the trainer thins old ones)."""
        tr = self.trainer
        for m in new:
            for key in METRIC_KEYS:
                self.columns[key].append(m.get(key, math.nan))
        if tr.error:
            self.error = tr.error
        elif new and max(abs(new[-1].get("d_loss", 0.0)), abs(new[-1].get("g_loss", 0.0))) > self.loss_limit:
            m = new[-1]
            self.error = Message("train.diverged_limit", {"step": m["step"], "d_loss": m["d_loss"],
                                                          "g_loss": m["g_loss"], "limit": self.loss_limit})
        elif self._snapshot_stale() and (not self.running or self.capped or not tr.snapshots
                                         or tr.elapsed - tr.snapshot_elapsed >= self.snapshot_every_s):
            self.trainer.snapshot()  # a Step, the run's last step, or snapshot_every_s of training since the last
        return self.error is None

    def _snapshot_stale(self) -> bool:
        tr = self.trainer
        return tr is not None and tr.error is None and (not tr.snapshots or tr.snapshots[-1][0] != tr.iteration)

    def _failed(self, e: Exception) -> None:
        self.error = as_message(e) if isinstance(e, GanError) else Message(
            "train.failed", {"kind": type(e).__name__, "detail": str(e)[:200]})

    # ------------------------------------------------------------------ one turn at a time
    def half_step(self, turn: str) -> None:
        """The "D step" / "G step" buttons: pause the run (a teacher's click means "stop here and show me
        one turn"), then one turn alone on the compute thread, judged on the session's fixed batch
        (.probe: the same real digits and noise every time) before and after; the result in .half.
        Waits for a tick still running (under a second) instead of dropping the click."""
        self.pause()
        if self.error or self.capped:
            return
        with self._lock:
            try:
                tr = self._ensure_trainer()
                if self.probe is None:
                    self.probe = self._compute(tr.make_probe, self.probe_n)
                self.half = self._compute(tr.half_step, turn, self.probe)
                self.half_steps += 1
                self._record([self.half.metrics] if self.half.metrics else [])
            except Exception as e:  # noqa: BLE001 - as in tick(): a message, never a traceback
                self._failed(e)

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

    # ------------------------------------------------------------------ VAE vs GAN
    def set_versus(self, on: bool) -> None:
        """Race a VAE beside the GAN: it trains on the same data for the same training time, catching up
        after each tick of the GAN (from its start if switched on mid-run). Only beside a GAN."""
        self.versus = bool(on)
        if not self.versus:
            self.rival, self.versus_report = None, None
        elif self.trainer is not None:
            self._start_rival()

    def _start_rival(self) -> None:
        tr = self.trainer
        if not self.versus or self.rival is not None or tr is None or not tr.spec.adversarial:
            return
        cfg = TrainConfig.preset("vae", seed=tr.cfg.seed, n_fixed=tr.cfg.n_fixed)
        self.rival = self._compute(Trainer, cfg, self.data, self.device)
        self.rival.snapshot()

    def _race(self, budget_s: float) -> None:
        """The VAE trains until it has trained as long as the GAN (at most budget_s now), then snapshots."""
        from gan_core.versus import catch_up
        rival = self.rival
        if rival is None or rival.error or self.trainer is None:
            return
        catch_up(rival, self.trainer.elapsed, budget_s)
        if rival.snapshots[-1][0] != rival.iteration:
            rival.snapshot()

    # ------------------------------------------------------------------ views
    def arrays(self) -> dict:
        """The curves' columns, cut to a common length: a page drawing while a tick appends (the class
        watching the teacher's run) may catch one column a step ahead of the others."""
        n = min(len(v) for v in self.columns.values())
        return {k: np.asarray(v[:n], dtype=float) for k, v in self.columns.items()}

    @property
    def snapshot_seconds(self) -> float:
        """The trainer's training seconds at its newest snapshot (the grid shows G as it was then, up to
        snapshot_every_s of training before now)."""
        tr = self.trainer
        return tr.snapshot_elapsed if tr is not None else 0.0

    def latest_snapshot(self) -> tuple[int, np.ndarray] | None:
        """(step, uint8 (64,28,28)) of the newest snapshot (G on the fixed noise). Read once: a class
        watching this run draws it from other threads while the teacher may reset it."""
        tr = self.trainer
        return tr.snapshots[-1] if tr is not None and tr.snapshots else None

    def latest_grid_images(self) -> np.ndarray | None:
        """uint8 (64,28,28) of the newest snapshot."""
        snap = self.latest_snapshot()
        return None if snap is None else snap[1]

    def judge_drawing(self, drawing: np.ndarray) -> dict | None:
        """The current D's verdict on a learner's digit (a gan_core.drawing.to_mnist() image) beside its
        verdicts on the real and fake grids shown above, on the compute thread (never inside a training
        step); None while there is no D to ask (no run yet, or a model without one)."""
        from gan_core.drawing import D_OUTPUT, judge_digit
        tr = self.trainer
        if tr is None or tr.cfg.loss not in D_OUTPUT:
            return None
        return self._compute(judge_digit, tr.D, tr.cfg.loss, drawing, self.real_grid_images(), self.latest_grid_images())

    def memorization_check(self, train: torch.Tensor, n: int = 6, k: int = 3) -> dict | None:
        """Nearest training images for the first n fixed-noise samples (see gan_core.memorization)."""
        from gan_core.memorization import nearest_images
        if self.trainer is None or self.error:
            return None
        x = self._compute(self.trainer.fixed_samples)[:n]
        dist, idx = self._compute(nearest_images, x, train, k=k)  # a pass over all 60k training digits
        self.memo = {"step": self.trainer.iteration, "samples": x, "dist": dist, "idx": idx}
        return self.memo

    def _compute(self, fn, *args, threads: int | None = None, **kwargs):
        """fn on one of the app's compute threads (on at most `threads` intra-op threads) when there are,
        else here (headless)."""
        return self.runtime.run(fn, *args, user=self, threads=threads, **kwargs) if self.runtime else fn(*args, **kwargs)
