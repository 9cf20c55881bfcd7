"""The live 2-D toy GAN widget: controls, the plane (real, fake, D's surface, G's arrows), curves.

Per-user state lives in st.session_state under "toy.*": the ToyTrainer itself, whether it is
playing, and one pending single step. Training happens inside an st.fragment that reruns every
TICK_S seconds while playing, so only the plot region refreshes, K iterations per tick.
"""
import numpy as np
import plotly.graph_objects as go
import streamlit as st

from gan_core.toy2d import BOUND, LOSSES, MODE_COLLAPSE, SHAPES, ToyConfig, ToyTrainer, coverage, mode_distance, parse_points

from .i18n import t
from .layout import bidi
from .live import exclusive

TICK_S = 0.2                      # fragment period while playing
LRS = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
REAL, FAKE = "#1b7f3b", "#8e24aa"  # GAN Lab's colours: green real, purple fake
SURFACE = [[0.0, "#f3e5f5"], [0.5, "#ffffff"], [1.0, "#e3f4e6"]]
DEFAULT_POINTS = "-1.2,-1.2\n0,1.4\n1.2,-1.2\n0,0"
W = "toy.w."                      # widget keys


# ---------------------------------------------------------------- state
def _set_widgets(cfg: ToyConfig) -> None:
    ss = st.session_state
    for k in ("shape", "modes", "std", "loss", "lr_g", "lr_d", "d_steps", "balance", "z_dim"):
        ss[W + k] = getattr(cfg, k)
    if cfg.points:
        ss[W + "points"] = "\n".join(f"{x:g},{y:g}" for x, y in cfg.points)


def _load_preset(cfg: ToyConfig, play: bool) -> None:
    """Button callback: widgets show the preset, a fresh trainer starts (playing if asked)."""
    _set_widgets(cfg)
    st.session_state["toy.trainer"] = ToyTrainer(cfg)
    st.session_state["toy.playing"] = play
    st.session_state["toy.full_rerun"] = True


def _init_state() -> None:
    """First visit: a default trainer. Later visits: widgets re-filled from the trainer's config,
    because Streamlit drops a widget's state whenever it was not drawn (another tab or page)."""
    ss = st.session_state
    if "toy.trainer" not in ss:
        _load_preset(ToyConfig(), play=False)
        ss.pop("toy.full_rerun")  # this run draws everything anyway
    elif W + "shape" not in ss:
        _set_widgets(ss["toy.trainer"].cfg)
    ss.setdefault(W + "points", DEFAULT_POINTS)
    ss.setdefault(W + "k", ss.get("toy.k", 10))


def _config_from_widgets() -> ToyConfig:
    ss = st.session_state
    shape = ss[W + "shape"]
    points = parse_points(ss.get(W + "points", DEFAULT_POINTS)) if shape == "custom" else ()
    if shape == "custom" and not points:
        points = ((0.0, 0.0),)  # nothing parsed yet: one mode in the centre rather than an error
    return ToyConfig(shape=shape, modes=ss[W + "modes"], std=ss[W + "std"], points=points, z_dim=ss[W + "z_dim"],
                     loss=ss[W + "loss"], lr_g=ss[W + "lr_g"], lr_d=ss[W + "lr_d"], d_steps=ss[W + "d_steps"],
                     balance=ss[W + "balance"])


def _set_playing(playing: bool) -> None:
    """Play or Pause, as the button said when it was drawn. Not a toggle: on a busy server a click can reach the
    script twice (its trigger rides along with a queued tick of the live fragment), and a toggle then undid it:
    the button turned to Play and back to Pause, and the toy went on training (seen in Chromium,
    tests/e2e/test_toy_gan.py)."""
    st.session_state["toy.playing"] = playing


def _step_once(drawn_at: int) -> None:
    """One step of K from the iteration the button was drawn at: a click delivered twice (see _set_playing) asks
    for the same step twice, and the second finds the trainer past it. A click on Step while playing pauses,
    and steps too unless a tick has already moved the toy on since the button was drawn."""
    st.session_state["toy.playing"] = False
    st.session_state["toy.step_once"] = drawn_at


def _reset() -> None:
    st.session_state["toy.trainer"] = ToyTrainer(st.session_state["toy.trainer"].cfg)


# ---------------------------------------------------------------- controls
def _controls() -> None:
    ss = st.session_state
    st.slider(t("arch.toy.k"), 1, 50, key=W + "k", help=t("arch.toy.k_help"))
    ss["toy.k"] = ss[W + "k"]

    # names bound now, not looked up later: format_func may run outside this script run
    st.selectbox(t("arch.toy.shape"), SHAPES, key=W + "shape", format_func={s: t(f"arch.toy.shape.{s}") for s in SHAPES}.get)
    shape = ss[W + "shape"]
    if shape == "custom":
        st.text_area(t("arch.toy.points"), key=W + "points", height=110, help=t("arch.toy.points_help"))
    else:
        st.slider(t("arch.toy.modes"), 2, 12, key=W + "modes", disabled=shape == "spiral")
    st.slider(t("arch.toy.std"), 0.01, 0.3, step=0.01, key=W + "std")
    st.selectbox(t("arch.toy.loss"), LOSSES, key=W + "loss", format_func={s: t(f"arch.toy.loss.{s}") for s in LOSSES}.get)
    l1, l2 = st.columns(2)
    l1.select_slider(t("arch.toy.lr_g"), LRS, key=W + "lr_g", format_func=lambda v: f"{v:g}")
    l2.select_slider(t("arch.toy.lr_d"), LRS, key=W + "lr_d", format_func=lambda v: f"{v:g}")
    s1, s2 = st.columns(2)
    s1.slider(t("arch.toy.d_steps"), 1, 5, key=W + "d_steps")
    s2.select_slider(t("arch.toy.z_dim"), [1, 2, 4, 8], key=W + "z_dim")
    st.toggle(t("arch.toy.balance"), key=W + "balance", help=t("arch.toy.balance_help"))
    ss["toy.trainer"] = ss["toy.trainer"].reconfigure(_config_from_widgets())
    st.caption(t("arch.toy.live_note"))


def _buttons() -> None:
    """Play/Pause, Step, Reset and the presets. They live inside the live fragment: a click on a
    button outside a fragment that is ticking can be lost on a busy server (the button's one-shot
    trigger races the timer's reruns), a click inside it queues with the fragment's own runs."""
    ss = st.session_state
    playing = ss["toy.playing"]
    b1, b2 = st.columns(2)
    b1.button(t("arch.toy.pause") if playing else t("arch.toy.play"), on_click=_set_playing, args=(not playing,),
              type="primary", icon=":material/pause:" if playing else ":material/play_arrow:", width="stretch",
              key="toy.b.pause" if playing else "toy.b.play")  # two widgets: a late trigger of one is not the other
    b2.button(t("arch.toy.step"), on_click=_step_once, args=(ss["toy.trainer"].iteration,), icon=":material/skip_next:", width="stretch", key="toy.b.step")
    b3, b4 = st.columns(2)
    b3.button(t("arch.toy.reset"), on_click=_reset, icon=":material/restart_alt:", width="stretch", key="toy.b.reset")
    b4.button(t("arch.toy.preset_default"), on_click=_load_preset, args=(ToyConfig(), True), icon=":material/tune:",
              width="stretch", key="toy.b.default")
    st.button(t("arch.toy.preset_collapse"), on_click=_load_preset, args=(MODE_COLLAPSE, True), icon=":material/cyclone:",
              width="stretch", key="toy.b.collapse", help=t("arch.toy.preset_collapse_help"))


# ---------------------------------------------------------------- the plane
def arrow_segments(pts: np.ndarray, vec: np.ndarray, longest: float = 0.45) -> tuple[list, list]:
    """Line segments (x, y lists with None breaks) for arrows; the longest is `longest` units.

    Lengths are scaled by the square root of the gradient norm so the weak pushes stay visible
    next to the strong ones; the direction is exact.
    """
    norm = np.linalg.norm(vec, axis=1, keepdims=True)
    length = np.sqrt(norm / (norm.max() + 1e-12)) * longest
    d = vec / (norm + 1e-12) * length
    tips = pts + d
    back = -d * 0.3
    left = np.stack([back[:, 0] - back[:, 1] * 0.6, back[:, 1] + back[:, 0] * 0.6], 1)
    right = np.stack([back[:, 0] + back[:, 1] * 0.6, back[:, 1] - back[:, 0] * 0.6], 1)
    xs, ys = [], []
    for p, q, lh, rh in zip(pts, tips, tips + left, tips + right):
        xs += [p[0], q[0], None, lh[0], q[0], rh[0], None]
        ys += [p[1], q[1], None, lh[1], q[1], rh[1], None]
    return xs, ys


def toy_figure(trainer: ToyTrainer, fake: np.ndarray, labels: dict, show_surface: bool = True,
               show_arrows: bool = True) -> go.Figure:
    """The plane: D's surface (heat map), real points, generated points `fake`, and G's gradient arrows."""
    fig = go.Figure()
    critic = trainer.cfg.loss == "wgan-gp"
    if show_surface:
        axis, z = trainer.decision_surface(60)
        fig.add_heatmap(x=axis, y=axis, z=z, colorscale=SURFACE if not critic else "Greens", zmin=None if critic else 0,
                        zmax=None if critic else 1, opacity=0.9, name=labels["surface"], hoverinfo="skip",
                        colorbar=dict(title=labels["surface"], thickness=12, len=0.8))
    real = trainer.real(400)
    fig.add_scatter(x=real[:, 0], y=real[:, 1], mode="markers", name=labels["real"],
                    marker=dict(color=REAL, size=4, opacity=0.6))
    fig.add_scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name=labels["fake"],
                    marker=dict(color=FAKE, size=5, opacity=0.85))
    if show_arrows:
        pts, vec = trainer.generator_arrows(80)
        xs, ys = arrow_segments(pts, vec)
        fig.add_scatter(x=xs, y=ys, mode="lines", name=labels["arrows"], line=dict(color="#333333", width=1.2),
                        hoverinfo="skip")
    fig.update_layout(height=540, margin=dict(l=10, r=10, t=30, b=10), uirevision="toy",
                      legend=dict(orientation="h", y=1.06, x=0),
                      xaxis=dict(range=[-BOUND, BOUND], zeroline=False),
                      yaxis=dict(range=[-BOUND, BOUND], zeroline=False, scaleanchor="x", scaleratio=1))
    return fig


def history_figure(history: list, keys: list, names: list, height: int = 220, keep: int = 600) -> go.Figure:
    """Curves of the last iterations, thinned to at most `keep` points per curve."""
    h = history[-3000:]
    h = h[:: max(1, len(h) // keep)]
    steps = [m["step"] for m in h]
    fig = go.Figure()
    for k, name in zip(keys, names):
        fig.add_scatter(x=steps, y=[m[k] for m in h], mode="lines", name=name)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=1.15, x=0))
    return fig


# ---------------------------------------------------------------- the live region
def _live_view() -> None:
    ss = st.session_state

    registered = ss["toy.playing"]

    @st.fragment(run_every=TICK_S if registered else None)
    def live():
        if ss["toy.playing"] != registered or ss.pop("toy.full_rerun", False):
            st.rerun(scope="app")  # Play/Pause or a preset: the timer and the controls must be redrawn
        _buttons()
        trainer: ToyTrainer = ss["toy.trainer"]
        if ss["toy.playing"] or ss.pop("toy.step_once", None) == trainer.iteration:
            with exclusive(trainer) as mine:
                if mine:  # tiny nets, on one thread in this script thread (gan_core.compute, rule 3): a frame never queues behind a class's ticks
                    trainer.step(ss["toy.k"])
        o1, o2 = st.columns(2)
        surface = o1.toggle(t("arch.toy.show_surface"), value=True, key="toy.show_surface")
        arrows = o2.toggle(t("arch.toy.show_arrows"), value=True, key="toy.show_arrows")
        labels = {k: bidi(t(f"arch.toy.{k}")) for k in ("real", "fake", "arrows")}
        labels["surface"] = bidi(t("arch.toy.critic_score" if trainer.cfg.loss == "wgan-gp" else "arch.toy.d_prob"))
        fake = trainer.samples(400)  # once per frame: drawn, and counted for coverage
        st.plotly_chart(toy_figure(trainer, fake, labels, surface, arrows), width="stretch", key="toy.plane")
        _metrics(trainer, fake)

    live()


def _metrics(trainer: ToyTrainer, samples: np.ndarray) -> None:
    last = trainer.history[-1] if trainer.history else {}
    cov = coverage(samples, trainer.cfg)
    m = st.columns(4)
    m[0].metric(t("arch.toy.iteration"), trainer.iteration)
    m[1].metric(t("arch.toy.d_acc"), f"{last['d_acc']:.0%}" if trainer.history else "–")
    m[2].metric(t("arch.toy.g_success"), f"{last['g_success']:.0%}" if trainer.history else "–")
    if cov is not None:
        m[3].metric(t("arch.toy.coverage"), f"{cov[0]}/{cov[1]}", help=t("arch.toy.coverage_help"))
    else:
        m[3].metric(t("arch.toy.distance"), f"{mode_distance(samples, trainer.cfg):.2f}")
    if trainer.history:
        c1, c2 = st.columns(2)
        c1.plotly_chart(history_figure(trainer.history, ["d_loss", "g_loss"], [bidi(t("arch.toy.d_loss")), bidi(t("arch.toy.g_loss"))]),
                        width="stretch", key="toy.losses")
        c2.plotly_chart(history_figure(trainer.history, ["d_acc", "g_success"], [bidi(t("arch.toy.d_acc")), bidi(t("arch.toy.g_success"))]),
                        width="stretch", key="toy.accs")


def toy_gan() -> None:
    """The whole widget: controls on one side, the live plane and its numbers on the other."""
    _init_state()
    left, right = st.columns([1, 2.3], gap="medium")
    with left:
        _controls()
    with right:
        _live_view()

