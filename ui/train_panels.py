"""The training page's regions: run controls, the live fragment, timeline, memorization, downloads.

Only live_panel() redraws while a run is on, in two fragments on two clocks: the step counter and
the sample grid every tick, the curves and the mode-collapse meter every CHART_INTERVAL_S.
Everything else reruns with the page (button presses, settings).
"""
import os
import warnings

import numpy as np
import streamlit as st

from gan_core.grid import gif_bytes, make_grid
from gan_core.metrics import mode_collapse_warning
from gan_core.pipelines import generator_download

from . import charts
from .i18n import msg, t
from .train_resources import memorization_baseline, mnist_train
from .train_session import TrainSession
from .train_settings import field_label

# Above this Frechet distance (classifier features; real test digits score ~24, noise ~1400) the
# samples are still blobs, which the classifier calls "8" with confidence: too early to cry collapse.
NOT_DIGITS_YET = 400.0
TICK_INTERVAL_S = 0.2  # the browser asks for the next tick this often; ticks never overlap, they queue
# Redrawing the plotly charts on every tick cost Chromium ~0.25 of a 2-core machine's cores, taken
# straight from training: curves every 2 s doubled the steps per second in the browser
# (bench/bench_browser_cost.py: 14.5 -> 28.8). Numbers and digits stay per tick.
# GAN_CHART_INTERVAL_S overrides it (the bench's baseline; a fast machine may like 0.2).
def _chart_interval(default: float = 2.0) -> float:
    text = os.environ.get("GAN_CHART_INTERVAL_S", "")
    try:
        value = float(text) if text else default
    except ValueError:
        value = -1.0
    if not 0.1 <= value <= 60:  # a typo must not break the page: say so in the server log, keep 2 s
        warnings.warn(f"GAN_CHART_INTERVAL_S={text!r} is not a number of seconds in [0.1, 60]; using {default}")
        return default
    return value


CHART_INTERVAL_S = _chart_interval()


def _state(sess: TrainSession) -> tuple:
    return sess.status, sess.trainer is None


def controls(sess: TrainSession, pending: list[str]) -> None:
    """Start / Pause / Step / Reset, the pending-reset notice and the stop messages."""
    c = st.columns(4)
    label = t("train.resume") if sess.status == "paused" else t("train.start")
    c[0].button(label, type="primary", on_click=sess.start, width="stretch",
                disabled=sess.status in ("running", "diverged", "capped"), key="train.start")
    c[1].button(t("train.pause"), on_click=sess.pause, width="stretch",
                disabled=sess.status != "running", key="train.pause")
    c[2].button(t("train.step"), on_click=sess.request_step, width="stretch",
                disabled=sess.status in ("diverged", "capped"), key="train.step", help=t("train.step_help"))
    c[3].button(t("train.reset"), on_click=sess.reset, width="stretch", key="train.reset")
    if sess.error:
        st.error(t("train.diverged", reason=msg(sess.error)))
    elif sess.status == "capped":
        st.warning(t("train.capped", steps=f"{sess.max_steps:,}"))
    if pending:
        st.warning(t("train.pending_reset", fields=", ".join(map(field_label, pending))))


def live_panel(sess: TrainSession) -> None:
    """The part of the page that redraws while a run is on: two st.fragments side by side.

    Left, every tick: status, step counter, the sample grid, then the training tick itself. Each
    run draws first and trains last: Streamlit greys out a fragment's old elements until they are
    redrawn, so drawing after a 0.6 s training tick would leave the class looking at a faded page
    most of the time. The picture is one tick behind the trainer, which nobody sees.
    Right, every CHART_INTERVAL_S: the curves and the mode-collapse meter (see CHART_INTERVAL_S).
    Call it last on the page (inside a container placed where it should appear), so that in a
    full rerun nothing below it waits, greyed, for the tick either.
    """
    shown = _state(sess)
    left, right = st.columns([2, 3])
    with left:
        _digit_picker(sess)  # outside the fragment: a choice reruns the page once, never the tick

    @st.fragment(run_every=TICK_INTERVAL_S if sess.running else None)
    def _live():
        _draw_live(sess)
        if not (sess.running or sess.step_requested):
            return
        stepped = not sess.running
        sess.tick()
        # Stopped by divergence or the cap: redraw buttons and messages. A single Step has no timer
        # to show its result: redraw once (the page, since a Step click is a full run anyway).
        if stepped or _state(sess) != shown:
            st.rerun(scope="app")

    @st.fragment(run_every=CHART_INTERVAL_S if sess.running else None)
    def _curves():
        _draw_curves(sess)

    with left:
        _live()
    with right:
        _curves()


def _draw_live(sess: TrainSession) -> None:
    _status_line(sess)
    if sess.trainer is None:
        st.info(t("train.idle_hint"))
        return
    grid = sess.latest_grid_images()
    if grid is not None:
        st.image(make_grid(grid, nrow=8), caption=t("train.grid_caption", step=sess.trainer.snapshots[-1][0]),
                 width="stretch", clamp=True)


DRAW_KEY = "train.draw"


def _digit_picker(sess: TrainSession) -> None:
    """"Now draw a 7": the digits a conditional model's live grid draws (the fixed noise, new labels)."""
    cfg = sess.trainer.cfg if sess.trainer else sess.cfg
    if not cfg.num_classes:
        return
    if DRAW_KEY not in st.session_state:  # Streamlit forgets a widget on another page; the session does not
        st.session_state[DRAW_KEY] = sess.draw
    options = ["mixed", "rows", "random", *range(cfg.num_classes)]
    names = {o: t("train.draw.digit", digit=o) if isinstance(o, int) else t(f"train.draw.{o}") for o in options}  # now
    # on_change: applied before the rerun, so the panels drawn above this one show the new digits too
    choice = st.selectbox(t("train.draw"), options, key=DRAW_KEY, help=t("train.draw_help"), format_func=names.get,
                          on_change=lambda: sess.set_draw(st.session_state[DRAW_KEY]))
    sess.set_draw(choice)


def real_fake_panel(sess: TrainSession) -> None:
    """A real MNIST batch beside the newest fakes, grids of the same size: D's two inputs, side by side.
    The real digits are indexed from the shared MNIST tensor (the fakes' digits, for a conditional
    model); redrawn with the curves' clock, no training work."""
    with st.expander(t("train.real_fake_title")):
        @st.fragment(run_every=CHART_INTERVAL_S if sess.running else None)
        def _pair():
            fake, real = sess.latest_grid_images(), sess.real_grid_images()
            if fake is None or real is None:
                st.caption(t("train.real_fake_wait"))
                return
            c1, c2 = st.columns(2)
            c1.image(make_grid(real, nrow=8), caption=t("train.real_caption", n=len(real)), width="stretch", clamp=True)
            c2.image(make_grid(fake, nrow=8), caption=t("train.fake_caption", n=len(fake), step=sess.trainer.snapshots[-1][0]),
                     width="stretch", clamp=True)

        _pair()


def _draw_curves(sess: TrainSession) -> None:
    if sess.trainer is None:
        return
    cols = sess.arrays()
    st.plotly_chart(charts.loss_figure(cols), width="stretch", key="train.chart.loss")
    st.plotly_chart(charts.accuracy_figure(cols), width="stretch", key="train.chart.acc")
    w = charts.wasserstein_figure(cols)
    if w is not None:
        st.plotly_chart(w, width="stretch", key="train.chart.w")
    _mode_collapse_meter(sess)


def _status_line(sess: TrainSession) -> None:
    tr = sess.trainer
    c = st.columns(2) * 2  # a 2x2 block: the left column is narrow
    c[0].metric(t("train.status"), t(f"train.status.{sess.status}"))
    c[1].metric(t("train.steps"), f"{tr.iteration:,}" if tr else "0")
    c[2].metric(t("train.speed"), f"{tr.steps_per_second:.1f}" if tr else "-")
    c[3].metric(t("train.tick"), f"{sess.tick_walls[-1]:.2f} s" if sess.tick_walls else "-",
                help=t("train.tick_help", k=sess.k))


def _mode_collapse_meter(sess: TrainSession) -> None:
    s = sess.scores
    if s is None:
        st.caption(t("train.meter_wait"))
        return
    st.plotly_chart(charts.class_histogram(s["class_share"]), width="stretch", key="train.chart.classes")
    st.caption(t("train.meter_caption", n=s["n"], step=sess.scores_step, confident=f"{s['confident_share']:.0%}",
                 covered=s["classes_covered"], frechet=f"{s.get('frechet', float('nan')):.0f}"))
    warning = mode_collapse_warning(s)
    if s.get("frechet", 0.0) > NOT_DIGITS_YET:  # noise is "one class" to a classifier: no false alarm
        st.info(t("train.meter_early"))
    elif warning:
        st.error("⚠️ " + msg(warning))
    else:
        st.success(t("train.meter_ok"))


def history_panel(sess: TrainSession) -> None:
    """Timeline slider over the snapshots, and the whole history as an animated GIF."""
    snaps = sess.trainer.snapshots if sess.trainer else []
    with st.expander(t("train.history_title"), expanded=sess.status == "paused"):
        if len(snaps) < 2:
            st.caption(t("train.history_wait"))
            return
        steps = [s for s, _ in snaps]
        # Follow the newest snapshot unless the student moved back in time: a keyed slider keeps its
        # value when its options change, so value=steps[-1] alone left it at the first step it showed.
        shown = st.session_state.get("train.timeline")
        if shown is None or shown not in steps or shown == st.session_state.get("train.timeline_newest"):
            st.session_state["train.timeline"] = steps[-1]
        st.session_state["train.timeline_newest"] = steps[-1]
        step = st.select_slider(t("train.timeline"), options=steps, key="train.timeline")
        st.image(make_grid(dict(snaps)[step], nrow=8), caption=t("train.grid_caption", step=step), width=360)
        st.download_button(t("train.gif"), data=lambda: gif_bytes([make_grid(f, nrow=8) for _, f in snaps], scale=2),
                           file_name="gan-training.gif", mime="image/gif", key="train.gif",
                           on_click="ignore")


def memorization_panel(sess: TrainSession) -> None:
    """Nearest training images of a few samples: copies sit far closer than real new digits do."""
    with st.expander(t("train.memo_title")):
        st.caption(t("train.memo_help"))
        if st.button(t("train.memo_run"), disabled=sess.trainer is None or bool(sess.error), key="train.memo_run"):
            with st.spinner(t("train.memo_running")):
                sess.memorization_check(mnist_train())
        memo = sess.memo
        if memo is None:
            return
        base = memorization_baseline()
        st.caption(t("train.memo_result", step=memo["step"], base=f"{base:.1f}"))
        train_u8 = mnist_train()
        for i, sample in enumerate(memo["samples"]):
            c = st.columns(1 + memo["idx"].shape[1])
            c[0].image(_u8(sample), caption=t("train.memo_sample"), width=84)
            for j, (d, idx) in enumerate(zip(memo["dist"][i].tolist(), memo["idx"][i].tolist())):
                flag = " ⚠️" if d < 0.5 * base else ""
                c[j + 1].image(_u8(train_u8[idx]), caption=f"#{idx} · d={d:.1f}{flag}", width=84)


def _u8(x) -> np.ndarray:
    return ((x[0].clamp(-1, 1) + 1) * 127.5).round().byte().numpy()


def downloads_panel(sess: TrainSession) -> None:
    """The generator as a zipped HF folder, and the run's start config as JSON."""
    tr = sess.trainer
    with st.expander(t("train.downloads_title"), expanded=sess.status in ("paused", "capped")):
        if tr is None:
            st.caption(t("train.downloads_wait"))
            return
        c1, c2 = st.columns(2)
        # the zip is built in the script thread: copying weights to safetensors is I/O, not compute
        c1.download_button(t("train.download_g"), data=lambda: generator_download(tr, sess.start_cfg, sess.scores),
                           file_name=f"mnist-{tr.cfg.model}-generator.zip", mime="application/zip",
                           key="train.download_g", on_click="ignore", disabled=bool(sess.error))
        c2.download_button(t("train.download_cfg"), data=sess.start_cfg.to_json(),
                           file_name=f"mnist-{tr.cfg.model}-config.json", mime="application/json",
                           key="train.download_cfg", on_click="ignore")
        if sess.changes:
            st.caption(t("train.changes_note", changes="; ".join(f"{field_label(k)} {a:g}→{b:g} @ {s}" if isinstance(a, float)
                                                                 else f"{field_label(k)} {a}→{b} @ {s}"
                                                                 for s, k, a, b in sess.changes[-6:])))
