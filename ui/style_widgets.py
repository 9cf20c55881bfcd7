"""Widgets for the style-transfer page: image pickers, the AdaIN panel and the live Gatys panel.

The VGG and decoder weights are shared by every session (st.cache_resource, read-only); a Gatys run
is per user (st.session_state) and advances a short chunk per fragment tick, so Stop, or any other
click, lands between optimisation steps and the best image so far is never lost.
"""
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from gan_core.device import get_device
from gan_core.grid import png_bytes
from gan_core.image_io import ImageLoadError, load_image
from gan_core.messages import Message
from gan_core.pipelines import StyleJob, adain_image
from gan_core.style import GatysConfig, StyleModels, StyleWeightsError

from .i18n import isolate, msg, t
from .layout import bidi
from .live import exclusive
from .runtime import compute_runtime

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "style"
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff"]
SIZES = [128, 192, 256, 384, 512]
GATYS_MAX_SIZE = 384  # optimisation is ~100 forward+backward passes: keep it bearable on 2 cores
RUN = "style.run"  # session_state keys
RUNNING = "style.running"


@st.cache_resource(show_spinner=False)
def style_models() -> StyleModels:
    return StyleModels.load(get_device())  # reading ~95 MB of weights once per server: no heavy torch work


def models_or_stop() -> StyleModels:
    try:
        with st.spinner(t("style.loading")):
            return style_models()
    except StyleWeightsError as e:
        st.error(t("style.no_weights", error=msg(e)))
        st.stop()


UPLOAD = "upload"  # the picker's last option: the user's own file


def bundled(role: str) -> dict[str, Path]:
    """File stem (e.g. "grace_hopper") -> path; the shown name is the locale key "style.image.<stem>"."""
    return {p.stem: p for p in sorted((ASSETS / role).glob("*.jpg"))}


@st.cache_data(max_entries=16, show_spinner=False)
def _decode(data: bytes) -> tuple[np.ndarray, list[Message]]:
    loaded = load_image(data)
    return np.asarray(loaded.image), loaded.notes


def image_picker(role: str, default: str) -> np.ndarray | None:
    """A bundled image (by file stem) or an upload -> uint8 RGB array, or None (with the reason shown) if unusable."""
    choices = bundled(role)
    options = [*choices, UPLOAD]
    names = {**{stem: t(f"style.image.{stem}") for stem in choices}, UPLOAD: t("style.upload_option")}
    pick = st.selectbox(t(f"style.{role}"), options, index=options.index(default) if default in options else 0,
                        key=f"style.pick_{role}", format_func=names.get)
    if pick == UPLOAD:
        file = st.file_uploader(t("style.upload", role=t(f"style.{role}").lower()), type=UPLOAD_TYPES,
                                key=f"style.upload_{role}")
        if file is None:
            st.info(t("style.upload_hint"))
            return None
        try:
            image, notes = _decode(file.getvalue())
        except ImageLoadError as e:
            st.error(t("style.bad_image", name=isolate(file.name), error=msg(e)))
            return None
        for note in notes:
            st.caption(f"ℹ️ {msg(note)}")
    else:
        image = np.asarray(load_image(choices[pick]).image)
    st.image(image, width="stretch")
    return image


@st.cache_data(max_entries=8, show_spinner=False)
def _adain(content: np.ndarray, style: np.ndarray, size: int, alpha: float, preserve_color: bool) -> np.ndarray:
    return compute_runtime().run(adain_image, style_models(), content, style, size, alpha, preserve_color)


def before_after(content: np.ndarray, result: np.ndarray, file_name: str, key: str) -> None:
    a, b = st.columns(2)
    a.image(content, caption=t("style.before"), width="stretch")
    b.image(result, caption=t("style.after"), width="stretch")
    st.download_button(t("style.download"), png_bytes(result), file_name=file_name, mime="image/png",
                       key=key, on_click="ignore")


def adain_panel(content: np.ndarray, style: np.ndarray, size: int) -> None:
    st.caption(t("style.adain_intro"))
    c1, c2 = st.columns(2)
    alpha = c1.slider(t("style.alpha"), 0.0, 1.0, 1.0, 0.05, key="style.alpha", help=t("style.alpha_help"))
    preserve = c2.checkbox(t("style.preserve_color"), key="style.preserve", help=t("style.preserve_help"))
    with st.spinner(t("style.working")):
        result = _adain(content, style, size, alpha, preserve)
    before_after(content, result, "adain.png", "style.dl_adain")


# ---------------------------------------------------------------- Gatys

INITS = ["content", "noise", "adain"]
WEIGHTS = {"content": [0.1, 0.3, 1.0, 3.0, 10.0], "style": [1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6],
           "tv": [0.0, 1.0, 3.0, 10.0, 30.0, 100.0]}


def gatys_settings(size: int) -> tuple[GatysConfig, int, int]:
    c1, c2, c3 = st.columns(3)
    cw = c1.select_slider(t("style.content_weight"), WEIGHTS["content"], value=1.0, key="style.cw")
    sw = c2.select_slider(t("style.style_weight"), WEIGHTS["style"], value=1e5, key="style.sw",
                          format_func=lambda v: f"{v:g}")
    tw = c3.select_slider(t("style.tv_weight"), WEIGHTS["tv"], value=10.0, key="style.tw")
    c1, c2, c3 = st.columns(3)
    init = c1.radio(t("style.init"), INITS, key="style.init", horizontal=True,
                    format_func={k: t(f"style.init_{k}") for k in INITS}.get)
    opt = c2.radio(t("style.optimizer"), ["lbfgs", "adam"], key="style.opt", horizontal=True,
                   format_func=lambda k: {"lbfgs": "L-BFGS", "adam": "Adam"}[k])
    steps = c3.slider(t("style.steps"), 10, 500, 100, 10, key="style.steps")
    gsize = min(size, GATYS_MAX_SIZE)
    if gsize < size:
        st.caption(t("style.size_capped", size=gsize))
    cfg = GatysConfig(size=gsize, content_weight=cw, style_weight=sw, tv_weight=tw, init=init, optimizer=opt)
    return cfg, steps, gsize


def start_run(content: np.ndarray, style: np.ndarray, cfg: GatysConfig, steps: int) -> None:
    st.session_state[RUN] = compute_runtime().run(StyleJob, style_models(), content, style, cfg, steps)
    st.session_state[RUNNING] = True


def _stop() -> None:
    st.session_state[RUNNING] = False


def loss_chart(run) -> go.Figure:
    fig = go.Figure()
    steps = [p.step for p in run.history]
    for name in ("content", "style", "tv", "total"):
        fig.add_trace(go.Scatter(x=steps, y=[getattr(p, name) for p in run.history], name=bidi(t(f"style.loss_{name}")),
                                 mode="lines"))
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10), yaxis_type="log",
                      xaxis_title=bidi(t("style.step")), title=bidi(t("style.losses")))
    return fig


def gatys_live(chunk_seconds: float = 1.0) -> bool:
    """Body of the live fragment: do a chunk of steps, then draw progress, preview, curves and the result."""
    job: StyleJob | None = st.session_state.get(RUN)
    if job is None:
        st.info(t("style.gatys_idle"))
        return False
    run = job.transfer
    running = st.session_state.get(RUNNING, False)
    if running:
        with exclusive(job) as mine:
            if mine:
                compute_runtime().run(job.advance, chunk_seconds)
        if job.done:
            st.session_state[RUNNING] = running = False
    if run.error:
        st.error(t("style.diverged", error=msg(run.error)))
    st.button(t("style.stop"), on_click=_stop, disabled=not running, key="style.stop", type="primary")
    st.progress(min(1.0, run.step_count / job.steps),
                text=t("style.progress", step=run.step_count, steps=job.steps, seconds=f"{run.elapsed:.1f}"))
    if run.history:
        last = run.history[-1]
        a, b = st.columns([1, 2])
        a.image(run.current_image(), caption=t("style.current"), width="stretch")
        a.caption(t("style.loss_line", c=f"{last.content:.3g}", s=f"{last.style:.3g}", tv=f"{last.tv:.3g}"))
        b.plotly_chart(loss_chart(run), key="style.chart")
        before_after(job.content, job.result(), "gatys.png", "style.dl_gatys")
    return running


def gatys_panel(content: np.ndarray, style: np.ndarray, size: int) -> None:
    st.caption(t("style.gatys_intro"))
    cfg, steps, _ = gatys_settings(size)
    running = st.session_state.get(RUNNING, False)
    if st.button(t("style.start"), key="style.start", disabled=running):
        start_run(content, style, cfg, steps)
        running = True

    @st.fragment(run_every=0.5 if running else None)
    def live():
        still = gatys_live()
        if running and not still:
            st.rerun()  # a full rerun turns the fragment's timer off and re-enables Start

    live()
