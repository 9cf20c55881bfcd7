"""Widgets of the latent-space page: model sources, the seed grid with A/B pickers, cached renders.

Models sit behind st.cache_resource (loaded once per source for all users); rendered frames sit
behind st.cache_data keyed by a small hashable spec, so moving a slider back to a value already
seen redraws instantly and no move ever reloads a model.
"""
import numpy as np
import streamlit as st

from gan_core.faces import FACE_MODELS, Loaded, default_source, load_face_model
from gan_core.grid import gif_bytes, make_grid, png_bytes
from gan_core.hub import ModelLoadError
from gan_core.pipelines import latent_frames, load_generator

from .i18n import isolate, msg, t
from .runtime import compute_runtime, public_mode

GRID_SEEDS = 16
OWN = "own"          # the generator this session trained (ui.train_data.open_on_latent puts it in OWN_KEY)
OWN_KEY = "latent.own"


@st.cache_resource(show_spinner=False, max_entries=8)
def get_model(key: str, source: str, local: bool) -> Loaded:
    if key == OWN:  # a folder the server itself wrote for this session (never a path a visitor typed)
        return Loaded(load_generator(source, local=True), source)
    return load_face_model(key, source, local)  # file or Hub reading and a model build: no heavy torch work


def label(key: str) -> str:
    """A model's name on the page: a bundled face GAN's, or this session's own (model, step, data)."""
    if key == OWN:
        own = st.session_state[OWN_KEY]
        return t("latent.own_label", model=t(f"model.{own['model']}"), step=f"{own['step']:,}", data=own["data"])
    return FACE_MODELS[key].label


def pick_models() -> dict[str, Loaded]:
    """The bundled face GANs, or (once the training page sent one) the generator this session trained."""
    own = st.session_state.get(OWN_KEY)
    if own is None:
        return load_models(model_sources())
    names = {k: t(f"latent.source.{k}") for k in (OWN, "faces")}
    choice = st.radio(t("latent.source"), list(names), horizontal=True, key="latent.source", format_func=names.get)
    if choice == "faces":
        return load_models(model_sources())
    try:
        return {OWN: get_model(OWN, own["path"], True)}
    except ModelLoadError as e:  # the session folder is gone (e.g. the server restarted)
        st.warning(t("latent.missing", model=t("latent.source.own"), reason=msg(e)))
        return {}


def model_sources() -> dict[str, str]:
    """Text boxes for each model's source (Hub repo id, repo@revision or folder; empty = bundled)."""
    with st.expander(t("latent.sources"), expanded=False):
        st.caption(t("latent.sources_help_public" if public_mode() else "latent.sources_help"))
        cols = st.columns(len(FACE_MODELS))
        return {k: c.text_input(t("latent.source_of", model=fm.label), value=default_source(k), key=f"latent.src.{k}",
                                placeholder=t("latent.source_placeholder", env=isolate(f"${fm.env}")))
                for c, (k, fm) in zip(cols, FACE_MODELS.items())}


def load_models(sources: dict[str, str]) -> dict[str, Loaded]:
    """The models that load, with a warning for each fallback and each model that is missing."""
    out = {}
    for key, src in sources.items():
        try:
            with st.spinner(t("latent.loading", model=FACE_MODELS[key].label)):
                loaded = get_model(key, src, not public_mode())
        except ModelLoadError as e:
            st.warning(t("latent.missing", model=FACE_MODELS[key].label, reason=msg(e)))
            continue
        if loaded.note:
            st.warning(t("latent.fallback", model=FACE_MODELS[key].label, source=isolate(src), reason=msg(loaded.note)))
        out[key] = loaded
    return out


@st.cache_data(show_spinner=False, max_entries=128)
def frames(key: str, source: str, spec: tuple, psi: float) -> np.ndarray:
    """uint8 (N, 64, 64, 3): the model's images for the spec (see gan_core.latent.latent_batch), truncated by psi."""
    return compute_runtime().run(latent_frames, get_model(key, source, not public_mode()).model, spec, psi)


def seed_grid(key: str, source: str, base: int, psi: float, ncols: int = 8) -> list[int]:
    """Thumbnails of GRID_SEEDS seeds with an A and a B button under each; returns the seeds shown."""
    seeds = list(range(base, base + GRID_SEEDS))
    images = frames(key, source, ("seeds", tuple(seeds)), psi)
    for row in range(0, len(seeds), ncols):
        cols = st.columns(ncols)
        for col, s, im in zip(cols, seeds[row:row + ncols], images[row:row + ncols]):
            with col:
                st.image(im, caption=t("latent.seed_n", seed=s), width="stretch")
                a, b = st.columns(2, gap="small")
                a.button("A", key=f"latent.pick_a.{s}", on_click=_set, args=("latent.seed_a", s), width="stretch",
                         help=t("latent.pick_a_help", seed=s))
                b.button("B", key=f"latent.pick_b.{s}", on_click=_set, args=("latent.seed_b", s), width="stretch",
                         help=t("latent.pick_b_help", seed=s))
    return seeds


def _set(state_key: str, value) -> None:
    st.session_state[state_key] = value


def side_by_side(strips: dict[str, np.ndarray], pad: int = 2) -> list[np.ndarray]:
    """Per frame, the models' frames next to each other: one GIF shows both on the same path."""
    n = min(len(f) for f in strips.values())
    return [make_grid(np.stack([f[i] for f in strips.values()]), nrow=len(strips), pad=pad) for i in range(n)]


def strip_rows(strips: dict[str, np.ndarray], prefix: str, gif_ms: int = 100) -> None:
    """Each model's strip as one row, a PNG download per row, and one side-by-side GIF."""
    for key, f in strips.items():
        strip = make_grid(f, nrow=len(f))
        st.markdown(f"**{label(key)}**")
        st.image(strip, width="stretch")
        st.download_button(t("latent.download_png", model=label(key)), png_bytes(strip, 2),
                           file_name=f"{prefix}-{key}.png", mime="image/png", key=f"latent.dl.{prefix}.{key}")
    gif = gif_bytes(side_by_side(strips), duration_ms=gif_ms, scale=2)
    c1, c2 = st.columns([1, 2])
    c1.image(gif, caption=" | ".join(label(k) for k in strips))
    c2.download_button(t("latent.download_gif"), gif, file_name=f"{prefix}.gif", mime="image/gif",
                       key=f"latent.dl.{prefix}.gif")
