"""Latent space of two face generators (DCGAN, WGAN-GP): a seed grid, interpolation strips on the
same path for both models, a random walk and latent arithmetic. Maths in gan_core.latent, widgets
in ui.latent_widgets; all text in locales/*.json ("latent.*")."""
import streamlit as st

from gan_core.faces import short
from ui.i18n import t
from ui.latent_widgets import OWN, frames, label, pick_models, seed_grid, strip_rows
from ui.quiz import check_yourself

st.title(t("latent.title"))
st.caption(t("latent.intro"))

models = pick_models()  # the bundled face GANs, or the one this session trained
if not models:
    st.error(t("latent.none"))
    st.stop()
src = {k: m.source for k, m in models.items()}
# (this session's own generator lives in a server temp folder: its name says enough, its path nothing)
st.caption(" · ".join(label(k) if k == OWN else t("latent.using", model=label(k), source=short(m.source))
                      for k, m in models.items()))

st.session_state.setdefault("latent.seed_a", 0)
st.session_state.setdefault("latent.seed_b", 1)

if st.session_state.get("latent.grid_model") not in models:  # the other source was shown last time
    st.session_state.pop("latent.grid_model", None)
c1, c2, c3 = st.columns([1, 1, 2])
grid_model = c1.radio(t("latent.grid_model"), list(models), format_func=label,
                      horizontal=True, key="latent.grid_model")
base = c2.number_input(t("latent.grid_base"), 0, 1_000_000, 0, step=16, key="latent.base")
psi = c3.slider(t("latent.truncation"), 0.0, 1.0, 1.0, 0.05, key="latent.psi", help=t("latent.truncation_help"))

st.subheader(t("latent.grid"))
seeds = seed_grid(grid_model, src[grid_model], int(base), psi)

tab_path, tab_walk, tab_math = st.tabs([t("latent.tab_path"), t("latent.tab_walk"), t("latent.tab_math")],
                                       on_change="rerun", key="latent.tab")
if tab_path.open:
    with tab_path:
        a, b, n, m = st.columns(4)
        seed_a = a.number_input(t("latent.seed_a"), 0, 1_000_000, step=1, key="latent.seed_a")
        seed_b = b.number_input(t("latent.seed_b"), 0, 1_000_000, step=1, key="latent.seed_b")
        steps = n.slider(t("latent.steps"), 2, 32, 16, key="latent.steps")
        mode = m.radio(t("latent.mode"), ["slerp", "lerp"], horizontal=True, key="latent.mode", help=t("latent.mode_help"))
        spec = ("path", int(seed_a), int(seed_b), int(steps), mode)
        strip_rows({k: frames(k, src[k], spec, psi) for k in models}, prefix=f"interp-{seed_a}-{seed_b}-{mode}")

if tab_walk.open:
    with tab_walk:
        a, b, c = st.columns(3)
        walk_seed = a.number_input(t("latent.walk_seed"), 0, 1_000_000, 7, key="latent.walk_seed")
        legs = b.slider(t("latent.walk_legs"), 2, 8, 4, key="latent.walk_legs")
        per_leg = c.slider(t("latent.walk_frames"), 4, 16, 8, key="latent.walk_frames")
        st.caption(t("latent.walk_help"))
        spec = ("walk", int(walk_seed), int(legs), int(per_leg))
        strip_rows({k: frames(k, src[k], spec, psi) for k in models}, prefix=f"walk-{walk_seed}", gif_ms=80)

if tab_math.open:
    with tab_math:
        st.markdown(t("latent.mean_title"))
        chosen = st.multiselect(t("latent.mean_pick"), seeds, default=seeds[:3], key=f"latent.mean.{base}")
        if chosen:
            cols = st.columns(len(models))
            for col, k in zip(cols, models):
                parts = frames(k, src[k], ("seeds", tuple(chosen)), psi)
                mean = frames(k, src[k], ("mean", tuple(chosen)), psi)
                col.image(list(parts) + list(mean), caption=[str(s) for s in chosen] + [t("latent.mean")], width=96)
                col.caption(label(k))
        st.markdown(t("latent.arith_title"))
        a, b, c = st.columns(3)
        sa = a.number_input("A", 0, 1_000_000, int(seeds[0]), key="latent.arith_a")
        sb = b.number_input("B", 0, 1_000_000, int(seeds[1]), key="latent.arith_b")
        sc = c.number_input("C", 0, 1_000_000, int(seeds[2]), key="latent.arith_c")
        for k in models:
            parts = frames(k, src[k], ("seeds", (int(sa), int(sb), int(sc))), psi)
            out = frames(k, src[k], ("arith", int(sa), int(sb), int(sc)), psi)
            st.image(list(parts) + list(out), caption=["A", "B", "C", "A − B + C"], width=96)
            st.caption(label(k))

check_yourself("latent")
