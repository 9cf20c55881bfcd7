import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GAN_DEVICE", "cpu")  # tests never need a GPU


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
