"""Every bundled dataset, declared once (the data's twin of gan_core.registry): the CLI's `--data`
names, the training page's data picker and the model cards all read DATASETS.

`kind` says which models train on it (ModelSpec.data): "digits" offers the digit models (the
conditional one needs the labels), "images" the image models at 28, 32 or 64 px, grey or RGB.
A dataset is stored once, at its own size, as uint8 in data/; `load_dataset` brings it to the size
and colour a run asks for through data.square_array, the same step as uploads and folders.
"""
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

# gan_core.data (torch) is imported where a dataset is read: the CLI's parser lists NAMES without torch.

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str                 # "digits" or "images": which models are offered (see ModelSpec.data)
    size: int                 # stored size (square)
    channels: int             # stored colour: 1 grey, 3 RGB
    card: str                 # the model card's data line: what it is, who made it, its licence
    read: Callable[[], tuple[np.ndarray, np.ndarray | None]]  # -> (uint8 images, labels or None)
    licence: str = ""         # SPDX-like id for the card's front matter

    @property
    def locale_key(self) -> str:
        return f"data.source.{self.name}"


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    from .data import load_mnist
    return load_mnist("train")


def _fashion() -> tuple[np.ndarray, np.ndarray]:
    from .data import DataFilesMissing
    path = DATA_DIR / "fashion-mnist" / "train.npz"
    if not path.exists():
        raise DataFilesMissing("data.dataset_missing", name="fashion", path=str(path),
                               script="scripts/convert_fashion_mnist.py")
    with np.load(path) as z:
        return z["images"], z["labels"]


def _emoji() -> tuple[np.ndarray, None]:
    from .data import DataFilesMissing
    path = DATA_DIR / "emoji" / "emoji-64.png"
    if not path.exists():
        raise DataFilesMissing("data.dataset_missing", name="demo", path=str(path), script="scripts/make_demo_emoji.py")
    n = len((DATA_DIR / "emoji" / "codepoints.txt").read_text().split())
    with Image.open(path) as im:  # scripts/make_demo_emoji.py writes it as RGB
        sheet = np.asarray(im)
    cols = sheet.shape[1] // 64
    return np.stack([sheet[(i // cols) * 64:(i // cols + 1) * 64, (i % cols) * 64:(i % cols + 1) * 64]
                     for i in range(n)]), None


DATASETS = {d.name: d for d in (
    DatasetSpec("mnist", "digits", 28, 1, "MNIST 60k training images (Y. LeCun and C. Cortes, CC BY-SA 3.0)",
                _mnist, "cc-by-sa-3.0"),
    DatasetSpec("fashion", "images", 28, 1, "Fashion-MNIST, a balanced 10k subset of the training set "
                "(Zalando SE, MIT licence)", _fashion, "mit"),
    DatasetSpec("demo", "images", 64, 3, "562 Noto Color Emoji rendered at 64x64 (Google, Apache 2.0; "
                "font under SIL OFL 1.1)", _emoji, "apache-2.0"),
)}
NAMES = tuple(DATASETS)


def is_dataset(spec: str) -> bool:
    return spec in DATASETS


@lru_cache(maxsize=8)
def load_dataset(name: str, size: int | None = None, channels: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(uint8 images (N, size, size[, 3]), labels or None) of a bundled dataset, at the size and colour asked
    (its own by default). Read-only arrays: cached once per process and shared."""
    from .data import square_array
    d = DATASETS[name]
    images, labels = d.read()
    size, channels = size or d.size, channels or d.channels
    if (size, channels) != (d.size, d.channels):
        images = np.stack([square_array(Image.fromarray(a).convert("RGB"), size, channels) for a in images])
    images.setflags(write=False)
    return images, labels
