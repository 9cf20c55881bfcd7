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
from gan_core.drawing import BOX, D_OUTPUT, INK_FLOOR, SIZE, grey, guess, ink, judge_digit, to_mnist, to_model_input
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
    assert (a > 0.3).sum() > 20 and (b > 0.3).sum() > 20
    assert a.max() == b.max() == 1.0  # a thin pen on a big canvas, faint once shrunk, still gives full ink


def test_mnist_test_digits_drawn_large_on_white_come_back_as_their_label():
    """The first 100 test digits, dark on white, 9x larger, anywhere on a 400x360 canvas: the classifier
    reads them as well as the originals (measured on the first 200: 200 converted, 199 originals)."""
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


# ------------------------------------------------------------------ the conversion, pixel by pixel
def test_grey_reads_8_bit_and_0_to_1_values_and_cuts_the_rest():
    assert grey(np.array([[0, 255]], np.uint8)).tolist() == [[0.0, 1.0]]
    assert grey(np.array([[0, 1]], np.uint8)).tolist() == [[0.0, np.float32(1 / 255)]]  # 8-bit, however dark
    assert grey(np.array([[0.0, 0.25, 1.0]])).tolist() == [[0.0, 0.25, 1.0]]  # already 0 to 1: kept
    assert grey(np.array([[0.0, 2.0]])).tolist() == [[0.0, np.float32(2 / 255)]]  # above 1: 8-bit values
    assert grey(np.array([[-0.5, 1.0]])).tolist() == [[0.0, 1.0]]
    assert grey(np.array([[-0.5, 510.0, np.nan]])).tolist() == [[0.0, 1.0, 0.0]]
    assert grey(np.zeros((600, 800), np.uint8)).dtype == np.float32  # a photo's copy at half a float64's size
    assert grey(np.zeros((4, 4, 4), np.uint8)).dtype == np.float32


def test_grey_weighs_red_green_and_blue_as_the_eye_does_in_every_layout():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    assert grey(rgb) == pytest.approx(np.array([[0.299, 0.587, 0.114]]), abs=1e-6)
    one = np.array([[[0], [128], [255]]], np.uint8)
    assert grey(one).tolist() == grey(one[..., 0]).tolist()  # (H, W, 1) is (H, W)
    opaque = np.concatenate([rgb, np.full((1, 3, 1), 255, np.uint8)], axis=2)
    assert grey(opaque).tolist() == grey(rgb).tolist()
    nearly = np.concatenate([rgb / 255, np.full((1, 3, 1), 0.99)], axis=2)  # under 2% see-through: as opaque
    assert grey(nearly).tolist() == grey(rgb).tolist()
    assert grey(np.ones((1, 5))).shape == (1, 5)  # one pixel high is still a picture


def test_grey_puts_see_through_paper_behind_the_ink_it_sets_off():
    for pen, paper in (((0, 0, 0, 255), 1.0), ((255, 255, 255, 255), 0.0)):
        g = grey(canvas(SEVEN, pen=pen))
        assert g[0, 0] == paper and g.min() == 0.0 and g.max() == 1.0, pen
        half = grey(canvas(SEVEN, pen=pen[:3] + (128,)))  # a half-transparent pen: half way to the paper
        assert half[SEVEN[0][0][1], 200] == pytest.approx((pen[0] / 255 + paper) / 2, abs=0.01)
    exactly_half = canvas(SEVEN) / 255.0
    exactly_half[..., 3] /= 2  # a white pen at alpha 0.5 (a float picture): the pen, set off on black
    assert grey(exactly_half)[SEVEN[0][0][1], 200] == 0.5 and grey(exactly_half)[0, 0] == 0.0


def test_grey_takes_a_picture_in_any_mode_an_upload_arrives_in():
    rgba = Image.fromarray(canvas(SEVEN, paper=(255, 255, 255, 255), pen=(0, 0, 255, 255)))
    expected = grey(rgba)
    for mode in ("RGB", "P", "L", "LA"):
        got = grey(rgba.convert(mode))
        assert np.abs(got - expected).max() < 0.01, mode


@pytest.mark.parametrize("shape", [(4, 5, 6, 7), (5, 5, 2), (5, 5, 5), (0, 5), (5, 0, 3)])
def test_grey_refuses_what_is_not_a_picture_and_names_its_shape(shape):
    with pytest.raises(GanError) as e:
        grey(np.zeros(shape))
    assert e.value.code == "drawing.bad_shape" and e.value.params == {"shape": shape}


def test_ink_is_1_for_the_strongest_stroke_and_0_below_a_fifth_of_it():
    g = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.5, 0.9], [1.0, 0.8, 0.75, 1.0], [1.0, 1.0, 1.0, 1.0]], np.float32)
    s = ink(g)  # dark on white paper: the strength is how much darker than the paper
    assert s[1, 1] == 1.0 and s[0, 0] == 0.0 and s[1, 3] == 0.0 and s[2, 1] == pytest.approx(0.0, abs=1e-6)
    assert s[1, 2] == pytest.approx((0.5 - INK_FLOOR) / (1 - INK_FLOOR)) and s[2, 2] == pytest.approx(
        (0.25 - INK_FLOOR) / (1 - INK_FLOOR))
    assert ink(g * 0.5 + 0.5)[1, 2] == pytest.approx(s[1, 2]), "a fainter pen: the same strokes"


def test_chalk_on_a_dark_board_is_ink_and_the_board_and_anything_darker_are_not():
    g = np.full((6, 6), 0.2, np.float32)
    g[2, 2:4], g[3, 3] = 0.9, 0.0
    s = ink(g)
    assert s[2, 2] == s[2, 3] == 1.0 and s[3, 3] == 0.0 and s[0].tolist() == [0.0] * 6
    assert np.count_nonzero(s) == 2


FRAME = ["#..##.",  # '#' white, '.' black: the outermost pixels are mostly white; everything inside is black
         ".....#",
         ".....#",
         "#.....",
         ".....#",
         "#...##"]


def test_the_paper_is_what_the_outermost_pixels_mostly_hold_not_the_line_inside_them():
    g = np.array([[c == "#" for c in row] for row in FRAME], np.float32)
    g[1:-1, 1:-1] = 0.0
    s = ink(g)  # white paper: the black inside is the ink, whichever side's next line in is black too
    assert (s[1:-1, 1:-1] == 1.0).all() and (s[g == 1.0] == 0.0).all()


def page_with(shape: np.ndarray, at=(13, 27), size=(60, 70)) -> Image.Image:
    """`shape` (1 = ink) dark on a white page, its top-left corner at `at`."""
    page = np.full(size, 255, np.uint8)
    page[at[0]:at[0] + shape.shape[0], at[1]:at[1] + shape.shape[1]][shape > 0] = 0
    return Image.fromarray(page)


def test_a_digit_20_px_tall_keeps_its_pixels_and_sits_centred_by_mass():
    block = np.ones((20, 10))
    x = to_mnist(page_with(block))
    expected = np.zeros((SIZE, SIZE), np.float32)
    expected[4:24, 9:19] = 1.0  # rows and columns centred: 13.5 - 9.5 = 4 and 13.5 - 4.5 = 9
    assert np.array_equal(x, expected)


@pytest.mark.parametrize("shape, box", [(np.ones((100, 1)), (BOX, 1)), (np.ones((1, 100)), (1, BOX)),
                                        (np.eye(100), (BOX, BOX))], ids=["a thin one", "a thin dash", "a thin diagonal"])
def test_a_stroke_thinner_than_a_pixel_once_shrunk_stays_at_least_one_pixel_of_full_ink(shape, box):
    x = to_mnist(page_with(shape, at=(20, 20), size=(150, 150)))
    assert (np.count_nonzero(x.any(1)), np.count_nonzero(x.any(0))) == box
    assert x.max() == 1.0  # the diagonal comes out a fifth as dark once shrunk: as full ink as MNIST's strokes


T_SHAPE = np.zeros((20, 20))
T_SHAPE[:4], T_SHAPE[:, 9:11] = 1, 1  # a bar along the top, a stem down the middle: most of the ink high up


@pytest.mark.parametrize("turns", [0, 1, 2, 3], ids=["T", "bar left", "upside down", "bar right"])
def test_a_digit_whose_ink_sits_at_one_end_is_pushed_to_the_edge_never_past_it(turns):
    shape = np.rot90(T_SHAPE, turns)
    x = to_mnist(page_with(shape))
    # centred by mass, the bar would land 2 px past the far edge: it stops at the edge, 8 px from the other
    top = {0: 8, 1: 4, 2: 0, 3: 4}[turns]
    left = {0: 4, 1: 8, 2: 4, 3: 0}[turns]
    expected = np.zeros((SIZE, SIZE), np.float32)
    expected[top:top + 20, left:left + 20] = shape
    assert np.array_equal(x, expected)


def test_the_models_input_maps_no_ink_to_minus_1_and_full_ink_to_1():
    assert to_model_input(np.zeros((SIZE, SIZE))).unique().tolist() == [-1.0]
    assert to_model_input(np.ones((2, SIZE, SIZE))).unique().tolist() == [1.0]
    u = to_model_input(np.array([[0, 255, 51] + [0] * 781], np.uint8).reshape(SIZE, SIZE))  # uint8: MNIST's own
    assert u.shape == (1, 1, SIZE, SIZE) and u[0, 0, 0, :3].tolist() == pytest.approx([-1.0, 1.0, -0.6])


def test_the_guess_is_the_classifiers_most_likely_digit_with_its_probability():
    g = guess(to_mnist(canvas(SEVEN)))
    assert len(g["probs"]) == 10 and sum(g["probs"]) == pytest.approx(1.0, abs=1e-5)
    assert g["digit"] == int(np.argmax(g["probs"])) == 7 and g["confidence"] == max(g["probs"]) > 0.5


class Brightness(torch.nn.Module):
    """A 'discriminator' anyone can work out: its score is `scale` x the image's mean pixel."""

    def __init__(self, scale=1.0):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(float(scale)))

    def forward(self, x):
        return self.scale * x.mean((1, 2, 3))


def brightness(images) -> float:
    return float(to_model_input(np.asarray(images, np.float32)).mean())


def test_a_critics_verdict_is_the_nearer_batch_and_its_means_are_each_batchs_own():
    drawing = to_mnist(canvas(SEVEN))
    real = load_mnist("test")[0][:3] / 255.0
    fake = np.stack([drawing, np.zeros((SIZE, SIZE))])
    v = judge_digit(Brightness(), "wgan-gp", drawing, real, fake)
    assert v["kind"] == "critic" and v["score"] == pytest.approx(brightness(drawing), abs=1e-6)
    assert v["real_mean"] == pytest.approx(np.mean([brightness(r) for r in real]), abs=1e-6)
    assert v["fake_mean"] == pytest.approx(np.mean([brightness(f) for f in fake]), abs=1e-6)
    assert v["fooled"] == (abs(v["score"] - v["real_mean"]) < abs(v["score"] - v["fake_mean"]))
    assert judge_digit(Brightness(), "wgan-gp", drawing, real, np.stack([drawing]))["fooled"] is False  # it IS the fakes
    assert judge_digit(Brightness(), "wgan-gp", drawing, np.stack([drawing]), real)["fooled"] is True
    assert judge_digit(Brightness(0.0), "wgan-gp", drawing, real, fake)["fooled"] is False  # can tell nothing apart
    alone = judge_digit(Brightness(), "wgan-clip", drawing, real)  # no fakes to compare with: no verdict
    assert alone["fooled"] is None and "fake_mean" not in alone


def test_a_probability_of_one_half_does_not_fool_d():
    drawing = to_mnist(canvas(SEVEN))
    v = judge_digit(Brightness(0.0), "bce", drawing)  # logit 0
    assert v == {"kind": "probability", "score": 0.5, "fooled": False}
    v = judge_digit(Brightness(4.0), "bce", drawing)
    assert v["score"] == pytest.approx(float(torch.sigmoid(torch.tensor(4 * brightness(drawing)))), abs=1e-6)


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
    if model == "cdcgan":
        assert 0 <= v["d_digit"] <= 9 and 0.1 <= v["d_digit_confidence"] <= 1


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
