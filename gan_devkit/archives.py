"""Zip archives and image folders for the data tests (unit, page and browser): real pictures from the
bundled emoji set, random photo-sized noise, plus whatever hostile members a test adds."""
import io
import zipfile
from pathlib import Path

import numpy as np

from PIL import Image


def png(colour=(255, 0, 0), size=(40, 40), mode="RGB", fmt="PNG", **save) -> bytes:
    """One picture of a single colour, encoded (PNG unless `fmt` says otherwise)."""
    buf = io.BytesIO()
    Image.new(mode, size, colour).save(buf, fmt, **save)
    return buf.getvalue()


def make_zip(members, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """members: (name or ZipInfo, bytes) pairs."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def emoji_zip(n: int, extra: tuple = (), folder: str = "emoji", step: int = 1) -> bytes:
    """A zip of n demo emoji as PNGs (every `step`-th one) under `folder`/, then the (name, bytes) pairs of `extra`."""
    from gan_core.datasets import load_dataset
    x, _ = load_dataset("demo")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(n):
            png = io.BytesIO()
            Image.fromarray(x[i * step]).save(png, "PNG")
            z.writestr(f"{folder}/{i}.png", png.getvalue())
        for name, data in extra:
            z.writestr(name, data)
    return buf.getvalue()


def noise_folder(folder: Path, n: int, ext: str = "png", seed: int = 0) -> Path:
    """`folder` (created) holding n random 40x50 RGB pictures, 0.png ... : an image folder of odd-sized photos."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(folder / f"{i}.{ext}")
    return folder
