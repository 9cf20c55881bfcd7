"""Turn image batches into pictures: a grid (PNG) or an animation (GIF)."""
import io
import math

import numpy as np
from PIL import Image


def make_grid(images: np.ndarray, nrow: int | None = None, pad: int = 2, fill: int = 0) -> np.ndarray:
    """uint8 (N,H,W) or (N,H,W,3) -> one uint8 image with the N tiles in rows of `nrow`."""
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    shape = (rows * (h + pad) + pad, nrow * (w + pad) + pad) + images.shape[3:]
    out = np.full(shape, fill, dtype=np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, nrow)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = im
    return out


def to_pil(image: np.ndarray, scale: int = 1) -> Image.Image:
    im = Image.fromarray(np.asarray(image, dtype=np.uint8))
    return im.resize((im.width * scale, im.height * scale), Image.NEAREST) if scale != 1 else im


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    return _encoded(to_pil(image, scale), format="PNG")


def jpeg_bytes(image: np.ndarray, quality: int = 100) -> bytes:
    """A live picture's bytes: 4-8x faster to encode than PNG (0.4-0.6 ms against 3.9-4.3 ms for 64 digits or
    noise, 2 cores), which a trainer's grid pays at every snapshot; quality 100, as st.image encodes a grey array."""
    return _encoded(to_pil(image), format="JPEG", quality=quality)


def _encoded(im: Image.Image, **save) -> bytes:
    buf = io.BytesIO()
    im.save(buf, **save)
    return buf.getvalue()


def gif_bytes(frames: list[np.ndarray], duration_ms: int = 120, scale: int = 1, loop: int = 0) -> bytes:
    """An animated GIF of uint8 frames (each (H,W) or (H,W,3)); frames of different sizes (a grid
    that grew rows) are padded with black to the largest, never cropped."""
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    h, w = max(f.shape[0] for f in frames), max(f.shape[1] for f in frames)
    frames = [np.pad(f, ((0, h - f.shape[0]), (0, w - f.shape[1])) + ((0, 0),) * (f.ndim - 2)) for f in frames]
    pil = [to_pil(f, scale) for f in frames]
    buf = io.BytesIO()
    pil[0].save(buf, format="GIF", save_all=True, append_images=pil[1:], duration=duration_ms, loop=loop)
    return buf.getvalue()
