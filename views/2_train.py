"""Train a GAN live (MNIST by default, or another data set): settings in the sidebar, Start, and
watch curves and samples tick by tick.

The run belongs to this browser session (st.session_state), so it survives switching pages; the
MNIST tensor and the digit classifier are shared by all sessions (st.cache_resource).
"""
import streamlit as st

from ui.classroom import share_panel, watch_view, watched_code
from ui.fool_panel import fool_panel
from ui.i18n import t
from ui.quiz import check_yourself
from ui.runtime import admission, compute_runtime
from ui.train_data import data_panel
from ui.train_halfstep import half_step_panel
from ui.train_panels import controls, downloads_panel, history_panel, live_panel, memorization_panel, real_fake_panel
from ui.train_resources import digit_scorer_ready, mnist_train, mnist_train_labels, training_warm_up
from ui.train_session import TrainSession
from ui.train_settings import settings_panel
from ui.train_versus import versus_panel

st.title(t("nav.train"))
st.caption(t("train.intro"))

with st.spinner(t("train.loading")):
    data = mnist_train()
    digit_scorer_ready(TrainSession.score_n)
training_warm_up()  # once per server, in the background
if (code := watched_code()) is not None:  # a student following the teacher's class run: read-only
    watch_view(code)
    st.stop()
if "train.session" not in st.session_state:
    st.session_state["train.session"] = TrainSession(data, labels=mnist_train_labels(), runtime=compute_runtime(),
                                                     admission=admission())
sess: TrainSession = st.session_state["train.session"]

data_panel(sess)  # before the settings: the data decides which models the sidebar offers
pending = sess.update_config(settings_panel(sess))
controls(sess, pending)
share_panel(sess)
half_step_panel(sess)
live_slot = st.container()
real_fake_panel(sess)
versus_panel(sess)
fool_panel(sess)
history_panel(sess)
memorization_panel(sess)
downloads_panel(sess)
check_yourself("train")
with live_slot:  # drawn up here, but run last: the tick must not hold back (and grey out) the panels below
    live_panel(sess)
