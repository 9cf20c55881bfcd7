""""Fool the discriminator": a learner's drawing or upload becomes an MNIST-like 28x28 digit (gan_core.drawing),
the digit classifier reads it, the current D judges it, and the training page shows both (upload path;
the canvas itself is driven in a real browser by tests/e2e/test_fool_canvas.py)."""
import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from gan_core.data import load_mnist
from gan_core import registry
from gan_core.drawing import BOX, D_OUTPUT, SIZE, guess, judge_digit, to_mnist, to_model_input
from gan_core.messages import GanError
from gan_core.training import TrainConfig, Trainer
from ui.train_session import PAGE_MODELS


def canvas(strokes, paper=(0, 0, 0, 0), pen=(255, 255, 255, 255), size=(280, 280), width=22) -> np.ndarray:
    """An RGBA canvas like the drawing component returns: polylines in `pen` on `paper`."""
    im = Image.new("RGBA", size, paper)
    d = ImageDraw.Draw(im)
    for line in strokes:
        d.line(line, fill=pen, width=width, joint="curve")
    return np.asarray(im)


SEVEN = [[(150, 40), (260, 40), (190, 250)]]  # drawn off-centre, towards the right edge
POLARITIES = {
    "white on transparent (the canvas)": ((0, 0, 0, 0), (255, 255, 255, 255)),
    "black on transparent": ((0, 0, 0, 0), (0, 0, 0, 255)),
    "black on white paper": ((255, 255, 255, 255), (0, 0, 0, 255)),
    "white on black": ((0, 0, 0, 255), (255, 255, 255, 255)),
}


def mass_centre(x: np.ndarray) -> tuple[float, float]:
    yy, xx = np.mgrid[0:x.shape[0], 0:x.shape[1]]
    return float((yy * x).sum() / x.sum()), float((xx * x).sum() / x.sum())


@pytest.mark.parametrize("polarity", POLARITIES)
def test_a_drawn_stroke_becomes_a_centred_28x28_digit_with_ink(polarity):
    paper, pen = POLARITIES[polarity]
    x = to_mnist(canvas(SEVEN, paper, pen))
    assert x.shape == (SIZE, SIZE) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == pytest.approx(1.0)
    assert (x > 0.5).sum() > 30, "strokes survive the shrinking as ink"
    rows, cols = np.flatnonzero(x.any(1)), np.flatnonzero(x.any(0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (BOX, BOX + 1), "longer side fitted into 20 px"
    cy, cx = mass_centre(x)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5, (cy, cx)
    assert x[:, :2].sum() == 0 and x[:, -2:].sum() == 0, "a margin like MNIST's, not a digit cut at the edge"
    assert np.abs(x - to_mnist(canvas(SEVEN))).max() < 0.02, "every polarity gives the same digit"
    assert guess(x)["digit"] == 7


def test_the_conversion_ignores_where_and_how_big_the_digit_was_drawn():
    small = canvas([[(20, 20), (60, 20), (35, 80)]], size=(400, 300), width=6)
    big = canvas([[(100, 20), (380, 20), (200, 290)]], size=(400, 300), width=30)
    a, b = to_mnist(small), to_mnist(big)
    assert mass_centre(a) == pytest.approx(mass_centre(b), abs=0.6)
    assert (a > 0.3).sum() > 20 and (b > 0.3).sum() > 20  # a thin pen on a big canvas still gives full ink


def test_mnist_test_digits_drawn_large_on_white_come_back_as_their_label():
    """The first 100 test digits, dark on white, 9x larger, anywhere on a 400x360 canvas: the classifier
    reads them as well as the originals (measured: 199/200 either way on the first 200)."""
    images, labels = load_mnist("test")
    rng = np.random.default_rng(0)
    converted, direct = [], []
    for im, label in zip(images[:100], labels[:100]):
        page = Image.new("L", (400, 360), 255)
        page.paste(Image.fromarray(255 - im).resize((252, 252), Image.BICUBIC),
                   (int(rng.integers(0, 148)), int(rng.integers(0, 108))))
        x = to_mnist(page)  # a PIL image, as an upload arrives
        converted.append(guess(x)["digit"] == label)
        direct.append(guess(im.astype(np.float32) / 255)["digit"] == label)
        assert np.abs(x - im / 255.0).mean() < 0.15  # and it looks like the original again
    assert sum(converted) >= 97 and sum(converted) >= sum(direct) - 1, (sum(converted), sum(direct))


def test_nothing_drawn_or_not_an_image_is_a_coded_refusal():
    for blank in (canvas([]), canvas([], paper=(255, 255, 255, 255)), np.full((50, 50), 0.5) +
                  np.random.default_rng(0).normal(0, 0.01, (50, 50))):
        with pytest.raises(GanError) as e:
            to_mnist(blank)
        assert e.value.code == "drawing.empty"
    with pytest.raises(GanError) as e:
        to_mnist(np.zeros((4, 5, 6, 7)))
    assert e.value.code == "drawing.bad_shape"


@pytest.fixture(scope="module")
def data():
    x = torch.tensor(load_mnist("test")[0][:512]).float().div(127.5).sub(1).unsqueeze(1)
    return x, torch.tensor(load_mnist("test")[1][:512]).long()


def trainer(model, data, **kw):
    x, y = data
    t = Trainer(TrainConfig.preset(model, batch_size=16, seed=0, **kw), x, device="cpu", labels=y)
    t.step(3)
    return t


JUDGED = [m for m in PAGE_MODELS if TrainConfig.preset(m).loss in D_OUTPUT]  # every GAN the training page offers


def test_every_gan_of_the_training_page_has_a_d_to_ask():
    assert {"cdcgan", "slides", "mlp", "wgan-gp", "wgan"} <= set(JUDGED)
    assert not [m for m in PAGE_MODELS if m not in JUDGED and registry.get(m).loss != "elbo"]  # only the VAE has none


@pytest.mark.parametrize("model", JUDGED)
def test_d_judges_a_drawing_beside_real_and_fake_batches_and_changes_nothing(model, data):
    kind = "critic" if registry.get(model).wgan else "probability"
    tr = trainer(model, data, width=8)
    x = to_mnist(canvas(SEVEN))
    tr.snapshot()
    real, fake = ((data[0][:8, 0] + 1) * 127.5).round().byte().numpy(), tr.snapshots[-1][1][:8]
    before = {k: v.clone() for k, v in tr.D.state_dict().items()}
    v = judge_digit(tr.D, tr.cfg.loss, x, real, fake)
    assert tr.D.training, "D goes back to training mode"
    assert all(torch.equal(before[k], w) for k, w in tr.D.state_dict().items()), "judging moves no weight or statistic"
    assert v["kind"] == kind
    # the score is D's own output on the same input, in eval mode, as a probability unless a critic
    tr.D.eval()
    with torch.no_grad():
        raw = tr.D(to_model_input(np.stack([x, real[0] / 255.0, fake[0] / 255.0]).astype(np.float32))).float()
    tr.D.train()
    expected = raw if kind == "critic" else (raw if tr.cfg.loss == "bce-sigmoid" else raw.sigmoid())
    assert v["score"] == pytest.approx(float(expected[0]), abs=1e-5)
    assert v["real_mean"] == pytest.approx(float(torch.tensor(
        [float(judge_digit(tr.D, tr.cfg.loss, im / 255.0)["score"]) for im in real]).mean()), abs=1e-5)
    assert "fake_mean" in v
    if kind == "probability":
        assert 0 <= v["score"] <= 1 and v["fooled"] == (v["score"] > 0.5)
    else:
        assert v["fooled"] == (abs(v["score"] - v["real_mean"]) < abs(v["score"] - v["fake_mean"]))
    assert ("d_digit" in v) == (model == "cdcgan")  # the AC-GAN's own digit head


def test_a_model_without_a_discriminator_is_refused():
    with pytest.raises(GanError) as e:
        judge_digit(torch.nn.Linear(784, 1), "elbo", np.zeros((28, 28), np.float32))
    assert e.value.code == "drawing.no_discriminator"


# ------------------------------------------------------------------ the training page, upload path
def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_training_page_upload_shows_the_guess_then_ds_score(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui.fool_panel import OPEN as FOOL_OPEN
    from ui.i18n import t
    from ui.train_session import TrainSession
    monkeypatch.setattr(TrainSession, "score_every_s", 1e9)
    monkeypatch.setattr(TrainSession, "tick_seconds", 0.15)
    images, labels = load_mnist("test")
    digit = Image.new("L", (300, 300), 255)
    digit.paste(Image.fromarray(255 - images[0]).resize((168, 168), Image.BICUBIC), (20, 90))  # a 7, dark on white

    at = AppTest.from_file("../views/2_train.py", default_timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    for name, value in (("batch_size", 8), ("width", 8)):
        at.number_input(key=f"train.w.{name}").set_value(value)
    at.session_state[FOOL_OPEN] = True  # the learner opens the panel
    at.radio(key="train.fool.source").set_value("upload").run()
    assert t("train.fool.wait") in [c.value for c in at.caption]
    at.file_uploader(key="train.fool.upload").set_value(("seven.png", png(digit), "image/png")).run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("train.fool.classifier")].startswith(f"{labels[0]} · ")
    assert t("train.fool.no_d") in [i.value for i in at.info]  # no run yet: no D to ask

    at.button(key="train.step").click().run()
    s = at.session_state["train.session"]
    assert s.trainer is not None and s.trainer.iteration >= 1
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    score = metrics[t("train.fool.d_prob")]
    assert score.endswith("%") and 0 <= int(score[:-1]) <= 100
    verdict = s.judge_drawing(to_mnist(digit))
    assert score == f"{verdict['score']:.0%}"
    assert t("train.fool.reference", n_real=64, real=f"{verdict['real_mean']:.0%}", n_fake=64,
             fake=f"{verdict['fake_mean']:.0%}") in [c.value for c in at.caption]
    assert t("train.fool.d_digit", digit=verdict["d_digit"], confidence=f"{verdict['d_digit_confidence']:.0%}") in \
        [c.value for c in at.caption]  # the default model is the AC-GAN

    # closed, the panel keeps the picture but asks neither D nor the classifier
    asked = []
    monkeypatch.setattr(TrainSession, "judge_drawing", lambda self, d: asked.append(d))
    at.session_state[FOOL_OPEN] = False
    at.run()
    assert not at.exception and not asked and t("train.fool.classifier") not in [m.label for m in at.metric]
    assert at.file_uploader(key="train.fool.upload").value is not None
    at.session_state[FOOL_OPEN] = True
    at.run()
    assert len(asked) == 1 and t("train.fool.classifier") in [m.label for m in at.metric]

    at.file_uploader(key="train.fool.upload").set_value(("notes.png", b"not a picture" * 20, "image/png")).run()
    assert any(e.value.startswith(t("train.fool.bad_upload", name="notes.png", error="")) for e in at.error)
    assert not at.exception
