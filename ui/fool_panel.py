""""Fool the discriminator": a learner draws a digit (or uploads a picture of one) on the training page
and sees it as the networks see it, the current D's verdict and the digit classifier's guess.

The conversion and the numbers are gan_core.drawing's; this module only gathers the picture and
shows the result. The canvas is the PyPI component streamlit-drawable-canvas. It declares itself to
the running server when imported, so it is imported here, inside the function that draws it, and
the panel falls back to the upload alone wherever it cannot load (not installed, or no server).
"""
import hashlib

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from gan_core.drawing import guess, to_mnist
from gan_core.grid import to_pil
from gan_core.image_io import FORMATS, load_image
from gan_core.messages import GanError

from .i18n import isolate, msg, t
from .train_panels import CHART_INTERVAL_S
from .train_session import TrainSession

CANVAS_PX = 280   # 10 canvas pixels per MNIST pixel
STROKE_PX = 22    # about MNIST's stroke width (2-3 of its 28 pixels) at that scale
SOURCE = "train.fool.source"
GUESSES = "train.fool.guesses"  # {drawing digest: the classifier's guess}: one forward pass per drawing
OPEN = "train.fool.open"  # the expander's state: True while it is open


def fool_panel(sess: TrainSession) -> None:
    """The expander under "real next to fake", while the run trains on MNIST: the canvas draws digits."""
    if getattr(sess, "data_kind", "digits") != "digits" or tuple(sess.data.shape[1:]) != (1, 28, 28):
        return
    # The expander tracks whether it is open (a rerun when it opens or closes): the canvas and its widgets are
    # drawn either way, so a drawing survives closing it, but D is asked for its verdict only while someone looks.
    panel = st.expander(t("train.fool.title"), key=OPEN, on_change="rerun")
    with panel:
        st.caption(t("train.fool.intro"))
        left, right = st.columns(2)
        with left:
            digit = _your_digit()
        if panel.open:
            with right:
                _verdict_fragment(sess, digit)


def _canvas_component():
    """st_canvas, or None where the component cannot load."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except (ImportError, StreamlitAPIException):
        return None
    return st_canvas


def _your_digit() -> np.ndarray | None:
    """The learner's digit as a to_mnist() image, from the canvas or an upload; None while there is none."""
    st_canvas = _canvas_component()
    sources = ["draw", "upload"] if st_canvas else ["upload"]
    if st.session_state.get(SOURCE) not in sources:
        st.session_state[SOURCE] = sources[0]
    names = {s: t(f"train.fool.source.{s}") for s in sources}
    source = st.radio(t("train.fool.source"), sources, format_func=names.get, horizontal=True, key=SOURCE)
    if st_canvas is None:
        st.caption(t("train.fool.no_canvas"))
    if source == "draw":
        st.caption(t("train.fool.draw_hint"))
        drawn = st_canvas(stroke_width=STROKE_PX, stroke_color="#FFFFFF", background_color="#000000",
                          height=CANVAS_PX, width=CANVAS_PX, drawing_mode="freedraw", return_image_data=True,
                          key="train.fool.canvas").image_data
        if drawn is None:
            return None
        try:
            return to_mnist(drawn)
        except GanError:  # an empty (or cleared) canvas: nothing to judge yet, not an error
            return None
    up = st.file_uploader(t("train.fool.upload"), type=[f.lower() for f in FORMATS] + ["jpg"], key="train.fool.upload")
    if up is None:
        st.caption(t("train.fool.upload_hint"))
        return None
    try:
        return to_mnist(load_image(up.getvalue()).image)
    except GanError as e:
        st.error(t("train.fool.bad_upload", name=isolate(up.name), error=msg(e)))
        return None


def _verdict_fragment(sess: TrainSession, digit: np.ndarray | None) -> None:
    """Redrawn with the curves' clock while a run is on: D's verdict changes as D trains. Drawn only while the
    panel is open: a closed one costs the server no reruns and no pass of D, which a class of 30 pays for every
    open page."""
    @st.fragment(run_every=CHART_INTERVAL_S if sess.running else None)
    def _verdict():
        if digit is None:
            st.caption(t("train.fool.wait"))
            return
        st.image(to_pil((digit * 255).round().astype(np.uint8), scale=5), caption=t("train.fool.seen"))
        g = _guess(digit)
        c1, c2 = st.columns(2)
        c1.metric(t("train.fool.classifier"), f"{g['digit']} · {g['confidence']:.0%}", help=t("train.fool.classifier_help"))
        v = sess.judge_drawing(digit)
        if v is None:
            st.info(t("train.fool.no_d") if sess.trainer is None else t("train.fool.d_unavailable"))
            return
        critic = v["kind"] == "critic"
        fmt = (lambda s: f"{s:+.2f}") if critic else (lambda s: f"{s:.0%}")
        c2.metric(t("train.fool.d_critic" if critic else "train.fool.d_prob"), fmt(v["score"]),
                  help=t("train.fool.d_critic_help" if critic else "train.fool.d_prob_help"))
        if v["fooled"] is not None:
            suffix = "_critic" if critic else ""
            (st.success if v["fooled"] else st.warning)(t(("train.fool.fooled" if v["fooled"] else "train.fool.caught") + suffix))
        if "real_mean" in v and "fake_mean" in v:
            st.caption(t("train.fool.reference", n_real=len(sess.real_grid_images()), real=fmt(v["real_mean"]),
                         n_fake=len(sess.latest_grid_images()), fake=fmt(v["fake_mean"])))
        if "d_digit" in v:
            st.caption(t("train.fool.d_digit", digit=v["d_digit"], confidence=f"{v['d_digit_confidence']:.0%}"))

    _verdict()


def _guess(digit: np.ndarray) -> dict:
    cache = st.session_state.setdefault(GUESSES, {})
    key = hashlib.sha1(digit.tobytes()).hexdigest()
    if key not in cache:
        cache.clear()  # only the newest drawing is looked at again
        cache[key] = guess(digit)
    return cache[key]
