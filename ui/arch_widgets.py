"""Architecture diagrams, layer tables and source listings, all read off the real gan_core classes.

Importing this module does not import torch (the networks' modules are imported where a design is
drawn): the architectures page's first tab needs none, and a fresh server draws it before torch loads."""
import streamlit as st

from gan_core import registry
from gan_core.source_text import function_sources

from .i18n import t


@st.cache_data(show_spinner=False)
def design_data(key: str, img_size: int, words: tuple, resolution: int | None = None) -> list[dict]:
    """For the generator and the discriminator of a registry model: class name, rows, diagram, totals.

    Cached per model and size: a dummy forward pass is cheap, but the page offers several. Built in
    the script thread, not the compute thread: a few ms of tiny eval-mode passes, once per server.
    """
    from gan_core.architecture import class_sources, design as build_design, dummy_input, layer_table, output_shape, to_dot
    from gan_core.models import count_params
    out = []
    channels = registry.get(key).sizes[img_size]
    for model in build_design(key, img_size, resolution):
        x = dummy_input(model, img_size=img_size, channels=channels)
        rows = layer_table(model, x)
        *helpers, source = class_sources(type(model))  # the class last: what it uses comes first in a file
        out.append({
            "cls": type(model).__name__,
            "rows": [vars(r) for r in rows],
            "dot": to_dot(rows, tuple(x.shape[1:]), output_shape(model, x), rankdir="TB", words=dict(words)),
            "params": count_params(model),
            "in_shape": tuple(x.shape[1:]),
            "out_shape": output_shape(model, x),
            "source": source,
            "helpers": helpers,
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
        if info["helpers"]:  # e.g. ClassBatchNorm and run_layers: the class is not the whole of what runs
            st.caption(t("arch.code_helpers"))
            st.code("\n\n".join(info["helpers"]), language="python")


def design(key: str, img_size: int, resolution: int | None = None) -> None:
    """The two networks of a registry model side by side: generator and discriminator (a critic, for the
    WGANs), or the VAE's decoder and encoder; a progressive model at one `resolution` of its growth."""
    from gan_core.architecture import WORDS
    words = tuple((w, t(f"arch.diagram.{w}")) for w in WORDS)  # the diagram in this language
    nets = design_data(key, img_size, words, resolution)
    for col, info, role in zip(st.columns(2, gap="medium"), nets, registry.get(key).roles):
        with col:
            network_panel(info, f"arch.{role}")


def loss_source(*names: str, module: str = "gan_core.losses") -> None:
    """The loss functions the trainers really call, as code (read from the module's file)."""
    with st.expander(t("arch.loss_code")):
        st.code("\n\n".join(function_sources(module, names)), language="python")
