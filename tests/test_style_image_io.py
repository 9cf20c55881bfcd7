"""gan_core.image_io: every kind of bad upload either loads as modest RGB or gives a clear ImageLoadError.

Refusals are asserted by their message code (the text a person reads is translated, see test_messages.py)."""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from gan_core.image_io import MAX_SIDE, ImageLoadError, load_image
from gan_core.messages import ENGLISH, GanError


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def gradient(w=64, h=48) -> Image.Image:
    x = np.linspace(0, 255, w, dtype=np.uint8)[None, :].repeat(h, 0)
    return Image.fromarray(np.stack([x, x[::-1, ::-1], np.full_like(x, 128)], -1))


def png_header_only(w: int, h: int) -> bytes:
    """A PNG that promises w x h pixels in a few dozen bytes: a decompression bomb's calling card."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def refused(source, *codes, **kw) -> ImageLoadError:
    """load_image refuses `source` with one of `codes`; the error is still a ValueError and reads as English."""
    with pytest.raises(ImageLoadError) as err:
        load_image(source, **kw)
    e = err.value
    assert isinstance(e, GanError) and isinstance(e, ValueError) and e.code in codes and e.code in ENGLISH
    assert str(e) and str(e) != e.code  # a sentence, not the bare code
    return e


def noted(loaded, code: str) -> bool:
    return any(n.code == code for n in loaded.notes)


def ok(data, **kw):
    loaded = load_image(data, **kw)
    assert loaded.image.mode == "RGB" and max(loaded.image.size) <= kw.get("max_side", MAX_SIDE)
    return loaded


BROKEN = ("image.damaged_header", "image.truncated", "image.unknown_format")


@pytest.mark.parametrize("data,codes", [
    (b"", ["image.empty"]),
    (b"hello, I am a text file, not a picture\n" * 10, ["image.unknown_format"]),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, BROKEN),
    (b"GIF89a" + b"\xff" * 40, BROKEN),
    (encode(gradient().convert("L").point(lambda v: v), "PPM"), ["image.unknown_format"]),  # a format we do not decode
], ids=["zero-bytes", "text", "png-garbage", "gif-garbage", "ppm"])
def test_garbage_is_refused_clearly(data, codes):
    refused(data, *codes)


def test_unknown_format_names_the_formats():
    e = refused(b"not a picture" * 10, "image.unknown_format")
    assert "PNG" in e.params["formats"] and "not an image" in str(e)


def test_truncated_jpeg_and_png_are_refused():
    for fmt in ("JPEG", "PNG"):
        data = encode(gradient(200, 150), fmt)
        refused(data[: len(data) // 2], "image.truncated", "image.damaged_header")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_refused_before_decoding():
    refused(png_header_only(50_000, 50_000), "image.bomb", "image.too_many_pixels")  # 2.5 gigapixels in ~100 bytes
    e = refused(png_header_only(8000, 6000), "image.too_many_pixels")  # 48 MP: over our cap, under Pillow's hard stop
    assert e.params == {"width": 8000, "height": 6000, "megapixels": 40} and "megapixels" in str(e)


def test_huge_but_allowed_image_is_downscaled():
    data = encode(Image.new("RGB", (3000, 2000), (10, 200, 30)), "PNG")
    loaded = ok(data)
    assert loaded.image.size == (1024, 683) and noted(loaded, "image.note.downscaled")
    assert "downscaled from 3000x2000 to 1024x683" in [str(n) for n in loaded.notes]
    assert ok(data, max_side=300).image.size == (300, 200)


def test_file_size_cap():
    refused(b"\0" * 2048, "image.too_large", max_bytes=1024)


def test_cmyk_jpeg():
    im = ok(encode(gradient().convert("CMYK"), "JPEG")).image
    assert np.asarray(im).std() > 10


def test_16_bit_greyscale_keeps_its_range():
    a = np.linspace(0, 65535, 64 * 48).reshape(48, 64).astype(np.uint16)
    im = ok(encode(Image.fromarray(a), "PNG")).image
    v = np.asarray(im)[..., 0]
    assert v.min() < 10 and v.max() > 245  # not clipped to white, as a naive convert("RGB") would do


def test_float_tiff():
    a = np.linspace(0, 1, 32 * 32, dtype=np.float32).reshape(32, 32)
    v = np.asarray(ok(encode(Image.fromarray(a, "F"), "TIFF")).image)
    assert v.min() == 0 and v.max() == 255


def test_palette_with_transparency_and_rgba_go_on_white():
    p = gradient().convert("P", palette=Image.ADAPTIVE, colors=16)
    p.info["transparency"] = 0
    ok(encode(p, "PNG", transparency=0))
    rgba = gradient().convert("RGBA")
    rgba.putalpha(0)
    loaded = ok(encode(rgba, "PNG"))
    assert (np.asarray(loaded.image) == 255).all() and noted(loaded, "image.note.alpha_filled")
    assert np.asarray(ok(encode(gradient().convert("LA"), "PNG")).image).shape == (48, 64, 3)


def test_greyscale_and_bilevel():
    for mode in ("L", "1"):
        im = ok(encode(gradient().convert(mode), "PNG")).image
        assert im.size == (64, 48)


def test_animated_gif_uses_first_frame():
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    loaded = ok(data)
    r, g, b = np.asarray(loaded.image)[0, 0]
    assert r > 200 and b < 50 and noted(loaded, "image.note.first_frame")


def test_exif_rotation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    loaded = ok(encode(gradient(80, 40), "JPEG", exif=exif))
    assert loaded.image.size == (40, 80) and noted(loaded, "image.note.exif_rotated")


def test_too_small_and_paths(tmp_path):
    refused(encode(Image.new("RGB", (4, 4)), "PNG"), "image.too_small")
    refused(encode(Image.new("RGB", (5000, 3)), "PNG"), "image.too_small")  # too thin once downscaled
    assert "No such file" in str(refused(tmp_path / "missing.png", "image.no_such_file"))
    (tmp_path / "zero.jpg").write_bytes(b"")
    refused(tmp_path / "zero.jpg", "image.empty")
    (tmp_path / "big.png").write_bytes(b"\0" * 2048)
    assert refused(tmp_path / "big.png", "image.file_too_large", max_bytes=1024).params["limit_mb"] == 0
    refused(12345, "image.bad_source")
    (tmp_path / "good.webp").write_bytes(encode(gradient(), "WEBP"))
    assert load_image(tmp_path / "good.webp").image.size == (64, 48)
    with open(tmp_path / "good.webp", "rb") as f:
        assert load_image(f).image.size == (64, 48)
