"""Neural style transfer: pick a content and a style image, get AdaIN at once or watch Gatys optimise.

Shared weights live in st.cache_resource, the user's run in st.session_state (ui/style_widgets.py).
"""
import streamlit as st

from ui.i18n import t
from ui.quiz import check_yourself
from ui.style_widgets import SIZES, adain_panel, gatys_panel, image_picker, models_or_stop

st.title(t("nav.style"))
st.caption(t("style.intro"))
models_or_stop()

left, right = st.columns(2)
with left:
    content = image_picker("content", default="grace_hopper")
with right:
    style = image_picker("style", default="starry_night")
size = st.select_slider(t("style.size"), SIZES, value=256, key="style.size", help=t("style.size_help"))

if content is None or style is None:
    st.warning(t("style.need_both"))
    check_yourself("style")
    st.stop()

tab_adain, tab_gatys = st.tabs([t("style.tab_adain"), t("style.tab_gatys")])
with tab_adain:
    adain_panel(content, style, size)
with tab_gatys:
    gatys_panel(content, style, size)
check_yourself("style")
