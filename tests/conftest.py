import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GAN_DEVICE", "cpu")  # tests never need a GPU


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
