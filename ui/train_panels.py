"""The training page's regions: run controls, the live fragment, timeline, memorization, downloads.

Only live_panel() redraws while a run is on, in two fragments on two clocks: the step counter and
the sample grid every tick (the newest snapshot: one per TrainSession.snapshot_every_s of training),
the curves and the mode-collapse meter every CHART_INTERVAL_S.
Everything else reruns with the page (button presses, settings).
"""
import os
import warnings
from pathlib import Path

import numpy as np
import streamlit as st

from gan_core import progressive, registry
from gan_core.grid import gif_bytes, jpeg_bytes, make_grid
from gan_core.metrics import mode_collapse_warning
from gan_core.notebook import build as build_notebook
from gan_core.notebook import dumps, supports
from gan_core.pipelines import generator_download

from . import charts
from .i18n import current_lang, msg, t
from .train_data import open_on_latent
from .train_halfstep import half_step_buttons
from .train_resources import memorization_baseline, mnist_train, real_digits_frechet
from .train_session import TrainSession
from .train_settings import field_label

# Above this Frechet distance (classifier features; real test digits score ~24, noise ~1400) the
# samples are still blobs, which the classifier calls "8" with confidence: too early to cry collapse.
NOT_DIGITS_YET = 400.0
TICK_INTERVAL_S = 0.2  # the browser asks for the next tick this often; ticks never overlap, they queue
QUEUE_POLL_S = 1.0     # a run waiting for a seat asks again this often (and shows its wait)
WATCH_INTERVAL_S = 1.0  # a student watching the class run redraws this often (drawing only, no training)
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
    """Start / Pause / Step / D step / G step / Reset, the pending-reset notice and the stop messages."""
    c = st.columns([1, 1, 1, 1, 1, 1])
    label = t("train.resume") if sess.status == "paused" else t("train.start")
    c[0].button(label, type="primary", on_click=sess.start, width="stretch",
                disabled=sess.status in ("running", "queued", "diverged", "capped"), key="train.start")
    c[1].button(t("train.pause"), on_click=sess.pause, width="stretch",
                disabled=sess.status not in ("running", "queued"), key="train.pause")
    c[2].button(t("train.step"), on_click=sess.request_step, width="stretch",
                disabled=sess.status in ("diverged", "capped"), key="train.step", help=t("train.step_help"))
    half_step_buttons(c[3], c[4], sess)
    c[5].button(t("train.reset"), on_click=sess.reset, width="stretch", key="train.reset")
    if sess.error:
        st.error(t("train.diverged", reason=msg(sess.error)))
    elif sess.status == "capped":
        st.warning(t("train.capped", steps=f"{sess.max_steps:,}"))
    elif sess.notice and sess.status == "paused":  # stopped by the seats' rules, not by the student
        st.info(t(f"train.notice.{sess.notice}", turn=f"{sess.admission.turn_s:.0f}" if sess.admission else ""))
    if pending:
        st.warning(t("train.pending_reset", fields=", ".join(map(field_label, pending))))


def live_panel(sess: TrainSession, watch=None) -> None:
    """The part of the page that redraws while a run is on: two st.fragments side by side.

    Left, every tick: status, step counter, the sample grid, then the training tick itself. Each
    run draws first and trains last: Streamlit greys out a fragment's old elements until they are
    redrawn, so drawing after a 0.6 s training tick would leave the class looking at a faded page
    most of the time. The picture is one tick behind the trainer, which nobody sees.
    Right, every CHART_INTERVAL_S: the curves and the mode-collapse meter (see CHART_INTERVAL_S).
    Call it last on the page (inside a container placed where it should appear), so that in a
    full rerun nothing below it waits, greyed, for the tick either.
    watch: for a student watching the teacher's run (ui.classroom), a function that says whether the
    class run is still on: the same drawing on a slower clock that never stops (the teacher may
    resume), never a tick or a control. Once the class run has ended, the same fragments say so in
    place and draw nothing of the teacher's page: a full rerun from a ticking fragment that removes
    the page's other ticking fragments left a student's page blank (React's root emptied) about one
    time in twenty on a loaded machine.
    """
    shown = _state(sess)
    left, right = st.columns([2, 3])
    with left:
        if not watch:
            _digit_picker(sess)  # outside the fragment: a choice reruns the page once, never the tick

    @st.fragment(run_every=WATCH_INTERVAL_S if watch else TICK_INTERVAL_S if sess.running
                 else QUEUE_POLL_S if sess.status == "queued" else None)
    def _live():
        if watch:
            if watch():
                st.info(t("class.watching"))
                _draw_live(sess)
            else:  # the class run ended: the student's page says so, and shows nothing of what follows
                st.warning(t("class.not_found"))
            return
        _draw_live(sess)
        if sess.status == "queued":  # in line: ask again; a seat starts the run without a click
            if sess.poll():
                st.rerun(scope="app")
            return
        if not (sess.running or sess.step_requested):
            return
        stepped = not sess.running
        sess.tick()
        # Stopped by divergence or the cap: redraw buttons and messages. A single Step has no timer
        # to show its result: redraw once (the page, since a Step click is a full run anyway).
        if stepped or _state(sess) != shown:
            st.rerun(scope="app")

    @st.fragment(run_every=CHART_INTERVAL_S if sess.running or watch else None)
    def _curves():
        if not watch or watch():
            _draw_curves(sess)

    with left:
        _live()
    with right:
        _curves()


def _draw_live(sess: TrainSession) -> None:
    _status_line(sess)
    if sess.ticket is not None:
        ahead, eta = sess.ticket.ahead, f"{sess.ticket.eta_s:.0f}"
        st.info(t("train.queue", ahead=ahead, eta=eta) if ahead else t("train.queue_next", eta=eta))
    tr = sess.trainer  # read once: a class watching this run draws it while the teacher may reset it
    if tr is None:
        st.info(t("train.idle_hint"))
        return
    if tr.snapshots:
        frame = tr.snapshots[-1]
        jpeg = _shared_jpeg(sess, "grid_cache", frame, lambda: [frame[1]])[0]
        st.image(jpeg, caption=grid_caption(tr.cfg, frame[0]), width="stretch", output_format="JPEG")


DRAW_KEY = "train.draw"
# The "real next to fake" expander's state (True while open). Closed, it draws nothing and its fragment does not
# tick: in a class of 30 that is a rerun every CHART_INTERVAL_S less for each page that never opened it.
REAL_FAKE_OPEN = "train.real_fake_open"


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


def real_fake_panel(sess: TrainSession, watch=None) -> None:
    """A real MNIST batch beside the newest fakes, grids of the same size: D's two inputs, side by side.
    The real digits are indexed from the shared MNIST tensor (the fakes' digits, for a conditional
    model); redrawn with the curves' clock while the expander is open, no training work. watch: as in live_panel."""
    panel = st.expander(t("train.real_fake_title"), key=REAL_FAKE_OPEN, on_change="rerun")
    if not panel.open:  # closed: nothing to draw, and no fragment ticking for it (opening it reruns the page)
        return
    with panel:
        @st.fragment(run_every=CHART_INTERVAL_S if sess.running else None)
        def _pair():
            if watch and not watch():  # the class run ended: nothing of the teacher's next run
                return
            snap, real = sess.latest_snapshot(), sess.real_grid_images()
            if snap is None or real is None:
                st.caption(t("train.real_fake_wait"))
                return
            step, fake = snap
            real_jpeg, fake_jpeg = _shared_jpeg(sess, "pair_cache", snap, lambda: [real, fake])
            c1, c2 = st.columns(2)
            c1.image(real_jpeg, caption=t("train.real_caption", n=len(real)), width="stretch", output_format="JPEG")
            c2.image(fake_jpeg, caption=t("train.fake_caption", n=len(fake), step=step), width="stretch",
                     output_format="JPEG")

        _pair()


def _draw_curves(sess: TrainSession) -> None:
    if sess.trainer is None:
        return
    cols, cfg = sess.arrays(), sess.trainer.cfg
    if not registry.get(cfg.model).adversarial:  # the VAE: one loss and its two terms, no game
        st.plotly_chart(charts.elbo_figure(cols), width="stretch", key="train.chart.loss")
        _mode_collapse_meter(sess)
        return
    loss, acc, w = _shared_figures(sess, cols)
    st.plotly_chart(loss, width="stretch", key="train.chart.loss")
    st.plotly_chart(acc, width="stretch", key="train.chart.acc")
    if w is not None:
        st.plotly_chart(w, width="stretch", key="train.chart.w")
    _mode_collapse_meter(sess)


def _shared(sess: TrainSession, slot: str, key: tuple, build):
    """build(), once per `key`, kept in the session's attribute `slot` as (*key, value) and shared by every page
    drawing this run. A class watching the teacher's run draws the same figures 24 times every
    CHART_INTERVAL_S, and building a plotly figure is ~10 ms of Python holding the GIL: measured with
    bench/bench_classroom.py, that was time taken straight from the trainer."""
    cached = getattr(sess, slot)
    if cached is None or cached[:-1] != key:
        cached = (*key, build())
        setattr(sess, slot, cached)  # one assignment: a page drawing at the same time sees old or new, whole
    return cached[-1]


def _shared_jpeg(sess: TrainSession, slot: str, frame: tuple, grids) -> list[bytes]:
    """The JPEGs of the grids of `grids()` (uint8 tiles, 8 a row), made once per snapshot `frame` and shared by
    every page drawing this run: 24 watchers each built and encoded the same grid every WATCH_INTERVAL_S. The
    same bytes st.image makes of the array; not PNG, which a trainer's page would encode every snapshot at 4-8x
    the cost. The value keeps `frame` alive, so no later snapshot can have the id that keys it."""
    return _shared(sess, slot, (id(frame),), lambda: (frame, [jpeg_bytes(make_grid(g, nrow=8)) for g in grids()]))[1]


def _shared_figures(sess: TrainSession, cols: dict) -> tuple:
    """The GAN's curves, built once per (step, language)."""
    def build():
        tr = sess.trainer
        cfg = tr.cfg
        marks = progressive.phase_changes(cfg.phase_steps, tr.iteration)  # growing's phases
        cut_at = cfg.lr_cut_at if tr.rates_cut else 0  # the rate cut, once the run is past it

        def marked(fig):
            return charts.mark_rate_cut(charts.mark_phases(fig, marks), cut_at, cfg.rate_cuts, cfg.lr_cut_batch)
        return marked(charts.loss_figure(cols)), marked(charts.accuracy_figure(cols)), charts.wasserstein_figure(cols)
    return _shared(sess, "figure_cache", (len(cols["step"]), sess.trainer.iteration, current_lang()), build)


def grid_caption(cfg, step: int) -> str:
    """The sample grid's caption; for progressive growing also the resolution it draws at (and the fade-in)."""
    caption = t("train.grid_caption", step=step)
    if registry.get(cfg.model).family == "progressive" and cfg.phase_steps:
        res, alpha = progressive.schedule(cfg.phase_steps, step)
        caption += " · " + (t("train.grow_fading", res=res, alpha=f"{alpha:.2f}") if alpha < 1 else t("train.grow_at", res=res))
    return caption


def _status_line(sess: TrainSession) -> None:
    tr = sess.trainer
    c = st.columns(2) * 2  # a 2x2 block: the left column is narrow
    c[0].metric(t("train.status"), t(f"train.status.{sess.status}"))
    c[1].metric(t("train.steps"), f"{tr.iteration:,}" if tr else "0")
    c[2].metric(t("train.speed"), f"{tr.steps_per_second:.1f}" if tr else "-")
    c[3].metric(t("train.tick"), f"{sess.tick_walls[-1]:.2f} s" if sess.tick_walls else "-",
                help=t("train.tick_help", k=sess.k))


def _mode_collapse_meter(sess: TrainSession) -> None:
    if sess.data_kind != "digits":  # a digit classifier says nothing true about clothes or emoji
        st.caption(t("train.meter_digits_only"))
        return
    s = sess.scores
    if s is None:
        st.caption(t("train.meter_wait"))
        return
    st.plotly_chart(_shared_histogram(sess, s), width="stretch", key="train.chart.classes")
    st.caption(t("train.meter_caption", n=s["n"], step=sess.scores_step, confident=f"{s['confident_share']:.0%}",
                 covered=s["classes_covered"], frechet=f"{s.get('frechet', float('nan')):.0f}",
                 real=f"{real_digits_frechet(s['n']):.0f}"))
    warning = mode_collapse_warning(s)
    if s.get("frechet", 0.0) > NOT_DIGITS_YET:  # noise is "one class" to a classifier: no false alarm
        st.info(t("train.meter_early"))
    elif warning:
        st.error("⚠️ " + msg(warning))
    else:
        st.success(t("train.meter_ok"))


def _shared_histogram(sess: TrainSession, scores: dict):
    """The meter's histogram, built once per reading and language: py-spy during bench/bench_classroom.py
    found 24 watchers rebuilding it every CHART_INTERVAL_S the largest drawing cost left (~5% of busy samples)."""
    return _shared(sess, "histogram_cache", (scores, current_lang()), lambda: charts.class_histogram(scores["class_share"]))


def history_panel(sess: TrainSession) -> None:
    """Timeline slider over the snapshots, and the whole history as an animated GIF."""
    tr = sess.trainer  # read once (see _draw_live)
    snaps = tr.snapshots if tr else []
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
        st.image(make_grid(dict(snaps)[step], nrow=8), caption=grid_caption(tr.cfg, step), width=360)
        st.download_button(t("train.gif"), data=lambda: gif_bytes([make_grid(f, nrow=8) for _, f in snaps], scale=2),
                           file_name="gan-training.gif", mime="image/gif", key="train.gif",
                           on_click="ignore")


def memorization_panel(sess: TrainSession) -> None:
    """Nearest training images of a few samples: copies sit far closer than real new digits do."""
    if sess.data_kind != "digits":  # its yardstick (how far unseen test digits sit) exists for MNIST only
        return
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
    """The generator as a zipped HF folder, the run's start config as JSON, and the run as a notebook."""
    tr = sess.trainer
    with st.expander(t("train.downloads_title"), expanded=sess.status in ("paused", "capped")):
        if tr is None:
            st.caption(t("train.downloads_wait"))
            return
        c1, c2, c3 = st.columns(3)
        # the zip is built in the script thread: copying weights to safetensors is I/O, not compute
        stem = Path(sess.data_name).stem
        c1.download_button(t("train.download_g"), data=lambda: generator_download(tr, sess.start_cfg, sess.scores,
                                                                                 sess.data_name),
                           file_name=f"{stem}-{tr.cfg.model}-generator.zip", mime="application/zip",
                           key="train.download_g", on_click="ignore", disabled=bool(sess.error))
        c2.download_button(t("train.download_cfg"), data=sess.start_cfg.to_json(),
                           file_name=f"{stem}-{tr.cfg.model}-config.json", mime="application/json",
                           key="train.download_cfg", on_click="ignore")
        # take it home: this run in plain PyTorch (gan_core.notebook), built when clicked
        c3.download_button(t("train.download_nb"), data=lambda: dumps(build_notebook(
            sess.start_cfg, tr.iteration, changes=sess.changes, half_steps=sess.half_steps)),
            file_name=f"mnist-{tr.cfg.model}.ipynb", mime="application/x-ipynb+json", key="train.download_nb",
            on_click="ignore", help=t("train.download_nb_help"),
            disabled=not supports(tr.cfg.model) or sess.data_kind != "digits")  # the notebook loads MNIST only
        open_on_latent(sess)  # walk this generator's latent space, this session only
        if sess.changes:
            st.caption(t("train.changes_note", changes="; ".join(f"{field_label(k)} {a:g}→{b:g} @ {s}" if isinstance(a, float)
                                                                 else f"{field_label(k)} {a}→{b} @ {s}"
                                                                 for s, k, a, b in sess.changes[-6:])))
