"""Sample grids and the timeline's GIF: where each tile lands, the padding between them, and the files' contents."""
import io

import numpy as np
import pytest
from PIL import Image

from gan_core.grid import gif_bytes, jpeg_bytes, make_grid, png_bytes, to_pil


def tiles(n, h=3, w=4, colour=False) -> np.ndarray:
    """n tiles, tile i filled with the value 10 * (i + 1)."""
    t = np.stack([np.full((h, w), 10 * (i + 1), np.uint8) for i in range(n)])
    return np.repeat(t[..., None], 3, -1) if colour else t


def test_tiles_fill_rows_left_to_right_with_padding_between_and_around():
    g = make_grid(tiles(5), nrow=3, pad=1, fill=255)
    assert g.shape == (2 * (3 + 1) + 1, 3 * (4 + 1) + 1) and g.dtype == np.uint8
    for i in range(5):
        r, c = divmod(i, 3)
        top, left = 1 + r * 4, 1 + c * 5
        assert (g[top:top + 3, left:left + 4] == 10 * (i + 1)).all(), i
    assert (g[0] == 255).all() and (g[:, 0] == 255).all() and (g[4] == 255).all()  # the padding: rows and columns
    assert (g[5:8, 11:15] == 255).all()  # the sixth place of a 2 x 3 grid stays empty
    assert ((g == 255).sum() + 5 * 12) == g.size  # nothing else was painted


def test_the_default_is_a_square_ish_grid_with_black_two_pixel_padding():
    g = make_grid(tiles(10))
    assert g.shape == (3 * (3 + 2) + 2, 4 * (4 + 2) + 2)  # ceil(sqrt(10)) = 4 per row, 3 rows
    assert (g[:2] == 0).all() and (g[2:5, 2:6] == 10).all() and (g[2:5, 8:12] == 20).all()
    colour = make_grid(tiles(4, colour=True), pad=0)
    assert colour.shape == (6, 8, 3) and (colour[3:, 4:] == 40).all()


def test_pictures_scale_by_whole_pixels_and_encode_losslessly_as_png():
    a = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    assert to_pil(a).size == (4, 3)
    big = np.asarray(to_pil(a, scale=3))
    assert big.shape == (9, 12) and (big[:3, :3] == a[0, 0]).all() and (big[6:, 9:] == a[2, 3]).all()
    back = np.asarray(Image.open(io.BytesIO(png_bytes(a, scale=2))))
    assert np.array_equal(back, np.asarray(to_pil(a, 2)))
    plain = Image.open(io.BytesIO(png_bytes(a)))
    assert plain.format == "PNG" and plain.size == (4, 3)
    assert to_pil(a.astype(np.float64)).mode == "L"  # any numbers 0-255 are read as bytes


def test_a_live_picture_is_a_best_quality_jpeg():
    a = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)  # grey noise, like a digit grid early on
    best, low = jpeg_bytes(a), jpeg_bytes(a, quality=30)
    im = Image.open(io.BytesIO(best))
    assert im.format == "JPEG" and im.size == (32, 32) and len(best) > 2 * len(low)
    assert np.abs(np.asarray(im).astype(int) - a).mean() < 0.5  # quality 95 is off by 1.5 on average


def test_a_gif_pads_grown_frames_with_black_and_keeps_timing_and_loop():
    small, tall = np.full((4, 6), 200, np.uint8), np.full((8, 6), 100, np.uint8)
    raw = gif_bytes([small, tall], duration_ms=250, scale=2, loop=3)
    im = Image.open(io.BytesIO(raw))
    assert im.format == "GIF" and im.n_frames == 2 and im.size == (12, 16)
    assert im.info["duration"] == 250 and im.info["loop"] == 3
    first = np.asarray(im.convert("L"))
    assert (first[:8] == 200).all() and (first[8:] == 0).all()  # padded below, never cropped
    im.seek(1)
    assert (np.asarray(im.convert("L")) == 100).all()
    orange = np.zeros((4, 4, 3), np.uint8) + np.array([200, 100, 50], np.uint8)
    wide = gif_bytes([orange, np.full((4, 9, 3), 50, np.uint8)])
    w = Image.open(io.BytesIO(wide))
    assert w.size == (9, 4) and w.info["loop"] == 0 and w.info["duration"] == 120
    rgb = np.asarray(w.convert("RGB"))
    assert (rgb[:, :4] == (200, 100, 50)).all() and (rgb[:, 4:] == 0).all()  # colour kept, padded on the right
    with pytest.raises(ValueError, match="^a GIF needs at least one frame$"):
        gif_bytes([])
