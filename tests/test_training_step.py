"""One training iteration, checked for direction and bookkeeping: the balance rule at its thresholds,
each turn moving D (or the critic) and G the right way, the accuracy slots and their cut, the critic's
n_critic updates and the gradient penalty in its loss, and the EMA's warm-up formula."""
import pytest
import torch

from gan_core.data import mnist_tensor
from gan_core.training import TrainConfig, Trainer


@pytest.fixture(scope="module")
def data():
    return mnist_tensor("test")[:256]


def trainer(model, data, **kw):
    base = dict(batch_size=16, width=8, n_fixed=4, snapshot_every=1000, ema=0.0)
    return Trainer(TrainConfig.preset(model, **{**base, **kw}), data, device="cpu")


def _last_layer(net):
    return [m for m in net.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))][-1]


# ------------------------------------------------------------------ the balance rule
def _rule(data, window=2, d_max=0.8, g_max=0.6, on=True):
    t = trainer("mlp", data, balance=on, balance_window=window)
    t.cfg.d_acc_max, t.cfg.g_success_max = d_max, g_max
    return t


def test_balance_rule_waits_for_a_full_window_and_compares_the_mean(data):
    t = _rule(data)
    t._recent_d.append(1.0)
    t._recent_g.append(1.0)
    assert t._skip() == (False, False)  # one of two: not full yet
    t._recent_d.append(0.6)  # mean 0.8: at the threshold, not above it
    t._recent_g.append(0.2)  # mean 0.6: at the threshold
    assert t._skip() == (False, False)
    t._recent_d.append(1.0)  # window slides: 0.6, 1.0 -> mean 0.8 still
    t._recent_g.append(1.0)  # 0.2, 1.0 -> 0.6
    assert t._skip() == (False, False)
    t._recent_d.append(0.62)  # 1.0, 0.62 -> 0.81: D too good
    assert t._skip() == (True, False)
    t._recent_d.extend([0.5, 0.5])
    t._recent_g.append(0.21)  # 1.0, 0.21 -> 0.605: G too good
    assert t._skip() == (False, True)


def test_balance_rule_off_never_skips(data):
    t = _rule(data, on=False, window=1)
    t._recent_d.append(1.0)
    t._recent_g.append(1.0)
    assert t._skip() == (False, False)


def test_iteration_feeds_the_rule_its_scores(data):
    t = trainer("mlp", data, balance=True, balance_window=3)
    for m in t.step(2):
        assert t._recent_g[m["step"] - 1] == m["g_success"]
        assert t._recent_d[m["step"] - 1] == pytest.approx((m["d_real_acc"] + m["d_fake_acc"]) / 2)


# ------------------------------------------------------------------ each turn pushes its net the right way
def _scores(t, x, z):
    """D's mean output on real x and on G(z), both nets in eval mode (no dropout noise), then back to training."""
    t.G.eval(), t.D.eval()
    with torch.no_grad():
        out = t.D(x).float().mean().item(), t.D(t.G(z)).float().mean().item()
    t.G.train(), t.D.train()
    return out


@pytest.mark.parametrize("model", ["mlp", "slides", "wgan-gp"])
def test_d_turn_raises_real_and_lowers_fake_scores_and_g_turn_raises_fake(model, data):
    # the critic's turn without its penalty: what is checked is which way the Wasserstein term pushes
    penalty_off = dict(gp_weight=0.0) if model == "wgan-gp" else {}
    t = trainer(model, data, lr_d=1e-2, lr_g=1e-2, n_critic=1, **penalty_off)
    x, z = data[:64], torch.randn(64, t.cfg.z_dim, generator=torch.Generator().manual_seed(0))
    real0, fake0 = _scores(t, x, z)
    g0 = [p.detach().clone() for p in t.G.parameters()]
    for _ in range(3):
        t._bce_iteration(False, True) if t.cfg.loss.startswith("bce") else t._wgan_iteration(False, True)
    real1, fake1 = _scores(t, x, z)
    if t.cfg.loss.startswith("bce"):
        assert real1 > real0 and fake1 < fake0, (real0, real1, fake0, fake1)
    else:  # a critic's scores have no fixed zero (both may drift together): its turn widens the gap
        assert real1 - fake1 > real0 - fake0, (real0, real1, fake0, fake1)
    assert all(torch.equal(a, b) for a, b in zip(g0, t.G.parameters()))  # G's turn skipped: G untouched
    d1 = [p.detach().clone() for p in t.D.parameters()]
    for _ in range(3):
        t._bce_iteration(True, False) if t.cfg.loss.startswith("bce") else t._wgan_iteration(True, False)
    _, fake2 = _scores(t, x, z)
    assert fake2 > fake1, (fake1, fake2)
    assert all(torch.equal(a, b) for a, b in zip(d1, t.D.parameters()))  # D's turn skipped: D untouched
    assert all(p.requires_grad for p in t.D.parameters())  # D is trainable again after G's turn


# ------------------------------------------------------------------ what the page plots
@pytest.mark.parametrize("model", ["mlp", "slides"])
@pytest.mark.parametrize("says_real", [True, False])
def test_accuracy_slots_follow_ds_verdict(model, data, says_real):
    """A D that calls everything real is right on every real image, wrong on every fake, fooled by G."""
    t = trainer(model, data, lr_d=1e-6, lr_g=1e-6)
    last = _last_layer(t.D)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(50.0 if says_real else -50.0)
    m = t.step(1)[0]
    want = (1.0, 0.0, 1.0) if says_real else (0.0, 1.0, 0.0)
    assert (m["d_real_acc"], m["d_fake_acc"], m["g_success"]) == want


def test_bce_metrics_are_the_losses_of_the_step(data):
    t = trainer("mlp", data)
    m = t.step(1)[0]
    assert m["d_loss"] > 0 and m["g_loss"] > 0 and m["wasserstein"] != m["wasserstein"]  # NaN slot for BCE
    assert (m["skipped_d"], m["skipped_g"]) == (0, 0)


def test_wgan_critic_runs_n_critic_updates_per_g_update(data):
    t = trainer("wgan-gp", data, n_critic=3)
    t.step(1)
    assert t.opt_d.state_dict()["state"][0]["step"] == 3 and t.opt_g.state_dict()["state"][0]["step"] == 1
    t._wgan_iteration(True, False)  # critic's turn skipped: no update at all (one scoring pass only)
    assert t.opt_d.state_dict()["state"][0]["step"] == 3 and t.opt_g.state_dict()["state"][0]["step"] == 2


def test_wgan_gp_loss_holds_the_penalty_and_clip_holds_none(data):
    """d_loss = E[f(fake)] - E[f(real)] (+ the penalty); the logged Wasserstein estimate is E[f(real)] - E[f(fake)]
    on the same batch, so their sum is the penalty: positive with -gp, zero with weight clipping."""
    gp = trainer("wgan-gp", data, n_critic=1, gp_every=1).step(2)
    assert all(m["d_loss"] + m["wasserstein"] > 1e-6 for m in gp)
    clip = trainer("wgan", data, n_critic=1).step(2)
    assert all(abs(m["d_loss"] + m["wasserstein"]) < 1e-5 for m in clip)


def test_a_lazy_penalty_runs_on_every_kth_critic_update_weighted_k_times(data, monkeypatch):
    """gp_every=k: the penalty on critic updates 0, k, 2k, ... of the run (counted across iterations), at k times
    the weight; the logged d_loss holds it exactly on those iterations (n_critic 1: one update per iteration)."""
    from gan_core import losses
    calls = []
    real_gp = losses.gradient_penalty
    monkeypatch.setattr(losses, "gradient_penalty", lambda *a, **kw: calls.append(a[3]) or real_gp(*a, **kw))
    t = trainer("wgan-gp", data, n_critic=3, gp_every=2, gp_weight=5.0)
    t.step(2)  # critic updates 0..5: the penalty on 0, 2 and 4
    assert calls == [10.0, 10.0, 10.0]
    m = trainer("wgan-gp", data, n_critic=1, gp_every=3).step(4)
    assert [m_["d_loss"] + m_["wasserstein"] > 1e-6 for m_ in m] == [True, False, False, True]
    at = []  # which iteration's critic updates carry it: n_critic 2, every 3rd update = updates 0 and 3
    monkeypatch.setattr(losses, "gradient_penalty", lambda *a, **kw: at.append(t.iteration) or real_gp(*a, **kw))
    t = trainer("wgan-gp", data, n_critic=2, gp_every=3)
    t.step(3)
    assert at == [0, 1], "update 3 is iteration 1's second critic update; iteration 2 (updates 4, 5) has none"


def test_the_penalty_mixes_from_the_ranks_streams(data):
    """Under torchrun (here its one-process twin) each rank's penalty mixes real and fake with weights from
    that rank's own stream, so a run repeats whatever else drew from torch's global generator meanwhile."""
    cfg = dict(batch_size=16, width=8, n_fixed=4, snapshot_every=1000, ema=0.0, n_critic=1, gp_every=1)
    runs = []
    for noise in (False, True):
        t = Trainer(TrainConfig.preset("wgan-gp", **cfg), data, device="cpu", as_ranks=2)
        out = []
        for _ in range(3):
            if noise:
                torch.rand(1000)  # another user's draws on a shared server
            out += t.step(1)
        runs.append([m["d_loss"] for m in out])
    assert runs[0] == runs[1]


def test_wgan_accuracies_are_judged_against_the_midpoint(data):
    """Every score the same: nothing is above or below the midpoint. G's turn alone (turn="g"), so the critic
    G is scored by is the one that scored real and fake: after a critic update, however small, G's scores
    would sit a hair above or below the midpoint by chance."""
    t = trainer("wgan-gp", data, n_critic=1, lr_d=1e-6, lr_g=1e-6)
    last = _last_layer(t.D)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(3.0)
    m = t.step(1, turn="g")[0]
    assert (m["d_real_acc"], m["d_fake_acc"], m["g_success"]) == (0.0, 0.0, 0.0)
    assert m["wasserstein"] == pytest.approx(0.0, abs=1e-4)


# ------------------------------------------------------------------ EMA
def test_ema_warms_up_then_uses_its_decay(data):
    t = trainer("dcgan", data, ema=0.5)
    ema0 = [p.detach().clone() for p in t.G_ema.parameters()]
    bn0 = {name: b.clone() for name, b in t.G_ema.named_buffers()}
    t.step(1)  # iteration 0: decay min(0.5, 1/10) = 0.1 -> EMA = 0.1 old + 0.9 new
    for e0, e, g in zip(ema0, t.G_ema.parameters(), t.G.parameters()):
        assert torch.allclose(e, 0.1 * e0 + 0.9 * g, atol=1e-6)
    for (name, eb), b in zip(t.G_ema.named_buffers(), t.G.buffers()):
        if name.endswith(("running_mean", "running_var")):  # batch norm's statistics: averaged as the weights
            assert not torch.equal(eb, b) and torch.allclose(eb, 0.1 * bn0[name] + 0.9 * b, atol=1e-6), name
        else:                                               # the step counter: G's
            assert torch.equal(eb, b), name
    t.iteration = 100  # far into the run: min(0.5, 101/110) = the configured 0.5
    ema1 = [p.detach().clone() for p in t.G_ema.parameters()]
    t.step(1)
    for e1, e, g in zip(ema1, t.G_ema.parameters(), t.G.parameters()):
        assert torch.allclose(e, 0.5 * e1 + 0.5 * g, atol=1e-6)


def test_an_undecided_d_is_right_about_nothing(data):
    """Logit exactly 0 (probability exactly 0.5): neither "real" nor "fake", so no slot counts it."""
    for model in ("mlp", "slides"):
        t = trainer(model, data)
        last = _last_layer(t.D)
        with torch.no_grad():
            last.weight.zero_(), last.bias.zero_()
        out = t._bce_iteration(True, True)  # both turns skipped: D stays undecided while it is read
        assert [float(v) for v in out[2:5]] == [0.0, 0.0, 0.0], model


def test_wgan_g_success_needs_a_score_above_the_midpoint(data):
    t = trainer("wgan-gp", data, n_critic=1)
    last = _last_layer(t.D)
    with torch.no_grad():
        last.weight.zero_(), last.bias.fill_(3.0)
    out = t._wgan_iteration(True, True)  # no update: G's fakes score exactly the midpoint
    assert [float(v) for v in out[2:5]] == [0.0, 0.0, 0.0]


def test_g_turn_leaves_d_without_gradients(data):
    """G learns through a frozen D: not even D's .grad is written (and D is trainable again afterwards)."""
    for model, turn in (("mlp", "_bce_iteration"), ("wgan-gp", "_wgan_iteration")):
        t = trainer(model, data, n_critic=1)
        getattr(t, turn)(True, False)
        assert all(p.grad is None for p in t.D.parameters()), model
        assert any(p.grad is not None for p in t.G.parameters()) and all(p.requires_grad for p in t.D.parameters())


def test_a_skipped_critic_turn_scores_one_batch_not_n_critic(data):
    t = trainer("wgan-gp", data, n_critic=3)
    batches = []
    draw = t._batch
    t._batch = lambda: batches.append(1) or draw()
    t._wgan_iteration(True, False)
    assert len(batches) == 1
    t._wgan_iteration(False, False)
    assert len(batches) == 1 + 3


@pytest.mark.parametrize("n_critic", [1, 3])
def test_g_learns_from_the_last_critic_updates_fakes_scored_by_the_updated_critic(data, n_critic):
    """G runs once per critic update, not once more for its own turn: its turn scores the fakes the critic just
    learned from (as the BCE iteration does), with the critic as that update left it."""
    t = trainer("wgan-gp", data, n_critic=n_critic, bf16=False, lr_d=1e-2)
    fakes = []
    t.G.register_forward_hook(lambda m, i, out: fakes.append(out.detach().clone()))
    m = t.step(1)[0]
    assert len(fakes) == n_critic
    with torch.no_grad():  # the critic has no batch norm or dropout: its scores do not depend on the batch
        assert m["g_loss"] == pytest.approx(-t.D(fakes[-1]).mean().item(), rel=1e-5)


def test_clipping_uses_the_configured_bound(data):
    t = trainer("wgan", data, clip=0.02, n_critic=1)
    t.step(1)
    top = max(p.abs().max().item() for p in t.D.parameters())
    assert top == pytest.approx(0.02)  # weights start larger, so some sit exactly at the bound


def test_only_the_clipped_wgans_critic_is_clipped(data):
    """WGAN-GP's critic keeps its weights free (the penalty does clipping's job): a bound of 1e-4 in its config
    touches nothing, where the clipped WGAN's critic would end at it."""
    t = trainer("wgan-gp", data, clip=1e-4, n_critic=1)
    t.step(1)
    assert max(p.abs().max().item() for p in t.D.parameters()) > 1e-2


@pytest.mark.parametrize("says_real", [True, False])
def test_a_conditional_ds_verdict_is_its_score_not_its_digit_heads(data, says_real):
    """The AC-GAN's D gives a real/fake logit and digit logits in one pass: the verdict (accuracy slots, losses)
    reads the first. Its digit heads set to say the opposite, loudly, change no verdict."""
    from gan_core.data import load_mnist
    labels = torch.tensor(load_mnist("test")[1][:256]).long()
    t = Trainer(TrainConfig.preset("cdcgan", batch_size=16, width=8, n_fixed=4, bf16=False, ema=0.0, lr_d=1e-6,
                                   lr_g=1e-6), data, device="cpu", labels=labels)
    sign = 1.0 if says_real else -1.0
    with torch.no_grad():
        for head, verdict in ((t.D.main[-1], sign), (t.D.classes, -sign), (t.D.twin, -sign)):
            head.weight.zero_()
            head.bias.fill_(50.0 * verdict)
    m = t.step(1)[0]
    assert (m["d_real_acc"], m["d_fake_acc"], m["g_success"]) == ((1.0, 0.0, 1.0) if says_real else (0.0, 1.0, 0.0))


def test_conditional_fakes_are_drawn_for_their_labels_and_g_learns_them(data):
    from gan_core.data import load_mnist
    labels = torch.tensor(load_mnist("test")[1][:256]).long()
    # the plain design (no dense layers): an untrained D's class head reads G's digits directly enough to
    # move them in 5 turns; with the preset's dense layers in between, 5 turns move it within noise
    t = Trainer(TrainConfig.preset("cdcgan", batch_size=16, width=8, n_fixed=4, bf16=False, ema=0.0, lr_g=2e-3,
                                   g_hidden=0, d_hidden=0), data, device="cpu", labels=labels)
    calls = []
    G = t._g
    t._g = lambda *args: calls.append(args) or G(*args)
    t._bce_iteration(False, False)
    assert len(calls) == 1 and len(calls[0]) == 2 and calls[0][1].shape == (16,)  # G(z, y_fake), once
    z, y = torch.randn(64, t.cfg.z_dim, generator=torch.Generator().manual_seed(0)), torch.arange(64) % 10

    def class_error():
        t.G.eval(), t.D.eval()
        with torch.no_grad():
            err = torch.nn.functional.cross_entropy(t.D.forward_with_classes(t.G(z, y))[1], y).item()
        t.G.train(), t.D.train()
        return err
    before = class_error()
    for _ in range(5):
        t._bce_iteration(True, False)  # G's turn only: draw digits D reads as the ones asked for
    assert class_error() < before


def test_step_defaults_timing_turns_and_messages(data):
    t = trainer("mlp", data)
    assert len(t.step()) == 1  # one iteration by default
    t.elapsed = 100.0  # as if resumed after 100 s of training: time adds up
    t.step(1)
    assert t.elapsed > 100.0
    g0 = [p.detach().clone() for p in t.G.parameters()]
    m = t.step(1, turn="d")[0]
    assert (m["skipped_d"], m["skipped_g"]) == (0, 1) and all(torch.equal(a, b) for a, b in zip(g0, t.G.parameters()))
    with pytest.raises(ValueError, match="turn must be one of"):
        t.step(1, turn="both")


def test_a_diverged_vae_says_so_in_its_own_words(data):
    t = trainer("vae", data)
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("nan"))
    t.step(1)
    assert t.error.code == "train.diverged_vae" and t.error.params["step"] == 1


def test_turn_g_runs_gs_turn_alone(data):
    t = trainer("mlp", data)
    d0 = [p.detach().clone() for p in t.D.parameters()]
    m = t.step(1, turn="g")[0]
    assert (m["skipped_d"], m["skipped_g"]) == (1, 0) and all(torch.equal(a, b) for a, b in zip(d0, t.D.parameters()))


def test_progressive_metrics_carry_the_resolution_and_fade(data):
    t = trainer("progressive", data)
    m = t.step(1)[0]
    assert m["res"] == t.G.resolution and isinstance(m["alpha"], float) and 0.0 <= m["alpha"] <= 1.0
    assert "res" not in trainer("mlp", data).step(1)[0]


def test_a_diverged_vae_reports_its_loss(data):
    t = trainer("vae", data)
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("nan"))
    t.step(1)
    assert set(t.error.params) == {"step", "loss"} and t.error.params["loss"] != t.error.params["loss"]  # NaN


def test_warm_up_pays_a_processs_first_run_imports():
    """A fresh process: no torch._dynamo before warm_up, imported after it (the first optimizer's
    import, 0.8 s on 2 cores), so a later first Start does not pay it."""
    import subprocess
    import sys
    code = ("import sys, torch; from gan_core.training import warm_up\n"
            "before = 'torch._dynamo' in sys.modules\n"
            "seconds = warm_up(torch.rand(256, 1, 28, 28) * 2 - 1, torch.arange(256) % 10)\n"
            "print(before, 'torch._dynamo' in sys.modules, seconds > 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "True", "True"], out.stderr[-2000:]


def test_the_real_label_reaches_ds_loss(data):
    """Same seed, same first batch: only D's target for real pictures differs, and so does D's loss."""
    first = {label: Trainer(TrainConfig.preset("mlp", real_label=label, batch_size=16, bf16=False), data).step(1)[0]
             for label in (1.0, 0.9)}
    assert first[1.0]["d_loss"] != pytest.approx(first[0.9]["d_loss"], rel=1e-3)
    assert first[1.0]["d_real_acc"] == first[0.9]["d_real_acc"]  # D judged the same pictures with the same weights


def test_g_class_weight_scales_gs_class_term_and_leaves_ds_loss_alone(data):
    """Same seed, same batch: D's loss is the same for every weight; G's loss is its adversarial term plus
    weight x the class term, so it grows by equal amounts for equal steps of the weight, from above 0 at 0."""
    from gan_core.data import load_mnist
    labels = torch.tensor(load_mnist("test")[1][:256]).long()
    first = {w: Trainer(TrainConfig.preset("cdcgan", g_class_weight=w, batch_size=16, width=8, bf16=False), data,
                        device="cpu", labels=labels).step(1)[0] for w in (0.0, 1.0, 2.0)}
    assert first[0.0]["d_loss"] == first[1.0]["d_loss"] == first[2.0]["d_loss"]
    class_term = first[1.0]["g_loss"] - first[0.0]["g_loss"]
    assert class_term > 0.5  # cross-entropy over 10 digits of an untrained head: about ln 10 = 2.3
    assert first[2.0]["g_loss"] - first[1.0]["g_loss"] == pytest.approx(class_term, rel=1e-4)


def test_the_twin_head_learns_the_fakes_digits_and_g_is_paid_to_keep_it_unsure(data):
    """TAC-GAN, same seed and batch: D's loss gains the twin head's cross-entropy on the fakes' asked
    digits (an untrained head: about ln 10); G's loss loses g_class_weight x the twin's cross-entropy on
    G's fakes (a flipped sign would add it); the twin head moves in D's turn, and only there."""
    from gan_core.data import load_mnist
    labels = torch.tensor(load_mnist("test")[1][:256]).long()

    def first(twin, w=0.5):
        t = Trainer(TrainConfig.preset("cdcgan", d_twin=twin, g_class_weight=w, batch_size=16, width=8, bf16=False), data,
                    device="cpu", labels=labels)
        return t, t.step(1)[0]

    (_, plain), (tac, with_twin) = first(False), first(True)
    d_term = with_twin["d_loss"] - plain["d_loss"]
    assert 1.0 < d_term < 4.0  # ln 10 = 2.3
    g_term = with_twin["g_loss"] - plain["g_loss"]
    assert -1.6 < g_term < -0.6  # minus 0.5 x ~2.3 (D's features moved a little with the twin's turn too)
    (_, plain2), (_, with_twin2) = first(False, 1.0), first(True, 1.0)
    assert 1.5 < (with_twin2["g_loss"] - plain2["g_loss"]) / g_term < 2.5  # g_class_weight scales it
    before = tac.D.twin.weight.detach().clone()
    tac.step(1)
    assert not torch.equal(tac.D.twin.weight, before)  # D's turn trained it


# ------------------------------------------------------------------ D's turn: one forward of both batches
@pytest.mark.parametrize("model, extra", [("progressive", {}), ("wgan-gp", {}), ("mlp", {}),
                                          ("cdcgan", dict(d_norm="none")), ("cdcgan", {}), ("dcgan", {}), ("wgan", {})])
def test_one_forward_of_both_batches_judges_each_as_two_would(model, data, extra):
    """Where no layer of D mixes a batch's samples, or its batch norms normalise each half alone (gan_core.halves),
    D's turn sends the real batch and the fake one through one forward: each sample's logit (and a conditional
    D's digit and twin logits) as two forwards give them, on the right side of the split (real first), the
    same gradients for D and the same running statistics after."""
    from gan_core.data import load_mnist
    labels = torch.tensor(load_mnist("test")[1][:256]).long()
    t = Trainer(TrainConfig.preset(model, batch_size=16, width=8, bf16=False, ema=0.0, **extra), data, device="cpu",
                labels=labels)
    assert t._joint
    x, _ = t._batch()
    fake = t.G(*((t._z(), t._y_fake()) if t.cfg.num_classes else (t._z(),))).detach()
    cond = t.cfg.num_classes > 0
    outs, grads, stats = {}, {}, {}
    before = [b.clone() for b in t.D.buffers()]
    for joint in (True, False):
        t._joint = joint
        t.D.zero_grad()
        for b, saved in zip(t.D.buffers(), before):
            b.copy_(saved)
        outs[joint] = t._judge_both(x, fake, cond, cond)
        sum(o.square().sum() * (i + 1) for i, o in enumerate(o for pair in outs[joint] for o in pair if o is not None)).backward()
        grads[joint] = [p.grad.clone() for p in t.D.parameters() if p.grad is not None]
        stats[joint] = [b.clone() for b in t.D.buffers()]
    for a, b in zip(stats[True], stats[False], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for one, two in zip(outs[True], outs[False]):
        assert [o is None for o in one] == [o is None for o in two]
        for a, b in zip(one, two):
            if a is not None:
                torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(outs[False][0][0], outs[False][1][0])  # real and fake differ: a swapped split would show
    assert len(grads[True]) == len(grads[False]) > 0
    for a, b in zip(grads[True], grads[False]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_a_d_with_batch_norm_judges_both_in_one_forward_of_halves(data):
    """The presets whose D has batch norm judge real and fake in one forward of both, their norms split in halves
    there only; G's turn is one batch through plain batch norm."""
    from gan_core.data import load_mnist
    labels = torch.tensor(load_mnist("test")[1][:256]).long()
    for model in ("cdcgan", "dcgan", "wgan"):
        t = Trainer(TrainConfig.preset(model, batch_size=16, width=8, ema=0.0), data, device="cpu", labels=labels)
        assert t._joint and t._halves, model
    calls, norms = [], []
    t.D.register_forward_hook(lambda m, inp, out: calls.append(len(inp[0])))
    t._halves[0].register_forward_hook(lambda m, inp, out: norms.append(m.halves))
    t.step(1)
    assert calls == [32, 16]  # real and fake, then G's turn
    assert norms == [2, 1] and t._halves[0].halves == 1


def test_a_d_whose_batch_norm_cannot_be_halved_judges_real_and_fake_apart(data):
    """A batch norm of few channels (NarrowBatchNorm, width 4) is not halved: its statistics would mix the two
    batches (and tell them apart by their means), so D's turn stays two forwards."""
    t = Trainer(TrainConfig.preset("wgan", batch_size=16, width=4, ema=0.0), data, device="cpu")
    assert not t._joint and not t._halves
    calls = []
    t.D.register_forward_hook(lambda m, inp, out: calls.append(len(inp[0])))
    t.step(1)
    assert calls == [16, 16, 16]  # real, fake, then G's turn
