"""gan_core.image_io: every kind of bad upload either loads as modest RGB or gives a clear ImageLoadError.

Refusals are asserted by their message code (the text a person reads is translated, see test_messages.py)."""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from gan_core.image_io import FORMATS, MAX_PIXELS, MAX_SIDE, MIN_SIDE, ImageLoadError, _to_rgb, load_image
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


@pytest.mark.parametrize("mode, key, other", [("RGB", (10, 20, 30), (200, 0, 0)), ("L", 7, 99), ("1", 0, 255)])
def test_a_png_colour_key_goes_on_white_like_any_transparency(mode, key, other):
    """A bilevel, grey or RGB PNG can name one colour transparent (its tRNS chunk), as browsers show it."""
    top, bottom = Image.new(mode, (40, 20), other), Image.new(mode, (40, 20), key)
    im = Image.new(mode, (40, 40))
    im.paste(top, (0, 0))
    im.paste(bottom, (0, 20))
    shown = Image.new(mode, (1, 1), other).convert("RGB").getpixel((0, 0))
    loaded = ok(encode(im, "PNG", transparency=key))
    v = np.asarray(loaded.image)
    assert (v[20:] == 255).all() and (v[:20] == shown).all()  # only the key colour went on white
    assert [n.code for n in loaded.notes] == ["image.note.alpha_filled"]
    unused = (1, 2, 3) if mode == "RGB" else 3 if mode == "L" else None
    if unused is not None:  # a key no pixel has: the picture as it was, and nothing noted
        loaded = ok(encode(im, "PNG", transparency=unused))
        assert loaded.notes == [] and (np.asarray(loaded.image)[20:] == Image.new(mode, (1, 1), key).convert("RGB").getpixel((0, 0))).all()


def test_a_16_bit_grey_png_colour_key_goes_on_white_in_its_own_units():
    """A 16-bit grey PNG's tRNS key is a 16-bit grey: the pixels of exactly that value go on white, no others (not
    the key's 8-bit neighbours), and the picture is still rescaled and said to be."""
    deep = Image.new("I;16", (40, 40))
    deep.putdata([1000] * 800 + [30000] * 400 + [30001] * 400)
    loaded = ok(encode(deep, "PNG", transparency=30000))
    v = np.asarray(loaded.image)
    assert (v[:20] == 4).all() and (v[20:30] == 255).all()  # 1000 / 65535 * 255 = 3.9; the key on white
    assert (v[30:] == 117).all()  # 30001 -> 116.7: one above the key, opaque
    assert [n.code for n in loaded.notes] == ["image.note.deep_to_8bit", "image.note.alpha_filled"]
    loaded = ok(encode(deep, "PNG", transparency=5))  # a key no pixel has: no alpha to fill
    assert [n.code for n in loaded.notes] == ["image.note.deep_to_8bit"] and (np.asarray(loaded.image)[20:30] == 117).all()


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


# ---------------------------------------------------------------------- each colour mode, and what each refusal names

@pytest.mark.parametrize("mode", ["I", "I;16", "I;16L", "I;16B", "I;16N"])
def test_every_deep_mode_is_rescaled_to_8_bits_and_says_so(mode):
    deep = Image.new(mode, (4, 2))
    deep.putdata([0, 65535, 32768, 200, 256, 65407, 0, 0])
    notes = []
    v = np.asarray(_to_rgb(deep, notes))
    assert v.shape == (2, 4, 3) and list(v[0, :4, 0]) == [0, 255, 128, 1]  # 16-bit: 65535 is white
    assert list(v[1, :2, 0]) == [1, 255]  # 256 is 16-bit too; 65407 / 257 = 254.502 rounds up
    assert [(n.code, n.params) for n in notes] == [("image.note.deep_to_8bit", {"mode": mode})]
    shallow = Image.new(mode, (2, 1))
    shallow.putdata([0, 255])  # a deep mode holding 8-bit values: kept as they are
    assert list(np.asarray(_to_rgb(shallow, []))[0, :, 0]) == [0, 255]
    just_deep = Image.new(mode, (2, 1))
    just_deep.putdata([0, 256])  # one past 8 bits: the whole image is read as 16-bit
    assert list(np.asarray(_to_rgb(just_deep, []))[0, :, 0]) == [0, 1]


def test_float_images_read_as_zero_to_one_or_as_255():
    notes = []
    unit = np.asarray(_to_rgb(Image.fromarray(np.array([[0.0, 0.5, 1.0, np.nan, -0.5]], np.float32), "F"), notes))
    assert list(unit[0, :, 0]) == [0, 128, 255, 0, 0]  # NaN and below zero read black
    assert [(n.code, n.params) for n in notes] == [("image.note.float_to_8bit", {"mode": "F"})]
    wide = np.asarray(_to_rgb(Image.fromarray(np.array([[0.0, 200.0, 300.0]], np.float32), "F"), []))
    assert list(wide[0, :, 0]) == [0, 200, 255]
    past_one = np.asarray(_to_rgb(Image.fromarray(np.array([[0.0, 1.5]], np.float32), "F"), []))
    assert list(past_one[0, :, 0]) == [0, 2]  # over 1: read as 0-255, not as 0-1


def grey_tiff_with_premultiplied_alpha(grey: int, alpha: int) -> bytes:
    """A grey TIFF whose alpha is 'associated' (ExtraSamples = 1): Pillow reads it as mode La but cannot write one."""
    data = encode(Image.new("LA", (32, 32), (grey, alpha)), "TIFF")
    unassociated = b"\x52\x01\x03\x00\x01\x00\x00\x00\x02\x00"  # tag 338, SHORT, 1 value: 2
    assert data.count(unassociated) == 1
    return data.replace(unassociated, unassociated[:-2] + b"\x01\x00")


@pytest.mark.parametrize("mode", ["LA", "La", "PA", "RGBa", "RGBA"])
def test_every_mode_with_alpha_goes_on_white(mode):
    clear = Image.new("RGBA", (4, 4), (0, 0, 0, 0)).convert(mode) if mode != "La" else Image.new("La", (4, 4))
    notes = []
    assert (np.asarray(_to_rgb(clear, notes)) == 255).all()
    assert [n.code for n in notes] == ["image.note.alpha_filled"]
    opaque = Image.new("RGBA", (4, 4), (0, 0, 0, 255)).convert(mode) if mode != "La" else Image.new("LA", (4, 4), (0, 255)).convert("La")
    notes = []
    assert (np.asarray(_to_rgb(opaque, notes)) == 0).all() and notes == []  # nothing was transparent: no note


def test_a_grey_tiff_with_premultiplied_alpha_loads():
    """It decodes as mode La, which Pillow converts only to LA: it was refused as a damaged file."""
    loaded = ok(grey_tiff_with_premultiplied_alpha(50, 128))
    assert (np.asarray(loaded.image) == 177).all()  # 50 un-premultiplied at half alpha is 100, then over white
    assert noted(loaded, "image.note.alpha_filled")


def test_palette_cmyk_and_plain_images_note_only_what_changed():
    p = gradient().convert("P", palette=Image.ADAPTIVE, colors=16)
    notes = []
    assert _to_rgb(p, notes).mode == "RGB" and notes == []
    p.info["transparency"] = 0
    notes = []
    assert _to_rgb(p, notes).mode == "RGB" and [n.code for n in notes] == ["image.note.alpha_filled"]
    notes = []
    assert _to_rgb(gradient().convert("CMYK"), notes).mode == "RGB" and [n.code for n in notes] == ["image.note.cmyk"]
    plain = ok(encode(gradient(), "JPEG"))
    assert plain.notes == []  # no EXIF: not turned, nothing noted
    exif = Image.Exif()
    exif[0x0112] = 1  # "as stored"
    assert ok(encode(gradient(), "JPEG", exif=exif)).notes == []


def test_each_refusal_names_its_numbers(tmp_path):
    e = refused(png_header_only(2000, 1000), "image.bomb", "image.too_many_pixels", max_pixels=1_500_000)
    assert e.params["megapixels"] == 2  # 1.5 MP, rounded as the message shows it
    e = refused(encode(Image.new("RGB", (1500, 1001)), "PNG"), "image.too_many_pixels", max_pixels=1_500_000)
    assert e.params == {"width": 1500, "height": 1001, "megapixels": 2}
    assert refused(b"not an image at all", "image.unknown_format").params == {"formats": ", ".join(FORMATS[:-1])}
    assert refused(encode(Image.new("RGB", (20, 10)), "PNG"), "image.too_small").params == {
        "width": 20, "height": 10, "min_side": MIN_SIDE}
    missing = tmp_path / "missing.png"
    assert refused(missing, "image.no_such_file").params == {"path": str(missing)}
    assert refused(12345, "image.bad_source").params == {"kind": "int"}
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * int(3.33 * 2**20))
    assert refused(big, "image.file_too_large", max_bytes=3 * 2**20).params == {"mb": 3.3, "limit_mb": 3}
    assert refused(b"\0" * (3 * 2**20 + 1), "image.too_large", max_bytes=3 * 2**20).params == {"limit_mb": 3}
    loaded = ok(encode(Image.new("RGB", (100, 40)), "PNG"), max_side=50)
    assert [(n.code, n.params) for n in loaded.notes] == [
        ("image.note.downscaled", {"old_width": 100, "old_height": 40, "width": 50, "height": 20})]


def test_a_file_of_exactly_the_cap_is_read_and_a_stream_is_read_one_byte_past_it(tmp_path):
    exact = tmp_path / "exact.bin"
    exact.write_bytes(b"\1" * 1024)
    refused(exact, "image.unknown_format", max_bytes=1024)  # read, then not an image: not "too large"
    refused(b"\1" * 1024, "image.unknown_format", max_bytes=1024)

    class Stream:  # an upload's file object: load_image asks for one byte more than the cap, never "all of it"
        asked = "nothing"

        def read(self, n=-1):
            self.asked = n
            return b""
    stream = Stream()
    refused(stream, "image.empty", max_bytes=1024)
    assert stream.asked == 1025


def test_an_rgb_image_is_not_copied():
    rgb = gradient()
    assert _to_rgb(rgb, []) is rgb


def test_the_edges_of_the_size_caps(tmp_path):
    assert ok(encode(Image.new("RGB", (100, 40)), "PNG"), max_pixels=4000).image.size == (100, 40)  # exactly the cap
    assert ok(encode(Image.new("RGB", (50, 20)), "PNG"), max_side=50).notes == []  # exactly the side: kept as it is
    assert ok(encode(Image.new("RGB", (MIN_SIDE, MIN_SIDE)), "PNG")).image.size == (MIN_SIDE, MIN_SIDE)
    for size in ((1, 20), (20, 1)):  # a pixel wide is an image, only too small
        assert refused(encode(Image.new("RGB", size), "PNG"), "image.too_small").params["min_side"] == MIN_SIDE


def test_a_large_photo_is_downscaled_smoothly_and_says_from_what():
    """Downscaled with LANCZOS; the note names the file's size even where libjpeg already decoded it smaller."""
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 256, (60, 100, 3), dtype=np.uint8))
    loaded = ok(encode(noisy, "PNG"), max_side=50)
    expected = noisy.copy()
    expected.thumbnail((50, 50), Image.LANCZOS)
    assert np.array_equal(np.asarray(loaded.image), np.asarray(expected))
    photo = ok(encode(gradient(4096, 4096), "JPEG"))  # libjpeg decodes it at 1/4: no thumbnail, still a note
    assert [(n.code, n.params) for n in photo.notes] == [
        ("image.note.downscaled", {"old_width": 4096, "old_height": 4096, "width": 1024, "height": 1024})]
    nearly_square = ok(encode(Image.new("RGB", (1001, 1000)), "PNG"), max_side=50)  # a square thumbnail of a wide file
    assert nearly_square.notes[-1].params == {"old_width": 1001, "old_height": 1000, "width": 50, "height": 50}
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = ok(encode(gradient(3000, 2200), "JPEG", exif=exif))  # as shown: upright, 2200 wide
    assert turned.notes[-1].params == {"old_width": 2200, "old_height": 3000, "width": 751, "height": 1024}


def test_what_breaks_while_decoding_is_named(monkeypatch):
    from PIL import ImageFile
    data = encode(gradient(), "PNG")
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: (_ for _ in ()).throw(OSError("x" * 200)))
    assert refused(data, "image.truncated").params == {"kind": "OSError", "detail": "x" * 80}
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: (_ for _ in ()).throw(MemoryError()))
    assert refused(data, "image.out_of_memory").params == {}


def test_a_header_that_breaks_the_decoder_and_a_bomb_are_named(monkeypatch):
    assert refused(png_header_only(10_000, 10_000), "image.bomb").params == {"megapixels": MAX_PIXELS // 1_000_000}
    from PIL import PngImagePlugin
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "_open", lambda self: (_ for _ in ()).throw(ValueError("a broken chunk")))
    assert refused(encode(gradient(), "PNG"), "image.damaged_header").params == {"kind": "ValueError"}
