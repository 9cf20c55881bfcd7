"""One half-step at a time: Trainer.half_step / judge (engine) and the D step / G step buttons (page)."""
import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from gan_core.data import load_mnist, mnist_tensor
from gan_core.training import TrainConfig, Trainer
from ui.train_session import TrainSession

MODELS = ["mlp", "slides", "cdcgan", "wgan-gp"]  # BCE on logits, the slides' BCE on probabilities, AC-GAN, WGAN-GP


@pytest.fixture(scope="module")
def small():
    return mnist_tensor("test")[:512], torch.from_numpy(load_mnist("test")[1][:512].astype("int64"))


def trainer(model, small, **kw) -> Trainer:
    data, labels = small
    cfg = TrainConfig.preset(model, **{"batch_size": 32, "width": 32 if model == "mlp" else 16, **kw})
    return Trainer(cfg, data, device="cpu", labels=labels if cfg.num_classes else None)


def params(net) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("model", MODELS)
def test_d_step_widens_the_gap_and_leaves_g_g_step_raises_fakes_and_leaves_d(model, small):
    t = trainer(model, small)
    probe = t.make_probe(32)
    g0, d0 = params(t.G), params(t.D)
    h = t.half_step("d", probe)
    assert h.after.gap > h.before.gap, (h.before.gap, h.after.gap)
    assert same(g0, t.G.parameters()), "D's step must not move G"
    assert not same(d0, t.D.parameters())
    assert (h.turn, h.step, h.metrics["skipped_d"], h.metrics["skipped_g"]) == ("d", 1, 0, 1)
    # the next half-step starts where this one ended: the same fixed batch, judged the same way
    d1, after_d = params(t.D), h.after
    h = t.half_step("g", probe)
    assert np.array_equal(h.before.real, after_d.real) and np.array_equal(h.before.fake, after_d.fake)
    assert h.after.fake.mean() > h.before.fake.mean(), (h.before.fake.mean(), h.after.fake.mean())
    assert np.allclose(h.after.real, h.before.real), "G's step leaves D's view of the real digits alone"
    assert same(d1, t.D.parameters()), "G's step must not move D"
    assert (h.turn, h.step, h.metrics["skipped_d"], h.metrics["skipped_g"]) == ("g", 2, 1, 0)
    assert t.iteration == 2 and [m["step"] for m in t.history] == [1, 2]


@pytest.mark.parametrize("model,scale", [("mlp", "probability"), ("slides", "probability"), ("wgan-gp", "critic"),
                                         ("wgan", "critic")])
def test_judge_scale_and_range(model, scale, small):
    t = trainer(model, small)
    v = t.judge(t.make_probe(16))
    assert v.scale == scale and v.real.shape == v.fake.shape == (16,)
    if scale == "probability":  # D(x): a BCE logit goes through its sigmoid, the slides' D already ends in one
        assert ((v.real > 0) & (v.real < 1)).all() and ((v.fake > 0) & (v.fake < 1)).all()
    assert v.gap == pytest.approx(float(v.real.mean() - v.fake.mean()))


def test_judging_changes_nothing_and_is_repeatable(small):
    """BatchNorm nets with dropout: no running statistic moves, no mode flips, the same numbers twice."""
    t = trainer("dcgan", small, dropout=0.5)
    t.step(1)
    t.G.eval()  # a mode the judging must put back
    buffers = [b.clone() for net in (t.G, t.D) for b in net.buffers()]
    probe = t.make_probe(16)
    a, b = t.judge(probe), t.judge(probe)
    assert np.array_equal(a.real, b.real) and np.array_equal(a.fake, b.fake)
    assert all(torch.equal(x, y) for x, y in zip(buffers, (b for net in (t.G, t.D) for b in net.buffers())))
    assert not t.G.training and t.D.training


def test_the_probe_leaves_the_training_stream_alone(small):
    a, b = trainer("mlp", small), trainer("mlp", small)
    a.judge(a.make_probe(16))
    assert json.dumps(a.step(2)) == json.dumps(b.step(2))


def test_bad_turn_is_refused(small):
    with pytest.raises(ValueError):
        trainer("mlp", small).step(1, turn="both")


# ---------------------------------------------------------------- the page
PAGE = "../views/2_train.py"


@pytest.fixture
def page(monkeypatch):
    monkeypatch.setattr(TrainSession, "score_every_s", 1e9)
    monkeypatch.setattr(TrainSession, "tick_seconds", 0.15)
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    return at


def open_model(at, model):
    at.selectbox(key="train.w.model").set_value(model).run()
    at.number_input(key="train.w.batch_size").set_value(16)
    at.number_input(key="train.w.width").set_value(16)
    return at.run()


def shown(at) -> dict:
    """label -> (value after, delta) of the half-step panel's numbers."""
    return {m.label: (float(m.value), float(m.delta)) for m in at.metric if m.delta}


@pytest.mark.parametrize("model", ["mlp", "wgan-gp"])
def test_d_and_g_step_buttons_show_before_and_after(page, model):
    at = open_model(page, model)
    sess = at.session_state["train.session"]
    at.button(key="train.d_step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert sess.status == "paused" and sess.trainer.iteration == 1 and sess.half.turn == "d"
    numbers = shown(at)
    assert len(numbers) == 3 and all(delta != 0 for _, delta in numbers.values()), numbers
    gap = next(v for k, v in numbers.items() if k.startswith("Gap"))
    assert gap[1] > 0, "D's step widens the gap on the fixed batch"
    real_label = "Critic score on real digits" if model == "wgan-gp" else "D(x) on real digits"  # a WGAN says so
    assert real_label in numbers, numbers
    before = [c.value for c in at.caption if c.value.startswith("before: ")]
    assert len(before) == 3 and before != [f"before: {v:.3f}" for v, _ in numbers.values()], "before differs from after"
    assert any(c.proto.spec for c in at.get("plotly_chart"))

    at.button(key="train.g_step").click().run()
    assert sess.trainer.iteration == 2 and sess.half.turn == "g"
    fake = next(v for k, v in shown(at).items() if "fakes" in k)
    assert fake[1] > 0, "G's step raises D's (or the critic's) verdict on the fakes"
    assert sess.columns["skipped_g"][-2:] == [1, 0] and sess.columns["skipped_d"][-2:] == [0, 1]


def test_a_half_step_pauses_a_running_run(page):
    at = open_model(page, "mlp")
    at.button(key="train.start").click().run()
    sess = at.session_state["train.session"]
    assert sess.status == "running"
    n = sess.trainer.iteration
    at.button(key="train.g_step").click().run()
    assert sess.status == "paused" and sess.trainer.iteration == n + 1 and sess.half.step == n + 1
    at.run()
    assert sess.trainer.iteration == n + 1, "paused: no tick after the half-step"
