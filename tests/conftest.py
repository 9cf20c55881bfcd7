import os
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
    from ui.classroom import class_runs
    from ui.runtime import admission
    admission.clear()
    class_runs.clear()
