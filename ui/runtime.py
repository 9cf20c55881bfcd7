"""The app's one ComputeRuntime (gan_core.compute): made once per server process, shared by every page.

Every heavy torch call a page makes goes through `compute_runtime().run(...)`; a call that does
not says why in one line where it is made.
"""
import streamlit as st

from gan_core.compute import ComputeRuntime


@st.cache_resource(show_spinner=False)
def compute_runtime() -> ComputeRuntime:
    return ComputeRuntime()
