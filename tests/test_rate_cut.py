"""The run's one-step rate schedule (`lr_cut_at`, `lr_cut`, `lr_cut_d`, `lr_cut_batch`): both rates drop by the factor
(D's by its own where lr_cut_d is set) and the batch grows by its own after exactly that many iterations, never with 0,
through set_lr, equalized groups, a save and resume, and the CLI."""
import json
import time

import pytest
import torch

from gan_core.config import ConfigError
from gan_core.data import mnist_tensor
from gan_core.training import TrainConfig, Trainer
from gan_devkit.cli_run import cli


@pytest.fixture(scope="module")
def data():
    return mnist_tensor("test")[:256]


def trainer(data, model="dcgan", **kw):
    base = dict(batch_size=16, width=8, n_fixed=4, snapshot_every=1000, lr_g=4e-3, lr_d=2e-3)
    return Trainer(TrainConfig.preset(model, **{**base, **kw}), data, device="cpu")


def rates(t):
    return [g["lr"] for g in t.opt_g.param_groups], [g["lr"] for g in t.opt_d.param_groups]


def test_both_rates_drop_by_the_factor_after_exactly_that_many_iterations(data):
    t = trainer(data, lr_cut_at=3, lr_cut=0.25)
    assert t.rate_factors == (1.0, 1.0)
    t.step(2)
    assert rates(t) == ([4e-3], [2e-3])
    t.step(1)
    assert t.rate_factors == (0.25, 0.25)
    assert rates(t) == pytest.approx(([1e-3], [5e-4]))
    t.step(2)  # and it stays cut
    assert rates(t) == pytest.approx(([1e-3], [5e-4]))


def test_zero_never_cuts(data):
    t = trainer(data, lr_cut_at=0, lr_cut=0.25)
    t.step(3)
    assert t.rate_factors == (1.0, 1.0) and rates(t) == ([4e-3], [2e-3])


@pytest.mark.parametrize("cut_d, want_d", [(1.0, 2e-3), (0.5, 1e-3), (0.0, 5e-4)])
def test_d_may_have_a_factor_of_its_own(data, cut_d, want_d):
    """lr_cut_d: D's factor (1 = D keeps its rate, the default's preset); 0 = lr_cut's, as every run saved before
    the setting existed cut both rates."""
    t = trainer(data, lr_cut_at=2, lr_cut=0.25, lr_cut_d=cut_d)
    t.step(1)
    assert rates(t) == ([4e-3], [2e-3])
    t.step(1)
    assert rates(t) == pytest.approx(([1e-3], [want_d]))
    older = json.loads(t.cfg.to_json())
    del older["lr_cut_d"]  # a run config from before lr_cut_d
    assert TrainConfig.from_dict(older).rate_cuts == (0.25, 0.25)


@pytest.mark.parametrize("cut_at, grow, want", [(2, 2, 32), (2, 1, 16), (0, 2, 16)])
def test_the_batch_grows_by_its_factor_after_exactly_that_many_iterations(data, cut_at, grow, want):
    """lr_cut_batch: batch_size times the factor from the cut on (never without a cut); the rates are cut as before.
    The batch the trainer draws, and the one its iteration trains on (G draws that many fakes)."""
    t = trainer(data, lr_cut_at=cut_at, lr_cut_batch=grow)
    seen = []
    t.G.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[0]))
    t.step(2)
    assert t.local_batch == want and t._batch()[0].shape[0] == want
    assert set(seen) == {16}, "the first two iterations draw the batch set"
    seen.clear()
    t.step(1)
    assert set(seen) == {want}
    assert rates(t) == pytest.approx(([1.2e-3], [6e-4]) if cut_at else ([4e-3], [2e-3]))
    t.change_settings(batch_size=8)  # the page's batch field changed during a run: the factor stays on the new batch
    assert t.local_batch == want // 2


def test_a_batch_grown_at_the_cut_stays_within_the_batch_bound():
    """The batch after the cut is a batch too: batch_size x lr_cut_batch may not pass batch_size's own bound, so a
    run config cannot ask for 4 x 1,024 samples a step."""
    assert TrainConfig.preset("dcgan", batch_size=512, lr_cut_at=5, lr_cut_batch=2).batch_at(5) == 1024
    with pytest.raises(ConfigError) as e:
        TrainConfig.preset("dcgan", batch_size=1024, lr_cut_batch=2)
    assert (e.value.code, e.value.params["key"], e.value.params["high"]) == ("config.out_of_range", "lr_cut_batch", 1)


@pytest.mark.parametrize("cut_at, grow", [(0, 3), (4, 1), (4, 3)])
def test_the_digits_a_run_draws_add_up_its_batches(cut_at, grow):
    """samples_in: the batches of a run's first n iterations, summed (the classroom bench's throughput)."""
    cfg = TrainConfig.preset("dcgan", batch_size=16, lr_cut_at=cut_at, lr_cut_batch=grow)
    for n in (0, 3, 4, 5, 9):
        assert cfg.samples_in(n) == sum(cfg.batch_at(i) for i in range(n))
    assert cfg.samples_in(9) == (16 * 9 if grow == 1 or not cut_at else 16 * 4 + 48 * 5)


def test_the_cut_moves_the_weights_less(data):
    """The optimizers read the rates the schedule wrote: the same run, one with the cut from step 1, moves G's
    weights by about the factor less in its next step (Adam's steps scale with the rate)."""
    moved = []
    for cut_at in (0, 1):
        t = trainer(data, lr_cut_at=cut_at, lr_cut=0.1, seed=4)
        t.step(1)
        before = [p.detach().clone() for p in t.G.parameters()]
        t.step(1)
        moved.append(sum((p - b).abs().sum().item() for p, b in zip(t.G.parameters(), before)))
    assert moved[1] == pytest.approx(0.1 * moved[0], rel=0.35)


def test_a_new_rate_after_the_cut_is_cut_too(data):
    t = trainer(data, lr_cut_at=1, lr_cut=0.5)
    t.step(1)
    t.set_lr(0.01, 0.02)
    assert (t.cfg.lr_g, t.cfg.lr_d) == (0.01, 0.02)  # the config keeps the base rates
    assert rates(t) == pytest.approx(([0.005], [0.01]))


def test_equalized_layers_keep_their_ratios_through_the_cut(data):
    t = trainer(data, model="progressive", equalized_lr="both", lr_cut_at=1, lr_cut=0.5, bf16=False)
    t.step(1)
    for opt, lr in ((t.opt_g, 4e-3), (t.opt_d, 2e-3)):
        assert len(opt.param_groups) > 1
        for group in opt.param_groups:
            assert group["lr"] == pytest.approx(lr * group["lr_scale"] * 0.5)


@pytest.mark.parametrize("saved_at", [2, 4])
def test_a_resumed_run_follows_the_same_schedule(tmp_path, data, saved_at):
    """Saved before the cut (it must still come at step 3) and after it (it must not be undone)."""
    ref = trainer(data, lr_cut_at=3, lr_cut=0.25, seed=2)
    ref.step(saved_at)
    ref.save(tmp_path / "run")
    ref_next = ref.step(2)
    resumed = Trainer.resume(tmp_path / "run", data, device="cpu")
    assert resumed.rate_factors == ((1.0, 1.0) if saved_at < 3 else (0.25, 0.25))
    assert json.dumps(resumed.step(2)) == json.dumps(ref_next)
    assert rates(resumed) == rates(ref)


@pytest.mark.parametrize("key, value", [("lr_cut", 0.0), ("lr_cut", 1.5), ("lr_cut_at", -1), ("lr_cut_d", 1.5),
                                        ("lr_cut_d", -0.1), ("lr_cut_batch", 0), ("lr_cut_batch", 5)])
def test_bounds(key, value):
    with pytest.raises(ConfigError) as e:
        TrainConfig.preset("dcgan", **{key: value})
    assert e.value.code == "config.out_of_range"


def test_the_cli_trains_with_the_cut_and_saves_it(root, tmp_path):
    out = tmp_path / "run"
    cli("train", "--model", "mlp", "--steps", 5, "--batch-size", 16, "--width", 32, "--lr-g", 1e-3, "--lr-d", 1e-3,
        "--lr-cut-at", 3, "--lr-cut", 0.5, "--lr-cut-d", 0.25, "--lr-cut-batch", 3, "--no-score", "--out", out, cwd=root)
    state = torch.load(out / "trainer_state.pt", weights_only=True)
    assert [state["config"][k] for k in ("lr_cut_at", "lr_cut", "lr_cut_d", "lr_cut_batch")] == [3, 0.5, 0.25, 3]
    assert "batch 16 (48 from step 3)" in (out / "README.md").read_text()  # the model card says the batch grew
    assert [g["lr"] for g in state["opt_g"]["param_groups"]] == [5e-4]
    assert [g["lr"] for g in state["opt_d"]["param_groups"]] == [2.5e-4]
    r = cli("train", "--model", "mlp", "--steps", 1, "--lr-cut", 2, "--out", tmp_path / "bad", cwd=root, check=False)
    assert r.returncode != 0 and "lr-cut" in r.stderr and "Traceback" not in r.stderr


def test_the_default_preset_cuts_and_an_explicit_0_turns_it_off(root, tmp_path):
    """The default's preset has a cut (registry); a run config or the CLI's `--lr-cut-at 0` trains it without one
    (0 is a value, not a missing flag), and a flag not given keeps the preset's."""
    cut_at = TrainConfig.preset("cdcgan").lr_cut_at
    assert cut_at > 0 and TrainConfig.preset("dcgan").lr_cut_at == 0
    assert TrainConfig.preset("cdcgan").rate_cuts == (0.3, 1.0)  # G's steps cut, D kept quick (docs/benchmarks.md)
    assert TrainConfig.preset("cdcgan").batch_at(cut_at) == 2 * TrainConfig.preset("cdcgan").batch_size  # and batches doubled
    assert TrainConfig.preset("cdcgan", lr_cut_at=None).lr_cut_at == cut_at
    assert TrainConfig.preset("cdcgan", lr_cut_at=0).lr_cut_at == 0
    for flags, want in (((), cut_at), (("--lr-cut-at", 0), 0)):
        out = tmp_path / f"run{want}"
        cli("train", "--model", "cdcgan", "--steps", 1, "--batch-size", 16, "--width", 8, *flags, "--no-score",
            "--out", out, cwd=root)
        assert torch.load(out / "trainer_state.pt", weights_only=True)["config"]["lr_cut_at"] == want


def test_the_warm_up_steps_at_both_batches_of_a_preset_whose_batch_grows_at_its_cut(data, monkeypatch):
    """oneDNN builds its kernels per shape: a server's warm-up that never took the grown batch leaves that cost
    (time and memory) to the first run past its cut."""
    from gan_core import training
    seen, cuts = [], []  # each batch's (model, size) and the config's cut it was drawn under
    batch = training.Trainer._batch

    def recorded(self):
        x, y = batch(self)
        seen.append((self.cfg.model, x.shape[0]))
        cuts.append(self.cfg.lr_cut_at)
        return x, y
    monkeypatch.setattr(training.Trainer, "_batch", recorded)
    labels = torch.zeros(len(data), dtype=torch.long)
    preset = TrainConfig.preset("cdcgan")
    assert preset.lr_cut_batch > 1 and preset.lr_cut_at > 3
    began = time.perf_counter()
    seconds = training.warm_up(data, labels)  # the server's call: one step at each batch, no more
    assert 0 < seconds <= time.perf_counter() - began
    assert seen == [("cdcgan", preset.batch_size), ("cdcgan", preset.batch_size * preset.lr_cut_batch)]
    seen.clear()
    training.warm_up(data, labels, steps=3)
    assert seen == [("cdcgan", preset.batch_size)] * 2 + [("cdcgan", preset.batch_size * preset.lr_cut_batch)]
    seen.clear()
    training.warm_up(data, labels, steps=1)  # one step: the preset's own batch, no cut to reach
    assert seen == [("cdcgan", preset.batch_size)]
    seen.clear()
    training.warm_up(data, labels, steps=0)  # nothing to train, and no cut at -1 to refuse
    assert seen == []
    seen.clear()
    cuts.clear()
    training.warm_up(data, model="dcgan", steps=2)  # no cut in its preset: its batch and rates throughout
    assert seen == [("dcgan", TrainConfig.preset("dcgan").batch_size)] * 2
    assert cuts == [0, 0]
