"""Architectures: what a GAN is, a live 2-D toy GAN, the gan_core designs read off the real classes,
and the known problems with where this app shows each one. All text is in locales/*.json ("arch.*")."""
import numpy as np
import plotly.graph_objects as go
import streamlit as st

from gan_core import registry
from gan_core.config import TrainConfig
from ui.arch_widgets import design, loss_source
from ui.i18n import t
from ui.layout import bidi
from ui.quiz import check_yourself

# No torch at the top: the first tab needs none, so a fresh server draws it while torch still loads
# (ui.layout.preload_compute); the tabs that train or build networks import what they use.

# Formulas are the same in every language, so they live here and not in the locale files.
MINIMAX = r"\min_G \max_D \; V(D,G) = \mathbb{E}_{x\sim p_\text{data}}\big[\log D(x)\big] + \mathbb{E}_{z\sim p_z}\big[\log\big(1 - D(G(z))\big)\big]"
D_LOSS = r"\mathcal{L}_D = -\,\mathbb{E}_{x}\big[\log D(x)\big] \;-\; \mathbb{E}_{z}\big[\log\big(1 - D(G(z))\big)\big]"
G_LOSSES = (r"\mathcal{L}_G^{\text{minimax}} = \mathbb{E}_{z}\big[\log\big(1 - D(G(z))\big)\big]"
            r"\qquad\qquad \mathcal{L}_G^{\text{non-sat}} = -\,\mathbb{E}_{z}\big[\log D(G(z))\big]")
W_DIST = r"W(p_\text{data}, p_g) = \sup_{\lVert f\rVert_L \le 1} \; \mathbb{E}_{x\sim p_\text{data}}\big[f(x)\big] - \mathbb{E}_{z\sim p_z}\big[f(G(z))\big]"
W_LOSSES = (r"\mathcal{L}_f = \mathbb{E}_z\big[f(G(z))\big] - \mathbb{E}_x\big[f(x)\big] \qquad "
            r"\mathcal{L}_G = -\,\mathbb{E}_z\big[f(G(z))\big] \qquad w \leftarrow \operatorname{clip}(w, -c, c)")
GP = (r"\mathcal{L}_f^{\text{GP}} = \mathcal{L}_f + \lambda\, \mathbb{E}_{\hat x}\Big[\big(\lVert \nabla_{\hat x} f(\hat x)\rVert_2 - 1\big)^2\Big],"
      r"\qquad \hat x = \epsilon x + (1-\epsilon)\, G(z),\; \epsilon \sim U[0,1]")
PHASES_DOT = """digraph { rankdir=LR; bgcolor=transparent; node [fontname="Helvetica", fontsize=11];
z [shape=circle, label="z"]; G [shape=box, style="rounded,filled", fillcolor="#f3e5f5", label="G"];
f [shape=note, label="G(z)"]; x [shape=note, label="x"]; D [shape=box, style="rounded,filled", fillcolor="#e3f4e6", label="D"];
o [shape=plaintext, label="%s"]; z -> G -> f -> D; x -> D; D -> o; }"""
ELBO = r"\mathcal{L}_\text{VAE} = \underbrace{-\,\mathbb{E}_{q(z\mid x)}\big[\log p(x\mid z)\big]}_{\text{rec}} + \underbrace{\mathrm{KL}\big(q(z\mid x)\,\Vert\,\mathcal{N}(0, I)\big)}_{\text{KL}}"
FADE = r"G_\alpha(z) = \alpha\, \text{to\_img}_{new}(h) + (1-\alpha)\, \text{up}\big(\text{to\_img}_{old}(h_{old})\big), \qquad \alpha: 0 \to 1"
TRY_CLI = "python -m gan_core train --model {model} --steps 2000 --out runs/{model}"
FACE_CLI = "python -m gan_core train --model face-exercise --data path/to/faces --img-size 64 --steps 3000 --balance --out checkpoints/face-exercise"
ARCH_MODELS = registry.offered("arch")
# Measured by `python bench/bench_slides.py --budget 30` (docs/benchmarks.md, 2026-12-02, an eighteenth session):
# the ladder from the slides' code to the tuned mlp, 30 s of training each on 2 CPU cores (fp32), seed 0, 2000
# samples scored; `speed` is mlp's training pictures/s over the slides' (interleaved bursts). fid's `real` and
# `noise` (seeded, so the same on any machine): 2000 real training digits (the mean of 8 picks) and 2000 pictures
# of noise, scored as the samples are. The page only quotes these numbers.
SLIDES_BENCH = dict(seconds=30, speed=1.16, fid=dict(slides=1095, lr=194, ema=76, mlp=64, real=5.3, noise=1436),
                    classes=dict(slides=1, lr=10, ema=10, mlp=10), conf=dict(lr=0.598, ema=0.755, mlp=0.762))


def saturation_figure() -> go.Figure:
    """G's two losses against D(G(z)): the minimax one is flat exactly where G is bad."""
    p = np.linspace(0.005, 0.995, 200)
    fig = go.Figure()
    fig.add_scatter(x=p, y=np.log(1 - p), name=bidi(t("arch.basics.curve_minimax")))
    fig.add_scatter(x=p, y=-np.log(p), name=bidi(t("arch.basics.curve_nonsat")))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="D(G(z))",
                      legend=dict(orientation="h", y=1.15, x=0))
    return fig


def basics() -> None:
    st.markdown(t("arch.basics.gd"))
    st.graphviz_chart(PHASES_DOT % bidi(t("arch.basics.real_fake")))
    st.markdown(t("arch.basics.phases"))
    st.latex(MINIMAX)
    st.latex(D_LOSS)
    st.latex(G_LOSSES)
    c1, c2 = st.columns([3, 2])
    c1.markdown(t("arch.basics.nonsat"))
    c2.plotly_chart(saturation_figure(), width="stretch")
    st.markdown(t("arch.basics.oscillate"))
    loss_source("bce_d_loss", "bce_g_loss", "minimax_g_loss")


def models() -> None:
    """Every model the registry offers here, drawn from the classes and preset the trainer uses."""
    c1, c2 = st.columns([4, 1])
    names = {m: t(registry.get(m).locale_key) for m in ARCH_MODELS}  # translated now, in this run's language
    pick = c1.radio(t("arch.models.pick"), ARCH_MODELS, format_func=names.get, horizontal=True, key="arch.design")
    spec = registry.get(pick)
    size = c2.radio(t("arch.models.size"), list(spec.sizes), format_func=lambda s: f"{s}×{s}", horizontal=True,
                    key=f"arch.size.{pick}")
    if spec.family == "slides":
        p, b, mlp = spec.preset, SLIDES_BENCH, registry.get("mlp").preset
        st.markdown(t("arch.slides.body", lr=p["lr_g"], batch=p["batch_size"], batch_mlp=mlp["batch_size"], ema=mlp["ema"],
                      lr_g_mlp=mlp["lr_g"], lr_d_mlp=mlp["lr_d"], beta1=mlp["beta1"], beta2=mlp["beta2"],
                      seconds=b["seconds"], speed=b["speed"],
                      **{f"fid_{k}": v for k, v in b["fid"].items()}, **{f"classes_{k}": v for k, v in b["classes"].items()},
                      **{f"conf_{k}": f"{v:.0%}" for k, v in b["conf"].items()}))
    elif spec.family == "mlp":
        p = spec.preset
        st.markdown(t("arch.mlp.body", lr_g=p["lr_g"], lr_d=p["lr_d"], beta1=p["beta1"], beta2=p["beta2"],
                      batch=p["batch_size"]))
    elif spec.family == "vae":
        st.markdown(t("arch.vae.body"))
        st.latex(ELBO)
        st.code(TRY_CLI.format(model=pick), language="bash")
    elif spec.family == "progressive":
        from gan_core import progressive
        preset = TrainConfig.preset(spec.name)  # the registry's settings over TrainConfig's defaults
        st.markdown(t("arch.progressive.body", steps=preset.phase_steps, r1=f"{preset.r1:g}", r1_every=preset.r1_every))
        st.latex(FADE)
        st.code(TRY_CLI.format(model=pick), language="bash")
        res = st.radio(t("arch.progressive.phase"), progressive.RESOLUTIONS, index=len(progressive.RESOLUTIONS) - 1,
                       format_func=lambda r: f"{r}×{r}", horizontal=True, key="arch.grow")
        design(pick, size, resolution=res)
        return
    elif spec.family == "face":
        st.markdown(t("arch.face.body"))
        st.code(FACE_CLI, language="bash")
    elif not spec.wgan:
        st.markdown(t("arch.dcgan.body"))
    else:
        st.markdown(t("arch.wgan.body"))
        st.latex(W_DIST)
        st.latex(W_LOSSES)
        st.markdown(t("arch.wgangp.body"))
        st.latex(GP)
    design(pick, size)
    if spec.wgan:
        loss_source("wgan_d_loss", "wgan_g_loss", "clip_weights", "gradient_penalty")
    elif spec.loss == "bce-sigmoid":
        loss_source("slides_d_loss", "slides_g_loss")
    elif not spec.adversarial:
        loss_source("elbo_terms", module="gan_core.vae")


def toy() -> None:
    from ui.toy_widgets import toy_gan
    st.markdown(t("arch.toy.intro"))
    toy_gan()
    st.markdown(t("arch.toy.read"))


def problems() -> None:
    for key in ("collapse", "hyper", "balance", "highres", "vae"):
        st.subheader(t(f"arch.problems.{key}.title"))
        st.markdown(t(f"arch.problems.{key}.body"))
        st.info(t(f"arch.problems.{key}.app"), icon="🔎")


st.title(t("arch.title"))
st.caption(t("arch.subtitle"))
# on_change="rerun" makes the tabs lazy: only the open one runs, so the toy trains only while seen.
tabs = st.tabs([t("arch.tab.basics"), t("arch.tab.toy"), t("arch.tab.models"), t("arch.tab.problems")],
               key="arch.tab", on_change="rerun")
for tab, draw in zip(tabs, (basics, toy, models, problems)):
    if tab.open is not False:  # None when state tracking is off (e.g. a test harness): draw everything
        with tab:
            draw()
check_yourself("arch")
