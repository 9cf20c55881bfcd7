"""Render the bundled demo image set: Noto Color Emoji faces, people, animals, plants, food, vehicles: 64x64 RGB.

Run once (the result is committed):
    apt-get install fonts-noto-color-emoji      # Debian; the app's page icons already use it
    python scripts/make_demo_emoji.py

The font is a bitmap (CBDT) font whose only size is 109 px: each glyph is drawn at 136x128 on white,
padded to a square and downscaled to 64x64. One PNG sprite sheet (40 per row) keeps the repo small
(about 2.3 MB) and needs nothing but Pillow to read. Licence: see data/emoji/README.md.
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
OUT = Path(__file__).resolve().parent.parent / "data" / "emoji"
SIZE, COLS = 64, 40
# Unicode blocks a class recognises at 64 px: faces, people, animals, plants, food, sky, hearts, vehicles
# (not clocks, flags, signs or symbols).
RANGES = [(0x1F600, 0x1F64F), (0x1F910, 0x1F92F), (0x1F970, 0x1F97A), (0x1FAE0, 0x1FAE8),   # faces
          (0x1F400, 0x1F43F), (0x1F980, 0x1F9AE), (0x1FAB0, 0x1FABD),                        # animals
          (0x1F330, 0x1F344), (0x1F490, 0x1F490), (0x1FAB4, 0x1FABB),                        # plants
          (0x1F345, 0x1F37F), (0x1F950, 0x1F96F), (0x1F9C0, 0x1F9CB), (0x1FAD0, 0x1FADB),    # food
          (0x1F440, 0x1F487), (0x1F300, 0x1F32F), (0x1F493, 0x1F49F), (0x1F680, 0x1F6A4)]    # people, sky, hearts, vehicles


def codepoints(font_path: Path) -> list[int]:
    from fontTools.ttLib import (
        TTFont,  # only needed here, to list what the font really has
    )
    cmap = TTFont(font_path).getBestCmap()
    return [c for lo, hi in RANGES for c in range(lo, hi + 1) if c in cmap]


def render(cp: int, font) -> np.ndarray:
    im = Image.new("RGB", (136, 136), "white")
    ImageDraw.Draw(im).text((0, 4), chr(cp), font=font, embedded_color=True)
    return np.asarray(im.resize((SIZE, SIZE), Image.LANCZOS))


def main(font_path: Path = FONT) -> None:
    font = ImageFont.truetype(str(font_path), 109)
    cps, images, seen = [], [], set()
    for cp in codepoints(font_path):
        a = render(cp, font)
        # the font maps a few code points to an empty glyph, and a few to the same drawing
        if (a < 250).mean() > 0.05 and a.tobytes() not in seen:
            seen.add(a.tobytes())
            cps.append(cp)
            images.append(a)
    rows = -(-len(images) // COLS)
    sheet = np.full((rows * SIZE, COLS * SIZE, 3), 255, np.uint8)
    for i, a in enumerate(images):
        r, c = divmod(i, COLS)
        sheet[r * SIZE:(r + 1) * SIZE, c * SIZE:(c + 1) * SIZE] = a
    OUT.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(OUT / "emoji-64.png", optimize=True)
    (OUT / "codepoints.txt").write_text("\n".join(f"U+{c:04X}" for c in cps) + "\n")
    print(len(cps), "emoji,", (OUT / "emoji-64.png").stat().st_size, "bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else FONT)
