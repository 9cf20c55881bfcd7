"""Architecture diagrams, layer tables and source listings, all read off the real gan_core classes."""
import inspect

import streamlit as st

from gan_core import losses
from gan_core import registry
from gan_core.architecture import design as build_design
from gan_core.architecture import dummy_input, layer_table, output_shape, to_dot
from gan_core.models import count_params

from .i18n import t


@st.cache_data(show_spinner=False)
def design_data(key: str, img_size: int, words: tuple) -> list[dict]:
    """For the generator and the discriminator of a registry model: class name, rows, diagram, totals.

    Cached per model and size: a dummy forward pass is cheap, but the page offers several. Built in
    the script thread, not the compute thread: a few ms of tiny eval-mode passes, once per server.
    """
    out = []
    channels = registry.get(key).sizes[img_size]
    for model in build_design(key, img_size):
        x = dummy_input(model, img_size=img_size, channels=channels)
        rows = layer_table(model, x)
        out.append({
            "cls": type(model).__name__,
            "rows": [vars(r) for r in rows],
            "dot": to_dot(rows, tuple(x.shape[1:]), output_shape(model, x), rankdir="TB", words=dict(words)),
            "params": count_params(model),
            "in_shape": tuple(x.shape[1:]),
            "out_shape": output_shape(model, x),
            "source": inspect.getsource(type(model)),
        })
    return out


def _fmt(shape) -> str:
    return "×".join(map(str, shape)) if shape else "1"


def network_panel(info: dict, role_key: str) -> None:
    """One network: its diagram, its layer table, its totals and (folded) its source code."""
    st.markdown(f"**{t(role_key)}** · `{info['cls']}`")
    st.graphviz_chart(info["dot"], width="stretch")
    table = [{t("arch.table.layer"): r["name"], t("arch.table.type"): r["kind"], t("arch.table.shape"): _fmt(r["shape"]),
              t("arch.table.params"): r["params"]} for r in info["rows"]]
    with st.expander(t("arch.table.title", n=len(table))):
        st.dataframe(table, hide_index=True, width="stretch")
    st.caption(t("arch.table.total", params=f"{info['params']:,}", inp=_fmt(info["in_shape"]), out=_fmt(info["out_shape"])))
    with st.expander(t("arch.code")):
        st.code(info["source"], language="python")


def design(key: str, img_size: int) -> None:
    """Generator and discriminator (a critic, for the WGANs) of a registry model, side by side."""
    words = tuple((w, t(f"arch.diagram.{w}")) for w in ("input", "params", "view"))  # the diagram in this language
    g, d = design_data(key, img_size, words)
    c1, c2 = st.columns(2, gap="medium")
    with c1:
        network_panel(g, "arch.generator")
    with c2:
        network_panel(d, "arch.critic" if registry.get(key).wgan else "arch.discriminator")


def loss_source(*names: str) -> None:
    """The loss functions the trainers really call, as code."""
    with st.expander(t("arch.loss_code")):
        st.code("\n\n".join(inspect.getsource(getattr(losses, n)) for n in names), language="python")
