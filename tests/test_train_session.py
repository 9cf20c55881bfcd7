"""The per-session run object behind the training page, without Streamlit."""
import time
from dataclasses import replace

import pytest
import torch

from gan_core.training import TrainConfig
from ui.train_session import PAGE_MODELS, TrainSession


@pytest.fixture(scope="module")
def data():
    return torch.rand(256, 1, 28, 28) * 2 - 1


def small(model="mlp", **kw):
    return TrainConfig.preset(model, batch_size=8, width=16, z_dim=8, snapshot_every=5, **kw)


def session(data, cfg=None):
    s = TrainSession(data, cfg or small(), labels=torch.arange(len(data)) % 10)
    s.score_every_s = 1e9  # the classifier is exercised in its own test
    return s


def test_tick_trains_and_snapshots(data):
    s = session(data)
    s.snapshot_every_s = 0.0  # a snapshot after every tick (the spacing has its own test)
    assert s.status == "idle" and s.trainer is None
    s.start()
    assert s.latest_grid_images().shape == (64, 28, 28), "step 0 (noise) opens the timeline"
    n = s.tick()
    assert n == 1 and s.trainer.iteration == 1 and s.status == "running"
    assert [step for step, _ in s.trainer.snapshots] == [0, 1]
    before = s.trainer.iteration
    assert s.tick() == s.trainer.iteration - before
    assert len(s.arrays()["d_loss"]) == s.trainer.iteration


def test_snapshots_follow_training_time_and_the_grid_shows_where_a_run_stopped(data):
    """A class's ticks are short (each a share of the compute thread's time): a snapshot comes after
    snapshot_every_s of training, not after every tick; a Step, a Pause and the run's last step get one."""
    s = session(data, replace(small(), snapshot_every=1_000_000))  # the trainer's own, by step count: off
    s.snapshot_every_s = 1e9  # running ticks never reach it
    s.start()
    for _ in range(3):
        s.tick()
    steps = [step for step, _ in s.trainer.snapshots]
    assert s.trainer.iteration >= 3 and steps == [0], "no snapshot before snapshot_every_s of training"
    s.pause()
    assert s.latest_snapshot()[0] == s.trainer.iteration, "a paused run's grid is the step it stopped at"
    s.pause()
    assert len(s.trainer.snapshots) == 2, "nothing new to draw: no second snapshot"
    paused_at = s.trainer.iteration
    s.request_step()
    s.tick()
    assert s.latest_snapshot()[0] == s.trainer.iteration > paused_at, "a Step (one tick) shows its result"
    s.max_steps = s.trainer.iteration + 2
    s._score_part = lambda n: None  # the cap's final reading has its own test
    s.start()
    while s.running:
        s.tick()
    assert s.capped and s.latest_snapshot()[0] == s.max_steps, "the run's last step is on the grid"
    # a class's ticks: 0.2 s of training each (a clock of our own), a snapshot every 0.45 s: every third tick
    capped_at, s.max_steps, s.snapshot_every_s = s.trainer.iteration, 10_000, 0.45
    tr, real_step = s.trainer, s.trainer.step

    def fixed_time_step(n):
        start, out = tr.elapsed, real_step(n)
        tr.elapsed = start + 0.2
        return out
    tr.step = fixed_time_step
    s.start()
    ticked = []
    for _ in range(7):
        s.tick()
        ticked.append(tr.iteration)
    assert [step for step, _ in tr.snapshots if step > capped_at] == [ticked[2], ticked[5]]


def test_a_tick_that_comes_after_a_pause_trains_nothing(data):
    """The page's fragment looks at .running, then calls tick(); a Pause clicked in between (another
    script thread) must still stop the run at the step the paused page shows."""
    s = session(data)
    s.start()
    s.tick()
    s.pause()
    paused_at = s.trainer.iteration
    assert s.tick() == 0 and s.trainer.iteration == paused_at and s.latest_snapshot()[0] == paused_at
    s.request_step()
    assert s.tick() >= 1 and s.trainer.iteration > paused_at, "a Step still trains one tick"


def test_tick_size_follows_step_time(data):
    s = session(data)
    s._adapt_k(5.0)  # the first (warm-up) step is ignored
    assert s.k == 1
    s._adapt_k(0.01)
    assert abs(s.k - s.tick_seconds / 0.01) <= 1
    s._adapt_k(0.03)  # slower steps: smaller ticks (smoothed: 0.02 s)
    assert abs(s.k - s.tick_seconds / 0.02) <= 1
    for _ in range(40):
        s._adapt_k(1e-9)
    assert s.k == s.max_k, "capped, however fast the steps"


def test_step_cap_stops_the_run(data):
    s = session(data)
    s.max_steps = 5
    s._score_part = lambda n: None  # the final reading is covered elsewhere; the classifier is slow to load
    s.start()
    for _ in range(10):
        s.tick()
    assert s.trainer.iteration == 5 and s.status == "capped" and not s.running
    s.start()
    assert not s.running


def test_nan_weights_stop_with_message_not_exception(data):
    s = session(data)
    s.start()
    s.tick()
    with torch.no_grad():
        for p in s.trainer.G.parameters():
            p.fill_(float("nan"))
    s.tick()
    assert s.status == "diverged" and not s.running and s.error.code == "train.diverged" and "diverged" in str(s.error)
    assert s.tick() == 0
    s.reset()
    assert s.status == "idle" and s.error is None


def test_absurd_learning_rate_stops_as_diverged(data):
    s = session(data, small(lr_g=100.0, lr_d=100.0))
    s.start()
    for _ in range(4):
        s.tick()
    assert s.status == "diverged" and not s.running and s.error.code == "train.diverged_limit" and "Lower the learning rates" in str(s.error)


def test_exceptions_inside_a_tick_become_an_error(data, monkeypatch):
    s = session(data)
    s.start()
    monkeypatch.setattr(s.trainer, "step", lambda n: (_ for _ in ()).throw(RuntimeError("out of memory")))
    s.tick()
    assert s.status == "diverged" and s.error.code == "train.failed" and "out of memory" in str(s.error)


def test_live_fields_apply_and_architecture_fields_wait_for_reset(data):
    s = session(data)
    s.start()
    s.tick()
    pending = s.update_config(replace(s.cfg, lr_g=3e-3, lr_d=5e-4, batch_size=4, balance=True))
    assert pending == []
    assert [g["lr"] for g in s.trainer.opt_g.param_groups] == [3e-3]
    assert [g["lr"] for g in s.trainer.opt_d.param_groups] == [5e-4]
    assert s.trainer.cfg.batch_size == 4 and s.trainer.cfg.balance
    assert {c[1] for c in s.changes} == {"lr_g", "lr_d", "batch_size", "balance"}
    assert s.start_cfg.lr_g == small().lr_g, "the downloadable config keeps the run's start settings"
    pending = s.update_config(replace(s.cfg, seed=7, z_dim=12))
    assert set(pending) == {"seed", "z_dim"}
    assert s.trainer.cfg.seed == 0 and s.trainer.iteration > 0, "the run is kept until Reset"
    pending = s.update_config(replace(s.cfg, lr_g=0.5))
    assert s.trainer.opt_g.param_groups[0]["lr"] == 3e-3, "no live change while a reset is pending"
    s.reset()
    s.start()
    assert s.trainer.cfg.seed == 7 and s.trainer.cfg.z_dim == 12 and s.trainer.cfg.lr_g == 0.5


def test_a_run_config_with_a_rate_cut_cuts_on_the_page_and_a_live_rate_is_cut_too(data):
    """An uploaded run config may carry the CLI's rate cut; the page's rate sliders then set the rates before it."""
    s = session(data, small(lr_g=1e-3, lr_d=2e-3, lr_cut_at=1, lr_cut=0.5))
    s.start()
    assert s.tick() == 1
    assert [g["lr"] for g in s.trainer.opt_g.param_groups] == [5e-4]
    assert [g["lr"] for g in s.trainer.opt_d.param_groups] == [1e-3]
    assert s.update_config(replace(s.cfg, lr_g=4e-3)) == []
    assert [g["lr"] for g in s.trainer.opt_g.param_groups] == [2e-3]


@pytest.mark.parametrize("model", PAGE_MODELS)
def test_every_page_model_ticks(data, model):
    s = session(data, small(model))
    s.request_step()
    assert s.tick() >= 1 and s.error is None
    assert not s.running, "Step runs one tick and does not start the run"


def test_scores_feed_the_mode_collapse_meter(data):
    s = session(data)
    s.score_n, s.score_every_s = 64, 0.0  # a reading due at every tick
    s.start()
    s.tick()
    scores = s.scores
    assert scores["n"] == 64 and len(scores["class_share"]) == 10
    assert sum(scores["class_share"]) == pytest.approx(1.0, abs=1e-3)
    assert s.scores_step == s.trainer.iteration
    # the reading is the classifier on the run's own generator (its seeded samples), not any numbers in range
    from gan_core.metrics import score_features, scores_from_features
    direct = scores_from_features(*score_features(s.trainer.generator.generate(64, seed=12345)))
    assert scores["class_share"] == direct["class_share"] and scores["classes_covered"] == direct["classes_covered"]
    assert scores["confident_share"] == pytest.approx(direct["confident_share"])
    assert scores["frechet"] == pytest.approx(direct["frechet"], rel=1e-6)


def test_a_reading_spreads_over_ticks_while_others_share_the_thread(data, monkeypatch):
    """Alone, a tick takes the whole reading; with other sessions active, score_chunk samples a
    tick, so no tick holds the others back for the whole classifier pass."""
    from gan_core import metrics
    from gan_core.compute import ComputeRuntime
    rt = ComputeRuntime()
    batches = []
    real = metrics.score_features
    monkeypatch.setattr(metrics, "score_features", lambda x: batches.append(x) or real(x))
    cfg = small("cdcgan", num_classes=10)
    alone, shared = session(data, cfg), session(data, cfg)
    alone.runtime = shared.runtime = rt
    for s in (alone, shared):
        s.score_every_s, s.score_n, s.score_chunk = 0.0, 60, 20
        s.start()
    alone.tick()
    assert alone.scores["n"] == 60 and [len(b) for b in batches] == [60]
    batches.clear()
    others = [object() for _ in range(2)]
    readings = []
    for _ in range(3):
        for user in others:
            rt.run(lambda: None, user=user)
        shared.tick()
        readings.append(None if shared.scores is None else shared.scores["n"])
    assert readings == [None, None, 60] and [len(b) for b in batches] == [20, 20, 20]
    assert sum(shared.scores["class_share"]) == pytest.approx(1.0, abs=1e-3)


def test_concurrent_ticks_never_train_the_same_model_twice():
    """Streamlit's fast reruns may call tick() from a second thread while the first is still inside."""
    import threading
    from gan_core.data import mnist_tensor
    from gan_core.training import TrainConfig
    from ui.train_session import TrainSession
    sess = TrainSession(mnist_tensor("test")[:256], TrainConfig.preset("mlp", batch_size=16, width=32), device="cpu")
    sess.start()  # builds the trainer and runs it
    results, started = [], threading.Event()
    real_step = sess.trainer.step

    def slow_step(n):
        started.set()
        threading.Event().wait(0.3)
        return real_step(n)
    sess.trainer.step = slow_step
    t = threading.Thread(target=lambda: results.append(sess.tick()))
    t.start()
    started.wait(5)
    assert sess.tick() == 0  # busy: the second thread does nothing
    t.join()
    assert results[0] >= 1
    sess.reset()  # waits for any running tick, then clears
    assert sess.trainer is None and sess.columns["step"] == []


def test_ticks_train_on_the_compute_thread_and_share_it(data):
    """All sessions' training goes to the app's one compute thread (one OpenMP team, see
    gan_core.compute); while other sessions trained in the last seconds, a tick takes a smaller share."""
    import threading
    import time
    from gan_core.compute import ComputeRuntime
    rt = ComputeRuntime()
    s = session(data)
    s.runtime = rt
    s.start()
    s.tick()
    idents, sizes = [], []
    real_step = s.trainer.step

    def step(n):
        idents.append(threading.get_ident())
        sizes.append(n)
        return real_step(n)
    s.trainer.step = step
    s._sec_per_step, s.k = 0.01, 60  # as if measured: a lone tick trains 60 steps
    s.tick()
    others = [object() for _ in range(3)]  # three other sessions ticked a moment ago
    for user in others:
        rt.run(lambda: None, user=user)
    s._sec_per_step, s.k = 0.01, 60
    s.tick()
    rt.active_window_s = 0.05  # ... and then left
    time.sleep(0.1)
    s._sec_per_step, s.k = 0.01, 60
    s.tick()
    assert idents[0] != threading.get_ident() and len(set(idents)) == 1
    assert rt.run(threading.get_ident) == idents[0]
    assert sizes == [60, 15, 60]
    rt.shutdown()


def test_a_starved_tick_tries_one_thread_and_keeps_it_where_faster(data, monkeypatch):
    """The browser on the same cores (gan_core.compute.ThreadTrial): a tick whose steps' thread waited
    for a CPU over a quarter of their time makes the next tick train on one intra-op thread; that tick
    did its steps faster, so the ones after stay there. A new run starts on all threads again."""
    from gan_core import compute
    from gan_core.compute import ComputeRuntime
    rt = ComputeRuntime()
    s = session(data)
    s.runtime = rt
    s.start()
    s.tick()
    full = torch.get_num_threads()  # (asked through rt from here, this thread would count as a second user)
    if full == 1:
        pytest.skip("a one-CPU machine has nothing to shrink")
    waiting, now, seen = [0.0], [0.0], []
    monkeypatch.setattr(compute, "run_delay_s", lambda: waiting[0])
    # the trial's clock is the fake steps' own: the real step's time, long or short on a busy machine, is not judged
    s.thread_trial = compute.ThreadTrial(s.thread_trial.starved_wait, clock=lambda: now[0])
    real_step = s.trainer.step

    def step(n):  # a step of 100 ms on all threads, 40 ms on one; the thread waits half of it on all
        threads = torch.get_num_threads()
        seen.append(threads)
        out = real_step(n)
        now[0] += n * (0.1 if threads > 1 else 0.04)
        waiting[0] += n * (0.05 if threads > 1 else 0.0)
        return out
    s.trainer.step = step
    for _ in range(3):
        s._sec_per_step, s.k = 0.01, 2  # two steps a tick
        s.tick()
    assert seen == [full, 1, 1]
    s.reset()
    assert s.thread_trial.threads() is None
    rt.shutdown()


def test_a_forgotten_server_session_gives_its_memory_back(data, monkeypatch):
    """When the server forgets a session (its tab closed past the TTL), the allocator's free pages go
    back to the OS: a class's thirty runs must not stay in the server's RSS. Headless sessions (no
    runtime) leave the process's memory alone."""
    from gan_core.compute import ComputeRuntime
    from ui import train_session
    calls = []
    monkeypatch.setattr(train_session, "give_back_memory_soon", lambda: calls.append(1))
    rt = ComputeRuntime()
    try:
        served = TrainSession(data, small(), runtime=rt)
        served.start()
        served.tick()
        headless = TrainSession(data, small())
        del headless
        assert calls == []
        del served
        assert calls == [1], "a forgotten server session trims once"
    finally:
        rt.shutdown()


def test_a_batch_size_changed_during_a_run_is_the_batch_the_trainer_draws(data):
    """The page changes batch_size live (LIVE_FIELDS, a choice among the settings the trainer reads at every
    iteration): the next batches are that size, not the one the run began with."""
    from gan_core.training import LIVE_SETTINGS
    from ui.train_session import LIVE_FIELDS
    assert set(LIVE_FIELDS) <= set(LIVE_SETTINGS)
    s = session(data)
    s.start()
    s.tick()
    assert s.update_config(replace(s.cfg, batch_size=4)) == []
    x, _ = s.trainer._batch()
    assert x.shape[0] == 4 and s.trainer.local_batch == 4
