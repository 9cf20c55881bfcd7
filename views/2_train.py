"""Train an MNIST GAN live: settings in the sidebar, Start, and watch curves and digits tick by tick.

The run belongs to this browser session (st.session_state), so it survives switching pages; the
MNIST tensor and the digit classifier are shared by all sessions (st.cache_resource).
"""
import streamlit as st

from ui.i18n import t
from ui.runtime import compute_runtime
from ui.train_panels import controls, downloads_panel, history_panel, live_panel, memorization_panel, real_fake_panel
from ui.train_resources import digit_scorer_ready, mnist_train, mnist_train_labels
from ui.train_session import TrainSession
from ui.train_settings import settings_panel

st.title(t("nav.train"))
st.caption(t("train.intro"))

with st.spinner(t("train.loading")):
    data = mnist_train()
    digit_scorer_ready()
if "train.session" not in st.session_state:
    st.session_state["train.session"] = TrainSession(data, labels=mnist_train_labels(), runtime=compute_runtime())
sess: TrainSession = st.session_state["train.session"]

pending = sess.update_config(settings_panel(sess))
controls(sess, pending)
live_slot = st.container()
real_fake_panel(sess)
history_panel(sess)
memorization_panel(sess)
downloads_panel(sess)
with live_slot:  # drawn up here, but run last: the tick must not hold back (and grey out) the panels below
    live_panel(sess)
