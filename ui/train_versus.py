"""The training page's "VAE vs GAN" panel: a VAE races the chosen GAN on the same digits for the same
training time (TrainSession.set_versus: it catches up after each of the GAN's ticks, on the session's
share of the compute thread), their samples side by side, and both measured (gan_core.versus):
sharpness next to real MNIST's, and the digit classifier's confidence. The lesson's "VAE results are
blurry", made visible."""
import time

import streamlit as st

from gan_core import registry
from gan_core.grid import make_grid
from gan_core.versus import compare

from .i18n import t
from .train_panels import CHART_INTERVAL_S
from .train_session import TrainSession

KEY = "train.versus"
MEASURE_EVERY_S = 6.0  # a reading: 2 x 300 samples through the classifier, ~0.1 s of the compute thread
MEASURE_N = 300


def versus_panel(sess: TrainSession, interval: float = CHART_INTERVAL_S) -> None:
    with st.expander(t("versus.title"), expanded=sess.versus):
        st.caption(t("versus.intro"))
        gan = registry.get((sess.trainer.cfg if sess.trainer else sess.cfg).model).adversarial
        if KEY not in st.session_state:  # Streamlit forgets a widget on another page; the session does not
            st.session_state[KEY] = sess.versus
        st.toggle(t("versus.toggle"), key=KEY, disabled=not gan, help=t("versus.toggle_help"),
                  on_change=lambda: sess.set_versus(st.session_state[KEY]))
        if not gan:
            st.caption(t("versus.not_gan"))
            return

        @st.fragment(run_every=interval if sess.running and sess.versus else None)
        def _race():
            if sess.versus:
                _draw(sess)

        _race()


def _draw(sess: TrainSession) -> None:
    rival, tr = sess.rival, sess.trainer
    if rival is None or tr is None:
        st.caption(t("versus.wait"))
        return
    c1, c2 = st.columns(2)
    c1.image(make_grid(rival.snapshots[-1][1], nrow=8), width="stretch", clamp=True,
             caption=t("versus.vae_caption", seconds=f"{rival.elapsed:.1f}", step=rival.snapshots[-1][0]))
    c2.image(make_grid(tr.snapshots[-1][1], nrow=8), width="stretch", clamp=True,
             caption=t("versus.gan_caption", model=t(registry.get(tr.cfg.model).locale_key),
                       seconds=f"{sess.snapshot_seconds:.1f}", step=tr.snapshots[-1][0]))
    report = _measure(sess)
    if report is None:
        return
    r = report["scores"]
    names = {"vae": "VAE", "gan": t(registry.get(tr.cfg.model).locale_key), "real": t("versus.real")}
    st.dataframe([{t("versus.col.model"): names[k], t("versus.col.sharpness"): round(v["laplacian_var"], 4),
                   t("versus.col.vs_real"): f"{v['vs_real']:.2f}×", t("versus.col.gradient"): round(v["gradient"], 4),
                   t("versus.col.confidence"): f"{v['confidence']:.0%}", t("versus.col.confident"): f"{v['confident_share']:.0%}"}
                  for k, v in r.items()], hide_index=True, width="stretch")
    st.caption(t("versus.verdict", vae=f"{r['vae']['vs_real']:.2f}", gan=f"{r['gan']['vs_real']:.2f}",
                 vae_conf=f"{r['vae']['confidence']:.0%}", gan_conf=f"{r['gan']['confidence']:.0%}",
                 gan_step=report["steps"][0], vae_step=report["steps"][1]))
    st.caption(t("versus.read"))


def _measure(sess: TrainSession) -> dict | None:
    """The last reading, refreshed every MEASURE_EVERY_S while training (and once when paused)."""
    tr, rival, old = sess.trainer, sess.rival, sess.versus_report
    steps = (tr.iteration, rival.iteration)
    fresh = old is not None and (old["steps"] == steps or (sess.running and time.monotonic() - old["at"] < MEASURE_EVERY_S))
    if not fresh and not (tr.error or rival.error):
        scores = sess._compute(compare, {"vae": rival.generator, "gan": tr.generator}, MEASURE_N)
        sess.versus_report = old = {"at": time.monotonic(), "steps": steps, "scores": scores}
    return old
