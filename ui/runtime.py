"""The app's one ComputeRuntime (gan_core.compute), made once per server process and shared by every
page, and the server's public-mode switch.

Every heavy torch call a page makes goes through `compute_runtime().run(...)`; a call that does
not says why in one line where it is made.
"""
import os

import streamlit as st

from gan_core.compute import ComputeRuntime


@st.cache_resource(show_spinner=False)
def compute_runtime() -> ComputeRuntime:
    return ComputeRuntime()


def public_mode() -> bool:
    """GAN_PUBLIC=1 (the Space's Dockerfile sets it): visitors may name Hub repos, never server paths."""
    return os.environ.get("GAN_PUBLIC", "").strip().lower() not in ("", "0", "false", "no")
