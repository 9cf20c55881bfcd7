"""Plotly figures for training curves and digit histograms, shared by every page that trains a GAN.

Inputs are plain numpy columns (step, d_loss, ...) as kept by ui.train_session. Long runs are
averaged into at most `max_points` bins before plotting: the browser redraws them every few seconds, and
20k points per curve would cost more than the training step the tick is there to show.
"""
import numpy as np
import plotly.graph_objects as go

from .i18n import t
from .layout import bidi


def _t(key: str, **fmt) -> str:
    """A figure's text: drawn in plotly's SVG, which the page's right-to-left CSS does not reach."""
    return bidi(t(key, **fmt))

COLORS = {"d": "#d62728", "g": "#1f77b4", "real": "#2ca02c", "fake": "#ff7f0e", "w": "#9467bd"}
LAYOUT = dict(height=260, margin=dict(l=10, r=10, t=36, b=10), legend=dict(orientation="h", y=-0.35),
              hovermode="x unified", uirevision="keep")  # uirevision: keep the user's zoom across ticks


def binned(x: np.ndarray, y: np.ndarray, max_points: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Means over equal-width bins, so a curve keeps its shape (and loses its noise) at any length."""
    n = len(x)
    if n <= max_points:
        return x, y
    b = int(np.ceil(n / max_points))
    m = n // b * b
    xs, ys = x[:m].reshape(-1, b).mean(1), np.nanmean(y[:m].reshape(-1, b), 1) if np.isfinite(y).any() else y[:m:b]
    if m < n:
        xs, ys = np.append(xs, x[m:].mean()), np.append(ys, np.nanmean(y[m:]) if np.isfinite(y[m:]).any() else np.nan)
    return xs, ys


def _line(x, y, name, color, dash=None) -> go.Scatter:
    xs, ys = binned(x, y)
    return go.Scatter(x=xs, y=ys, name=name, mode="lines", line=dict(color=color, width=2, dash=dash))


def _skip_markers(cols: dict, which: str, y_key: str, name: str, color: str, max_markers: int = 150):
    """Steps where the balance rule skipped this net's turn, thinned to at most max_markers."""
    idx = np.flatnonzero(cols[which] > 0)
    if len(idx) == 0:
        return None
    idx = idx[np.linspace(0, len(idx) - 1, min(len(idx), max_markers)).astype(int)]
    return go.Scatter(x=cols["step"][idx], y=cols[y_key][idx], name=name, mode="markers",
                      marker=dict(symbol="x", size=7, color=color))


def loss_figure(cols: dict) -> go.Figure:
    """D and G losses, with x marks where the balance rule skipped D's or G's update."""
    fig = go.Figure([_line(cols["step"], cols["d_loss"], _t("train.chart.d_loss"), COLORS["d"]),
                     _line(cols["step"], cols["g_loss"], _t("train.chart.g_loss"), COLORS["g"])])
    for trace in (_skip_markers(cols, "skipped_d", "d_loss", _t("train.chart.skip_d"), COLORS["d"]),
                  _skip_markers(cols, "skipped_g", "g_loss", _t("train.chart.skip_g"), COLORS["g"])):
        if trace is not None:
            fig.add_trace(trace)
    fig.update_layout(title=_t("train.chart.losses"), xaxis_title=_t("train.chart.step"), **LAYOUT)
    return fig


def accuracy_figure(cols: dict) -> go.Figure:
    """The three curves of the face exercise: D on real, D on fake, G's success at fooling D."""
    s = cols["step"]
    fig = go.Figure([_line(s, cols["d_real_acc"], _t("train.chart.d_real"), COLORS["real"]),
                     _line(s, cols["d_fake_acc"], _t("train.chart.d_fake"), COLORS["fake"]),
                     _line(s, cols["g_success"], _t("train.chart.g_success"), COLORS["g"])])
    fig.add_hline(y=0.5, line=dict(color="grey", dash="dot", width=1))
    fig.update_layout(title=_t("train.chart.accuracy"), xaxis_title=_t("train.chart.step"),
                      yaxis=dict(range=[-0.02, 1.02]), **LAYOUT)
    return fig


def wasserstein_figure(cols: dict) -> go.Figure | None:
    """The critic's estimate of the Wasserstein distance (WGAN models only; None for BCE)."""
    w = cols["wasserstein"]
    if not np.isfinite(w).any():
        return None
    fig = go.Figure([_line(cols["step"], w, _t("train.chart.wasserstein"), COLORS["w"])])
    fig.update_layout(title=_t("train.chart.wasserstein_title"), xaxis_title=_t("train.chart.step"), **LAYOUT)
    return fig


def class_histogram(class_share, coverage_min: float = 0.05) -> go.Figure:
    """Share of generated samples per predicted digit; grey bars are classes under coverage_min."""
    share = np.asarray(class_share, dtype=float)
    colors = [COLORS["g"] if s >= coverage_min else "#bbbbbb" for s in share]
    digits = [str(d) for d in range(10)]
    uniform = dict(color="grey", dash="dot", width=1)
    # The 10% line is named in the legend, not by a label on the line: there it sat on the last bars' figures.
    fig = go.Figure([go.Bar(x=digits, y=share, marker_color=colors, text=[f"{s:.0%}" for s in share],
                            textposition="outside", showlegend=False),
                     go.Scatter(x=[None], y=[None], mode="lines", line=uniform, name=_t("train.chart.uniform"))])
    fig.add_hline(y=0.1, line=uniform)
    fig.update_layout(title=_t("train.chart.classes"),
                      xaxis=dict(title=_t("train.chart.digit"), tickmode="array", tickvals=digits),  # every digit named
                      yaxis=dict(range=[0, max(0.35, float(share.max()) + 0.08)], tickformat=".0%"),
                      **{**LAYOUT, "hovermode": "closest"})
    return fig


def elbo_figure(cols: dict) -> go.Figure:
    """A VAE's curves: -ELBO and its two terms, reconstruction and KL (the VAE has no D, so no game to plot)."""
    s = cols["step"]
    fig = go.Figure([_line(s, cols["loss"], _t("train.chart.elbo"), COLORS["w"]),
                     _line(s, cols["rec"], _t("train.chart.rec"), COLORS["g"]),
                     _line(s, cols["kl"], _t("train.chart.kl"), COLORS["fake"])])
    fig.update_layout(title=_t("train.chart.elbo_title"), xaxis_title=_t("train.chart.step"), **LAYOUT)
    return fig


def rate_cut_key(base: str, cuts: tuple[float, float]) -> str:
    """The text saying the rate cut: `base` where G's and D's factors are one, `base`_apart where D has its own."""
    return base if cuts[0] == cuts[1] else f"{base}_apart"


def mark_rate_cut(fig: go.Figure, step: int, cuts: tuple[float, float], grow: int = 1) -> go.Figure:
    """The run's rate cut (lr_cut_at): a dotted vertical line where the learning rates dropped (G's and D's
    factors, TrainConfig.rate_cuts) and the batch grew by `grow` (lr_cut_batch), so a class watching the curves sees
    when the steps got smaller. step 0: no cut (yet): the figure as it was."""
    if step:
        text = t(rate_cut_key("train.chart.rate_cut", cuts), cut=f"{cuts[0]:g}", cut_d=f"{cuts[1]:g}")
        text += t("train.chart.batch_cut", factor=grow) if grow > 1 else ""
        # one isolate for the whole label (two would each read right to left, side by side); on the line's left,
        # over the run before the cut: on its right a run just past the cut has no room for it
        fig.add_vline(x=step, line=dict(color="grey", width=1, dash="dot"), annotation_text=bidi(text),
                      annotation_position="top left")
    return fig


def mark_phases(fig: go.Figure, marks) -> go.Figure:
    """Progressive growing: a vertical line where each phase begins, (step, resolution, fading) from
    gan_core.progressive.phase_changes; dashed while the new resolution fades in."""
    for step, res, fading in marks:
        label = _t("train.chart.fade_in" if fading else "train.chart.grown", res=res)
        fig.add_vline(x=step, line=dict(color="grey", width=1, dash="dash" if fading else "solid"),
                      annotation_text=label, annotation_position="top left")
    return fig
