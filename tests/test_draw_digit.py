""""Now draw a 7": the digits a conditional generator is asked for, on the CLI and on the training page,
and a real batch beside the fakes."""

import numpy as np
import pytest
import torch

from gan_core import cli
from gan_core.hub import save_model
from gan_core.messages import GanError
from gan_core.models import DCGANGenerator28, MLPGenerator
from gan_core.pipelines import digit_labels, sample_images
from gan_core.training import TrainConfig, Trainer
from ui.train_panels import REAL_FAKE_OPEN
from ui.train_session import TrainSession


@pytest.fixture
def received(monkeypatch):
    """The labels every DCGANGenerator28 forward receives (None when it draws its own order)."""
    seen = []
    forward = DCGANGenerator28.forward

    def spy(self, z, labels=None):
        seen.append(None if labels is None else labels.clone())
        return forward(self, z, labels)
    monkeypatch.setattr(DCGANGenerator28, "forward", spy)
    return seen


def test_cli_digit_7_asks_for_7_in_every_sample(tmp_path, received):
    save_model(DCGANGenerator28(z_dim=16, width=8, num_classes=10), tmp_path / "g")
    cli.main(["sample", str(tmp_path / "g"), "--n", "12", "--digit", "7", "--out", str(tmp_path / "s.npy")])
    assert len(received) == 1 and received[0].tolist() == [7] * 12
    assert np.load(tmp_path / "s.npy").shape == (12, 28, 28)
    cli.main(["sample", str(tmp_path / "g"), "--n", "12", "--out", str(tmp_path / "all.npy")])
    assert received[-1] is None  # no --digit: the generator's own order, as before


def test_digit_refused_for_unconditional_and_out_of_range(tmp_path, capsys):
    G = MLPGenerator(z_dim=8, hidden=16)
    with pytest.raises(GanError) as e:
        sample_images(G, 4, digit=7)
    assert e.value.code == "sample.not_conditional"
    with pytest.raises(GanError) as e:
        sample_images(DCGANGenerator28(z_dim=8, width=8, num_classes=10), 4, digit=10)
    assert e.value.code == "sample.bad_digit"
    save_model(G, tmp_path / "mlp")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sample", str(tmp_path / "mlp"), "--digit", "3", "--out", str(tmp_path / "x.png")])
    assert "not conditional" in str(exit_.value.code)


def test_digit_labels_modes():
    assert digit_labels(3, 5, 10).tolist() == [3] * 5
    rows = digit_labels("rows", 64, 10)
    assert rows.tolist() == [d for d in range(10) for _ in range(8)]
    r = digit_labels("random", 64, 10, seed=4)
    assert torch.equal(r, digit_labels("random", 64, 10, seed=4)) and len(set(r.tolist())) > 5
    assert digit_labels("mixed", 64, 10) is None


@pytest.fixture(scope="module")
def data():
    x = torch.rand(300, 1, 28, 28) * 2 - 1
    return x, torch.arange(300) % 10


def session(data, model="cdcgan"):
    x, y = data
    s = TrainSession(x, TrainConfig.preset(model, batch_size=8, width=8, z_dim=8, snapshot_every=1000), labels=y)
    s.score_every_s = 1e9
    return s


def test_the_live_grid_draws_the_chosen_digits_cheaply(data, received):
    s = session(data)
    s.snapshot_every_s = 0  # a snapshot every tick while running (else one per 0.45 s trained: timing decides)
    s.set_draw(7)  # before the run: applied when the trainer is built
    s.request_step()
    s.tick()
    assert received[-1].tolist() == [7] * 64 and s.trainer.fixed_labels.tolist() == [7] * 64
    n, snaps = s.trainer.iteration, len(s.trainer.snapshots)
    s.set_draw("rows")  # paused: the newest snapshot is redrawn in place, no training
    assert s.trainer.iteration == n and len(s.trainer.snapshots) == snaps
    assert s.latest_grid_images().shape == (80, 28, 28)  # a row of 8 per digit
    assert received[-1].tolist() == [d for d in range(10) for _ in range(8)]
    s.start()
    s.tick()
    assert s.trainer.snapshots[-1][1].shape == (80, 28, 28)
    # the real batch beside it: the same digits, from the training data, as many as the fakes
    real = s.real_grid_images()
    assert real.shape == (80, 28, 28)
    x, y = data
    u8 = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).squeeze(1).numpy()
    picked = [int(np.flatnonzero((u8 == im).all(axis=(1, 2)))[0]) for im in real]
    assert [int(y[i]) for i in picked] == [d for d in range(10) for _ in range(8)]
    assert real is s.real_grid_images(), "cached: no work while the labels stay"
    s.set_draw("mixed")
    s.tick()
    assert s.trainer.fixed_labels is None and s.latest_grid_images().shape == (64, 28, 28)
    assert [int(y[i]) for i in [int(np.flatnonzero((u8 == im).all(axis=(1, 2)))[0]) for im in s.real_grid_images()]] \
        == [i % 10 for i in range(64)]


def test_unconditional_models_ignore_the_choice_and_get_a_random_real_batch(data):
    s = session(data, "mlp")
    s.set_draw(7)
    s.request_step()
    s.tick()
    assert s.trainer.fixed_labels is None and s.latest_grid_images().shape == (64, 28, 28)
    assert s.real_grid_images().shape == (64, 28, 28)


# The real model on MNIST, trained headless in the test: 600 cdcgan steps take ~15 s on this project's
# 2-core CPU when it is quiet (400 steps: 8 s; minutes when other jobs share the cores). Measured per
# digit on seed 0: at 400 steps "7" is only 88.8% sevens, at 500 steps 97.3%, at 600 steps 99.0%
# ("0": 98.3%; the weakest digit, "8", 83%).
@pytest.mark.parametrize("digit", [7, 0])
def test_a_trained_conditional_model_draws_the_picked_digit(digit, trained_cdcgan):
    from gan_core.metrics import score_digits
    G = trained_cdcgan.generator
    s = score_digits(G.generate(500, seed=5, labels=digit_labels(digit, 500, 10)))
    assert s["class_share"][digit] >= 0.9, s["class_share"]


@pytest.fixture(scope="module")
def trained_cdcgan():
    from gan_core.data import load_mnist, mnist_tensor
    t = Trainer(TrainConfig.preset("cdcgan", seed=0), mnist_tensor("train"), device="cpu",
                labels=torch.tensor(load_mnist("train")[1]).long())
    t.run(steps=600, chunk=50)
    assert t.error is None
    return t


def test_training_page_picker_and_real_next_to_fake(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui.i18n import t
    monkeypatch.setattr(TrainSession, "score_every_s", 1e9)
    monkeypatch.setattr(TrainSession, "tick_seconds", 0.15)
    at = AppTest.from_file("../views/2_train.py", default_timeout=180)
    at.run()
    assert at.session_state["train.w.model"] == "cdcgan"  # the default model is the conditional one
    for name, value in (("batch_size", 8), ("width", 8)):
        at.number_input(key=f"train.w.{name}").set_value(value)
    at.run()
    assert t("train.real_fake_wait") not in [c.value for c in at.caption]  # the pair's panel is closed: not drawn
    at.session_state[REAL_FAKE_OPEN] = True  # the learner opens it
    at.run()
    assert t("train.real_fake_wait") in [c.value for c in at.caption]
    at.selectbox(key="train.draw").set_value(7).run()
    at.button(key="train.step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    s = at.session_state["train.session"]
    assert s.trainer.fixed_labels.tolist() == [7] * 64
    captions = [img.captions[0] for img in at.image if img.captions]
    step = s.trainer.snapshots[-1][0]
    assert t("train.real_caption", n=64) in captions and t("train.fake_caption", n=64, step=step) in captions
    at.selectbox(key="train.draw").set_value("rows").run()  # paused: redrawn at once, no training
    assert s.trainer.iteration == step and s.latest_grid_images().shape == (80, 28, 28)
    assert t("train.real_caption", n=80) in [img.captions[0] for img in at.image if img.captions]
    at.selectbox(key="train.w.model").set_value("mlp").run()
    at.button(key="train.reset").click().run()
    assert not [w for w in at.selectbox if w.key == "train.draw"], "no digit to pick for an unconditional model"
