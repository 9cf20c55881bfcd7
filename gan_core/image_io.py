"""Safe image loading for uploads and the CLI: any odd file becomes an RGB image or a clear message.

Everything a user hands us goes through `load_image`. It refuses before decoding when the header
promises too many pixels (decompression bombs), decodes only a short list of formats (Pillow's EPS
plugin, for one, would start Ghostscript), applies EXIF orientation, flattens transparency onto
white, maps 16-bit and float images to 8 bits, keeps the first frame of animations and downscales
to a cap, so the rest of the code only ever sees modest RGB images.
"""
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .messages import GanError, Message

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")  # JPEG covers MPO (phone photos) too
MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # about 160 MB as RGBA: the most we ever agree to decode
MAX_SIDE = 1024  # images are downscaled to this long side right after decoding
MIN_SIDE = 16

Image.init()  # register every plugin now: Image.open(formats=...) raises KeyError for one not yet loaded
# Pillow's own bomb guard, process-wide; only ever tightened, never loosened.
Image.MAX_IMAGE_PIXELS = min(Image.MAX_IMAGE_PIXELS or MAX_PIXELS, MAX_PIXELS)


class ImageLoadError(GanError, ValueError):
    """A message meant for the user (an "image.*" code): what is wrong with the file, never a traceback."""


@dataclass
class LoadedImage:
    image: Image.Image  # RGB, long side <= max_side
    notes: list[Message] = field(default_factory=list)  # what we changed ("image.note.*"), e.g. used the first frame


def load_image(source, max_side: int = MAX_SIDE, max_bytes: int = MAX_BYTES,
               max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """bytes, a path or a binary file object -> LoadedImage, or ImageLoadError with a clear message."""
    data = _read_bytes(source, max_bytes)
    if not data:
        raise ImageLoadError("image.empty")
    try:
        # Only the header is read here; Pillow itself refuses above 2 * MAX_IMAGE_PIXELS.
        im = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:
        raise ImageLoadError("image.bomb", megapixels=_mp(max_pixels)) from None
    except UnidentifiedImageError:
        raise ImageLoadError("image.unknown_format", formats=", ".join(FORMATS[:-1])) from None
    except Exception as e:  # a broken header can raise almost anything inside a plugin
        raise ImageLoadError("image.damaged_header", kind=type(e).__name__) from None
    notes = []
    w, h = im.size
    if w * h > max_pixels:
        raise ImageLoadError("image.too_many_pixels", width=w, height=h, megapixels=_mp(max_pixels))
    if w < 1 or h < 1:
        raise ImageLoadError("image.no_pixels")
    if getattr(im, "n_frames", 1) > 1:
        notes.append(Message("image.note.first_frame"))
    try:
        im.seek(0)
        if im.format in ("JPEG", "MPO"):
            im.draft("RGB", (max_side, max_side))  # let libjpeg decode at 1/2, 1/4 or 1/8 size
        im.load()
        im = _orient(im, notes)
        im = _to_rgb(im, notes)
    except ImageLoadError:
        raise
    except MemoryError:
        raise ImageLoadError("image.out_of_memory") from None
    except Exception as e:  # truncated data, bad compression stream, unsupported sub-mode ...
        raise ImageLoadError("image.truncated", kind=type(e).__name__, detail=str(e)[:80]) from None
    if max(im.size) > max_side:
        im.thumbnail((max_side, max_side), Image.LANCZOS)
    old = (w, h) if (im.width >= im.height) == (w >= h) else (h, w)  # the file's size as shown: after an EXIF quarter turn
    if max(im.size) < max(old):  # by the thumbnail, or already by libjpeg's reduced decode (draft) of a large JPEG
        notes.append(Message("image.note.downscaled", {"old_width": old[0], "old_height": old[1],
                                                         "width": im.size[0], "height": im.size[1]}))
    if min(im.size) < MIN_SIDE:
        raise ImageLoadError("image.too_small", width=im.size[0], height=im.size[1], min_side=MIN_SIDE)
    return LoadedImage(im, notes)


def _read_bytes(source, max_bytes: int) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ImageLoadError("image.no_such_file", path=str(path))
        if path.stat().st_size > max_bytes:
            raise ImageLoadError("image.file_too_large", mb=round(path.stat().st_size / 2**20, 1), limit_mb=_mb(max_bytes))
        data = path.read_bytes()
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
    else:
        raise ImageLoadError("image.bad_source", kind=type(source).__name__)
    if len(data) > max_bytes:
        raise ImageLoadError("image.too_large", limit_mb=_mb(max_bytes))
    return data


def _mp(pixels: int) -> int:
    """Pixels as whole megapixels, as the messages show them."""
    return int(round(pixels / 1e6))


def _mb(size: int) -> int:
    """Bytes as whole MiB, as the messages show them."""
    return int(round(size / 2**20))


def _orient(im: Image.Image, notes: list) -> Image.Image:
    """Apply the EXIF orientation tag (phone photos); a broken EXIF block is ignored, not fatal."""
    try:
        orientation = im.getexif().get(0x0112)  # none, or 1: as stored
        if orientation not in (None, 1):
            im = ImageOps.exif_transpose(im)
            notes.append(Message("image.note.exif_rotated"))
    except Exception:
        pass
    return im


def _to_rgb(im: Image.Image, notes: list) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB. Transparency goes onto white, high bit depths are rescaled."""
    mode = im.mode
    if "transparency" in im.info and mode in ("1", "L", "P", "RGB"):
        # a palette's transparent entries, or a bilevel/grey/RGB PNG's one transparent colour (its tRNS colour key):
        # a browser shows those pixels see-through, so they go on white like any other alpha
        im = im.convert("RGBA")
    elif mode == "RGB":
        return im
    if mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        a = np.asarray(im, dtype=np.float64)
        if mode == "F":
            hi = 1.0 if a.size and np.nanmax(a) <= 1.0 else 255.0
        else:
            hi = 65535.0 if a.size and a.max() > 255 else 255.0
        a = np.nan_to_num(np.clip(a / hi * 255.0, 0, 255))
        notes.append(Message("image.note.float_to_8bit" if mode == "F" else "image.note.deep_to_8bit", {"mode": mode}))
        grey = Image.fromarray(a.round().astype(np.uint8))
        key = im.info.get("transparency")
        if key is None:
            return grey.convert("RGB")
        # a 16-bit grey PNG's tRNS names one see-through grey in its own 16-bit units: on white like any alpha
        alpha = np.where(np.asarray(im) == key, 0, 255).astype(np.uint8)
        im, mode = Image.merge("LA", (grey, Image.fromarray(alpha))), "LA"
    if mode == "La":  # grey with premultiplied alpha (a TIFF's associated alpha): Pillow converts it only to LA
        im = im.convert("LA")
    if mode in ("LA", "La", "PA", "RGBa"):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        if im.getextrema()[3][0] < 255:
            notes.append(Message("image.note.alpha_filled"))
        background = Image.new("RGB", im.size, "white")
        background.paste(im, mask=im.getchannel("A"))
        return background
    if mode == "CMYK":
        notes.append(Message("image.note.cmyk"))
    return im.convert("RGB")
