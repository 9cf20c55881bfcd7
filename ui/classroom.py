"""The class run on the training page: the teacher shares a run, the class watches it read-only.

Teacher: "Share with the class" gives a code and a link (?class=CODE). Students who open the link
(or type the code) see the teacher's grid, curves, meter and timeline, redrawn live, with no
settings and no buttons that act on the run. It ends when the teacher resets, stops sharing or
closes the tab (gan_core.classroom).
"""
import re

import streamlit as st

from gan_core.classroom import ClassRuns

from .i18n import t
from .train_panels import history_panel, live_panel, real_fake_panel
from .train_session import TrainSession

WATCH_KEY = "train.watch"          # the code this session watches
SHARED_KEY = "train.shared"        # (code, resets) of the run this session shares
CODE = re.compile(r"[A-Za-z0-9_-]{6,32}")  # what secrets.token_urlsafe makes; anything else is no code
HEARTBEAT_S = 5.0


@st.cache_resource(show_spinner=False)
def class_runs() -> ClassRuns:
    return ClassRuns()


def watched_code() -> str | None:
    """The class code this session follows: a ?class= link (taken once), or one typed in."""
    if "class" in st.query_params:
        code = st.query_params.get("class", "")
        del st.query_params["class"]  # the code lives in the session from here on, not in the address
        st.session_state[WATCH_KEY] = code if CODE.fullmatch(code or "") else ""
    return st.session_state.get(WATCH_KEY)


def watch_view(code: str) -> None:
    """A student's page while following a class run (the page stops after it)."""
    run = class_runs().watch(code) if code else None
    c1, c2 = st.columns([4, 1])
    c2.button(t("class.leave"), key="class.leave", on_click=_leave, width="stretch")
    if run is None:
        c1.warning(t("class.not_found"))
        return
    def on() -> bool:  # asked by each redraw: the run may end any time
        return class_runs().watch(code) is run

    live_panel(run, watch=on)  # says "watching", and "ended" in place once it has
    real_fake_panel(run, watch=on)
    history_panel(run)


def _leave() -> None:
    st.session_state.pop(WATCH_KEY, None)
    st.session_state["class.join_code"] = ""  # or the typed code would take the student straight back


def share_panel(sess: TrainSession) -> None:
    """Teacher side: share this run with the class (a code and a link), or watch someone else's."""
    classes = class_runs()
    shared = st.session_state.get(SHARED_KEY)
    if shared and (shared[1] != sess.resets or classes.watch(shared[0]) is not sess):  # reset, or ended
        _stop_sharing(sess, shared[0])
        shared = None
    with st.expander(t("class.title"), expanded=bool(shared)):
        if shared is None:
            st.caption(t("class.help"))
            if st.button(t("class.share"), key="class.share"):
                st.session_state[SHARED_KEY] = (classes.open(sess), sess.resets)
                sess.set_shared(True)  # one run for the whole class: outside the training seats
                st.rerun()
            code = st.text_input(t("class.join"), key="class.join_code", max_chars=32, placeholder="k3J9x-QmT2sW")
            if code:
                st.session_state[WATCH_KEY] = code.strip()
                st.rerun()
            return
        code = shared[0]
        st.success(t("class.shared", code=code))
        st.code(f"{_base_url()}?class={code}", language=None)
        if st.button(t("class.stop"), key="class.stop"):
            _stop_sharing(sess, code)
            st.rerun()

        @st.fragment(run_every=HEARTBEAT_S)
        def _heartbeat():  # the teacher's tab is open: the class run goes on, paused or not
            classes.seen(code)

        _heartbeat()


def _stop_sharing(sess: TrainSession, code: str) -> None:
    class_runs().close(code)
    st.session_state.pop(SHARED_KEY, None)
    sess.set_shared(False)


def _base_url() -> str:
    url = st.context.url or ""
    return url.split("?", 1)[0]
