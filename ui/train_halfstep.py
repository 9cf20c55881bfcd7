"""One half-step at a time (GAN Lab's idea): "D step" and "G step" buttons, and what each moved.

The engine does the work (Trainer.half_step judges D on a fixed batch before and after one turn);
this module only draws: the two buttons beside Step, the before/after means with their changes, and
a strip of every image's score, so a class sees D push real and fake apart and G pull them together.
"""
import numpy as np
import plotly.graph_objects as go
import streamlit as st

from gan_core import registry
from gan_core.training import HalfStep

from .charts import COLORS, LAYOUT
from .i18n import t
from .layout import bidi
from .train_session import TrainSession


def half_step_buttons(d_col, g_col, sess: TrainSession) -> None:
    """D step / G step. Pressed while a run is on, they pause it first: one click, one turn to look at.
    Off for a model without two players (the VAE: no D to judge, no turns)."""
    model = (sess.trainer.cfg if sess.trainer else sess.cfg).model
    off = sess.status in ("diverged", "capped") or not getattr(registry.get(model), "adversarial", True)
    for col, turn in ((d_col, "d"), (g_col, "g")):
        col.button(t(f"train.{turn}_step"), on_click=sess.half_step, args=(turn,), width="stretch",
                   disabled=off, key=f"train.{turn}_step", help=t(f"train.{turn}_step_help"))


def _names(h: HalfStep) -> tuple[str, str]:
    kind = "critic" if h.after.scale == "critic" else "prob"
    return t(f"train.half.real_{kind}"), t(f"train.half.fake_{kind}")


def half_step_panel(sess: TrainSession) -> None:
    """The last D step / G step: before -> after on the fixed batch. Shown while it is the newest step."""
    h, tr = sess.half, sess.trainer
    if h is None or tr is None or h.step != tr.iteration or not h.metrics:
        return
    real_name, fake_name = _names(h)
    with st.container(border=True):
        st.markdown(f"**{t(f'train.half.title_{h.turn}', step=h.step)}**")
        rows = ((real_name, h.before.real.mean(), h.after.real.mean()),
                (fake_name, h.before.fake.mean(), h.after.fake.mean()),
                (t("train.half.gap"), h.before.gap, h.after.gap))
        for col, (name, before, after) in zip(st.columns(3), rows):
            # delta_color off: a rise is good news for one player and bad news for the other;
            # no arrow where nothing moved (G's step leaves D's view of the real digits alone)
            change = f"{after - before:+.3f}"
            col.metric(name, f"{after:.3f}", delta=None if float(change) == 0 else change, delta_color="off")
            col.caption(t("train.half.before", value=f"{before:.3f}"))
        st.plotly_chart(strip_figure(h, real_name, fake_name), width="stretch", key="train.chart.half")
        st.caption(t(f"train.half.note_{'critic' if h.after.scale == 'critic' else 'prob'}", n=len(h.after.real)))


def strip_figure(h: HalfStep, real_name: str, fake_name: str) -> go.Figure:
    """Every image of the fixed batch as a dot, before (hollow) and after (filled), with an arrow
    from the old mean to the new one on each row."""
    fig = go.Figure()
    for y, key, name in ((1, "real", real_name), (0, "fake", fake_name)):
        for when, offset, symbol in (("before", 0.15, "circle-open"), ("after", -0.15, "circle")):
            v = getattr(getattr(h, when), key)
            fig.add_trace(go.Scatter(x=v, y=np.full(len(v), y + offset), mode="markers", showlegend=False,
                                     name=bidi(f"{name}, {t(f'train.half.{when}_short')}"),
                                     marker=dict(symbol=symbol, size=7, color=COLORS[key], opacity=0.6)))
        a, b = float(getattr(h.before, key).mean()), float(getattr(h.after, key).mean())
        fig.add_annotation(x=b, y=y, ax=a, ay=y, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=3, arrowwidth=2, arrowcolor=COLORS[key], text="")
    fig.update_layout(**{**LAYOUT, "height": 200, "hovermode": "closest"},
                      yaxis=dict(tickvals=[0, 1], ticktext=[bidi(fake_name), bidi(real_name)], range=[-0.5, 1.5]),
                      xaxis=dict(range=[-0.02, 1.02]) if h.after.scale == "probability" else {})
    return fig
