"""Page frame pieces: right-to-left support, the device badge, and torch loaded in the background."""
import importlib
import threading

import streamlit as st

from gan_core.messages import Message

from .i18n import current_lang, is_rtl, msg, t

RTL_CSS = """<style>
/* Right-to-left languages: the sidebar moves to the right and everything a reader reads flows
   right to left (text, lists, tabs, columns, widget labels, the page navigation) ... */
[data-testid="stAppViewContainer"] { flex-direction: row-reverse; }
[data-testid="stMain"], [data-testid="stSidebarContent"] { direction: rtl; }
/* A widget's help opens in a tooltip drawn outside the page's containers: it reads right to left too
   (left to right, a wrapped Hebrew sentence with a "G" or a number in it comes out in the wrong order). */
[data-testid="stTooltipContent"] { direction: rtl; text-align: start; }
:is([data-testid="stMain"], [data-testid="stSidebarContent"])
  :is(h1, h2, h3, h4, p, li, [data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"],
      [data-testid="stWidgetLabel"], [data-testid="stMetricLabel"], [data-testid="stMetricValue"]) { text-align: start; }
/* ... while what is read left to right stays so: code, formulas, plots, diagrams, tables and the
   tracks of sliders. Isolation keeps an inline `D(G(z))` from being reordered by the Hebrew around it. */
[data-testid="stAppViewContainer"] code, [data-testid="stAppViewContainer"] pre, [data-testid="stCode"],
[data-testid="stTooltipContent"] code,
.katex, [data-testid="stPlotlyChart"], [data-testid="stGraphVizChart"], [data-testid="stDataFrame"],
[data-testid="stSlider"] [data-baseweb="slider"], [data-testid="stSliderTickBar"] {
  direction: ltr; unicode-bidi: isolate; text-align: left;
}
.katex-display, .katex-display .katex { text-align: center; }
/* A text box takes the direction of what is typed in it: a path or a Hub repo id reads left to right
   (`/tmp/a` showed as `tmp/a/`), a Hebrew name right to left. */
[data-testid="stTextInput"] input, [data-testid="stTextArea"] textarea { unicode-bidi: plaintext; }
</style>"""


def bidi(text: str) -> str:
    """Text for places the page's CSS does not reach (plotly's titles, legends and axes, graphviz labels):
    in a right-to-left language, a right-to-left isolate (U+2067 ... U+2069) makes a label such as
    "הפסד D" read as one right-to-left phrase inside the plot's left-to-right SVG. Right-to-left marks
    on both ends do not: the SVG's direction stays left to right, so "D" was drawn after "הפסד", on its right
    (seen in Chromium, 2026-12-03)."""
    return f"\u2067{text}\u2069" if is_rtl(current_lang()) else text


def apply_direction() -> None:
    """Right-to-left text for Hebrew/Persian; code and formulas stay left-to-right."""
    if is_rtl(current_lang()):
        st.markdown(RTL_CSS, unsafe_allow_html=True)


_preload_lock = threading.Lock()
_preload: threading.Thread | None = None


def preload_compute() -> threading.Thread:
    """Import torch (through gan_core.device) in a background thread, once per process; app.py starts
    it after the page has run.

    Why: importing torch took 2.3 s of a fresh server's first page on a 2-core laptop (9.3 s in all),
    and that page's first tab needs none: it draws first, then torch loads while its reader reads, so
    the tab or page they open next finds it loaded. Started before the page, the import's Python
    shared the GIL with the page's and the page's title came 0.6 s later."""
    global _preload
    with _preload_lock:
        if _preload is None:
            _preload = threading.Thread(target=importlib.import_module, args=("gan_core.device",),
                                        name="gan-preload", daemon=True)
            _preload.start()
        return _preload


@st.cache_resource
def _device_line() -> Message:
    from gan_core.device import describe, get_device
    return describe(get_device())


def device_badge(slot) -> bool:
    """The device line in `slot` once preload_compute() has loaded torch; True if drawn. Not started
    or still running: False at once, rather than wait (the next run draws it). A tenth of a second's
    wait covers a preload with nothing left to import (a page imported torch). Rendered per run: the
    language may change."""
    if _preload is None:
        return False
    _preload.join(0.1)
    if _preload.is_alive():
        return False
    slot.caption(t("app.device", device=msg(_device_line())))
    return True


@st.fragment(run_every=0.5)
def _rerun_once_loaded() -> None:
    """Polls the preload twice a second and reruns the app when it is done. A full rerun draws the badge
    before the page and registers no poller, and Streamlit's browser side drops a fragment's timer on a full
    run that does not register it again: it polls only while torch loads, not for the rest of the visit."""
    if _preload is not None and not _preload.is_alive():
        st.rerun()


def device_badge_after_page(slot) -> None:
    """The device badge on a run whose page drew before torch had loaded (a fresh server's first visitors):
    start the preload, draw the badge if it is done, else rerun the app by itself once it is. Without the
    rerun a reader who clicks nothing would never see the badge."""
    preload_compute()
    if not device_badge(slot):
        with st.sidebar:
            _rerun_once_loaded()
