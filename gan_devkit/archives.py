"""Zip archives for the upload tests (unit, page and browser): real pictures from the bundled emoji
set, plus whatever hostile members a test adds."""
import io
import zipfile

from PIL import Image


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
