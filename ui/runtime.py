"""The app's one ComputeRuntime (gan_core.compute), made once per server process and shared by every
page, and the server's public-mode switch.

Every heavy torch call a page makes goes through `compute_runtime().run(...)`; a call that does
not says why in one line where it is made.
"""
import os

import streamlit as st

from gan_core.admission import Admission, default_seats, default_turn_s
from gan_core.compute import ComputeRuntime, default_workers, start_idle_sweeper
from gan_core.device import available_cpus, get_device


@st.cache_resource(show_spinner=False)
def compute_runtime() -> ComputeRuntime:
    """GAN_COMPUTE_WORKERS sets its threads (default: one per CPU, one on a GPU). A sweeper gives the
    memory of forgotten sessions back while the threads rest, until the session TTL has passed."""
    runtime = ComputeRuntime(workers=default_workers(available_cpus(), get_device().type != "cpu"))
    start_idle_sweeper(runtime, every_s=5.0, window_s=float(st.get_option("server.disconnectedSessionTTL")) + 30.0)
    return runtime


@st.cache_resource(show_spinner=False)
def admission() -> Admission:
    """The server's seats for trainings (gan_core.admission): shared by every session, like the runtime.
    GAN_MAX_TRAININGS sets the seats, GAN_TURN_S a turn's length while others wait."""
    return Admission(default_seats(available_cpus(), get_device().type != "cpu"), turn_s=default_turn_s())


def public_mode() -> bool:
    """GAN_PUBLIC=1 (the Space's Dockerfile sets it): visitors may name Hub repos, never server paths."""
    return os.environ.get("GAN_PUBLIC", "").strip().lower() not in ("", "0", "false", "no")
