"""Page frame pieces: right-to-left support, the device badge, the placeholder for unbuilt pages."""
import streamlit as st

from gan_core.device import describe, get_device

from .i18n import current_lang, is_rtl, t

RTL_CSS = """<style>
[data-testid="stMain"] .stMarkdown, [data-testid="stMain"] h1, [data-testid="stMain"] h2,
[data-testid="stMain"] h3, [data-testid="stMain"] p, [data-testid="stMain"] li,
[data-testid="stSidebar"] [data-testid="stSidebarNavItems"] { direction: rtl; text-align: right; }
[data-testid="stMain"] code, [data-testid="stMain"] pre, .katex { direction: ltr; text-align: left; }
</style>"""


def apply_direction() -> None:
    """Right-to-left text for Hebrew/Persian; code and formulas stay left-to-right."""
    if is_rtl(current_lang()):
        st.markdown(RTL_CSS, unsafe_allow_html=True)


@st.cache_resource
def _device_line() -> str:
    return describe(get_device())


def device_badge() -> None:
    st.sidebar.caption(t("app.device", device=_device_line()))


def coming_soon(key: str) -> None:
    st.info(f"{t('placeholder.coming')}\n\n{t(key)}")
