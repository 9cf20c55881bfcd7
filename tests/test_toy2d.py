"""The 2-D toy GAN learns: D's accuracy moves, the samples approach the data; the drawing helpers agree with D."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from gan_core.toy2d import (MODE_COLLAPSE, SHAPES, ToyConfig, ToyTrainer, centres, coverage, mode_distance,
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
    assert at.button(key="toy.b.play").label == translate("arch.toy.pause", "en")
    n = iteration()
    at.run()
    assert iteration() == n + k, "playing: each rerun is one tick of K iterations"
    assert at.metric[0].value == str(n + k)

    at.button(key="toy.b.play").click().run()
    assert at.session_state["toy.playing"] is False
    n = iteration()
    at.run()
    at.run()
    assert iteration() == n, "paused: reruns do not train"
    at.button(key="toy.b.step").click().run()
    assert iteration() == n + k and at.session_state["toy.playing"] is False
    at.run()
    assert iteration() == n + k and not at.exception
