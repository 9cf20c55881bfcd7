import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GAN_DEVICE", "cpu")  # tests never need a GPU


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def fresh_training_seats():
    """Each test's pages meet a server with every training seat free and no class run: the seats (ui.runtime.admission,
    an st.cache_resource) live as long as the process, and AppTest sessions never close their tabs."""
    yield
    # only where a test loaded them: the engine's tests then run where Streamlit is not installed (a GPU machine)
    if "ui.runtime" in sys.modules:
        sys.modules["ui.runtime"].admission.clear()
    if "ui.classroom" in sys.modules:
        sys.modules["ui.classroom"].class_runs.clear()
