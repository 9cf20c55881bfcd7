"""Placeholder until this page is built: says what it will do, shows nothing fake."""
import streamlit as st

from ui.i18n import t
from ui.layout import coming_soon

st.title(t("nav.style"))
coming_soon("placeholder.style")
