import json
import math
import time

import pytest
import torch

from gan_core.data import mnist_tensor
from gan_core.messages import GanError
from gan_core.registry import DEFAULT_MODEL, MODELS
from gan_core.training import TrainConfig, Trainer

KEYS = {"d_loss", "g_loss", "d_real_acc", "d_fake_acc", "g_success", "wasserstein", "skipped_d", "skipped_g", "step"}


@pytest.fixture(scope="module")
def small_data():
    return mnist_tensor("test")[:512]


def same(a, b):
    """Metric lists equal, NaN included (the Wasserstein slot of BCE models)."""
    return json.dumps(a) == json.dumps(b)


def tiny(model, **kw):
    base = dict(batch_size=16, width=8, n_fixed=8, snapshot_every=2)
    if model == "mlp":
        base["width"] = 32
    return TrainConfig.preset(model, **{**base, **kw})


@pytest.mark.parametrize("model", ["mlp", "dcgan", "wgan", "wgan-gp"])
def test_step_returns_metrics_and_changes_weights(model, small_data):
    t = Trainer(tiny(model), small_data, device="cpu")
    g0 = [p.detach().clone() for p in t.G.parameters()]
    d0 = [p.detach().clone() for p in t.D.parameters()]
    t0 = time.perf_counter()
    out = t.step(3)
    wall = time.perf_counter() - t0
    assert len(out) == 3 and t.iteration == 3 and t.history == out
    assert [m["step"] for m in out] == [1, 2, 3]
    for m in out:
        assert KEYS <= set(m)
        for k in ("d_real_acc", "d_fake_acc", "g_success"):  # a share of the batch of 16, not any number in [0, 1]
            assert 0 <= m[k] <= 1 and m[k] * 16 == round(m[k] * 16), (k, m[k])
        assert math.isfinite(m["d_loss"]) and math.isfinite(m["g_loss"])
    assert math.isnan(out[0]["wasserstein"]) == (model in ("mlp", "dcgan"))
    assert any(not torch.equal(a, b) for a, b in zip(g0, t.G.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, t.D.parameters()))
    assert [s for s, _ in t.snapshots] == [2]
    assert t.snapshots[0][1].shape == (8, 28, 28)
    # elapsed is the time inside the iterations (not the snapshot): within the measured wall time
    assert 0 < t.elapsed <= wall and t.steps_per_second == pytest.approx(3 / t.elapsed)


def test_wgan_clip_keeps_weights_small(small_data):
    t = Trainer(tiny("wgan", clip=0.02), small_data, device="cpu")
    t.step(2)
    assert max(p.abs().max().item() for p in t.D.parameters()) <= 0.02 + 1e-7


def test_seeded_runs_are_identical(small_data):
    a = Trainer(tiny("dcgan", seed=3), small_data, device="cpu")
    b = Trainer(tiny("dcgan", seed=3), small_data, device="cpu")
    assert same(a.step(3), b.step(3))


def test_runs_started_at_once_on_two_threads_get_their_seeds_weights(small_data):
    """The app starts runs on two compute threads; torch's global RNG is one per process, so two runs
    seeded at once must not interleave their initial weights (each run's seed is its weights)."""
    import threading
    seeds = [1, 2, 3, 4, 5, 6]
    alone = {s: Trainer(tiny("dcgan", seed=s, width=32), small_data, device="cpu").G.state_dict() for s in seeds[:2]}
    built = {}

    def start(seed):
        for _ in range(3):
            built.setdefault(seed, []).append(Trainer(tiny("dcgan", seed=seed, width=32), small_data, device="cpu").G.state_dict())
    threads = [threading.Thread(target=start, args=(s,)) for s in seeds]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for s in seeds:
        first = built[s][0]
        for other in built[s][1:]:
            assert all(torch.equal(first[k], other[k]) for k in first), f"seed {s}: two starts, two different nets"
    for s in seeds[:2]:
        assert all(torch.equal(alone[s][k], built[s][0][k]) for k in alone[s])


def test_balance_rule_skips_the_too_good_net(small_data):
    # D with a huge learning rate wins at once; with the rule on, its turns get skipped and recorded
    cfg = tiny("mlp", lr_d=5e-3, lr_g=1e-5, balance=True, balance_window=3, d_acc_max=0.8)
    t = Trainer(cfg, small_data, device="cpu")
    out = t.step(30)
    assert sum(m["skipped_d"] for m in out) > 0
    assert all(not (m["skipped_d"] and m["skipped_g"]) for m in out)
    off = Trainer(tiny("mlp", lr_d=5e-3, lr_g=1e-5), small_data, device="cpu").step(30)
    assert sum(m["skipped_d"] + m["skipped_g"] for m in off) == 0


def test_skipped_turn_leaves_weights(small_data):
    cfg = tiny("mlp", balance=True, balance_window=1)
    t = Trainer(cfg, small_data, device="cpu")
    t.cfg.d_acc_max = -1.0  # below any accuracy (outside the settings' bounds): D is always "too good"
    t.step(1)  # window fills
    d0 = [p.detach().clone() for p in t.D.parameters()]
    out = t.step(2)
    assert all(m["skipped_d"] == 1 for m in out)
    assert all(torch.equal(a, b) for a, b in zip(d0, t.D.parameters()))


def _balanced(small_data, d_acc_max, g_success_max):
    """A trainer with the rule on, window 1, thresholds set outside the settings' bounds on purpose,
    its window already filled by one iteration."""
    t = Trainer(tiny("mlp", balance=True, balance_window=1), small_data, device="cpu")
    t.cfg.d_acc_max, t.cfg.g_success_max = d_acc_max, g_success_max
    t.step(1)  # window fills
    return t


def _snap(net):
    return [p.detach().clone() for p in net.parameters()]


def _unchanged(before, net):
    return all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_balance_rule_skips_g_when_g_is_too_good(small_data):
    # G's success is always above -1 and D's accuracy never above 2: only G's turn is skipped
    t = _balanced(small_data, d_acc_max=2.0, g_success_max=-1.0)
    g0, d0 = _snap(t.G), _snap(t.D)
    out = t.step(3)
    assert [(m["skipped_d"], m["skipped_g"]) for m in out] == [(0, 1)] * 3
    assert _unchanged(g0, t.G)
    assert not _unchanged(d0, t.D)


def test_balance_rule_with_loose_thresholds_skips_nothing(small_data):
    t = _balanced(small_data, d_acc_max=2.0, g_success_max=2.0)
    g0, d0 = _snap(t.G), _snap(t.D)
    out = t.step(3)
    assert [(m["skipped_d"], m["skipped_g"]) for m in out] == [(0, 0)] * 3
    assert not _unchanged(g0, t.G) and not _unchanged(d0, t.D)


def test_balance_rule_never_skips_both_d_goes_first(small_data):
    # both nets "too good": the rule skips D only (skip_g and not skip_d), so G still learns
    t = _balanced(small_data, d_acc_max=-1.0, g_success_max=-1.0)
    g0, d0 = _snap(t.G), _snap(t.D)
    out = t.step(3)
    assert [(m["skipped_d"], m["skipped_g"]) for m in out] == [(1, 0)] * 3
    assert _unchanged(d0, t.D)
    assert not _unchanged(g0, t.G)


def test_nan_stops_with_clear_error(small_data):
    t = Trainer(tiny("dcgan"), small_data, device="cpu")
    t.step(1)
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("nan"))
    out = t.step(5)
    assert len(out) == 1 and out[0]["diverged"]
    assert t.error.code == "train.diverged" and "diverged at step 2" in str(t.error)
    assert t.step(3) == [] and t.iteration == 2


def test_save_and_resume_continue_identically(tmp_path, small_data):
    ref = Trainer(tiny("dcgan", seed=5), small_data, device="cpu")
    ref.step(4)
    ref.save(tmp_path / "run")
    ref_next = ref.step(3)
    resumed = Trainer.resume(tmp_path / "run", small_data, device="cpu")
    assert resumed.iteration == 4 and len(resumed.history) == 4
    assert same(resumed.step(3), ref_next)


@pytest.mark.parametrize("model, kernel", [("dcgan", "fused"), ("mlp", "fused")])
def test_a_run_saved_on_the_old_optimizer_kernel_resumes_on_the_new_one(tmp_path, small_data, model, kernel):
    """A run saved before Adam's fused kernel carries the old setting in its optimizer groups; load_state_dict
    would take it, and the resumed run would train on the slower per-tensor loop."""
    ref = Trainer(tiny(model, seed=3), small_data, device="cpu")
    ref.step(2)
    ref.save(tmp_path / "run")
    state_file = tmp_path / "run" / "trainer_state.pt"
    state = torch.load(state_file, weights_only=True)
    for opt in ("opt_g", "opt_d"):
        for group in state[opt]["param_groups"]:
            group[kernel] = None  # as PyTorch's default wrote it then
    torch.save(state, state_file)
    ref_next = ref.step(2)
    resumed = Trainer.resume(tmp_path / "run", small_data, device="cpu")
    for opt in (resumed.opt_g, resumed.opt_d):
        assert [g[kernel] for g in opt.param_groups] == [True] * len(opt.param_groups)
        assert opt.state_dict()["state"]  # the moments came back with it
    assert same(resumed.step(2), ref_next)


def test_run_stops_at_steps_or_seconds_and_config_validation(small_data):
    t = Trainer(tiny("mlp"), small_data, device="cpu")
    chunks = []
    t.run(steps=6, seconds=10, chunk=4, on_chunk=chunks.append)
    assert t.iteration == 6 and [len(c) for c in chunks] == [4, 2]  # the last chunk stops at the step count
    t.run(seconds=0.2, chunk=1)
    assert t.iteration > 6 and t.elapsed >= 0.2
    with pytest.raises(ValueError):
        t.run()
    with pytest.raises(ValueError, match="unknown model") as e:
        TrainConfig.preset("not-a-model")
    assert e.value.code == "config.unknown_model"
    with pytest.raises(ValueError, match="unknown keys") as e:
        TrainConfig.from_dict({"model": "mlp", "lr": 1})
    assert e.value.code == "config.unknown_keys"
    assert DEFAULT_MODEL in MODELS


def test_rgb_64_data(small_data):
    data = torch.rand(32, 3, 64, 64) * 2 - 1
    t = Trainer(TrainConfig.preset("wgan-gp", batch_size=4, width=4, n_critic=1, n_fixed=2), data, device="cpu")
    t.step(1)
    assert t.fixed_samples().shape == (2, 3, 64, 64)
    with pytest.raises(GanError, match="28 or 32 or 64 px") as e:
        Trainer(TrainConfig.preset("dcgan"), torch.zeros(4, 3, 48, 48), device="cpu")
    assert e.value.code == "train.bad_img_size"


def test_ema_generator_tracks_g_and_is_what_gets_saved(tmp_path, small_data):
    from gan_core.hub import load_model
    t = Trainer(tiny("dcgan", ema=0.9, seed=2), small_data, device="cpu")
    assert t.generator is t.G_ema and t.G_ema is not t.G
    t.step(4)
    ema, raw = dict(t.G_ema.named_parameters()), dict(t.G.named_parameters())
    assert any(not torch.equal(ema[k], raw[k]) for k in ema)
    assert all(not p.requires_grad for p in t.G_ema.parameters())
    t.save(tmp_path / "run")
    saved = load_model(tmp_path / "run")
    assert all(torch.equal(saved.state_dict()[k], v) for k, v in t.G_ema.state_dict().items())
    ref_next = t.step(2)
    resumed = Trainer.resume(tmp_path / "run", small_data, device="cpu")
    assert same(resumed.step(2), ref_next)
    assert all(torch.equal(a, b) for a, b in zip(resumed.G_ema.parameters(), t.G_ema.parameters()))


def test_conditional_acgan_needs_labels_and_learns_classes(small_data):
    from gan_core.data import load_mnist
    labels = torch.tensor(load_mnist("test")[1][:512]).long()
    with pytest.raises(GanError, match="conditional") as e:
        Trainer(tiny("cdcgan"), small_data, device="cpu")
    assert e.value.code == "train.needs_labels"
    with pytest.raises(GanError, match="28x28 DCGAN only"):
        Trainer(tiny("wgan-gp", num_classes=10), small_data, device="cpu", labels=labels)
    t = Trainer(tiny("cdcgan", bf16=False), small_data, device="cpu", labels=labels)
    first = t.step(1)[0]
    out = t.step(30)
    assert KEYS <= set(out[-1])
    # D's class head learns the real digits: the AC-GAN part of its loss falls
    x, y = small_data[:256], labels[:256]
    t.D.eval()
    with torch.no_grad():
        acc = (t.D.forward_with_classes(x)[1].argmax(1) == y).float().mean().item()
    assert acc > 0.3, acc
    assert out[-1]["d_loss"] < first["d_loss"]
    # the generator's default labels cycle 0..9, so a grid is balanced
    assert t.generator.generate(20, seed=0).shape == (20, 1, 28, 28)


def test_enable_ema_on_a_resumed_run_starts_from_current_weights(tmp_path, small_data):
    t = Trainer(tiny("dcgan", seed=3, ema=0.0), small_data, device="cpu")
    t.step(3)
    t.save(tmp_path / "run")
    resumed = Trainer.resume(tmp_path / "run", small_data, device="cpu")
    assert resumed.G_ema is None
    held = resumed.cfg
    resumed.enable_ema(0.9)
    assert resumed.generator is resumed.G_ema
    assert resumed.cfg.ema == 0.9 and held.ema == 0.0  # in a copy: a config another run holds stays as it was
    assert all(torch.equal(a, b) for a, b in zip(resumed.G_ema.parameters(), resumed.G.parameters()))
    resumed.step(3)
    assert any(not torch.equal(a, b) for a, b in zip(resumed.G_ema.parameters(), resumed.G.parameters()))
    resumed.save(tmp_path / "run")
    again = Trainer.resume(tmp_path / "run", small_data, device="cpu")
    assert again.cfg.ema == 0.9
    assert all(torch.equal(a, b) for a, b in zip(again.G_ema.parameters(), resumed.G_ema.parameters()))
    with pytest.raises(ValueError, match="EMA decay"):
        again.enable_ema(1.5)


def test_change_settings_turns_an_ema_on_mid_run_and_refuses_what_built_the_networks(small_data):
    """The page's live settings (Trainer.change_settings): an EMA switched on mid-run starts from G as it is now
    and is what the page draws from; one already on is retuned, not rebuilt; a setting the networks were built
    from is refused by name, and the run keeps its config."""
    began = tiny("dcgan", seed=4, ema=0.0)
    t = Trainer(began, small_data, device="cpu")
    t.step(2)
    t.change_settings(ema=0.9, lr_g=1e-3)
    assert t.generator is t.G_ema and t.cfg.ema == 0.9 and began.ema == 0.0  # in a copy of the config
    assert all(torch.equal(a, b) for a, b in zip(t.G_ema.parameters(), t.G.parameters()))
    assert t.opt_g.param_groups[0]["lr"] == 1e-3
    ema = t.G_ema
    t.change_settings(ema=0.5)
    assert t.G_ema is ema and t.cfg.ema == 0.5
    kept = t.cfg
    with pytest.raises(ValueError, match=r"^not changeable during a run: \['width', 'z_dim'\]$"):
        t.change_settings(z_dim=8, width=16, lr_d=1e-3)
    assert t.cfg is kept


@pytest.mark.parametrize("native, want", [(None, torch.float32), (torch.bfloat16, torch.bfloat16)])
def test_bf16_autocast_runs_only_where_the_hardware_has_it(small_data, monkeypatch, native, want):
    """A preset's bf16 on a laptop without native bfloat16 would train ~10x slower: fp32 there."""
    from gan_core import training
    monkeypatch.setattr(training, "fast_dtype", lambda device: native)
    t = Trainer(TrainConfig.preset("dcgan", bf16=True, batch_size=8), small_data)
    seen = []
    t.G.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    t.step(1)
    assert seen and set(seen) == {want}


def _nhwc(net) -> bool:
    """Every convolution weight of net with more than one input and output channel is stored channels_last."""
    conv = [p for p in net.parameters() if p.ndim == 4 and min(p.shape[:2]) > 1]
    return bool(conv) and all(p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous() for p in conv)


def _outputs_and_grads(t: Trainer, z: torch.Tensor) -> list[torch.Tensor]:
    """D(G(z)) (the VAE's encoder of its decoder's pictures) and the gradients of its sum in both networks."""
    out = t.D(t.G(z))
    out = list(out) if isinstance(out, tuple) else [out]
    nets = [*t.G.parameters(), *t.D.parameters()]
    grads = torch.autograd.grad(sum(o.float().sum() for o in out), nets, allow_unused=True)  # progressive: its first phase
    return [o.detach() for o in out] + [g for g in grads if g is not None]


@pytest.mark.parametrize("model", ["dcgan", "wgan-gp", "progressive", "vae", "face-exercise"])
def test_channels_last_is_a_layout_not_a_recipe(model, small_data):
    """The convolutional presets keep their tensors NHWC for speed, which must compute what NCHW does (PyTorch
    once returned garbage from a transposed convolution with channels_last weights: pytorch#99519). Compared on
    one pass, to float rounding: over training steps Adam's first sign-like update turns rounding in a gradient
    near 0 into +-lr, so two runs part by 2 lr in a few weights. Without dropout, whose masks are drawn in memory
    order (other masks in another layout)."""
    assert TrainConfig.preset(model).channels_last
    data = torch.rand(64, 3, 32, 32) * 2 - 1 if model == "face-exercise" else small_data  # pictures only
    nchw, nhwc = (Trainer(tiny(model, seed=2, channels_last=cl, dropout=0.0), data, device="cpu") for cl in (False, True))
    assert not _nhwc(nchw.G) and not _nhwc(nchw.D) and _nhwc(nhwc.G) and _nhwc(nhwc.D)
    z = torch.randn(16, nchw.cfg.z_dim, generator=torch.Generator().manual_seed(0))
    expected, got = _outputs_and_grads(nchw, z), _outputs_and_grads(nhwc, z)
    # A gradient that is 0 in exact maths (a bias before a batch norm) is the rounding of sums of the pass's
    # largest terms: its tolerance scales with them (16 in dcgan, 24 in progressive, whose D starts at He's init)
    largest = max(a.abs().max().item() for a in expected)
    for a, b in zip(expected, got, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6 * largest)
    first = []  # the loss of the first update: the same batch through the same networks
    for t in (nchw, nhwc):
        torch.manual_seed(0)  # WGAN-GP's mixing weights come from torch's global generator on one process
        first.append(t.step(1)[0]["loss" if model == "vae" else "d_loss"])
    assert first[1] == pytest.approx(first[0], rel=1e-4)
