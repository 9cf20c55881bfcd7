"""A learner's own digit, as MNIST would have it, and what D and the digit classifier make of it.

    x = to_mnist(rgba_or_rgb_or_pil)          # float32 (28, 28) in [0, 1], ink = 1
    guess(x)                                  # {"digit": 7, "confidence": 0.98, "probs": [...]}
    judge_digit(D, "bce", x, real, fake)      # D's verdict beside its verdicts on a real and a fake batch

Why the conversion matters: both networks only ever saw MNIST, whose digits are white ink on black,
fitted into a 20x20 box (aspect kept) and placed in a 28x28 field so that their centre of mass sits
in the middle (LeCun et al.'s preprocessing). A 7 drawn in a corner of a 400 px canvas, dark on
white, is none of that; after to_mnist() it is, and the classifier reads hand-drawn digits reliably
(tests/test_drawing.py: MNIST test digits drawn large, off-centre, dark on white, come back as their
label). D is another matter, and that is the lesson: D was trained to tell MNIST from G's current
fakes, not digits from non-digits, so a perfectly readable digit can still look "fake" to it.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from .messages import GanError

SIZE = 28          # MNIST's field
BOX = 20           # the box MNIST's digits are fitted into, aspect kept
INK_FLOOR = 0.2    # ink weaker than this share of the strongest stroke is paper noise, not a stroke
MIN_CONTRAST = 0.1  # below this (on a 0-1 grey scale) there is nothing drawn at all
# What each loss family's D returns (registry.ModelSpec.loss): a logit, a probability (the slides'
# sigmoid D) or a WGAN critic's unbounded score, which only means something next to other scores.
D_OUTPUT = {"bce": "logit", "bce-sigmoid": "probability", "wgan-clip": "critic", "wgan-gp": "critic"}


def grey(image) -> np.ndarray:
    """A PIL image or an (H,W), (H,W,3), (H,W,4) array (uint8 or float in [0,1]) -> float (H,W) in [0,1].

    Transparency (a drawing canvas with no background) goes onto whichever of black or white the
    strokes stand out from, so white ink on "nothing" and black ink on "nothing" both survive."""
    raw = np.asarray(image.convert("RGBA") if isinstance(image, Image.Image) else image)
    a = raw.astype(np.float32)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)) or min(a.shape[:2]) < 1:
        raise GanError("drawing.bad_shape", shape=tuple(a.shape))
    if np.issubdtype(raw.dtype, np.integer) or np.nanmax(a) > 1.0:  # 8-bit values
        a = a / 255.0
    a = np.clip(np.nan_to_num(a), 0, 1)
    if a.ndim == 2:
        return a
    alpha = a[..., 3] if a.shape[2] == 4 else None
    rgb = a[..., :3] if a.shape[2] >= 3 else np.repeat(a, 3, axis=2)
    g = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if alpha is not None and alpha.min() < 0.98:
        opaque = alpha >= 0.5  # a half-transparent pen is the pen
        backdrop = 0.0 if opaque.any() and g[opaque].mean() > 0.5 else 1.0
        g = g * alpha + backdrop * (1 - alpha)
    return g


def ink(g: np.ndarray) -> np.ndarray:
    """Grey (H,W) -> ink strength in [0,1], whatever the polarity: the paper is what the border holds
    (its median), the ink is what differs from it. Dark on white is inverted, white on black kept."""
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    paper = float(np.median(border))
    strength = (paper - g) if paper > 0.5 else (g - paper)  # below 0 where darker than dark paper: cut below
    top = float(strength.max())
    if top < MIN_CONTRAST:
        raise GanError("drawing.empty")
    return np.maximum((strength / top - INK_FLOOR) / (1 - INK_FLOOR), 0)  # the strongest stroke is 1


def to_mnist(image) -> np.ndarray:
    """Any drawing or photo of one digit -> float32 (28,28) in [0,1], ink = 1, prepared like MNIST:
    cropped to the ink's bounding box, fitted into 20x20 (aspect kept), centred by mass in 28x28.
    Raises GanError("drawing.empty") when nothing stands out from the paper."""
    s = ink(grey(image))
    rows, cols = np.flatnonzero(s.any(1)), np.flatnonzero(s.any(0))
    s = s[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = s.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # a triangle filter: anti-aliased, as MNIST's own shrinking was, and with no negative weights (Lanczos has
    # them), so each new pixel is a weighted mean of ink: none below 0, and the crop's full-ink pixel leaves ink
    small = np.asarray(Image.fromarray(s).resize(size, Image.BILINEAR))
    small = small / small.max()  # a thin pen on a big canvas comes out faint after shrinking: MNIST's strokes are full ink
    return _centre_by_mass(small)


def _centre_by_mass(small: np.ndarray) -> np.ndarray:
    h, w = small.shape
    yy, xx = np.mgrid[0:h, 0:w]
    mass = small.sum()
    cy, cx = (yy * small).sum() / mass, (xx * small).sum() / mass
    centre = (SIZE - 1) / 2
    top = int(np.clip(round(centre - cy), 0, SIZE - h))  # never pushed out of the field
    left = int(np.clip(round(centre - cx), 0, SIZE - w))
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[top:top + h, left:left + w] = small
    return out


def to_model_input(x: np.ndarray) -> torch.Tensor:
    """(28,28) or (N,28,28) ink in [0,1], or uint8 MNIST-like images -> (N,1,28,28) in [-1,1]."""
    a = np.asarray(x)
    a = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
    t = torch.from_numpy(a.reshape(-1, 1, SIZE, SIZE).copy())
    return t * 2 - 1


def guess(x: np.ndarray) -> dict:
    """The bundled digit classifier's reading of a to_mnist() image: digit, confidence, all ten probabilities."""
    from .metrics import load_classifier
    _, probs = load_classifier().features_and_probs(to_model_input(x))
    p = probs[0]
    return {"digit": int(p.argmax()), "confidence": float(p.max()), "probs": [float(v) for v in p]}


@torch.no_grad()
def d_scores(D: torch.nn.Module, loss: str, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
    """D's "real" score per image (probability for BCE families, raw score for a WGAN critic) and, when D
    has an AC-GAN digit head, its digit probabilities. D runs in eval mode (batch norm on its running
    statistics, no dropout), so one drawing is judged like any other image, and is put back as it was."""
    kind = D_OUTPUT.get(loss)
    if kind is None:
        raise GanError("drawing.no_discriminator", loss=loss)
    device = next(D.parameters()).device
    was_training = D.training
    D.eval()
    try:
        x = images.to(device)
        if getattr(D, "classes", None) is not None:
            out, cls = D.forward_with_classes(x)
            cls = cls.float().softmax(1).cpu().numpy()
        else:
            out, cls = D(x), None
    finally:
        D.train(was_training)
    out = out.float().reshape(-1)
    if kind == "logit":
        out = out.sigmoid()
    return out.cpu().numpy(), cls


def judge_digit(D: torch.nn.Module, loss: str, drawing: np.ndarray, real=None, fake=None) -> dict:
    """D's verdict on one to_mnist() drawing, beside its mean verdict on a real and a fake batch (uint8
    (N,28,28), optional) so that a critic's unbounded score has something to be compared with.

    kind: "probability" (D's probability that the image is real) or "critic" (a WGAN score: higher =
    more real-looking, meaningful only relative to the two means). fooled: the drawing is on the real
    side: probability above 0.5, or a critic score nearer the real batch's mean than the fake batch's."""
    parts = [to_model_input(drawing)] + [to_model_input(b) for b in (real, fake) if b is not None and len(b)]
    scores, cls = d_scores(D, loss, torch.cat(parts))
    out = {"kind": "critic" if D_OUTPUT[loss] == "critic" else "probability", "score": float(scores[0])}
    i = 1
    for name, batch in (("real", real), ("fake", fake)):
        if batch is not None and len(batch):
            out[f"{name}_mean"] = float(scores[i:i + len(batch)].mean())
            i += len(batch)
    if out["kind"] == "probability":
        out["fooled"] = out["score"] > 0.5
    elif "real_mean" in out and "fake_mean" in out:
        out["fooled"] = abs(out["score"] - out["real_mean"]) < abs(out["score"] - out["fake_mean"])
    else:
        out["fooled"] = None
    if cls is not None:
        out["d_digit"], out["d_digit_confidence"] = int(cls[0].argmax()), float(cls[0].max())
    return out
