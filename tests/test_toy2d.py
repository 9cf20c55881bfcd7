"""The 2-D toy GAN learns: D's accuracy moves, the samples approach the data; the drawing helpers agree with D."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from gan_core import losses
from gan_core.toy2d import (DRAWN, MODE_COLLAPSE, SHAPES, ToyConfig, ToyTrainer, centres, coverage, mode_distance,
                            parse_points, sample_data)


@pytest.mark.parametrize("shape", SHAPES)
def test_data_shapes(shape):
    cfg = ToyConfig(shape=shape, points=((1, 1), (-1, 0)))
    x = sample_data(cfg, 500, np.random.default_rng(0))
    assert x.shape == (500, 2) and x.dtype == np.float32
    assert mode_distance(x, cfg) < 0.2  # real data sits on its own modes
    if shape != "spiral":
        assert coverage(x, cfg) == (len(centres(cfg)), len(centres(cfg)))


def test_parse_points():
    assert parse_points("1,2\n 3 , -4; bad\n5,6") == ((1.0, 2.0), (3.0, -4.0), (5.0, 6.0))


def test_short_run_learns():
    tr = ToyTrainer(ToyConfig(batch=128))
    before = mode_distance(tr.samples(), tr.cfg)
    for _ in range(40):
        tr.step(10)
    accs = [m["d_acc"] for m in tr.history]
    assert max(abs(a - 0.5) for a in accs[:100]) > 0.1  # D learns something early
    assert np.std(accs) > 0.02  # and its accuracy moves as G answers
    after = mode_distance(tr.samples(), tr.cfg)
    assert after < 0.6 * before, (before, after)
    assert tr.iteration == 400 and len(tr.history) == 400


@pytest.mark.parametrize("loss", ["minimax", "wgan-gp"])
def test_other_losses_run(loss):
    tr = ToyTrainer(ToyConfig(loss=loss, batch=64, d_steps=2))
    m = tr.step(5)
    assert all(np.isfinite(m[k]) for k in ("d_loss", "g_loss"))
    _, surface = tr.decision_surface(12)
    assert surface.shape == (12, 12) and np.isfinite(surface).all()


def test_arrows_point_up_ds_slope():
    tr = ToyTrainer(ToyConfig())
    tr.step(30)
    pts, vec = tr.generator_arrows(64)
    unit = vec / (np.linalg.norm(vec, axis=1, keepdims=True) + 1e-12)
    with torch.no_grad():
        d0 = tr.D(torch.from_numpy(pts)).squeeze(1)
        d1 = tr.D(torch.from_numpy(pts + 1e-3 * unit)).squeeze(1)
    assert (d1 > d0).float().mean() > 0.9  # lowering G's loss = raising D's score on the point


def test_surface_is_a_probability():
    _, z = ToyTrainer(ToyConfig()).decision_surface(20)
    assert z.shape == (20, 20) and z.min() >= 0 and z.max() <= 1


def test_reconfigure_live_or_fresh():
    tr = ToyTrainer(ToyConfig())
    tr.step(3)
    same = tr.reconfigure(replace(tr.cfg, lr_g=1e-4, balance=True))
    assert same is tr and tr.opt_g.param_groups[0]["lr"] == 1e-4 and tr.iteration == 3
    fresh = tr.reconfigure(replace(tr.cfg, shape="grid"))
    assert fresh is not tr and fresh.iteration == 0


def test_balance_skips_the_too_good_net():
    tr = ToyTrainer(ToyConfig(balance=True, balance_max=0.0))  # any accuracy counts as "too good"
    tr.step(15)
    assert tr.history[0]["skipped_d"] == 0 and tr.history[-1]["skipped_d"] == 1


def test_mode_collapse_preset_differs_only_in_balance():
    diff = {k for k, v in vars(MODE_COLLAPSE).items() if getattr(ToyConfig(), k) != v}
    assert diff == {"lr_d", "std"}


def test_play_trains_on_every_rerun_and_pause_stops_it(root):
    """The Architectures page's toy tab (AppTest): each rerun of a playing fragment is one tick of K
    iterations; Pause (the same button) stops the ticks; Step is one tick that leaves it paused."""
    from streamlit.testing.v1 import AppTest

    from ui.i18n import translate
    at = AppTest.from_file(str(root / "app.py"), default_timeout=60)
    at.session_state["lang"] = "en"
    at.run()
    at.session_state["arch.tab"] = translate("arch.tab.toy", "en")
    at.run()
    assert not at.exception and at.session_state["toy.playing"] is False
    iteration = lambda: at.session_state["toy.trainer"].iteration
    k = at.session_state["toy.k"]
    at.run()
    assert iteration() == 0, "not playing: a rerun does not train"
    assert at.button(key="toy.b.play").label == translate("arch.toy.play", "en")

    at.button(key="toy.b.play").click().run()
    assert at.session_state["toy.playing"] is True
    assert at.button(key="toy.b.pause").label == translate("arch.toy.pause", "en")
    n = iteration()
    at.run()
    assert iteration() == n + k, "playing: each rerun is one tick of K iterations"
    assert at.metric[0].value == str(n + k)

    at.button(key="toy.b.pause").click().run()
    assert at.session_state["toy.playing"] is False
    n = iteration()
    at.run()
    at.run()
    assert iteration() == n, "paused: reruns do not train"
    at.button(key="toy.b.step").click().run()
    assert iteration() == n + k and at.session_state["toy.playing"] is False
    at.run()
    assert iteration() == n + k and not at.exception
    # the same click delivered again (a busy server can: see _set_playing) asks for the step from n again: no step
    at.session_state["toy.step_once"] = n
    at.run()
    assert iteration() == n + k
    at.button(key="toy.b.step").click().run()  # a new click, on the button drawn at n + k, steps
    assert iteration() == n + 2 * k


# What the mutation run asked (docs/testing.md): each shape's exact modes, the coverage rule at its edges, the
# two phases and the metrics on a critic whose every score is known, the balance rule's window, separate runs.

def test_each_shape_puts_its_modes_where_the_page_says():
    assert np.allclose(centres(ToyConfig(modes=4)), 1.6 * np.array([[1, 0], [0, 1], [-1, 0], [0, -1]]))
    g = [-1.6, 0.0, 1.6]
    assert np.allclose(centres(ToyConfig(shape="grid", modes=3)), [[x, y] for y in g for x in g])
    assert len(centres(ToyConfig(shape="grid", modes=1))) == 4  # a grid has at least 2 x 2 modes
    spiral = centres(ToyConfig(shape="spiral"))
    assert spiral.shape == (200, 2)  # from a quarter of the way out, one and a half turns, to radius 1.9
    assert np.allclose(spiral[0], 0.475 * np.array([np.cos(0.75 * np.pi), np.sin(0.75 * np.pi)]))
    assert np.allclose(spiral[-1], [-1.9, 0.0])
    assert np.allclose(spiral[100], 1.9 * 0.625 * np.array([np.cos(1.875 * np.pi), np.sin(1.875 * np.pi)]), atol=0.02)
    custom = centres(ToyConfig(shape="custom", points=((3, 0), (-3, 1))))
    assert custom.tolist() == [[2.5, 0.0], [-2.5, 1.0]]  # clipped to the plane shown
    assert centres(ToyConfig(shape="custom", points=((1, 1),))).tolist() == [[1.0, 1.0]]  # one point is a shape
    with pytest.raises(ValueError, match="^a custom shape needs at least one point$"):
        centres(ToyConfig(shape="custom"))
    with pytest.raises(ValueError, match="unknown shape"):
        centres(ToyConfig(shape="heart"))


def test_real_points_spread_around_each_mode_by_std():
    cfg = ToyConfig(modes=4, std=0.1)
    x = sample_data(cfg, 4000, np.random.default_rng(0))
    c = centres(cfg)
    offsets = x - c[np.linalg.norm(x[:, None] - c[None], axis=-1).argmin(1)]
    assert np.allclose(offsets.std(0), 0.1, rtol=0.1) and np.allclose(offsets.mean(0), 0, atol=0.01)


def test_mode_distance_and_coverage_at_their_edges():
    cfg = ToyConfig(modes=4, std=0.1)  # a point counts for a mode within 4 std = 0.4 of it
    c = centres(cfg)
    assert mode_distance(c + [0.1, 0.0], cfg) == pytest.approx(0.1)
    assert mode_distance(np.concatenate([c + [0.1, 0], c + [0.3, 0]]), cfg) == pytest.approx(0.2)
    assert coverage(c + [0.35, 0.0], cfg) == (4, 4) and coverage(c + [0.45, 0.0], cfg) == (0, 4)
    sharp = ToyConfig(modes=4, std=0.01)  # never narrower than 0.15
    assert coverage(c + [0.1, 0.0], sharp) == (4, 4) and coverage(c + [0.2, 0.0], sharp) == (0, 4)
    one = ToyConfig(shape="custom", points=((0, 0),), std=0.01)
    assert coverage(np.array([[0.15, 0.0]]), one) == (0, 1)  # exactly at the edge is outside
    # a mode covered by a quarter of its fair share: 32 points over 4 modes, 2 each is a quarter of 8
    pts = np.concatenate([np.repeat(c[:1], 26, 0), np.repeat(c[1:2], 2, 0), np.repeat(c[2:3], 1, 0), c[3:] + 9])
    pts = np.concatenate([pts, np.repeat(c[:1], 32 - len(pts), 0)])
    assert len(pts) == 32 and coverage(pts, cfg) == (2, 4)
    assert coverage(sample_data(ToyConfig(shape="spiral"), 100, np.random.default_rng(0)),
                    ToyConfig(shape="spiral")) is None


def test_parse_points_reads_a_spaced_minus():
    assert parse_points("- 0.5, 1") == ((-0.5, 1.0),)


def test_nets_and_optimizers_are_the_lessons():
    tr = ToyTrainer(ToyConfig())
    assert [type(m).__name__ for m in tr.G] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [type(m).__name__ for m in tr.D] == ["Linear", "LeakyReLU", "Linear", "LeakyReLU", "Linear"]
    assert tr.D[1].negative_slope == 0.2
    assert tr.opt_g.param_groups[0]["betas"] == tr.opt_d.param_groups[0]["betas"] == (0.5, 0.999)
    critic = ToyTrainer(ToyConfig(loss="wgan-gp"))
    assert critic.opt_g.param_groups[0]["betas"] == critic.opt_d.param_groups[0]["betas"] == (0.0, 0.9)
    with pytest.raises(ValueError, match="unknown loss"):
        ToyTrainer(ToyConfig(loss="hinge"))


def test_two_visitors_toys_do_not_touch_each_other_or_the_process_generator():
    alone = ToyTrainer(ToyConfig(seed=3))
    alone.step(5)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    mine, other = ToyTrainer(ToyConfig(seed=3)), ToyTrainer(ToyConfig(seed=4))
    assert torch.equal(torch.get_rng_state(), before)  # building a toy does not reseed anyone's training
    for _ in range(5):
        torch.randn(7)  # the rest of the process draws too
        other.step(1)
        mine.step(1)
    assert mine.history == alone.history
    assert np.array_equal(mine.samples(), alone.samples()) and np.array_equal(mine.real(), alone.real())
    assert len(mine.samples()) == len(mine.real()) == DRAWN and len(mine.samples(10)) == 10


def test_a_toy_waits_while_another_run_seeds_the_process_generator():
    """A trainer seeds the global generator and draws its weights under compute.GLOBAL_RNG on another
    compute thread; a toy built meanwhile must not seed it in between."""
    import threading

    from gan_core.compute import GLOBAL_RNG
    built = threading.Event()
    with GLOBAL_RNG:
        t = threading.Thread(target=lambda: (ToyTrainer(ToyConfig()), built.set()), daemon=True)
        t.start()
        assert not built.wait(2.0)
    t.join(30)
    assert built.is_set()


def constant_critic(loss: str, score: float, **cfg) -> ToyTrainer:
    """A toy whose D gives every point `score` and never learns: the metrics are then known exactly."""
    tr = ToyTrainer(ToyConfig(loss=loss, lr_g=0.0, lr_d=0.0, batch=16, **cfg))
    with torch.no_grad():
        for p in tr.D.parameters():
            p.zero_()
        tr.D[-1].bias.fill_(score)
    return tr


def test_the_metrics_of_a_discriminator_and_of_a_critic():
    m = constant_critic("nonsat", 0.5).step()
    assert (m["d_acc"], m["g_success"]) == (0.5, 1.0)  # real above 0, fake not below it: half right; G fools it
    assert m["d_loss"] == pytest.approx(float(losses.bce_d_loss(torch.tensor([0.5]), torch.tensor([0.5]))))
    assert m["g_loss"] == pytest.approx(float(losses.bce_g_loss(torch.tensor([0.5]))))
    m = constant_critic("nonsat", 0.0).step()
    assert (m["d_acc"], m["g_success"]) == (0.0, 0.0)  # exactly at the threshold counts for neither side
    # a critic has no fixed zero: its threshold is the midpoint of its real and fake scores
    m = constant_critic("wgan-gp", 0.5).step()
    assert (m["d_acc"], m["g_success"]) == (0.0, 0.0)
    assert m["d_loss"] == pytest.approx(1.0)  # W-distance 0, plus the penalty (|grad| 0 - 1)^2 at weight 1
    assert m["g_loss"] == pytest.approx(-0.5)


def test_a_wgan_critic_scores_as_its_midpoint_whatever_its_offset():
    runs = []
    for offset in (0.0, 100.0):
        tr = ToyTrainer(ToyConfig(loss="wgan-gp", lr_g=0.0, lr_d=0.0, batch=64))
        with torch.no_grad():
            tr.D[-1].bias.add_(offset)
        runs.append(tr.step(3))
    assert 0 < runs[0]["d_acc"] < 1 and runs[0]["d_acc"] == runs[1]["d_acc"]


def adam_steps(opt) -> int:
    state = opt.state[opt.param_groups[0]["params"][0]]
    return int(state["step"]) if state else 0


def test_each_phase_runs_as_often_as_asked_and_a_skipped_turn_costs_one_pass():
    tr = ToyTrainer(ToyConfig(d_steps=3))
    passes = []
    tr.D.register_forward_hook(lambda *a: passes.append(1))
    tr.step(2)
    assert adam_steps(tr.opt_d) == 6 and adam_steps(tr.opt_g) == 2 and len(passes) == 2 * (3 + 1)
    fresh = ToyTrainer(ToyConfig(d_steps=3))
    fresh.D.register_forward_hook(lambda *a: passes.append(1))
    passes.clear()
    fresh._iteration(skip_d=True, skip_g=False)  # D's turn skipped: one pass for the metrics, no update
    assert len(passes) == 2 and adam_steps(fresh.opt_d) == 0 and adam_steps(fresh.opt_g) == 1
    assert all(p.grad is None for p in fresh.D.parameters())  # G learned through a frozen D
    fresh._iteration(skip_d=False, skip_g=True)
    assert adam_steps(fresh.opt_d) == 3 and adam_steps(fresh.opt_g) == 1


def balance(recent_d, recent_g, on=True, most=0.85) -> tuple:
    tr = ToyTrainer(ToyConfig(balance=on, balance_max=most))
    tr._recent_d, tr._recent_g = list(recent_d), list(recent_g)
    return tr._skip()


def test_the_balance_rule_reads_the_last_ten_iterations():
    assert balance([1.0] * 9, [1.0] * 9) == (False, False)            # fewer than ten: no judgement yet
    assert balance([1.0] * 10, [0.0] * 10) == (True, False)           # D too good: its turn is skipped
    assert balance([1.0] * 10, [0.0] * 10, on=False) == (False, False)
    assert balance([0.0] * 10, [1.0] * 10) == (False, True)           # G too good
    assert balance([1.0] * 10, [1.0] * 10) == (True, False)           # never both: D's turn goes first
    assert balance([1.0] * 15 + [0.8] * 10, [1.0] * 15 + [0.8] * 10) == (False, False)  # only the last ten count
    assert balance([0.9] * 10, [0.0] * 10) == (True, False) and balance([0.0] * 10, [0.9] * 10) == (False, True)
    assert balance([0.5] * 10, [0.5] * 10, most=0.5) == (False, False)  # at the limit is not above it


def test_balance_records_both_rates_only_when_on():
    tr = ToyTrainer(ToyConfig(balance=True))
    tr.step(12)
    assert len(tr._recent_d) == len(tr._recent_g) == 12 and all(0 <= v <= 1 for v in tr._recent_g)
    off = ToyTrainer(ToyConfig())
    off.step(12)
    assert off._recent_d == off._recent_g == []


def test_a_step_reports_its_last_iteration_and_arrows_are_per_point():
    tr = ToyTrainer(ToyConfig())
    m = tr.step()
    assert tr.iteration == 1 and m["step"] == 1
    assert set(m) == {"d_loss", "g_loss", "d_acc", "g_success", "skipped_d", "skipped_g", "step"}
    last = tr.step(3)
    assert last == tr.history[-1] and last["step"] == 4 and tr.history[-2]["step"] == 3
    pts, arrows = tr.generator_arrows()
    assert pts.shape == arrows.shape == (64, 2)
    p = torch.from_numpy(pts[:1].copy()).requires_grad_(True)
    (grad,) = torch.autograd.grad(losses.bce_g_loss(tr.D(p).squeeze(1)), p)  # G's loss of that one point alone
    assert np.allclose(arrows[0], -grad.numpy()[0], atol=1e-6)
